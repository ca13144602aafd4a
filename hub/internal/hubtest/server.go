// Package hubtest holds what the hub's tests and benchmarks, in this module
// and in hub/redishub, share: Hertz servers on 127.0.0.1 for both
// transports, clients (this package's Dialer) that record what they receive, and
// checks for leaked goroutines. It is for tests only.
package hubtest

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
)

// Transport names one of Hertz's transports; tests run on each.
type Transport struct {
	Name string
	Opts []config.Option
}

// Transports are netpoll (Hertz's default) and the standard library's net.
var Transports = []Transport{
	{Name: "netpoll"},
	{Name: "standard", Opts: []config.Option{server.WithTransport(standard.NewTransporter)}},
}

// ForEachTransport runs f as a subtest per transport.
func ForEachTransport(t *testing.T, f func(t *testing.T, tr Transport)) {
	for _, tr := range Transports {
		tr := tr
		t.Run(tr.Name, func(t *testing.T) { f(t, tr) })
	}
}

// Quiet silences Hertz's start and stop logs.
func Quiet() { hlog.SetOutput(discard{}) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// ServerOptions shapes the server ServeHub starts.
type ServerOptions struct {
	// Upgrader upgrades the requests; nil means the zero HertzUpgrader.
	Upgrader *websocket.HertzUpgrader
	// SendBuffer, when positive, is the kernel send buffer (SO_SNDBUF) of
	// every accepted connection, so that a peer that stops reading fills
	// it quickly.
	SendBuffer int
	// OnMessage handles the messages clients send; nil means Publish.
	OnMessage func(h *hub.Hub, c *hub.Client, messageType int, data []byte) error
	// OnEnd, when not nil, gets every client and the error Run returned.
	OnEnd func(c *hub.Client, err error)
	// Gate, when not nil, holds every upgraded connection until it is
	// closed, before it is registered: a benchmark measures the memory of
	// the connections alone, then with the hub.
	Gate <-chan struct{}
}

// Server is a Hertz server whose /ws route registers clients with a hub.
type Server struct {
	// URL is the ws:// URL of the route.
	URL      string
	upgraded atomic.Int64
	ready    atomic.Int64
}

// Member returns the URL at which a client is registered under id (empty
// lets the hub choose) and joins rooms.
func (s *Server) Member(id string, rooms ...string) string {
	q := url.Values{}
	if id != "" {
		q.Set("id", id)
	}
	if len(rooms) > 0 {
		q.Set("rooms", strings.Join(rooms, ","))
	}
	return s.URL + "?" + q.Encode()
}

// WaitReady waits (10 seconds, plus a millisecond a client) until n clients in all have been
// registered and have joined their rooms.
func (s *Server) WaitReady(t testing.TB, n int) {
	t.Helper()
	waitCount(t, &s.ready, n, "ready")
}

// WaitUpgraded waits (as WaitReady) until n connections in all have been
// upgraded.
func (s *Server) WaitUpgraded(t testing.TB, n int) {
	t.Helper()
	waitCount(t, &s.upgraded, n, "upgraded")
}

func waitCount(t testing.TB, c *atomic.Int64, n int, what string) {
	t.Helper()
	limit := 10*time.Second + time.Duration(n)*time.Millisecond
	deadline := time.Now().Add(limit)
	for c.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients %s after %v, want %d", c.Load(), what, limit, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ServeHub serves h at /ws on 127.0.0.1. A client connecting at
// Server.Member(id, rooms...) is registered, joins the rooms, and runs
// until it ends. The server stops when the test ends.
func ServeHub(t testing.TB, tr Transport, h *hub.Hub, so ServerOptions) *Server {
	t.Helper()
	u := so.Upgrader
	if u == nil {
		u = &websocket.HertzUpgrader{}
	}
	onMessage := so.OnMessage
	if onMessage == nil {
		onMessage = Publish
	}
	ln := listen(t, so.SendBuffer)
	opts := append([]config.Option{server.WithListener(ln), server.WithExitWaitTime(time.Second)}, tr.Opts...)
	s := &Server{}
	srv := server.New(opts...)
	srv.NoHijackConnPool = true
	srv.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		id := ctx.Query("id")
		var rooms []string
		if r := ctx.Query("rooms"); r != "" {
			rooms = strings.Split(r, ",")
		}
		_ = u.Upgrade(ctx, func(conn *websocket.Conn) {
			s.upgraded.Add(1)
			if so.Gate != nil {
				<-so.Gate
			}
			c, err := h.Register(conn, id, nil)
			if err != nil {
				return
			}
			if err = c.Join(rooms...); err != nil {
				_ = c.Close()
			} else {
				s.ready.Add(1)
				err = c.Run(func(c *hub.Client, mt int, data []byte) error { return onMessage(h, c, mt, data) })
			}
			if so.OnEnd != nil {
				so.OnEnd(c, err)
			}
		})
	})
	// The listener is bound already: connections made before Run starts
	// wait in its backlog.
	go func() { _ = srv.Run() }()
	addr := ln.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	s.URL = "ws://" + addr + "/ws"
	return s
}

// Publish is the default OnMessage: a client sends "ROOM\nTEXT" to have
// TEXT broadcast to ROOM, "*\nTEXT" for every client, "@ID\nTEXT" for the
// client ID.
func Publish(h *hub.Hub, _ *hub.Client, mt int, data []byte) error {
	s := string(data)
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return nil
	}
	to, body := s[:i], []byte(s[i+1:])
	switch {
	case to == "*":
		return h.BroadcastAll(mt, body)
	case strings.HasPrefix(to, "@"):
		return h.Send(to[1:], mt, body)
	}
	return h.Broadcast(to, mt, body)
}

func listen(t testing.TB, sendBuffer int) net.Listener {
	t.Helper()
	lc := net.ListenConfig{}
	if sendBuffer > 0 {
		// Accepted sockets inherit the listener's buffer sizes.
		lc.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) { serr = setSendBuffer(fd, sendBuffer) }); err != nil {
				return err
			}
			return serr
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
