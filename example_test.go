package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket"
)

// Serve an echo endpoint on Hertz and talk to it with this package's
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

	// A client: this package's Dialer, whose API is gorilla/websocket's.
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
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

	if err := client.WriteMessage(websocket.TextMessage, []byte("hello, websocket")); err != nil {
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
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := client.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second)); err != nil {
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
	// false websocket: close 1000 (normal)
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
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	var clients []*websocket.Conn
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

// Dial a Hertz server with this package's own client, agree on a
// subprotocol, exchange a message and close politely.
func ExampleDialer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true
	upgrader := websocket.HertzUpgrader{Subprotocols: []string{"chat.v2", "chat.v1"}}
	h.GET("/chat", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			for {
				mt, msg, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if err := conn.WriteMessage(mt, append([]byte(conn.Subprotocol()+": "), msg...)); err != nil {
					return
				}
			}
		})
	})
	go func() { _ = h.Run() }()

	dialer := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		Subprotocols:     []string{"chat.v1"}, // what this client speaks
	}
	conn, resp, err := dialer.Dial("ws://"+ln.Addr().String()+"/chat", nil)
	if err != nil {
		// With errors.Is(err, websocket.ErrBadHandshake), resp holds what
		// the server answered instead.
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(resp.Status)
	fmt.Println("subprotocol:", conn.Subprotocol())

	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", msg)

	// Close politely: send a close message, then read until the server's
	// answer arrives as a *CloseError.
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	_, _, err = conn.ReadMessage()
	fmt.Println(websocket.IsCloseError(err, websocket.CloseNormalClosure), err)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// 101 Switching Protocols
	// subprotocol: chat.v1
	// chat.v1: hello
	// true websocket: close 1000 (normal)
}

// Tune permessage-deflate on the server. The client here is this package's
// Dialer, which offers the extension as browsers do; the server's answer
// says what both sides agreed on.
func ExampleCompressionOptions() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true
	upgrader := websocket.HertzUpgrader{
		EnableCompression: true,
		Compression: websocket.CompressionOptions{
			// The server's compressor forgets between messages: less
			// compression, but no compressor kept by idle connections.
			ServerNoContextTakeover: true,
			// The client keeps at most 1 KiB of history, so the server's
			// decompressor for it needs no more.
			ClientMaxWindowBits: 10,
			// Messages under 64 bytes go out as they are.
			Threshold: 64,
		},
	}
	h.GET("/feed", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			// One message for each request the client sends.
			feed := []string{strings.Repeat(`{"price":101.25,"size":300}`, 100), "short"}
			for i := 0; ; i++ {
				if _, _, err := conn.NextReader(); err != nil {
					return
				}
				if i < len(feed) {
					_ = conn.WriteMessage(websocket.TextMessage, []byte(feed[i]))
				}
			}
		})
	})
	go func() { _ = h.Run() }()

	// Count the bytes that arrive, to see the compression.
	var wire countingConn
	dialer := websocket.Dialer{
		HandshakeTimeout:  5 * time.Second,
		EnableCompression: true,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			wire.Conn = c
			return &wire, err
		},
	}
	conn, resp, err := dialer.Dial("ws://"+ln.Addr().String()+"/feed", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(resp.Header.Get("Sec-WebSocket-Extensions"))

	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < 2; i++ {
		before := wire.read.Load()
		if err := conn.WriteMessage(websocket.TextMessage, []byte("next")); err != nil {
			log.Fatal(err)
		}
		_, msg, err := conn.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		// The bytes that arrived for this message, frame header included.
		compressed := wire.read.Load()-before < int64(len(msg))
		fmt.Printf("%d bytes, compressed: %v\n", len(msg), compressed)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn.Close()
	_ = h.Shutdown(ctx)

	// Output:
	// permessage-deflate; server_no_context_takeover; client_max_window_bits=10
	// 2700 bytes, compressed: true
	// 5 bytes, compressed: false
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// Keepalive finds peers that vanished without closing: the server pings
// every interval and drops a connection on which nothing came back.
func ExampleHertzUpgrader_keepAlive() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true
	// A real server pings every 30 s or so; 100 ms keeps the example short.
	upgrader := websocket.HertzUpgrader{KeepAlive: 100 * time.Millisecond}
	dropped := make(chan error, 1)
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		silent := ctx.Query("client") == "silent"
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			// Keep reading: pongs are seen by the reader.
			for {
				if _, _, err := conn.NextReader(); err != nil {
					if silent {
						dropped <- err
					}
					return
				}
			}
		})
	})
	go func() { _ = h.Run() }()
	url := "ws://" + ln.Addr().String() + "/ws"
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}

	// A live client reads, so it sees the pings and answers them with
	// pongs (the default ping handler does that).
	live, _, err := dialer.Dial(url+"?client=live", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer live.Close()
	pinged := make(chan struct{}, 1)
	live.SetPingHandler(func(data string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return live.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := live.NextReader(); err != nil {
				return
			}
		}
	}()

	// A silent client never reads, so it never answers: it stands for a
	// peer whose network went away without a FIN.
	silent, _, err := dialer.Dial(url+"?client=silent", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer silent.Close()

	select {
	case <-pinged:
		fmt.Println("the live client was pinged")
	case <-time.After(5 * time.Second):
		fmt.Println("no ping")
	}
	select {
	case err := <-dropped:
		fmt.Println("the silent client was dropped:", errors.Is(err, websocket.ErrKeepAliveTimeout))
	case <-time.After(5 * time.Second):
		fmt.Println("the silent client is still connected")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	live.Close()
	_ = h.Shutdown(ctx)

	// Output:
	// the live client was pinged
	// the silent client was dropped: true
}

// A server on the open internet bounds what a peer can make it hold: the
// time a message may take to arrive, the time a write may wait for a peer
// that does not read, and the memory all the messages being received may
// take at once.
func ExampleHertzUpgrader_limits() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true
	upgrader := websocket.HertzUpgrader{
		// The defaults are one minute and 30 s; 200 ms keeps the example
		// short.
		MessageTimeout: 200 * time.Millisecond,
		WriteTimeout:   10 * time.Second,
		// At most 256 MiB of messages being received, server-wide.
		ReceiveBudget: 256 << 20,
	}
	readErr := make(chan error, 1)
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			_, _, err := conn.ReadMessage()
			readErr <- err
		})
	})
	go func() { _ = h.Run() }()

	// A client that starts a message and never finishes it: its writer
	// sends a frame each time its 16-byte buffer fills, then stalls.
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second, WriteBufferSize: 16}
	conn, _, err := dialer.Dial("ws://"+ln.Addr().String()+"/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	w, err := conn.NextWriter(websocket.TextMessage)
	if err != nil {
		log.Fatal(err)
	}
	_, _ = w.Write([]byte("the first forty bytes of a message that "))

	fmt.Println("server:", errors.Is(<-readErr, websocket.ErrMessageTimeout))
	_, _, err = conn.ReadMessage()
	fmt.Println("client:", err)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// server: true
	// client: websocket: close 1008 (policy violation): message timeout
}

// Read messages into one buffer passed back each time: once it has grown
// to the size of the messages, the loop allocates nothing.
func ExampleConn_ReadMessageInto() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true

	var upgrader websocket.HertzUpgrader
	h.GET("/echo", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			buf := make([]byte, 0, 1024)
			for {
				mt, msg, err := conn.ReadMessageInto(buf[:0])
				if err != nil {
					return
				}
				buf = msg // msg is buf's memory, or a larger buffer to reuse
				// msg is overwritten by the next read: use it (or copy it)
				// before then. WriteMessage is done with it when it returns.
				if err := conn.WriteMessage(mt, msg); err != nil {
					return
				}
			}
		})
	})
	go func() { _ = h.Run() }()

	client, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf []byte
	for _, text := range []string{"one", "two", "three"} {
		_ = client.WriteMessage(websocket.TextMessage, []byte(text))
		_, msg, err := client.ReadMessageInto(buf[:0])
		if err != nil {
			log.Fatal(err)
		}
		buf = msg
		fmt.Printf("%s\n", msg)
	}
	client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// one
	// two
	// three
}

// A server that answers one request with several messages sends them with
// WriteMessages: the small ones leave together, in one system call.
func ExampleConn_WriteMessages() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true

	var upgrader websocket.HertzUpgrader
	h.GET("/history", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
			history := [][]byte{[]byte(`{"id":1,"text":"hi"}`), []byte(`{"id":2,"text":"hello"}`), []byte(`{"id":3,"text":"bye"}`)}
			if err := conn.WriteMessages(websocket.TextMessage, history...); err != nil {
				return
			}
			_, _, _ = conn.ReadMessage() // until the client closes
		})
	})
	go func() { _ = h.Run() }()

	client, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/history", nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_ = client.WriteMessage(websocket.TextMessage, []byte("history, please"))
	for i := 0; i < 3; i++ {
		_, msg, err := client.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", msg)
	}
	client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// {"id":1,"text":"hi"}
	// {"id":2,"text":"hello"}
	// {"id":3,"text":"bye"}
}
