package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// Fault tests: peers that reset, half-close, stop reading, and a server
// that shuts down under a thousand connections. Each runs on both
// transports, with Hertz's hijack connection pool on and off.

// poolSettings are the two hijack pool settings every fault test runs
// with.
var poolSettings = []wstest.EngineSettings{{NoHijackConnPool: false}, {NoHijackConnPool: true}}

func forEachTransportAndPool(t *testing.T, f func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings)) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, es := range poolSettings {
			es := es
			t.Run(fmt.Sprintf("NoHijackConnPool=%v", es.NoHijackConnPool), func(t *testing.T) { f(t, tc, es) })
		}
	})
}

// faultServer serves a handler that reads messages until an error and
// reports every message and the final error.
type faultServer struct {
	addr     string
	u        *websocket.HertzUpgrader
	messages chan []byte
	readErrs chan error
}

func startFaultServer(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) *faultServer {
	s := &faultServer{u: &websocket.HertzUpgrader{}, messages: make(chan []byte, 16), readErrs: make(chan error, 16)}
	url := wstest.StartHandler(t, tc, es, s.u, func(c *websocket.Conn) {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				s.readErrs <- err
				return
			}
			s.messages <- msg
		}
	})
	s.addr = url[len("ws://") : len(url)-len("/ws")]
	// Start the goroutines that live as long as the process before a
	// test takes its baseline.
	rc := wstest.DialRaw(t, s.addr)
	rc.Handshake("/ws")
	rc.NetConn.Close()
	<-s.readErrs
	return s
}

// readErr waits for the handler's read to end and returns its error.
func (s *faultServer) readErr(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.readErrs:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's read did not end within 5 s")
		return nil
	}
}

// expectNoConnections waits (bounded) for the upgrader to count no live
// connection.
func expectNoConnections(t *testing.T, u *websocket.HertzUpgrader) {
	t.Helper()
	wstest.WaitFor(t, 5*time.Second, "Connections() to reach 0", func() bool { return u.Connections() == 0 })
}

// A peer that resets the connection in the middle of a frame: the
// handler's read ends with close 1006 (RFC 6455 §7.1.5: the connection
// closed without a close frame), nothing is left running, and the server
// serves the next client.
func TestFaultPeerResetMidFrame(t *testing.T) {
	forEachTransportAndPool(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		s := startFaultServer(t, tc, es)
		base := wstest.Goroutines()
		rc := wstest.DialRaw(t, s.addr)
		rc.Handshake("/ws")
		rc.Write(wstest.Masked(true, frame.OpBinary, make([]byte, 1000))[:100])
		// Make sure the server is inside the frame before the reset.
		time.Sleep(50 * time.Millisecond)
		if err := rc.NetConn.(*net.TCPConn).SetLinger(0); err != nil {
			t.Fatal(err)
		}
		rc.NetConn.Close() // SO_LINGER 0: RST instead of FIN
		if err := s.readErr(t); !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
			t.Fatalf("read error %v (%T), want close 1006", err, err)
		}
		expectNoConnections(t, s.u)
		wstest.WaitGoroutines(t, base, 0)
		rc2 := wstest.DialRaw(t, s.addr)
		rc2.Handshake("/ws")
		rc2.Write(wstest.Masked(true, frame.OpText, []byte("next")))
		if got := string(<-s.messages); got != "next" {
			t.Fatalf("next client's message %q", got)
		}
	})
}

// A peer that half-closes (FIN) after a whole message, and one that does
// so in the middle of a frame: the message is delivered, then the read
// ends with close 1006 (RFC 6455 §7.1.5, no close frame was received).
func TestFaultPeerHalfCloses(t *testing.T) {
	forEachTransportAndPool(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		s := startFaultServer(t, tc, es)
		for _, tt := range []struct {
			name  string
			after []byte // sent after the whole message, before the FIN
		}{
			{"between frames", nil},
			{"mid-frame", wstest.Masked(true, frame.OpText, []byte("never finished"))[:9]},
		} {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				base := wstest.Goroutines()
				rc := wstest.DialRaw(t, s.addr)
				rc.Handshake("/ws")
				rc.Write(rwConcat(wstest.Masked(true, frame.OpText, []byte("last words")), tt.after))
				rc.CloseWrite()
				select {
				case msg := <-s.messages:
					if string(msg) != "last words" {
						t.Fatalf("message %q", msg)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the message sent before the FIN was not delivered")
				}
				if err := s.readErr(t); !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
					t.Fatalf("read error %v, want close 1006", err)
				}
				rc.ExpectClosed()
				rc.NetConn.Close()
				expectNoConnections(t, s.u)
				wstest.WaitGoroutines(t, base, 0)
			})
		}
	})
}

// A peer that stops reading while the server writes: once the socket
// buffers are full, the write deadline fires and the write returns a
// net.Error whose Timeout() is true; the handler returns and nothing is
// left blocked.
func TestFaultPeerStopsReading(t *testing.T) {
	const deadline = 200 * time.Millisecond
	forEachTransportAndPool(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		type result struct {
			err     error
			writes  int
			blocked time.Duration // how long the failing write took
		}
		results := make(chan result, 1)
		u := &websocket.HertzUpgrader{}
		writer := func(c *websocket.Conn) {
			msg := make([]byte, 64<<10)
			for i := 0; i < 100000; i++ {
				if err := c.SetWriteDeadline(time.Now().Add(deadline)); err != nil {
					results <- result{err: err, writes: i}
					return
				}
				start := time.Now()
				if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
					results <- result{err: err, writes: i, blocked: time.Since(start)}
					return
				}
			}
			results <- result{writes: 100000}
		}
		warmed := make(chan struct{})
		addr := wstest.StartServer(t, tc, es, nil, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) { _ = u.Upgrade(ctx, writer) })
			h.GET("/warm", func(_ context.Context, ctx *app.RequestContext) {
				_ = u.Upgrade(ctx, func(c *websocket.Conn) {
					_, _, _ = c.ReadMessage()
					close(warmed)
				})
			})
		})
		// Start the goroutines that live as long as the process first.
		warm := wstest.DialRaw(t, addr)
		warm.Handshake("/warm")
		warm.NetConn.Close()
		<-warmed
		expectNoConnections(t, u)

		base := wstest.Goroutines()
		rc := wstest.DialRaw(t, addr)
		if err := rc.NetConn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
			t.Fatal(err)
		}
		rc.Handshake("/ws") // and never read again
		var r result
		select {
		case r = <-results:
		case <-time.After(20 * time.Second):
			t.Fatal("the writes never failed against a peer that does not read")
		}
		var ne net.Error
		if !errors.As(r.err, &ne) || !ne.Timeout() {
			t.Fatalf("after %d writes: error %v (%T), want a net.Error with Timeout()", r.writes, r.err, r.err)
		}
		if r.writes == 0 {
			t.Fatal("the first write already failed: the peer's buffers were never filled")
		}
		if r.blocked > deadline+2*time.Second {
			t.Fatalf("the failing write took %v with a %v deadline", r.blocked, deadline)
		}
		t.Logf("%d writes of 64 KiB, then %v after %v", r.writes, r.err, r.blocked)
		expectNoConnections(t, u)
		rc.NetConn.Close()
		wstest.WaitGoroutines(t, base, 0)
	})
}

// Shutting the Hertz engine down with 1,000 live WebSocket connections:
// every client receives close 1001 within a second of Shutdown being
// called, every handler returns, and the upgrader counts none left.
func TestFaultShutdownWithThousandConnections(t *testing.T) {
	const conns = 1000
	forEachTransportAndPool(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		u := &websocket.HertzUpgrader{}
		var handlers sync.WaitGroup
		var h *server.Hertz
		addr := wstest.StartServer(t, tc, es, nil, func(s *server.Hertz) {
			h = s
			s.OnShutdown = append(s.OnShutdown, u.Shutdown)
			s.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				handlers.Add(1)
				if err := u.Upgrade(ctx, func(c *websocket.Conn) {
					defer handlers.Done()
					for {
						if _, _, err := c.ReadMessage(); err != nil {
							return
						}
					}
				}); err != nil {
					handlers.Done()
				}
			})
		})
		clients := make([]*wstest.RawConn, conns)
		dialErrs := make(chan error, conns)
		var dialing sync.WaitGroup
		const workers = 16
		for w := 0; w < workers; w++ {
			w := w
			dialing.Add(1)
			go func() {
				defer dialing.Done()
				for i := w; i < conns; i += workers {
					rc, err := wstest.TryDialRaw(t, addr)
					if err == nil {
						_, err = rc.TryHandshake("/ws")
					}
					if err != nil {
						dialErrs <- err
						return
					}
					clients[i] = rc
				}
			}()
		}
		dialing.Wait()
		close(dialErrs)
		if err := <-dialErrs; err != nil {
			t.Fatalf("dial: %v", err)
		}
		wstest.WaitFor(t, 5*time.Second, fmt.Sprintf("Connections() to reach %d", conns), func() bool { return u.Connections() == conns })

		type got struct {
			code int
			err  error
			at   time.Time
		}
		codes := make(chan got, conns)
		for _, rc := range clients {
			rc := rc
			go func() {
				_ = rc.NetConn.SetReadDeadline(time.Now().Add(10 * time.Second))
				f, err := rc.TryReadFrame()
				switch {
				case err != nil:
					codes <- got{err: err}
				case f.Header.Opcode != frame.OpClose:
					codes <- got{err: fmt.Errorf("%v frame before the close", f.Header.Opcode)}
				default:
					code, _, err := frame.ParseClosePayload(f.Payload)
					codes <- got{code: int(code), err: err, at: time.Now()}
					// Answer as a well-behaved client does.
					_ = rc.TryWrite(wstest.Masked(true, frame.OpClose, rwClosePayload(uint16(code), "")))
				}
			}()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		shutdownDone := make(chan error, 1)
		go func() { shutdownDone <- h.Shutdown(ctx) }()
		var last time.Duration
		for i := 0; i < conns; i++ {
			g := <-codes
			if g.err != nil || g.code != websocket.CloseGoingAway {
				t.Fatalf("client %d: close code %d, error %v; want 1001", i, g.code, g.err)
			}
			if d := g.at.Sub(start); d > last {
				last = d
			}
		}
		t.Logf("%d clients got 1001, the last %v after Shutdown began", conns, last)
		if last > time.Second {
			t.Fatalf("the last of %d clients got its 1001 after %v, want within 1 s", conns, last)
		}
		waited := make(chan struct{})
		go func() { handlers.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			t.Fatalf("handlers still running 5 s after Shutdown; Connections() = %d", u.Connections())
		}
		if err := <-shutdownDone; err != nil {
			t.Logf("hertz Shutdown: %v", err)
		}
		if n := u.Connections(); n != 0 {
			t.Fatalf("Connections() = %d after Shutdown", n)
		}
	})
}
