package websocket_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"go.uber.org/goleak"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
)

// Fault tests: peers that reset, half-close, stop reading, and a server
// that shuts down under a thousand connections. Each runs on both
// transports, with Hertz's hijack connection pool on and off.

// poolSettings are the two hijack pool settings every fault test runs
// with.
var poolSettings = []engineSettings{{noHijackConnPool: false}, {noHijackConnPool: true}}

func forEachTransportAndPool(t *testing.T, f func(t *testing.T, tc transportCase, es engineSettings)) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		for _, es := range poolSettings {
			es := es
			t.Run(fmt.Sprintf("NoHijackConnPool=%v", es.noHijackConnPool), func(t *testing.T) { f(t, tc, es) })
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

func startFaultServer(t *testing.T, tc transportCase, es engineSettings) *faultServer {
	s := &faultServer{u: &websocket.HertzUpgrader{}, messages: make(chan []byte, 16), readErrs: make(chan error, 16)}
	url := startHandler(t, tc, es, s.u, func(c *websocket.Conn) {
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
	rc := rwDial(t, s.addr)
	rc.handshake("/ws")
	rc.c.Close()
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
	for i := 0; i < 500 && u.Connections() != 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := u.Connections(); n != 0 {
		t.Fatalf("Connections() = %d, want 0", n)
	}
}

// A peer that resets the connection in the middle of a frame: the
// handler's read ends with close 1006 (RFC 6455 §7.1.5: the connection
// closed without a close frame), nothing is left running, and the server
// serves the next client.
func TestFaultPeerResetMidFrame(t *testing.T) {
	forEachTransportAndPool(t, func(t *testing.T, tc transportCase, es engineSettings) {
		s := startFaultServer(t, tc, es)
		base := goleak.IgnoreCurrent()
		rc := rwDial(t, s.addr)
		rc.handshake("/ws")
		rc.write(rwMasked(true, frame.OpBinary, make([]byte, 1000))[:100])
		// Make sure the server is inside the frame before the reset.
		time.Sleep(50 * time.Millisecond)
		if err := rc.c.(*net.TCPConn).SetLinger(0); err != nil {
			t.Fatal(err)
		}
		rc.c.Close() // SO_LINGER 0: RST instead of FIN
		if err := s.readErr(t); !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
			t.Fatalf("read error %v (%T), want close 1006", err, err)
		}
		expectNoConnections(t, s.u)
		expectNoNewGoroutines(t, base)
		rc2 := rwDial(t, s.addr)
		rc2.handshake("/ws")
		rc2.write(rwMasked(true, frame.OpText, []byte("next")))
		if got := string(<-s.messages); got != "next" {
			t.Fatalf("next client's message %q", got)
		}
	})
}

// A peer that half-closes (FIN) after a whole message, and one that does
// so in the middle of a frame: the message is delivered, then the read
// ends with close 1006 (RFC 6455 §7.1.5, no close frame was received).
func TestFaultPeerHalfCloses(t *testing.T) {
	forEachTransportAndPool(t, func(t *testing.T, tc transportCase, es engineSettings) {
		s := startFaultServer(t, tc, es)
		for _, tt := range []struct {
			name  string
			after []byte // sent after the whole message, before the FIN
		}{
			{"between frames", nil},
			{"mid-frame", rwMasked(true, frame.OpText, []byte("never finished"))[:9]},
		} {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				base := goleak.IgnoreCurrent()
				rc := rwDial(t, s.addr)
				rc.handshake("/ws")
				rc.write(rwConcat(rwMasked(true, frame.OpText, []byte("last words")), tt.after))
				rc.closeWrite()
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
				rc.expectClosed()
				rc.c.Close()
				expectNoConnections(t, s.u)
				expectNoNewGoroutines(t, base)
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
	forEachTransportAndPool(t, func(t *testing.T, tc transportCase, es engineSettings) {
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
		addr := startServer(t, tc, es, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) { _ = u.Upgrade(ctx, writer) })
			h.GET("/warm", func(_ context.Context, ctx *app.RequestContext) {
				_ = u.Upgrade(ctx, func(c *websocket.Conn) {
					_, _, _ = c.ReadMessage()
					close(warmed)
				})
			})
		})
		// Start the goroutines that live as long as the process first.
		warm := rwDial(t, addr)
		warm.handshake("/warm")
		warm.c.Close()
		<-warmed
		expectNoConnections(t, u)

		base := goleak.IgnoreCurrent()
		rc := rwDial(t, addr)
		if err := rc.c.(*net.TCPConn).SetReadBuffer(4096); err != nil {
			t.Fatal(err)
		}
		rc.handshake("/ws") // and never read again
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
		rc.c.Close()
		expectNoNewGoroutines(t, base)
	})
}

// Shutting the Hertz engine down with 1,000 live WebSocket connections:
// every client receives close 1001 within a second of Shutdown being
// called, every handler returns, and the upgrader counts none left.
func TestFaultShutdownWithThousandConnections(t *testing.T) {
	const conns = 1000
	forEachTransportAndPool(t, func(t *testing.T, tc transportCase, es engineSettings) {
		u := &websocket.HertzUpgrader{}
		var handlers sync.WaitGroup
		var h *server.Hertz
		addr := startServer(t, tc, es, func(s *server.Hertz) {
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
		clients := make([]*rwConn, conns)
		dialErrs := make(chan error, conns)
		var dialing sync.WaitGroup
		const workers = 16
		for w := 0; w < workers; w++ {
			w := w
			dialing.Add(1)
			go func() {
				defer dialing.Done()
				for i := w; i < conns; i += workers {
					rc, err := rwTryUpgrade(t, addr)
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
		for i := 0; i < 500 && u.Connections() != conns; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if n := u.Connections(); n != conns {
			t.Fatalf("Connections() = %d, want %d", n, conns)
		}

		type got struct {
			code int
			err  error
			at   time.Time
		}
		codes := make(chan got, conns)
		for _, rc := range clients {
			rc := rc
			go func() {
				_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				f, err := rc.tryReadFrame()
				switch {
				case err != nil:
					codes <- got{err: err}
				case f.h.Opcode != frame.OpClose:
					codes <- got{err: fmt.Errorf("%v frame before the close", f.h.Opcode)}
				default:
					code, _, err := frame.ParseClosePayload(f.payload)
					codes <- got{code: int(code), err: err, at: time.Now()}
					// Answer as a well-behaved client does.
					_ = rc.tryWrite(rwMasked(true, frame.OpClose, rwClosePayload(uint16(code), "")))
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

// rwTryUpgrade dials addr and completes a valid handshake on /ws, and
// reports failure as an error, for use from goroutines other than the
// test's.
func rwTryUpgrade(t testing.TB, addr string) (*rwConn, error) {
	c, err := net.DialTimeout("tcp", addr, rwIOTimeout)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	rc := &rwConn{t: t, addr: addr, c: c, br: bufio.NewReader(c)}
	if err := rc.tryWrite(rwRequest("GET", addr, "/ws", rwUpgradeLines())); err != nil {
		return nil, err
	}
	resp, err := rc.tryReadResponse()
	if err != nil {
		return nil, err
	}
	if resp.status != 101 {
		return nil, fmt.Errorf("status %d", resp.status)
	}
	return rc, nil
}
