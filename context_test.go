package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// ctxResult is what a server handler's context-bound call returned.
type ctxResult struct {
	err   error
	after error // the next call's error on the same Conn
}

// TestContextCancelEndsBlockedCall: cancelling the context of a call that
// waits returns ctx.Err() at once, sends the peer close code 1001 where the
// write side is free, and closes the connection, on both transports.
func TestContextCancelEndsBlockedCall(t *testing.T) {
	calls := []struct {
		name string
		// call blocks on c until ctx ends; the raw peer sends nothing and
		// reads nothing.
		call      func(ctx context.Context, c *websocket.Conn) error
		closeCode int // 0: the peer may see no close frame
	}{
		{"ReadMessageContext", func(ctx context.Context, c *websocket.Conn) error {
			_, _, err := c.ReadMessageContext(ctx)
			return err
		}, websocket.CloseGoingAway},
		{"NextReaderContext", func(ctx context.Context, c *websocket.Conn) error {
			_, _, err := c.NextReaderContext(ctx)
			return err
		}, websocket.CloseGoingAway},
		{"ReadJSONContext", func(ctx context.Context, c *websocket.Conn) error {
			var v interface{}
			return c.ReadJSONContext(ctx, &v)
		}, websocket.CloseGoingAway},
		{"WriteMessageContext to a peer that does not read", func(ctx context.Context, c *websocket.Conn) error {
			big := make([]byte, 1<<20)
			for i := 0; i < 256; i++ { // far more than the socket buffers hold
				if err := c.WriteMessageContext(ctx, websocket.BinaryMessage, big); err != nil {
					return err
				}
			}
			return errors.New("256 MiB went to a peer that does not read")
		}, 0},
		{"WriteJSONContext to a peer that does not read", func(ctx context.Context, c *websocket.Conn) error {
			v := map[string]string{"k": string(make([]byte, 1<<20))}
			for i := 0; i < 256; i++ {
				if err := c.WriteJSONContext(ctx, v); err != nil {
					return err
				}
			}
			return errors.New("256 MiB went to a peer that does not read")
		}, 0},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, tc := range calls {
			tc := tc
			t.Run(tc.name, func(t *testing.T) {
				results := make(chan ctxResult, 1)
				url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
					ctx, cancel := context.WithCancel(context.Background())
					timer := time.AfterFunc(300*time.Millisecond, cancel)
					defer timer.Stop()
					err := tc.call(ctx, c)
					results <- ctxResult{err: err, after: c.WriteMessage(websocket.TextMessage, []byte("after"))}
				})
				rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
				start := time.Now()
				r := wstest.Receive(t, results, "the call's result")
				if !errors.Is(r.err, context.Canceled) {
					t.Fatalf("blocked call returned %v, want context.Canceled", r.err)
				}
				if took := time.Since(start); took > 5*time.Second {
					t.Fatalf("the call returned %v after the dial; the cancel was at 300ms", took)
				}
				if r.after == nil {
					t.Fatal("a write after the cancelled call succeeded; the connection should be closed")
				}
				if tc.closeCode != 0 {
					if code, _ := rc.ReadClose(); code != tc.closeCode {
						t.Fatalf("peer saw close code %d, want %d", code, tc.closeCode)
					}
					rc.ExpectClosed()
				}
			})
		}
	})
}

// TestContextDoneBeforeCallLeavesConnUsable: a context that has ended
// before the call makes it return ctx.Err() without touching the
// connection, which then echoes as before.
func TestContextDoneBeforeCallLeavesConnUsable(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		errs := make(chan error, 4)
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
			done, cancel := context.WithCancel(context.Background())
			cancel()
			_, _, err := c.ReadMessageContext(done)
			errs <- err
			errs <- c.WriteMessageContext(done, websocket.TextMessage, []byte("never"))
			_, err = c.Ping(done)
			errs <- err
			wstest.Echo(c)
		})
		c, _ := wstest.Dial(t, nil, url, nil)
		for i := 0; i < 3; i++ {
			if err := wstest.Receive(t, errs, "a result"); !errors.Is(err, context.Canceled) {
				t.Fatalf("call %d with a done context returned %v, want context.Canceled", i, err)
			}
		}
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("still here"))
	})
}

// TestContextCallsDeliver: with a live context the calls behave as their
// gorilla counterparts, a deadline that passes while waiting returns
// context.DeadlineExceeded, and a NextReaderContext reader cancelled in
// the middle of a message returns the context's error.
func TestContextCallsDeliver(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		errs := make(chan error, 8)
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
			ctx := context.Background()
			live, cancel := context.WithCancel(ctx)
			defer cancel()
			mt, p, err := c.ReadMessageContext(live)
			if err != nil {
				errs <- err
				return
			}
			if err := c.WriteMessageContext(live, mt, p); err != nil {
				errs <- err
				return
			}
			var v map[string]int
			if err := c.ReadJSONContext(live, &v); err != nil {
				errs <- err
				return
			}
			v["n"]++
			if err := c.WriteJSONContext(live, v); err != nil {
				errs <- err
				return
			}
			_, r, err := c.NextReaderContext(live)
			if err != nil {
				errs <- err
				return
			}
			var buf [4]byte
			if _, err := r.Read(buf[:]); err != nil { // the first bytes are there
				errs <- err
				return
			}
			go func() { time.Sleep(200 * time.Millisecond); cancel() }()
			_, err = io.ReadFull(r, make([]byte, 1<<20)) // the rest never comes
			errs <- err
		})
		c, _ := wstest.Dial(t, nil, url, nil)
		wstest.CheckEcho(t, c, websocket.BinaryMessage, []byte("bytes"))
		if err := c.WriteJSON(map[string]int{"n": 41}); err != nil {
			t.Fatal(err)
		}
		var v map[string]int
		if err := c.ReadJSON(&v); err != nil || v["n"] != 42 {
			t.Fatalf("JSON echo %v, %v; want n=42", v, err)
		}
		w, err := c.NextWriter(websocket.BinaryMessage)
		if err != nil {
			t.Fatal(err)
		}
		// More than the write buffer: a first frame of the message goes
		// out, and the writer stays open.
		if _, err := w.Write(make([]byte, 3*websocket.DefaultWriteBufferSize/2)); err != nil {
			t.Fatal(err)
		}
		if err := wstest.Receive(t, errs, "the cancelled Read"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Read of a reader whose context ended: %v, want context.Canceled", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		errs := make(chan error, 1)
		url := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, _, err := c.ReadMessageContext(ctx)
			errs <- err
		})
		wstest.Dial(t, nil, url, nil)
		if err := wstest.Receive(t, errs, "the read"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("read past the context's deadline: %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestPing: Ping measures a round trip while another goroutine reads,
// several at once, from the server and from the client; the pong handler
// still sees the pongs; a peer that does not answer leaves Ping waiting
// until its context ends, with the connection still usable.
func TestPing(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		type pingResult struct {
			rtt time.Duration
			err error
		}
		results := make(chan pingResult, 16)
		pongs := make(chan string, 16)
		obs := &recordingObserver{}
		u := &websocket.HertzUpgrader{Observer: obs}
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			c.SetPongHandler(func(data string) error {
				pongs <- data
				return nil
			})
			go func() {
				for i := 0; i < 8; i++ {
					go func() {
						ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
						defer cancel()
						rtt, err := c.Ping(ctx)
						results <- pingResult{rtt, err}
					}()
				}
			}()
			wstest.Echo(c) // the reader that sees the pongs
		})
		c, _ := wstest.Dial(t, nil, url, nil)
		go func() { // the client reads, so that its pings are answered
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for i := 0; i < 8; i++ {
			r := wstest.Receive(t, results, "a server ping")
			if r.err != nil || r.rtt <= 0 || r.rtt > wstest.Guard {
				t.Fatalf("server Ping: %v, %v", r.rtt, r.err)
			}
		}
		if rtts := obs.snapshot().rtts; len(rtts) != 8 {
			t.Fatalf("the observer saw %d round trips, want the 8 pings'", len(rtts))
		}
		for i := 0; i < 8; i++ {
			if p := wstest.Receive(t, pongs, "a pong at the handler"); len(p) != 8 {
				t.Fatalf("pong handler saw payload %q, want Ping's 8 bytes", p)
			}
		}
		// The client pings the server, whose Echo reads.
		ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
		defer cancel()
		if rtt, err := c.Ping(ctx); err != nil || rtt <= 0 {
			t.Fatalf("client Ping: %v, %v", rtt, err)
		}
	})

	t.Run("event-driven connection", func(t *testing.T) {
		results := make(chan error, 1)
		h := &pingOnOpen{eventEcho: newEventEcho(), results: results}
		url := wstest.StartEvents(t, wstest.Transports[0], wstest.EngineSettings{}, nil, h)
		c, _ := wstest.Dial(t, nil, url, nil)
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		if err := wstest.Receive(t, results, "Ping from OnOpen's goroutine"); err != nil {
			t.Fatalf("Ping on an event-driven connection: %v", err)
		}
	})

	t.Run("keepalive round trips reach the observer", func(t *testing.T) {
		obs := &recordingObserver{}
		u := &websocket.HertzUpgrader{KeepAlive: 50 * time.Millisecond, Observer: obs}
		url := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, u, wstest.Echo)
		c, _ := wstest.Dial(t, nil, url, nil)
		payloads := make(chan string, 16)
		c.SetPingHandler(func(data string) error {
			select {
			case payloads <- data:
			default:
			}
			return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		wstest.WaitFor(t, wstest.Guard, "three keepalive round trips at the observer", func() bool {
			return len(obs.snapshot().rtts) >= 3
		})
		for _, rtt := range obs.snapshot().rtts {
			if rtt <= 0 || rtt > wstest.Guard {
				t.Fatalf("keepalive round trip %v", rtt)
			}
		}
		if p := wstest.Receive(t, payloads, "a keepalive ping"); len(p) != 8 {
			t.Fatalf("keepalive ping payload %q, want a numbered 8-byte one", p)
		}
	})

	t.Run("unanswered", func(t *testing.T) {
		errs := make(chan error, 2)
		release := make(chan struct{})
		url := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := c.Ping(ctx) // nobody reads on the server: the pong is never seen
			errs <- err
			<-release
			wstest.Echo(c)
		})
		c, _ := wstest.Dial(t, nil, url, nil)
		if err := wstest.Receive(t, errs, "the unanswered Ping"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("unanswered Ping: %v, want context.DeadlineExceeded", err)
		}
		close(release)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("usable after an unanswered ping"))
	})
}

// TestCloseHandshake: the server's CloseHandshake gets nil when the peer
// answers (after data it discards), ErrCloseHandshakeTimeout when the peer
// stays silent, the peer's error when it hangs up, and refuses a code that
// may not be sent; the client's answers a server too.
func TestCloseHandshake(t *testing.T) {
	type outcome struct {
		err     error
		elapsed time.Duration
	}
	start := func(t *testing.T, tr wstest.Transport, code int) (*wstest.RawConn, <-chan outcome) {
		done := make(chan outcome, 1)
		u := &websocket.HertzUpgrader{CloseHandshakeTimeout: 500 * time.Millisecond}
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			if err := c.WriteMessage(websocket.TextMessage, []byte("before")); err != nil {
				done <- outcome{err: err}
				return
			}
			t0 := time.Now()
			err := c.CloseHandshake(code, "bye")
			done <- outcome{err, time.Since(t0)}
		})
		return wstest.DialHandshake(t, wstest.Addr(url), "/ws"), done
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		t.Run("answered after data", func(t *testing.T) {
			rc, done := start(t, tr, websocket.CloseNormalClosure)
			if op, p := rc.ReadMessage(); op != frame.OpText || string(p) != "before" {
				t.Fatalf("got %v %q, want the message written before the close", op, p)
			}
			if code, reason := rc.ReadClose(); code != websocket.CloseNormalClosure || reason != "bye" {
				t.Fatalf("close frame %d %q, want 1000 \"bye\"", code, reason)
			}
			// Data after the server's close is discarded, then the answer.
			rc.Write(wstest.Masked(true, frame.OpText, []byte("late")))
			rc.Write(wstest.Masked(true, frame.OpClose, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")))
			if o := wstest.Receive(t, done, "CloseHandshake"); o.err != nil {
				t.Fatalf("answered CloseHandshake: %v", o.err)
			}
			rc.ExpectClosed()
		})
		t.Run("silent peer", func(t *testing.T) {
			rc, done := start(t, tr, websocket.CloseGoingAway)
			rc.ReadMessage()
			if code, _ := rc.ReadClose(); code != websocket.CloseGoingAway {
				t.Fatalf("close code %d, want 1001", code)
			}
			o := wstest.Receive(t, done, "CloseHandshake")
			if !errors.Is(o.err, websocket.ErrCloseHandshakeTimeout) {
				t.Fatalf("unanswered CloseHandshake: %v, want ErrCloseHandshakeTimeout", o.err)
			}
			if o.elapsed < 400*time.Millisecond || o.elapsed > 5*time.Second {
				t.Fatalf("unanswered CloseHandshake took %v, want about the 500ms timeout", o.elapsed)
			}
			rc.ExpectClosed()
		})
		t.Run("peer hangs up", func(t *testing.T) {
			rc, done := start(t, tr, websocket.CloseNormalClosure)
			rc.ReadMessage()
			rc.ReadClose()
			_ = rc.NetConn.Close()
			o := wstest.Receive(t, done, "CloseHandshake")
			if o.err == nil || errors.Is(o.err, websocket.ErrCloseHandshakeTimeout) {
				t.Fatalf("CloseHandshake with a peer that hung up: %v, want the read's error", o.err)
			}
		})
	})
	t.Run("invalid code", func(t *testing.T) {
		errs := make(chan error, 1)
		url := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
			errs <- c.CloseHandshake(websocket.CloseAbnormalClosure, "")
			wstest.Echo(c)
		})
		c, _ := wstest.Dial(t, nil, url, nil)
		if err := wstest.Receive(t, errs, "CloseHandshake"); err == nil {
			t.Fatal("CloseHandshake(1006) sent a code that may not be sent")
		}
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("nothing was sent"))
	})
	t.Run("client", func(t *testing.T) {
		url := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, wstest.Echo)
		c, _ := wstest.Dial(t, nil, url, nil)
		if err := c.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 100)); err != nil {
			t.Fatal(err)
		}
		// The echo arrives before the server's answer and is discarded.
		if err := c.CloseHandshake(websocket.CloseNormalClosure, "done"); err != nil {
			t.Fatalf("client CloseHandshake: %v", err)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("x")); err == nil {
			t.Fatal("write after CloseHandshake succeeded")
		}
	})
}

// pingOnOpen is an event echo that pings each new connection from a
// goroutine of its own: the poller, which reads, sees the pong.
type pingOnOpen struct {
	*eventEcho
	results chan<- error
}

func (h *pingOnOpen) OnOpen(c *websocket.Conn) {
	h.eventEcho.OnOpen(c)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
		defer cancel()
		rtt, err := c.Ping(ctx)
		if err == nil && rtt <= 0 {
			err = errors.New("no round trip")
		}
		h.results <- err
	}()
}
