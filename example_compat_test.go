package websocket_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
)

// exServe serves handler at ws://…/ws on 127.0.0.1 and returns the URL and
// a function that stops the server.
func exServe(handler websocket.HertzHandler) (url string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true
	var upgrader websocket.HertzUpgrader
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, handler)
	})
	go func() { _ = h.Run() }()
	return "ws://" + ln.Addr().String() + "/ws", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	}
}

// Read a line-oriented protocol whose lines arrive one per message: each
// message followed by "\n" makes one stream that a bufio.Scanner splits
// again.
func ExampleJoinMessages() {
	lines := make(chan string)
	url, stop := exServe(func(conn *websocket.Conn) {
		defer close(lines)
		scanner := bufio.NewScanner(websocket.JoinMessages(conn, "\n"))
		for scanner.Scan() {
			lines <- scanner.Text()
		}
		// scanner.Err() is the *websocket.CloseError that ended the
		// stream once the client closed.
	})
	defer stop()

	client, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for _, msg := range []string{"HELO gopher", "MAIL FROM:<gopher@example.com>", "QUIT"} {
		if err := client.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			log.Fatal(err)
		}
	}
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := client.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	for line := range lines {
		fmt.Println(strings.Fields(line)[0])
	}

	// Output:
	// HELO
	// MAIL
	// QUIT
}

// Code written for gorilla/websocket's package-level JSON functions keeps
// working; new code calls conn.ReadJSON. A malformed message is reported as
// encoding/json reports it, with the offset of the first bad byte.
func ExampleReadJSON() {
	type order struct {
		Item     string `json:"item"`
		Quantity int    `json:"quantity"`
	}
	results := make(chan string)
	url, stop := exServe(func(conn *websocket.Conn) {
		defer close(results)
		for {
			var o order
			err := websocket.ReadJSON(conn, &o)
			if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				return
			}
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				results <- fmt.Sprintf("byte %d: %v", syntax.Offset, err)
				continue // a bad message does not break the connection
			}
			if err != nil {
				results <- err.Error() // io.ErrUnexpectedEOF: the message ended early
				continue
			}
			results <- fmt.Sprintf("%d × %s", o.Quantity, o.Item)
		}
	})
	defer stop()

	client, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for _, msg := range []string{`{"item":"gopher plush","quantity":2}`, `{"item":"mug","quantity":}`, `{"item":"mug"`} {
		if err := client.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			log.Fatal(err)
		}
	}
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := client.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	for r := range results {
		fmt.Println(r)
	}

	// Output:
	// 2 × gopher plush
	// byte 26: invalid character '}' looking for beginning of value
	// unexpected EOF
}

// The package-level WriteJSON, kept for code written for gorilla/websocket,
// sends what conn.WriteJSON sends: the JSON encoding and a newline, in one
// text message.
func ExampleWriteJSON() {
	url, stop := exServe(func(conn *websocket.Conn) {
		status := struct {
			Online int      `json:"online"`
			Rooms  []string `json:"rooms"`
		}{3, []string{"go", "hertz"}}
		if err := websocket.WriteJSON(conn, status); err != nil {
			return
		}
		_, _, _ = conn.ReadMessage() // until the client closes
	})
	defer stop()

	client, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, msg, err := client.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mt == websocket.TextMessage)
	fmt.Printf("%q\n", msg)

	// Output:
	// true
	// "{\"online\":3,\"rooms\":[\"go\",\"hertz\"]}\n"
}
