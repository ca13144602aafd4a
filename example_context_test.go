package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/hertzws/websocket"
)

// Tie a handler's reads to a context, for example one that ends when the
// service shuts down: a read waiting for a silent client returns
// ctx.Err(), and the client is sent close code 1001 (Going Away).
func ExampleConn_ReadMessageContext() {
	ended := make(chan error, 1)
	url, stop := exServe(func(conn *websocket.Conn) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		for {
			mt, p, err := conn.ReadMessageContext(ctx)
			if err != nil {
				ended <- err
				return
			}
			if err := conn.WriteMessageContext(ctx, mt, p); err != nil {
				ended <- err
				return
			}
		}
	})
	defer stop()

	client, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	// The client says nothing; the server's context ends first.
	fmt.Println("server read:", <-ended)
	_, _, err = client.ReadMessage()
	fmt.Println("client sees close code", websocket.CloseCode(err))
	// Output:
	// server read: context deadline exceeded
	// client sees close code 1001
}

// Measure the round trip to a client while the handler's goroutine reads.
func ExampleConn_Ping() {
	rtts := make(chan time.Duration, 1)
	url, stop := exServe(func(conn *websocket.Conn) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			rtt, err := conn.Ping(ctx)
			if err != nil {
				log.Print(err)
			}
			rtts <- rtt
		}()
		for { // the reader, which receives the pong
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	})
	defer stop()

	client, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	go func() { // the client answers pings as it reads
		for {
			if _, _, err := client.ReadMessage(); err != nil {
				return
			}
		}
	}()
	rtt := <-rtts
	fmt.Println("answered:", rtt > 0 && rtt < 5*time.Second)
	// Output:
	// answered: true
}

// End a connection politely: send a close frame, let the peer answer, and
// learn whether it did.
func ExampleConn_CloseHandshake() {
	result := make(chan error, 1)
	url, stop := exServe(func(conn *websocket.Conn) {
		_ = conn.WriteMessage(websocket.TextMessage, []byte("goodbye"))
		result <- conn.CloseHandshake(websocket.CloseNormalClosure, "done")
	})
	defer stop()

	client, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	_, p, _ := client.ReadMessage()
	fmt.Println("client read:", string(p))
	// The client's next read gets the close; its default close handler
	// answers it.
	_, _, err = client.ReadMessage()
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		fmt.Println("client got close:", ce.Code, ce.Text)
	}
	fmt.Println("server's CloseHandshake:", <-result)
	// Output:
	// client read: goodbye
	// client got close: 1000 done
	// server's CloseHandshake: <nil>
}

// Decide compression per request: decline it for Safari, whose
// permessage-deflate support has had bugs, and keep no context between
// messages for a route whose clients are many and idle.
func ExampleHertzUpgrader_compressionFor() {
	upgrader := &websocket.HertzUpgrader{
		EnableCompression: true,
		CompressionFor: func(ctx *app.RequestContext, opts websocket.CompressionOptions) (websocket.CompressionOptions, bool) {
			ua := string(ctx.UserAgent())
			if strings.Contains(ua, "Safari/") && !strings.Contains(ua, "Chrome/") {
				return opts, false // upgraded without compression
			}
			if strings.HasPrefix(string(ctx.Path()), "/feed") {
				opts.ServerNoContextTakeover = true
				opts.ClientNoContextTakeover = true
			}
			return opts, true
		},
	}
	_ = upgrader
}
