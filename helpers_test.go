package websocket_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
)

func init() {
	// Hertz logs every start and stop; tests that care about logs install
	// their own output.
	hlog.SetOutput(io.Discard)
}

// transportCase names one Hertz transport; every end-to-end test runs on
// each.
type transportCase struct {
	name string
	opts []config.Option
}

var transports = []transportCase{
	{name: "netpoll"},
	{name: "standard", opts: []config.Option{server.WithTransport(standard.NewTransporter)}},
}

// engineSettings are the Hertz engine fields that change how hijacked
// connections are handled.
type engineSettings struct {
	noHijackConnPool  bool
	keepHijackedConns bool
}

func (s engineSettings) String() string {
	return fmt.Sprintf("NoHijackConnPool=%v/KeepHijackedConns=%v", s.noHijackConnPool, s.keepHijackedConns)
}

var allEngineSettings = []engineSettings{{false, false}, {true, false}, {false, true}, {true, true}}

// startServer runs a Hertz server on 127.0.0.1 with route registered by
// setup, and returns its host:port. The server is shut down when the test
// ends.
func startServer(t testing.TB, tc transportCase, es engineSettings, setup func(h *server.Hertz)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]config.Option{server.WithListener(ln), server.WithExitWaitTime(time.Second)}, tc.opts...)
	h := server.New(opts...)
	h.NoHijackConnPool = es.noHijackConnPool
	h.KeepHijackedConns = es.keepHijackedConns
	setup(h)
	go func() { _ = h.Run() }()
	addr := ln.Addr().String()
	waitListening(t, addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	return addr
}

func waitListening(t testing.TB, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server at %s never listened", addr)
}

// startHandler serves handler at /ws with upgrader u and returns the ws://
// URL.
func startHandler(t testing.TB, tc transportCase, es engineSettings, u *websocket.HertzUpgrader, handler websocket.HertzHandler) string {
	t.Helper()
	addr := startServer(t, tc, es, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = u.Upgrade(ctx, handler)
		})
	})
	return "ws://" + addr + "/ws"
}

// echoHandler sends back every message it reads, with its type, through
// NextReader/NextWriter so fragmented messages stay streamed.
func echoHandler(c *websocket.Conn) {
	for {
		mt, r, err := c.NextReader()
		if err != nil {
			return
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return
		}
		if _, err := io.Copy(w, r); err != nil {
			return
		}
		if err := w.Close(); err != nil {
			return
		}
	}
}

// dialGorilla opens a client connection with gorilla/websocket, the
// third-party peer that judges the server.
func dialGorilla(t testing.TB, url string, header map[string][]string) *gorilla.Conn {
	t.Helper()
	d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func forEachTransport(t *testing.T, f func(t *testing.T, tc transportCase)) {
	for _, tc := range transports {
		tc := tc
		t.Run(tc.name, func(t *testing.T) { f(t, tc) })
	}
}
