package websocket_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// A peer that vanishes without FIN or RST is found by keepalive: the
// handler's read ends with ErrKeepAliveTimeout.
func TestKeepAliveDropsSilentPeer(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		readErr := make(chan error, 1)
		u := &websocket.HertzUpgrader{KeepAlive: 100 * time.Millisecond}
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			_, _, err := c.ReadMessage()
			readErr <- err
		})
		// A client that never reads: it cannot answer pings, as a peer
		// behind a dead link cannot.
		wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		select {
		case err := <-readErr:
			if !errors.Is(err, websocket.ErrKeepAliveTimeout) {
				t.Fatalf("read error %v, want ErrKeepAliveTimeout", err)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("%v is not a net.Error with Timeout()", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("keepalive did not drop the silent peer")
		}
	})
}

// A peer that answers pings keeps its connection across many intervals.
func TestKeepAliveKeepsLivePeer(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		var pings atomic.Int32
		u := &websocket.HertzUpgrader{KeepAlive: 50 * time.Millisecond}
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, wstest.Echo)
		c, _ := wstest.Dial(t, nil, url, nil)
		c.SetPingHandler(func(data string) error {
			pings.Add(1)
			return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		// Read (which answers pings) for 12 intervals, then check the
		// connection still echoes.
		_ = c.SetReadDeadline(time.Now().Add(600 * time.Millisecond))
		if _, _, err := c.ReadMessage(); err == nil {
			t.Fatal("unexpected message")
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("connection dropped: %v", err)
		}
		if pings.Load() < 3 {
			t.Fatalf("only %d pings in 600 ms with a 50 ms interval", pings.Load())
		}
		// A connection is unusable after a read timeout; open another and
		// make sure the server still serves.
		c2, _ := wstest.Dial(t, nil, url, nil)
		wstest.CheckEcho(t, c2, websocket.TextMessage, []byte("x"))
	})
}

// Shutdown sends 1001 to every connection, handlers see the close and
// return, and new upgrades get 503.
func TestShutdownGoingAway(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{}
		handlerErrs := make(chan error, 3)
		var h *server.Hertz
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(s *server.Hertz) {
			h = s
			s.OnShutdown = append(s.OnShutdown, u.Shutdown)
			s.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				_ = u.Upgrade(ctx, func(c *websocket.Conn) {
					for {
						if _, _, err := c.ReadMessage(); err != nil {
							handlerErrs <- err
							return
						}
					}
				})
			})
		})
		url := "ws://" + addr + "/ws"
		var clients []*websocket.Conn
		for i := 0; i < 3; i++ {
			c, _ := wstest.Dial(t, nil, url, nil)
			clients = append(clients, c)
		}
		wstest.WaitFor(t, 2*time.Second, "3 connections", func() bool { return u.Connections() == 3 })
		// Clients read: a Conn echoes the close frame it receives.
		clientCodes := make(chan int, 3)
		for _, c := range clients {
			c := c
			go func() {
				_, _, err := c.ReadMessage()
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					clientCodes <- ce.Code
				} else {
					clientCodes <- -1
				}
			}()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		if err := h.Shutdown(ctx); err != nil {
			t.Logf("hertz Shutdown: %v", err)
		}
		t.Logf("shutdown took %v", time.Since(start))
		for i := 0; i < 3; i++ {
			if code := <-clientCodes; code != websocket.CloseGoingAway {
				t.Fatalf("client saw close code %d, want 1001", code)
			}
			err := <-handlerErrs
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Fatalf("handler read error %v, want close 1001", err)
			}
		}
		if n := u.Connections(); n != 0 {
			t.Fatalf("Connections() = %d after shutdown", n)
		}
	})
}

// Shutdown returns when its context ends even if handlers ignore their
// connections and peers never answer, and the connections are closed.
func TestShutdownForcesStuckConnections(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{}
		started := make(chan struct{}, 1)
		testDone := make(chan struct{})
		t.Cleanup(func() { close(testDone) })
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			started <- struct{}{}
			<-testDone // a handler that ignores its connection
		})
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws") // never answers the close
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		u.Shutdown(ctx)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("Shutdown took %v with a 300 ms context", el)
		}
		// The peer got the close frame, then the connection closed.
		_ = rc.NetConn.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 64)
		var got []byte
		for i := 0; i < 10; i++ {
			n, err := rc.Reader.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("connection still open after Shutdown (read %x)", got)
				}
				break
			}
		}
		if len(got) < 4 || got[0] != 0x88 || int(got[2])<<8|int(got[3]) != websocket.CloseGoingAway {
			t.Fatalf("peer read %x, want a close frame with 1001", got)
		}
	})
}

// After sending close, a connection waits CloseHandshakeTimeout for the
// peer's close, then drops the TCP connection (RFC 6455 §7.1.1), even when
// nobody reads it. The wait is 500 ms here instead of the default
// (DefaultCloseHandshakeTimeout, 5 s), so that the test is quick.
func TestCloseHandshakeTimeout(t *testing.T) {
	for _, tc := range wstest.Transports {
		tc := tc
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			testDone := make(chan struct{})
			t.Cleanup(func() { close(testDone) })
			const wait = 500 * time.Millisecond
			u := &websocket.HertzUpgrader{CloseHandshakeTimeout: wait}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
				_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				<-testDone // never reads, never closes
			})
			start := time.Now()
			rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws") // never answers
			_ = rc.NetConn.SetReadDeadline(time.Now().Add(wait + 3*time.Second))
			buf := make([]byte, 64)
			var err error
			for i := 0; i < 10 && err == nil; i++ {
				_, err = rc.Reader.Read(buf)
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("connection still open %v after the close frame", time.Since(start))
			}
			if el := time.Since(start); el < wait {
				t.Fatalf("connection dropped after %v, before the close handshake timeout", el)
			}
		})
	}
}
