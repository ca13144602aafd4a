package interop_test

// Lifecycle tests: hijack safety of Conn against a real Hertz server on
// 127.0.0.1, on both transports and all four engine settings
// (NoHijackConnPool × KeepHijackedConns), with gorilla/websocket as the
// client. Helpers private to these tests carry the lc prefix.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// lcCloseBound is the longest Close may take to wake a blocked reader: a
// stated requirement.
const lcCloseBound = 100 * time.Millisecond

// lcServer is a Hertz server with several WebSocket routes. It counts the
// handlers running, so a test can wait until the server side is idle.
type lcServer struct {
	base   string // ws://host:port
	active int64  // handlers running, atomically
}

// lcServe starts a server serving each handler of routes at its path with
// a default HertzUpgrader.
func lcServe(t *testing.T, tc wstest.Transport, es wstest.EngineSettings, routes map[string]websocket.HertzHandler) *lcServer {
	t.Helper()
	s := &lcServer{}
	u := &websocket.HertzUpgrader{}
	addr := wstest.StartServer(t, tc, es, nil, func(h *server.Hertz) {
		for path, handler := range routes {
			handler := handler
			h.GET(path, func(_ context.Context, ctx *app.RequestContext) {
				_ = u.Upgrade(ctx, func(c *websocket.Conn) {
					atomic.AddInt64(&s.active, 1)
					defer atomic.AddInt64(&s.active, -1)
					handler(c)
				})
			})
		}
	})
	s.base = "ws://" + addr
	return s
}

func (s *lcServer) url(path string) string { return s.base + path }

// waitIdle waits until no handler runs.
func (s *lcServer) waitIdle(t *testing.T, within time.Duration) {
	t.Helper()
	wstest.WaitFor(t, within, "the handlers to return", func() bool { return atomic.LoadInt64(&s.active) == 0 })
}

// lcCall runs f, turning a panic into a test failure and an error.
func lcCall(t *testing.T, name string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v\n%s", name, r, debug.Stack())
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// lcExpectTCPClose reads c until the TCP connection ends and fails the test
// if that does not happen within the given time. Data messages on the way
// fail the test unless allowMessages; a close frame is accepted, after which
// the raw connection must still reach EOF. It returns how long the close
// took to arrive and the first error ReadMessage returned.
func lcExpectTCPClose(t *testing.T, c *gorilla.Conn, within time.Duration, allowMessages bool) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(within))
	var first error
	for {
		mt, p, err := c.ReadMessage()
		if err == nil {
			if !allowMessages {
				t.Errorf("unexpected message before close: type %d %q", mt, lcTrim(p))
			}
			continue
		}
		first = err
		break
	}
	if wstest.IsTimeout(first) {
		t.Errorf("connection still open %v later: %v", within, first)
		return time.Since(start), first
	}
	var ce *gorilla.CloseError
	if errors.As(first, &ce) && ce.Code != gorilla.CloseAbnormalClosure {
		// A close frame arrived; the TCP connection must end too.
		raw := c.UnderlyingConn()
		_ = raw.SetReadDeadline(start.Add(within))
		buf := make([]byte, 512)
		for {
			_, err := raw.Read(buf)
			if err == nil {
				continue
			}
			if wstest.IsTimeout(err) {
				t.Errorf("close frame received (%v) but TCP connection still open %v later", first, within)
			}
			break
		}
	}
	return time.Since(start), first
}

func lcTrim(p []byte) string {
	if len(p) > 64 {
		return string(p[:64]) + "..."
	}
	return string(p)
}

// lcEcho sends n messages through an echo connection and checks each reply,
// then checks that nothing else arrives.
func lcEcho(t *testing.T, c *gorilla.Conn, tag string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		mt := gorilla.TextMessage
		if i%2 == 1 {
			mt = gorilla.BinaryMessage
		}
		msg := fmt.Sprintf("%s message %d %s", tag, i, strings.Repeat("x", i*37))
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMessage(mt, []byte(msg)); err != nil {
			t.Fatalf("%s: write %d: %v", tag, i, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		gotType, got, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("%s: read %d: %v", tag, i, err)
		}
		if gotType != mt || string(got) != msg {
			t.Fatalf("%s: reply %d: got type %d %q, want type %d %q", tag, i, gotType, lcTrim(got), mt, lcTrim([]byte(msg)))
		}
	}
}

// lcExpectSilence fails if anything arrives on c within d. It leaves c
// unusable for reading (gorilla fails reads after a timeout).
func lcExpectSilence(t *testing.T, c *gorilla.Conn, d time.Duration, tag string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	mt, p, err := c.ReadMessage()
	if err == nil {
		t.Errorf("%s: stray message: type %d %q", tag, mt, lcTrim(p))
		return
	}
	if !wstest.IsTimeout(err) {
		t.Errorf("%s: connection failed instead of staying silent: %v", tag, err)
	}
}

// lcWarmUp opens and closes a few echo connections so that lazily started
// goroutines and pools exist before a goroutine baseline is taken.
func lcWarmUp(t *testing.T, s *lcServer, path string) {
	t.Helper()
	for i := 0; i < 3; i++ {
		c := dialGorilla(t, s.url(path), nil)
		lcEcho(t, c, "warm-up", 1)
		c.Close()
	}
	s.waitIdle(t, 5*time.Second)
}

// lcSyncBuffer is a mutex-guarded log sink.
type lcSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lcSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lcSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// 1. A Conn used after its handler returned fails every call, never panics
// and never writes onto a connection Hertz has recycled.
func TestLifecycleUseAfterHandlerReturn(t *testing.T) {
	wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		stash := make(chan *websocket.Conn, 1)
		s := lcServe(t, tc, es, map[string]websocket.HertzHandler{
			"/stash": func(c *websocket.Conn) { stash <- c },
			"/echo":  wstest.Echo,
		})

		c1 := dialGorilla(t, s.url("/stash"), nil)
		stale := wstest.ReceiveWithin(t, stash, 5*time.Second, "the stashed Conn")
		// The handler returned: client 1 sees its connection end, with
		// no data on the way.
		lcExpectTCPClose(t, c1, 5*time.Second, false)
		s.waitIdle(t, 5*time.Second)
		time.Sleep(20 * time.Millisecond) // let Hertz put the wrapper back in its pool

		// Client 2 is served (with the recycled wrapper, when pooled)
		// while the stale Conn is used.
		c2 := dialGorilla(t, s.url("/echo"), nil)
		lcEcho(t, c2, "client 2 before", 2)

		lcStaleCalls(t, stale)

		// Hammer the stale Conn from several goroutines while client 2
		// keeps echoing.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		rawFrame := []byte{0x81, 0x05, 'S', 'T', 'A', 'L', 'E'}
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("STALE prepared"))
		if err != nil {
			t.Fatal(err)
		}
		var staleSuccesses int64
		for g := 0; g < 4; g++ {
			g := g
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("stale goroutine %d panicked: %v\n%s", g, r, debug.Stack())
					}
				}()
				for {
					select {
					case <-stop:
						return
					default:
					}
					var err error
					switch g {
					case 0:
						err = stale.WriteMessage(websocket.TextMessage, []byte("STALE"))
					case 1:
						_, err = stale.NetConn().Write(rawFrame)
					case 2:
						err = stale.WritePreparedMessage(pm)
					case 3:
						err = stale.WriteControl(websocket.PingMessage, []byte("STALE"), time.Now().Add(time.Second))
					}
					if err == nil {
						atomic.AddInt64(&staleSuccesses, 1)
					}
					runtime.Gosched()
				}
			}()
		}
		lcEcho(t, c2, "client 2 during", 10)
		close(stop)
		wg.Wait()
		if n := atomic.LoadInt64(&staleSuccesses); n != 0 {
			t.Errorf("%d writes through the stale Conn reported success", n)
		}
		lcEcho(t, c2, "client 2 after", 5)
		lcExpectSilence(t, c2, 200*time.Millisecond, "client 2")

		// A third client, connected after all that, is served cleanly.
		c3 := dialGorilla(t, s.url("/echo"), nil)
		lcEcho(t, c3, "client 3", 5)
		lcExpectSilence(t, c3, 200*time.Millisecond, "client 3")
	})
}

// lcStaleCalls makes every kind of call on a Conn whose handler returned
// and checks that each fails without panicking.
func lcStaleCalls(t *testing.T, c *websocket.Conn) {
	t.Helper()
	mustFail := func(name string, f func() error) {
		t.Helper()
		err := lcCall(t, name, f)
		if err == nil {
			t.Errorf("%s on a Conn whose handler returned succeeded", name)
			return
		}
		if !strings.HasPrefix(err.Error(), "panic:") && !errors.Is(err, net.ErrClosed) {
			t.Logf("%s: %v (does not match net.ErrClosed)", name, err)
		}
	}
	pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, []byte("STALE prepared"))
	if err != nil {
		t.Fatal(err)
	}
	mustFail("ReadMessage", func() error { _, _, err := c.ReadMessage(); return err })
	mustFail("NextReader", func() error {
		_, r, err := c.NextReader()
		if err == nil && r == nil {
			return errors.New("nil reader without error")
		}
		return err
	})
	mustFail("ReadJSON", func() error { var v interface{}; return c.ReadJSON(&v) })
	mustFail("WriteMessage", func() error { return c.WriteMessage(websocket.TextMessage, []byte("STALE")) })
	mustFail("WriteMessage(Ping)", func() error { return c.WriteMessage(websocket.PingMessage, []byte("STALE")) })
	mustFail("NextWriter", func() error {
		w, err := c.NextWriter(websocket.TextMessage)
		if err == nil {
			// Should not happen; try to push bytes out to expose it.
			_, _ = w.Write([]byte("STALE"))
			_ = w.Close()
		}
		return err
	})
	mustFail("WriteControl(Ping)", func() error {
		return c.WriteControl(websocket.PingMessage, []byte("STALE"), time.Now().Add(time.Second))
	})
	mustFail("WriteControl(Close)", func() error {
		return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "STALE"), time.Time{})
	})
	mustFail("WritePreparedMessage", func() error { return c.WritePreparedMessage(pm) })
	mustFail("WriteJSON", func() error { return c.WriteJSON(map[string]string{"stale": "STALE"}) })
	mustFail("SetReadDeadline", func() error { return c.SetReadDeadline(time.Now().Add(time.Second)) })
	mustFail("SetWriteDeadline", func() error { return c.SetWriteDeadline(time.Now().Add(time.Second)) })
	nc := c.NetConn()
	mustFail("NetConn().Write", func() error {
		_, err := nc.Write([]byte{0x81, 0x05, 'S', 'T', 'A', 'L', 'E'})
		return err
	})
	mustFail("NetConn().Read", func() error {
		_, err := nc.Read(make([]byte, 16))
		return err
	})
	mustFail("NetConn().SetDeadline", func() error { return nc.SetDeadline(time.Now().Add(time.Second)) })
	for i := 0; i < 2; i++ {
		err := lcCall(t, "Close", c.Close)
		if err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Close #%d: %v, want nil or net.ErrClosed", i+1, err)
		}
	}
	if err := lcCall(t, "NetConn().Close", nc.Close); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Errorf("NetConn().Close: %v, want nil or net.ErrClosed", err)
	}
	// Addresses stay valid after Close.
	_ = lcCall(t, "addresses", func() error {
		if c.LocalAddr() == nil || c.RemoteAddr() == nil {
			t.Errorf("addresses lost after the handler returned")
		}
		return nil
	})
}

// 2. Close from another goroutine wakes a reader blocked in ReadMessage
// within lcCloseBound, and the client sees the TCP connection close while
// the handler is still running.
func TestLifecycleCloseUnblocksReader(t *testing.T) {
	wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		type readResult struct {
			err      error
			returned time.Time
		}
		conns := make(chan *websocket.Conn, 1)
		results := make(chan readResult, 1)
		clientSawClose := make(chan struct{})
		s := lcServe(t, tc, es, map[string]websocket.HertzHandler{
			"/read": func(c *websocket.Conn) {
				conns <- c
				_, _, err := c.ReadMessage()
				results <- readResult{err: err, returned: time.Now()}
				// Stay in the handler until the client has seen the
				// close, so that what it sees comes from Close and not
				// from the handler returning.
				select {
				case <-clientSawClose:
				case <-time.After(5 * time.Second):
				}
			},
		})
		client := dialGorilla(t, s.url("/read"), nil)
		c := wstest.ReceiveWithin(t, conns, 5*time.Second, "the handler's Conn")
		wstest.WaitBlocked(t, "hertzws/websocket.(*Conn).ReadMessage")

		select {
		case r := <-results:
			t.Fatalf("ReadMessage returned before Close: %v", r.err)
		default:
		}

		closeStart := time.Now()
		closeErr := c.Close()
		closeTook := time.Since(closeStart)
		if closeErr != nil {
			t.Errorf("first Close: %v", closeErr)
		}
		r := wstest.ReceiveWithin(t, results, 5*time.Second, "ReadMessage to return after Close")
		unblock := r.returned.Sub(closeStart)
		t.Logf("%s %s: ReadMessage unblocked %v after Close was called (Close itself took %v); error: %v",
			tc.Name, es.String(), unblock, closeTook, r.err)
		if unblock > lcCloseBound {
			t.Errorf("ReadMessage returned %v after Close, want at most %v", unblock, lcCloseBound)
		}
		if r.err == nil {
			t.Errorf("ReadMessage returned no error after Close")
		} else if !errors.Is(r.err, net.ErrClosed) {
			t.Errorf("ReadMessage after Close: %v, want ErrConnClosed (net.ErrClosed)", r.err)
		}

		took, err := lcExpectTCPClose(t, client, 3*time.Second, false)
		close(clientSawClose)
		t.Logf("%s %s: client saw the close %v after it began waiting: %v", tc.Name, es.String(), took, err)
		s.waitIdle(t, 5*time.Second)
	})
}

// 3. Close is idempotent: of many concurrent Close calls exactly one gets
// the transport's result and every other gets ErrConnClosed.
func TestLifecycleIdempotentClose(t *testing.T) {
	wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		const closers = 10
		type outcome struct {
			errs    []error
			panics  []interface{}
			readErr error
		}
		outcomes := make(chan outcome, 1)
		s := lcServe(t, tc, es, map[string]websocket.HertzHandler{
			"/close": func(c *websocket.Conn) {
				out := outcome{errs: make([]error, closers+1)}
				var mu sync.Mutex
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := 0; i <= closers; i++ {
					i := i
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer func() {
							if r := recover(); r != nil {
								mu.Lock()
								out.panics = append(out.panics, r)
								mu.Unlock()
							}
						}()
						<-start
						var err error
						if i == closers {
							err = c.NetConn().Close()
						} else {
							err = c.Close()
						}
						mu.Lock()
						out.errs[i] = err
						mu.Unlock()
					}()
				}
				close(start)
				wg.Wait()
				_, _, out.readErr = c.ReadMessage()
				outcomes <- out
			},
		})
		client := dialGorilla(t, s.url("/close"), nil)
		out := wstest.ReceiveWithin(t, outcomes, 5*time.Second, "the closers")
		for _, p := range out.panics {
			t.Errorf("Close panicked: %v", p)
		}
		var first []error
		closedCount := 0
		for _, err := range out.errs {
			if err == websocket.ErrConnClosed {
				closedCount++
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("ErrConnClosed does not match net.ErrClosed")
				}
				continue
			}
			first = append(first, err)
		}
		if len(first) != 1 || closedCount != closers {
			t.Errorf("%d calls got ErrConnClosed and %d got something else (%v); want %d and 1", closedCount, len(first), first, closers)
		} else if first[0] != nil {
			t.Errorf("the Close that closed the transport returned %v, want nil", first[0])
		}
		if !errors.Is(out.readErr, net.ErrClosed) {
			t.Errorf("ReadMessage after Close: %v, want ErrConnClosed", out.readErr)
		}
		lcExpectTCPClose(t, client, 3*time.Second, false)
		s.waitIdle(t, 5*time.Second)
	})
}

// 4. A panic in the handler is recovered: the client gets close 1011, the
// panic is logged through Hertz's logger and the server keeps serving.
func TestLifecycleHandlerPanic(t *testing.T) {
	logs := &lcSyncBuffer{}
	hlog.SetOutput(logs)
	t.Cleanup(func() { hlog.SetOutput(io.Discard) })

	var seq int64
	wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		value := fmt.Sprintf("lifecycle-panic-%s-%d", tc.Name, atomic.AddInt64(&seq, 1))
		s := lcServe(t, tc, es, map[string]websocket.HertzHandler{
			"/panic": func(c *websocket.Conn) {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
				panic(value)
			},
			"/echo": wstest.Echo,
		})
		client := dialGorilla(t, s.url("/panic"), nil)
		if err := client.WriteMessage(gorilla.TextMessage, []byte("trigger")); err != nil {
			t.Fatal(err)
		}
		_, err := lcExpectTCPClose(t, client, 5*time.Second, false)
		if !gorilla.IsCloseError(err, gorilla.CloseInternalServerErr) {
			t.Errorf("client got %v, want close 1011", err)
		}
		s.waitIdle(t, 5*time.Second)

		wstest.WaitFor(t, 2*time.Second, fmt.Sprintf("the panic value %q in the log", value), func() bool { return strings.Contains(logs.String(), value) })

		// The server keeps serving.
		for i := 0; i < 2; i++ {
			c := dialGorilla(t, s.url("/echo"), nil)
			lcEcho(t, c, fmt.Sprintf("after panic %d", i), 3)
			c.Close()
		}
	})
	if !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("no stack trace in the panic log")
	}
}

// 5. Writes in flight during Close fail and stop: no panic, no race, no
// goroutine left behind. The client either drains (writes keep flowing) or
// stalls (writers block on a full socket and Close must wake them).
func TestLifecycleInFlightWritesDuringClose(t *testing.T) {
	for _, variant := range []string{"draining", "stalled"} {
		variant := variant
		t.Run(variant, func(t *testing.T) {
			wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
				lcInFlightWrites(t, tc, es, variant == "stalled")
			})
		})
	}
}

type lcWriterResult struct {
	name    string
	written int
	err     error
	panic   interface{}
}

func lcInFlightWrites(t *testing.T, tc wstest.Transport, es wstest.EngineSettings, stalled bool) {
	// The bound keeps the loops finite; it is far above what a writer
	// sends (a few microseconds per control frame) before Close comes.
	const maxMessages = 1000000
	payloadSize := 1024
	if stalled {
		payloadSize = 256 << 10 // a few messages fill the socket buffers
	}
	payload := bytes.Repeat([]byte{'w'}, payloadSize)
	pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, payload)
	if err != nil {
		t.Fatal(err)
	}

	type report struct {
		results  []lcWriterResult
		closeErr error
		hung     []string
	}
	reports := make(chan report, 1)
	s := lcServe(t, tc, es, map[string]websocket.HertzHandler{
		"/echo": wstest.Echo,
		"/write": func(c *websocket.Conn) {
			writers := map[string]func() error{
				"WriteMessage": func() error { return c.WriteMessage(websocket.BinaryMessage, payload) },
				"NextWriter": func() error {
					w, err := c.NextWriter(websocket.BinaryMessage)
					if err != nil {
						return err
					}
					if _, err := w.Write(payload[:len(payload)/2]); err != nil {
						_ = w.Close()
						return err
					}
					if _, err := w.Write(payload[len(payload)/2:]); err != nil {
						_ = w.Close()
						return err
					}
					return w.Close()
				},
				"WritePreparedMessage": func() error { return c.WritePreparedMessage(pm) },
				"WriteControl(Ping)": func() error {
					return c.WriteControl(websocket.PingMessage, []byte("ping"), time.Time{})
				},
				"NetConn().Write": func() error {
					// A whole frame, so the stream stays valid.
					_, err := c.NetConn().Write([]byte{0x82, 0x03, 'r', 'a', 'w'})
					return err
				},
			}
			results := make(chan lcWriterResult, len(writers))
			var total int64 // messages written by all writers
			for name, write := range writers {
				name, write := name, write
				go func() {
					res := lcWriterResult{name: name}
					defer func() {
						if r := recover(); r != nil {
							res.panic = r
						}
						results <- res
					}()
					for res.written < maxMessages {
						if res.err = write(); res.err != nil {
							return
						}
						res.written++
						atomic.AddInt64(&total, 1)
					}
				}()
			}
			// Close once writes are flowing; a stalled client stops them
			// early, so wait a bounded time and then let the writers
			// block on the full socket.
			deadline := time.Now().Add(time.Second)
			for atomic.LoadInt64(&total) < 50 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if stalled {
				time.Sleep(100 * time.Millisecond)
			}
			rep := report{closeErr: c.Close()}
			timeout := time.After(5 * time.Second)
			for range writers {
				select {
				case r := <-results:
					rep.results = append(rep.results, r)
				case <-timeout:
				}
			}
			for name := range writers {
				found := false
				for _, r := range rep.results {
					found = found || r.name == name
				}
				if !found {
					rep.hung = append(rep.hung, name)
				}
			}
			reports <- rep
		},
	})
	lcWarmUp(t, s, "/echo")
	baseline := wstest.Goroutines()

	client := dialGorilla(t, s.url("/write"), nil)
	clientDone := make(chan error, 1)
	if !stalled {
		go func() {
			_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				if _, _, err := client.ReadMessage(); err != nil {
					clientDone <- err
					return
				}
			}
		}()
	}
	rep := wstest.ReceiveWithin(t, reports, 10*time.Second, "the writers' report")
	if rep.closeErr != nil {
		t.Errorf("Close: %v", rep.closeErr)
	}
	for _, name := range rep.hung {
		t.Errorf("writer %s still blocked 5s after Close", name)
	}
	for _, r := range rep.results {
		if r.panic != nil {
			t.Errorf("writer %s panicked: %v", r.name, r.panic)
			continue
		}
		if r.err == nil {
			t.Errorf("writer %s wrote all %d messages before Close: the test did not overlap Close", r.name, r.written)
			continue
		}
		if !errors.Is(r.err, net.ErrClosed) {
			t.Errorf("writer %s stopped after %d messages with %v, want ErrConnClosed", r.name, r.written, r.err)
		}
	}
	if !stalled {
		err := wstest.ReceiveWithin(t, clientDone, 10*time.Second, "the client to see the close")
		if wstest.IsTimeout(err) {
			t.Errorf("client never saw the close: %v", err)
		}
	}
	client.Close()
	s.waitIdle(t, 5*time.Second)
	wstest.WaitGoroutines(t, baseline, 3)
}

// 6. An open NextWriter does not block Close; the writer fails afterwards,
// and a writer waiting for the message lock is released too.
func TestLifecycleOpenWriterDoesNotBlockClose(t *testing.T) {
	wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		type report struct {
			openErr    error
			closeTook  time.Duration
			closeErr   error
			closeHung  bool
			writeErr   error
			wCloseErr  error
			waitingErr error
			waitHung   bool
		}
		reports := make(chan report, 1)
		s := lcServe(t, tc, es, map[string]websocket.HertzHandler{
			"/writer": func(c *websocket.Conn) {
				var rep report
				defer func() { reports <- rep }()
				w, err := c.NextWriter(websocket.TextMessage)
				if err != nil {
					rep.openErr = err
					return
				}
				// A non-final frame goes out, and more stays buffered.
				if _, err := w.Write(bytes.Repeat([]byte{'a'}, 2*websocket.DefaultWriteBufferSize+10)); err != nil {
					rep.openErr = err
					return
				}
				// A second message waits for the open writer.
				waiting := make(chan error, 1)
				go func() { waiting <- c.WriteMessage(websocket.TextMessage, []byte("waiting")) }()
				wstest.AwaitBlocked("hertzws/websocket.(*Conn).WriteMessage", 5*time.Second)

				closed := make(chan error, 1)
				start := time.Now()
				go func() { closed <- c.Close() }()
				select {
				case rep.closeErr = <-closed:
					rep.closeTook = time.Since(start)
				case <-time.After(time.Second):
					rep.closeHung = true
				}
				select {
				case rep.waitingErr = <-waiting:
				case <-time.After(time.Second):
					rep.waitHung = true
				}
				_, rep.writeErr = w.Write([]byte("more"))
				rep.wCloseErr = w.Close()
			},
		})
		client := dialGorilla(t, s.url("/writer"), nil)
		rep := wstest.ReceiveWithin(t, reports, 10*time.Second, "the handler's report")
		if rep.openErr != nil {
			t.Fatalf("opening the writer: %v", rep.openErr)
		}
		if rep.closeHung {
			t.Fatalf("Close blocked more than a second by an open NextWriter")
		}
		t.Logf("Close with an open writer took %v", rep.closeTook)
		if rep.closeErr != nil {
			t.Errorf("Close: %v", rep.closeErr)
		}
		if rep.waitHung {
			t.Errorf("WriteMessage waiting for the open writer was not released by Close")
		} else if !errors.Is(rep.waitingErr, net.ErrClosed) {
			t.Errorf("waiting WriteMessage: %v, want ErrConnClosed", rep.waitingErr)
		}
		if rep.writeErr == nil {
			t.Errorf("w.Write after Close succeeded")
		}
		if rep.wCloseErr == nil {
			t.Errorf("w.Close after Close succeeded")
		}
		// The client got a partial message, then the connection ended.
		lcExpectTCPClose(t, client, 3*time.Second, false)
		s.waitIdle(t, 5*time.Second)
	})
}

// 7. The connection is closed when the handler returns, even if it never
// called Close.
func TestLifecycleHandlerReturnClosesConnection(t *testing.T) {
	wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		readerDone := make(chan error, 1)
		s := lcServe(t, tc, es, map[string]websocket.HertzHandler{
			"/return": func(c *websocket.Conn) {},
			"/reply": func(c *websocket.Conn) {
				mt, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				_ = c.WriteMessage(mt, p)
			},
			// The handler returns while a goroutine it started is
			// still blocked reading.
			"/orphan": func(c *websocket.Conn) {
				started := make(chan struct{})
				go func() {
					close(started)
					_, _, err := c.ReadMessage()
					readerDone <- err
				}()
				<-started
				wstest.AwaitBlocked("hertzws/websocket.(*Conn).ReadMessage", 5*time.Second)
			},
		})

		t.Run("immediate", func(t *testing.T) {
			client := dialGorilla(t, s.url("/return"), nil)
			lcExpectTCPClose(t, client, 3*time.Second, false)
		})
		t.Run("after-reply", func(t *testing.T) {
			client := dialGorilla(t, s.url("/reply"), nil)
			lcEcho(t, client, "reply", 1)
			lcExpectTCPClose(t, client, 3*time.Second, false)
		})
		t.Run("orphan-reader", func(t *testing.T) {
			client := dialGorilla(t, s.url("/orphan"), nil)
			lcExpectTCPClose(t, client, 3*time.Second, false)
			err := wstest.ReceiveWithin(t, readerDone, 3*time.Second, "the orphaned reader to return")
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("orphaned reader: %v, want ErrConnClosed", err)
			}
		})
		s.waitIdle(t, 5*time.Second)
	})
}

// 8. Fifty connections opened and closed by their clients leave no
// goroutine behind.
func TestLifecycleNoGoroutineLeak(t *testing.T) {
	wstest.ForEachEngine(t, func(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
		const conns = 50
		s := lcServe(t, tc, es, map[string]websocket.HertzHandler{"/echo": wstest.Echo})
		lcWarmUp(t, s, "/echo")
		baseline := wstest.Goroutines()

		var wg sync.WaitGroup
		errs := make(chan error, conns)
		for i := 0; i < conns; i++ {
			i := i
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
				c, _, err := d.Dial(s.url("/echo"), nil)
				if err != nil {
					errs <- fmt.Errorf("dial %d: %w", i, err)
					return
				}
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				msg := fmt.Sprintf("connection %d", i)
				if err := c.WriteMessage(gorilla.TextMessage, []byte(msg)); err != nil {
					errs <- fmt.Errorf("write %d: %w", i, err)
					return
				}
				if _, p, err := c.ReadMessage(); err != nil || string(p) != msg {
					errs <- fmt.Errorf("echo %d: %q, %v", i, p, err)
					return
				}
				switch i % 3 {
				case 0: // close handshake: the server answers and closes
					_ = c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
					if _, _, err := c.ReadMessage(); !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
						errs <- fmt.Errorf("close handshake %d: %v", i, err)
					}
				case 1: // the TCP connection just goes away
				case 2: // half a frame, then gone
					_, _ = c.UnderlyingConn().Write([]byte{0x81, 0x85, 1, 2})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		s.waitIdle(t, 5*time.Second)
		wstest.WaitGoroutines(t, baseline, 5)
	})
}
