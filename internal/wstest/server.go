package wstest

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"

	"github.com/hertzws/websocket"
)

// Serve runs a Hertz server listening on addr (host:port; port 0 picks a
// free one) with opts and the routes setup registers, and returns the
// address it listens on once it serves. The server is shut down when the
// test ends.
func Serve(t testing.TB, addr string, opts []config.Option, setup func(h *server.Hertz)) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]config.Option{server.WithListener(ln), server.WithExitWaitTime(time.Second)}, opts...)
	h := server.New(all...)
	setup(h)
	started := make(chan struct{})
	h.OnRun = append(h.OnRun, func(context.Context) error {
		close(started)
		return nil
	})
	runErr := make(chan error, 1)
	go func() { runErr <- h.Run() }()
	select {
	case <-started:
	case err := <-runErr:
		ln.Close()
		t.Fatalf("server on %s: %v", ln.Addr(), err)
	}
	// The OnRun hooks run just before the engine marks itself running;
	// Shutdown does nothing before that. The listener already queues
	// connections, so the wait is for Shutdown's sake only.
	WaitFor(t, Guard, "the server to run", h.IsRunning)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// StartServer runs a Hertz server on 127.0.0.1 and transport tr, with the
// engine settings es, extra options after the transport's (a read
// timeout, say) and the routes setup registers. It returns the server's
// host:port; the server is shut down when the test ends.
func StartServer(t testing.TB, tr Transport, es EngineSettings, extra []config.Option, setup func(h *server.Hertz)) string {
	t.Helper()
	opts := append(append([]config.Option(nil), tr.Options...), extra...)
	return Serve(t, "127.0.0.1:0", opts, func(h *server.Hertz) {
		h.NoHijackConnPool = es.NoHijackConnPool
		h.KeepHijackedConns = es.KeepHijackedConns
		setup(h)
	})
}

// StartHandler serves handler at /ws with upgrader u (a zero one when u is
// nil) on 127.0.0.1 and returns the ws:// URL.
func StartHandler(t testing.TB, tr Transport, es EngineSettings, u *websocket.HertzUpgrader, handler websocket.HertzHandler) string {
	t.Helper()
	if u == nil {
		u = &websocket.HertzUpgrader{}
	}
	addr := StartServer(t, tr, es, nil, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = u.Upgrade(ctx, handler)
		})
	})
	return "ws://" + addr + "/ws"
}

// Addr returns the host:port of a ws:// or wss:// URL.
func Addr(wsURL string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(wsURL, "ws://"), "wss://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Echo is a handler that sends back every message it reads, with its
// type, through NextReader and NextWriter, so that a fragmented message
// stays streamed.
func Echo(c *websocket.Conn) {
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

// EchoMessages is a handler that sends back every message through
// ReadMessage and WriteMessage: a message is read whole, then written as
// one.
func EchoMessages(c *websocket.Conn) {
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, p); err != nil {
			return
		}
	}
}

// StartEvents serves handler's events at /ws with upgrader u (a zero one
// when u is nil) through HertzUpgrader.UpgradeEvents, on 127.0.0.1, and
// returns the ws:// URL.
func StartEvents(t testing.TB, tr Transport, es EngineSettings, u *websocket.HertzUpgrader, handler websocket.EventHandler) string {
	t.Helper()
	if u == nil {
		u = &websocket.HertzUpgrader{}
	}
	addr := StartServer(t, tr, es, nil, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = u.UpgradeEvents(ctx, handler)
		})
	})
	return "ws://" + addr + "/ws"
}
