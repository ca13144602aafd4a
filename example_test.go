package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
)

// Serve an echo endpoint on Hertz and talk to it with a gorilla/websocket
// client. (The tests in this package silence Hertz's log output.)
func ExampleHertzUpgrader_Upgrade() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	// Hertz reuses hijacked connection wrappers through a pool unless told
	// not to; see the package documentation.
	h.NoHijackConnPool = true

	var upgrader websocket.HertzUpgrader // the zero value is ready to use
	h.GET("/echo", func(_ context.Context, ctx *app.RequestContext) {
		// The RequestContext is recycled before the handler runs: copy what
		// it needs first.
		name := ctx.Query("name")

		err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			// The connection stays open while this function runs.
			if err := conn.WriteMessage(websocket.TextMessage, []byte("welcome, "+name)); err != nil {
				return
			}
			for {
				mt, msg, err := conn.ReadMessage()
				if err != nil {
					// A *websocket.CloseError once the client has closed.
					return
				}
				if err := conn.WriteMessage(mt, msg); err != nil {
					return
				}
			}
		})
		if err != nil {
			// Upgrade has already answered with an HTTP error status.
			hlog.Warnf("upgrade: %v", err)
		}
	})
	go func() { _ = h.Run() }()

	// A client, here gorilla/websocket.
	dialer := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
	client, resp, err := dialer.Dial("ws://"+ln.Addr().String()+"/echo?name=gopher", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))

	_, msg, err := client.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", msg)

	if err := client.WriteMessage(gorilla.TextMessage, []byte("hello, websocket")); err != nil {
		log.Fatal(err)
	}
	_, msg, err = client.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo: %s\n", msg)

	// The close handshake: the client sends a close message, the server's
	// default close handler answers with the same code, and the client's
	// next read reports it.
	bye := gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "bye")
	if err := client.WriteControl(gorilla.CloseMessage, bye, time.Now().Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	_, _, err = client.ReadMessage()
	fmt.Println(err)
	client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// 101 Switching Protocols
	// welcome, gopher
	// echo: hello, websocket
	// websocket: close 1000 (normal)
}

func ExampleFormatCloseMessage() {
	// The payload of a close message: a two-byte code, then a UTF-8 reason.
	payload := websocket.FormatCloseMessage(websocket.CloseGoingAway, "restart")
	fmt.Printf("% x\n", payload)

	// RFC 6455 §7.1.5: code 1005 means "no code was sent", so its payload
	// is empty.
	fmt.Println(len(websocket.FormatCloseMessage(websocket.CloseNoStatusReceived, "")))

	// A close frame carries at most 125 bytes, so a long reason is cut to
	// 123 bytes, at a UTF-8 boundary.
	long := websocket.FormatCloseMessage(websocket.CloseNormalClosure, strings.Repeat("é", 100))
	fmt.Println(len(long))

	// In a handler, send it with WriteControl and keep reading until the
	// peer's close arrives:
	//
	//	_ = conn.WriteControl(websocket.CloseMessage, payload, time.Now().Add(time.Second))

	// Output:
	// 03 e9 72 65 73 74 61 72 74
	// 0
	// 124
}

func ExampleIsUnexpectedCloseError() {
	// The errors a read loop may end with.
	errs := []error{
		&websocket.CloseError{Code: websocket.CloseNormalClosure},
		&websocket.CloseError{Code: websocket.CloseGoingAway, Text: "tab closed"},
		&websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: "unexpected EOF"},
		fmt.Errorf("session 42: %w", &websocket.CloseError{Code: websocket.ClosePolicyViolation, Text: "bad token"}),
		websocket.ErrReadLimit, // not a close error at all
	}
	for _, err := range errs {
		// Closing normally and leaving the page are expected; log the rest.
		unexpected := websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway)
		fmt.Printf("%-5v %v\n", unexpected, err)
	}

	// Output:
	// false websocket: close 1000 (normal closure)
	// false websocket: close 1001 (going away): tab closed
	// true  websocket: close 1006 (abnormal closure): unexpected EOF
	// true  session 42: websocket: close 1008 (policy violation): bad token
	// false websocket: read limit exceeded
}

// Broadcast one message to several connections. A PreparedMessage frames
// the message once, however many connections it is sent to.
func ExampleNewPreparedMessage() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true

	var upgrader websocket.HertzUpgrader
	joined := make(chan *websocket.Conn)
	h.GET("/feed", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			joined <- conn
			// Keep reading, so that control messages are handled, until the
			// client goes away; then the handler returns and the connection
			// is closed.
			for {
				if _, _, err := conn.NextReader(); err != nil {
					return
				}
			}
		})
	})
	go func() { _ = h.Run() }()

	// Three clients connect.
	dialer := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
	var clients []*gorilla.Conn
	var conns []*websocket.Conn
	for i := 0; i < 3; i++ {
		client, _, err := dialer.Dial("ws://"+ln.Addr().String()+"/feed", nil)
		if err != nil {
			log.Fatal(err)
		}
		clients = append(clients, client)
		conns = append(conns, <-joined)
	}

	// The server broadcasts. WritePreparedMessage is safe to call from any
	// goroutine, alongside the connection's own handler.
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("deploy finished"))
	if err != nil {
		log.Fatal(err)
	}
	for _, conn := range conns {
		if err := conn.WritePreparedMessage(pm); err != nil {
			log.Println("broadcast:", err)
		}
	}

	for i, client := range clients {
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := client.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("client %d: %s\n", i+1, msg)
		client.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// client 1: deploy finished
	// client 2: deploy finished
	// client 3: deploy finished
}

func ExampleAllowOrigins() {
	// A server at api.example.com that also accepts the web app served from
	// app.example.com and a development server on localhost:3000.
	upgrader := websocket.HertzUpgrader{
		CheckOrigin: websocket.AllowOrigins("https://app.example.com", "http://localhost:3000"),
	}

	for _, origin := range []string{
		"",                            // no Origin: not a browser
		"https://api.example.com",     // same origin
		"https://app.example.com",     // listed
		"https://APP.example.com:443", // listed: case and default port do not matter
		"http://localhost:3000",       // listed
		"http://localhost:8080",       // another port
		"https://evil.example",        // another site
		"null",                        // sandboxed page or local file
	} {
		ctx := app.NewContext(0)
		ctx.Request.Header.SetHost("api.example.com")
		if origin != "" {
			ctx.Request.Header.Set("Origin", origin)
		}
		fmt.Printf("%-30q %v\n", origin, upgrader.CheckOrigin(ctx))
	}

	// Output:
	// ""                             true
	// "https://api.example.com"      true
	// "https://app.example.com"      true
	// "https://APP.example.com:443"  true
	// "http://localhost:3000"        true
	// "http://localhost:8080"        false
	// "https://evil.example"         false
	// "null"                         false
}
