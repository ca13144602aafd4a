package websocket_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
)

// HTTP over a WebSocket: the server serves each upgraded connection with
// net/http, and the client's http.Transport dials WebSocket connections
// instead of TCP ones.
func ExampleNetConnOf() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s, over a WebSocket", r.URL.Query().Get("name"))
	})

	var upgrader websocket.HertzUpgrader
	h.GET("/tunnel", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			// The context bounds the stream's whole life; the
			// WebSocket closes when this function returns, so serve
			// until net/http has closed the stream.
			stream := websocket.NetConnOf(context.Background(), conn, websocket.BinaryMessage)
			_ = http.Serve(newConnListener(stream), mux)
		})
	})
	go func() { _ = h.Run() }()

	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	wsURL := "ws://" + ln.Addr().String() + "/tunnel"
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, _, err := dialer.DialContext(ctx, wsURL, nil)
			if err != nil {
				return nil, err
			}
			// Not the dial's ctx: the stream must outlive the dial.
			return websocket.NetConnOf(context.Background(), conn, websocket.BinaryMessage), nil
		},
	}
	client := &http.Client{Transport: transport, Timeout: 5 * time.Second}

	// The host in the URL only names the HTTP server: DialContext
	// decides where the bytes go.
	resp, err := client.Get("http://tunnel.example/hello?name=gopher")
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	fmt.Println(string(body))

	// Closing the client's stream sends close code 1000: the server's
	// stream reads io.EOF, net/http closes it, and the handler returns.
	transport.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// 200 OK
	// hello, gopher, over a WebSocket
}

// connListener is a net.Listener with a single connection, for serving
// one stream with http.Serve: Accept returns the connection once, then
// waits until the connection or the listener is closed, so that Serve
// returns when the connection is done.
type connListener struct {
	mu        sync.Mutex
	conn      net.Conn // nil once accepted
	addr      net.Addr
	closed    chan struct{}
	closeOnce sync.Once
}

func newConnListener(c net.Conn) *connListener {
	l := &connListener{addr: c.LocalAddr(), closed: make(chan struct{})}
	l.conn = &listenedConn{Conn: c, l: l}
	return l
}

func (l *connListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *connListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

// listenedConn closes its listener when it is closed.
type listenedConn struct {
	net.Conn
	l *connListener
}

func (c *listenedConn) Close() error {
	err := c.Conn.Close()
	_ = c.l.Close()
	return err
}
