package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// eventEcho is an EventHandler that writes every message back and records
// how the connection ended.
type eventEcho struct {
	opened  atomic.Int32
	closeMu sync.Mutex
	closes  []error
	closed  chan struct{}
}

func newEventEcho() *eventEcho { return &eventEcho{closed: make(chan struct{}, 1024)} }

func (e *eventEcho) OnOpen(*websocket.Conn) { e.opened.Add(1) }

func (e *eventEcho) OnMessage(c *websocket.Conn, mt int, data []byte) {
	_ = c.WriteMessage(mt, data)
}

func (e *eventEcho) OnClose(_ *websocket.Conn, err error) {
	e.closeMu.Lock()
	e.closes = append(e.closes, err)
	e.closeMu.Unlock()
	e.closed <- struct{}{}
}

// waitClose returns the error of the next OnClose.
func (e *eventEcho) waitClose(t *testing.T) error {
	t.Helper()
	select {
	case <-e.closed:
	case <-time.After(wstest.Guard):
		t.Fatal("OnClose did not run")
	}
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	return e.closes[len(e.closes)-1]
}

func TestEventsEcho(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := newEventEcho()
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, h)
		c, _ := wstest.Dial(t, nil, url, nil)
		cases := []struct {
			mt   int
			data []byte
		}{
			{websocket.TextMessage, []byte("hello")},
			{websocket.BinaryMessage, nil},
			{websocket.BinaryMessage, wstest.RandomBytes(70_000, 1)},
			{websocket.TextMessage, wstest.RandomText(1<<20, 2)},
			{websocket.BinaryMessage, wstest.RandomBytes(125, 3)},
		}
		for _, tc := range cases {
			wstest.CheckEcho(t, c, tc.mt, tc.data)
		}
		// Many messages at once arrive in order, one callback at a time.
		for i := 0; i < 500; i++ {
			if err := c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 500; i++ {
			_, p, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if string(p) != fmt.Sprint(i) {
				t.Fatalf("message %d came back as %q", i, p)
			}
		}
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
		err := h.waitClose(t)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "bye" {
			t.Fatalf("OnClose got %v, want the peer's 1000 \"bye\"", err)
		}
		if h.opened.Load() != 1 {
			t.Fatalf("OnOpen ran %d times", h.opened.Load())
		}
	})
}

func TestEventsFragmentedAndPipelined(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, newEventEcho())
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		// A ping between the fragments, and two messages in one write,
		// the second split mid-header across writes.
		var b bytes.Buffer
		b.Write(wstest.Masked(false, frame.OpText, []byte("frag")))
		b.Write(wstest.Masked(true, frame.OpPing, []byte("p")))
		b.Write(wstest.Masked(true, frame.OpContinuation, []byte("mented")))
		b.Write(wstest.Masked(true, frame.OpBinary, []byte{1, 2, 3}))
		second := wstest.Masked(true, frame.OpText, []byte("split"))
		b.Write(second[:1])
		rc.Write(b.Bytes())
		f := rc.ReadFrame()
		if f.Header.Opcode != frame.OpPong || string(f.Payload) != "p" {
			t.Fatalf("got %v %q, want the pong", f.Header.Opcode, f.Payload)
		}
		if op, p := rc.ReadMessage(); op != frame.OpText || string(p) != "fragmented" {
			t.Fatalf("got %v %q", op, p)
		}
		if op, p := rc.ReadMessage(); op != frame.OpBinary || !bytes.Equal(p, []byte{1, 2, 3}) {
			t.Fatalf("got %v %q", op, p)
		}
		rc.Write(second[1:])
		if op, p := rc.ReadMessage(); op != frame.OpText || string(p) != "split" {
			t.Fatalf("got %v %q", op, p)
		}
	})
}

func TestEventsCloseCodes(t *testing.T) {
	cases := []struct {
		name    string
		send    []byte
		code    int
		wantErr func(error) bool
	}{
		{"invalid UTF-8", wstest.Masked(true, frame.OpText, []byte{0xff, 0xfe}), websocket.CloseInvalidFramePayloadData, func(err error) bool { return websocket.CloseCode(err) == 1007 }},
		{"too big", wstest.Masked(true, frame.OpBinary, make([]byte, 2000)), websocket.CloseMessageTooBig, func(err error) bool { return errors.Is(err, websocket.ErrReadLimit) }},
		{"reserved opcode", wstest.Masked(true, 3, nil), websocket.CloseProtocolError, func(err error) bool { return websocket.CloseCode(err) == 1002 }},
		{"unmasked", wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText, PayloadLen: 1}, []byte("x")), websocket.CloseProtocolError, func(err error) bool { return websocket.CloseCode(err) == 1002 }},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h := newEventEcho()
				url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{ReadLimit: 1000}, h)
				rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
				rc.Write(tc.send)
				rc.ExpectCloseCode(tc.code)
				if err := h.waitClose(t); !tc.wantErr(err) {
					t.Fatalf("OnClose got %v", err)
				}
			})
		}
	})
}

func TestEventsCloseFromAnotherGoroutine(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := newEventEcho()
		conns := make(chan *websocket.Conn, 1)
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, websocket.EventFuncs{
			Open:  func(c *websocket.Conn) { conns <- c },
			Close: h.OnClose,
		})
		client, _ := wstest.Dial(t, nil, url, nil)
		c := <-conns
		// The connection is idle: nothing reads it when Close comes.
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := h.waitClose(t); !errors.Is(err, websocket.ErrConnClosed) {
			t.Fatalf("OnClose got %v, want ErrConnClosed", err)
		}
		if err := c.Close(); !errors.Is(err, websocket.ErrConnClosed) {
			t.Fatalf("second Close: %v", err)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("late")); err == nil {
			t.Fatal("a write after OnClose succeeded")
		}
		_ = client.SetReadDeadline(time.Now().Add(wstest.Guard))
		if _, _, err := client.ReadMessage(); err == nil {
			t.Fatal("the client read a message from a closed connection")
		}
	})
}

func TestEventsKeepAlive(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := newEventEcho()
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{KeepAlive: 200 * time.Millisecond}, h)
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		// A peer that never answers pings is sent 1001 and dropped.
		for {
			f := rc.ReadFrame()
			if f.Header.Opcode == frame.OpPing {
				continue
			}
			if f.Header.Opcode != frame.OpClose || int(f.Payload[0])<<8|int(f.Payload[1]) != websocket.CloseGoingAway {
				t.Fatalf("got %v %q, want close 1001", f.Header.Opcode, f.Payload)
			}
			break
		}
		if err := h.waitClose(t); !errors.Is(err, websocket.ErrKeepAliveTimeout) {
			t.Fatalf("OnClose got %v, want ErrKeepAliveTimeout", err)
		}
	})
}

func TestEventsPanicInCallback(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := newEventEcho()
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, websocket.EventFuncs{
			Message: func(*websocket.Conn, int, []byte) { panic("boom") },
			Close:   h.OnClose,
		})
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		rc.Write(wstest.Masked(true, frame.OpText, []byte("x")))
		rc.ExpectCloseCode(websocket.CloseInternalServerErr)
		if err := h.waitClose(t); !errors.Is(err, websocket.ErrCallbackPanic) {
			t.Fatalf("OnClose got %v, want ErrCallbackPanic", err)
		}
	})
}

func TestEventsPingPongCallbacks(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		pings, pongs := make(chan string, 1), make(chan string, 1)
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, websocket.EventFuncs{
			Ping: func(_ *websocket.Conn, d string) { pings <- d },
			Pong: func(_ *websocket.Conn, d string) { pongs <- d },
		})
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		rc.Write(wstest.Masked(true, frame.OpPing, []byte("hi")))
		if f := rc.ReadFrame(); f.Header.Opcode != frame.OpPong || string(f.Payload) != "hi" {
			t.Fatalf("got %v %q, want the pong", f.Header.Opcode, f.Payload)
		}
		rc.Write(wstest.Masked(true, frame.OpPong, []byte("ho")))
		if got := wstest.Receive(t, pings, "OnPing"); got != "hi" {
			t.Fatalf("OnPing got %q", got)
		}
		if got := wstest.Receive(t, pongs, "OnPong"); got != "ho" {
			t.Fatalf("OnPong got %q", got)
		}
	})
}

func TestEventsApplicationCannotRead(t *testing.T) {
	errs := make(chan error, 1)
	url := wstest.StartEvents(t, wstest.Transports[0], wstest.EngineSettings{}, nil, websocket.EventFuncs{
		Open: func(c *websocket.Conn) {
			_, _, err := c.ReadMessage()
			errs <- err
		},
	})
	wstest.Dial(t, nil, url, nil)
	if err := wstest.Receive(t, errs, "the read's error"); err == nil {
		t.Fatal("ReadMessage on an event-driven connection succeeded")
	}
}

func TestEventsShutdown(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := newEventEcho()
		u := &websocket.HertzUpgrader{}
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, u, h)
		const n = 20
		clients := make([]*websocket.Conn, n)
		for i := range clients {
			clients[i], _ = wstest.Dial(t, nil, url, nil)
			wstest.CheckEcho(t, clients[i], websocket.TextMessage, []byte("up"))
		}
		done := make(chan struct{})
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
			defer cancel()
			u.Shutdown(ctx)
			close(done)
		}()
		for _, c := range clients {
			_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
			_, _, err := c.ReadMessage() // the client answers the close
			if websocket.CloseCode(err) != websocket.CloseGoingAway {
				t.Fatalf("client got %v, want 1001", err)
			}
		}
		wstest.Receive(t, done, "Shutdown to return")
		for i := 0; i < n; i++ {
			var ce *websocket.CloseError
			if err := h.waitClose(t); !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Fatalf("OnClose got %v, want the client's 1001 answer", err)
			}
		}
		if u.Connections() != 0 {
			t.Fatalf("%d connections left", u.Connections())
		}
	})
}

func TestEventsCompression(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{EnableCompression: true}, newEventEcho())
		c, resp := wstest.Dial(t, &websocket.Dialer{EnableCompression: true}, url, nil)
		if resp.Header.Get("Sec-WebSocket-Extensions") == "" {
			t.Fatal("compression was not negotiated")
		}
		for i := 0; i < 20; i++ {
			wstest.CheckEcho(t, c, websocket.TextMessage, wstest.JSONText(2000, i))
		}
	})
}

// TestEventsIdleHoldsNoGoroutine opens connections, lets them go idle and
// counts goroutines: on netpoll, an idle event-driven connection has none.
func TestEventsIdleHoldsNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the poller is epoll")
	}
	url := wstest.StartEvents(t, wstest.Transports[0], wstest.EngineSettings{}, nil, newEventEcho())
	// Settle the server's own goroutines with one connection first.
	first, _ := wstest.Dial(t, nil, url, nil)
	wstest.CheckEcho(t, first, websocket.TextMessage, []byte("warm"))
	base := runtime.NumGoroutine()
	const n = 200
	clients := make([]*websocket.Conn, n)
	for i := range clients {
		clients[i], _ = wstest.Dial(t, nil, url, http.Header{})
		wstest.CheckEcho(t, clients[i], websocket.BinaryMessage, []byte{byte(i)})
	}
	// Each client is a Dialer Conn with no reader running: it holds no
	// goroutine either, so the count is the server's.
	wstest.WaitFor(t, 5*time.Second, "idle connections to give their goroutines up", func() bool {
		return runtime.NumGoroutine()-base < n/10
	})
	for _, c := range clients {
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("still there"))
	}
}

// TestEventsRequestContext checks the contract of the RequestContext: this
// request's own during OnOpen, never another request's afterwards.
func TestEventsRequestContext(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		type seen struct{ inOpen, later string }
		results := make(chan seen, 16)
		u := &websocket.HertzUpgrader{}
		addr := wstest.StartServer(t, tr, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				var s seen
				_ = u.UpgradeEvents(ctx, websocket.EventFuncs{
					Open: func(*websocket.Conn) { s.inOpen = ctx.Query("id") },
					Message: func(c *websocket.Conn, _ int, _ []byte) {
						s.later = ctx.Query("id")
						results <- s
					},
				})
			})
			h.GET("/plain", func(_ context.Context, ctx *app.RequestContext) { ctx.String(200, ctx.Query("id")) })
		})
		for i := 0; i < 5; i++ {
			id := fmt.Sprint("client-", i)
			c, _ := wstest.Dial(t, nil, "ws://"+addr+"/ws?id="+id, nil)
			// Plain requests that could recycle the context meanwhile.
			for j := 0; j < 5; j++ {
				resp, err := http.Get("http://" + addr + "/plain?id=other")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if err := c.WriteMessage(websocket.TextMessage, []byte("x")); err != nil {
				t.Fatal(err)
			}
			s := wstest.Receive(t, results, "the message")
			if s.inOpen != id {
				t.Fatalf("OnOpen read id %q, want %q", s.inOpen, id)
			}
			if s.later != "" && s.later != id {
				t.Fatalf("a later callback read another request's id %q", s.later)
			}
		}
	})
}

// TestEventsWorkerBound checks EventWorkers: a callback that blocks holds
// one slot, so other connections go on while slots are left, and wait for
// one when none is.
func TestEventsWorkerBound(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
				release := make(chan struct{})
				blocked := make(chan struct{}, 1)
				delivered := make(chan string, 16)
				url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{EventWorkers: workers}, websocket.EventFuncs{
					Message: func(c *websocket.Conn, _ int, p []byte) {
						if string(p) == "block" {
							blocked <- struct{}{}
							<-release
						}
						delivered <- string(p)
					},
				})
				slow, _ := wstest.Dial(t, nil, url, nil)
				other, _ := wstest.Dial(t, nil, url, nil)
				if err := slow.WriteMessage(websocket.TextMessage, []byte("block")); err != nil {
					t.Fatal(err)
				}
				wstest.Receive(t, blocked, "the slow callback to start")
				if err := other.WriteMessage(websocket.TextMessage, []byte("other")); err != nil {
					t.Fatal(err)
				}
				if workers > 1 {
					if got := wstest.Receive(t, delivered, "the other connection's message"); got != "other" {
						t.Fatalf("got %q first, want the other connection's message while the slow one blocks", got)
					}
					close(release)
					wstest.Receive(t, delivered, "the slow message")
					return
				}
				select {
				case got := <-delivered:
					t.Fatalf("%q was delivered while the only slot was taken", got)
				case <-time.After(200 * time.Millisecond):
				}
				close(release)
				if got := wstest.Receive(t, delivered, "the slow message"); got != "block" {
					t.Fatalf("got %q, want the slow message first", got)
				}
				if got := wstest.Receive(t, delivered, "the other message"); got != "other" {
					t.Fatalf("got %q", got)
				}
			})
		}
	})
}

// TestEventsWritesFromAnyGoroutine writes to event-driven connections from
// goroutines of the application while their callbacks echo.
func TestEventsWritesFromAnyGoroutine(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		conns := make(chan *websocket.Conn, 1)
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, websocket.EventFuncs{
			Open: func(c *websocket.Conn) { conns <- c },
			Message: func(c *websocket.Conn, mt int, p []byte) {
				_ = c.WriteMessage(mt, p)
			},
		})
		client, _ := wstest.Dial(t, nil, url, nil)
		server := wstest.Receive(t, conns, "OnOpen")
		const writers, each = 4, 50
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if err := server.WriteMessage(websocket.BinaryMessage, []byte{byte(w), byte(i)}); err != nil {
						t.Error(err)
						return
					}
				}
			}(w)
		}
		for i := 0; i < each; i++ {
			if err := client.WriteMessage(websocket.TextMessage, []byte("echo")); err != nil {
				t.Fatal(err)
			}
		}
		next := make([]int, writers)
		echoes := 0
		_ = client.SetReadDeadline(time.Now().Add(wstest.Guard))
		for n := 0; n < writers*each+each; n++ {
			mt, p, err := client.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if mt == websocket.TextMessage {
				echoes++
				continue
			}
			// Each writer's messages arrive whole and in its order.
			if w, i := int(p[0]), int(p[1]); i != next[w] {
				t.Fatalf("writer %d: message %d came after %d", w, i, next[w]-1)
			}
			next[p[0]]++
		}
		wg.Wait()
		if echoes != each {
			t.Fatalf("%d echoes, want %d", echoes, each)
		}
	})
}

// TestEventsMessageTimeout: a peer that trickles a message is sent 1008
// and OnClose gets ErrMessageTimeout, as a blocking reader would.
func TestEventsMessageTimeout(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := newEventEcho()
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{MessageTimeout: 300 * time.Millisecond}, h)
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		whole := wstest.Masked(true, frame.OpBinary, make([]byte, 1000))
		rc.Write(whole[:20]) // the header and a few bytes, then nothing
		rc.ExpectCloseCode(websocket.ClosePolicyViolation)
		if err := h.waitClose(t); !errors.Is(err, websocket.ErrMessageTimeout) {
			t.Fatalf("OnClose got %v, want ErrMessageTimeout", err)
		}
	})
}

// TestEventsPeerVanishes: a peer that drops the TCP connection, between
// messages or inside one, ends the connection with OnClose.
func TestEventsPeerVanishes(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := newEventEcho()
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, h)
		for _, partial := range []bool{false, true} {
			rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
			rc.Echo("before")
			if partial {
				rc.Write(wstest.Masked(true, frame.OpText, []byte("never finished"))[:8])
			}
			_ = rc.NetConn.Close()
			var ce *websocket.CloseError
			if err := h.waitClose(t); !errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure {
				t.Fatalf("partial=%v: OnClose got %v, want 1006", partial, err)
			}
		}
	})
}

// TestEventsDescriptorsAreClosed opens and ends event-driven connections
// in every way and checks that the server's descriptors come back.
func TestEventsDescriptorsAreClosed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd")
	}
	countFDs := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	h := newEventEcho()
	url := wstest.StartEvents(t, wstest.Transports[0], wstest.EngineSettings{}, nil, h)
	warm, _ := wstest.Dial(t, nil, url, nil)
	wstest.CheckEcho(t, warm, websocket.TextMessage, []byte("warm"))
	base := countFDs()
	const n = 60
	for i := 0; i < n; i++ {
		c, _ := wstest.Dial(t, nil, url, nil)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("x"))
		switch i % 3 {
		case 0: // a close handshake
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		case 1: // a frame the server refuses
			_ = c.WriteMessage(websocket.TextMessage, []byte{0xff})
		case 2: // the TCP connection dropped
			_ = c.Close()
		}
		h.waitClose(t)
		// The client side's descriptor is this process's too.
		_ = c.Close()
	}
	wstest.WaitFor(t, 5*time.Second, "the descriptors to be closed", func() bool { return countFDs() <= base })
}

// borrowEcho echoes from OnBorrowedMessage and records the capacity of
// each buffer it was lent.
type borrowEcho struct {
	*eventEcho
	mu   sync.Mutex
	caps []int
}

func (b *borrowEcho) OnMessage(*websocket.Conn, int, []byte) {
	panic("OnMessage ran for a handler that borrows")
}

func (b *borrowEcho) OnBorrowedMessage(c *websocket.Conn, mt int, data []byte) {
	b.mu.Lock()
	b.caps = append(b.caps, cap(data))
	b.mu.Unlock()
	_ = c.WriteMessage(mt, data)
}

// lastCap is the capacity of the last buffer lent.
func (b *borrowEcho) lastCap() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.caps[len(b.caps)-1]
}

// TestEventsBorrowedMessages checks a MessageBorrower: messages of every
// size, fragmented, compressed and pipelined arrive whole and in order,
// those that fit are lent a shared buffer, and the read limit holds inside
// a lent buffer larger than it.
func TestEventsBorrowedMessages(t *testing.T) {
	const lent = 32 << 10
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := &borrowEcho{eventEcho: newEventEcho()}
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{EnableCompression: true}, h)
		c, _ := wstest.Dial(t, &websocket.Dialer{EnableCompression: true}, url, nil)
		cases := []struct {
			name     string
			mt       int
			data     []byte
			compress bool
			wantCap  int // of the buffer lent, 0 for not lent
		}{
			{"empty", websocket.BinaryMessage, nil, false, lent},
			{"small text", websocket.TextMessage, []byte("hello"), false, lent},
			{"one below the lent size", websocket.BinaryMessage, wstest.RandomBytes(lent-1, 1), false, lent},
			{"the lent size", websocket.BinaryMessage, wstest.RandomBytes(lent, 2), false, lent},
			{"one past the lent size", websocket.BinaryMessage, wstest.RandomBytes(lent+1, 3), false, 0},
			{"1 MiB text", websocket.TextMessage, wstest.RandomText(1<<20, 4), false, 0},
			{"compressed JSON", websocket.TextMessage, wstest.JSONText(20_000, 5), true, lent},
			{"compressed past the lent size", websocket.BinaryMessage, wstest.CompressibleBinary(200_000, 6), true, 0},
		}
		for _, tc := range cases {
			c.EnableWriteCompression(tc.compress)
			wstest.CheckEcho(t, c, tc.mt, tc.data)
			got := h.lastCap()
			if tc.wantCap != 0 && got != tc.wantCap || tc.wantCap == 0 && got == lent {
				t.Errorf("%s: lent a buffer of capacity %d, want %d (0: a buffer of its own)", tc.name, got, tc.wantCap)
			}
		}
		c.EnableWriteCompression(false)
		// Pipelined messages share lent buffers and must not see each
		// other's bytes.
		const n = 300
		for i := 0; i < n; i++ {
			if err := c.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte(fmt.Sprint(i%10)), 100+i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < n; i++ {
			_, p, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if want := bytes.Repeat([]byte(fmt.Sprint(i%10)), 100+i); !bytes.Equal(p, want) {
				t.Fatalf("message %d came back as %q...", i, p[:10])
			}
		}
	})
	// A message of 1,200 bytes fits the lent buffer, and still breaks a
	// limit of 1,000: the read limit, or a receive budget that small.
	limits := []struct {
		name     string
		upgrader func() *websocket.HertzUpgrader
	}{
		{"read limit", func() *websocket.HertzUpgrader { return &websocket.HertzUpgrader{ReadLimit: 1000} }},
		{"receive budget", func() *websocket.HertzUpgrader { return &websocket.HertzUpgrader{ReceiveBudget: 1000} }},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, lc := range limits {
			t.Run(lc.name, func(t *testing.T) {
				h := &borrowEcho{eventEcho: newEventEcho()}
				url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, lc.upgrader(), h)
				rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
				rc.Write(wstest.Masked(false, frame.OpBinary, make([]byte, 600)))
				rc.Write(wstest.Masked(true, frame.OpContinuation, make([]byte, 600)))
				rc.ExpectCloseCode(websocket.CloseMessageTooBig)
				if err := h.waitClose(t); !errors.Is(err, websocket.ErrReadLimit) {
					t.Fatalf("OnClose got %v, want ErrReadLimit", err)
				}
			})
		}
	})
}

// TestEventFuncsBorrowedMessage checks which of EventFuncs' Message and
// BorrowedMessage receives the messages, for EventFuncs given by value and
// by pointer: BorrowedMessage when it is set, Message otherwise.
func TestEventFuncsBorrowedMessage(t *testing.T) {
	message := func(c *websocket.Conn, mt int, data []byte) {
		_ = c.WriteMessage(mt, append([]byte("Message "), data...))
	}
	borrowed := func(c *websocket.Conn, mt int, data []byte) {
		_ = c.WriteMessage(mt, append([]byte("BorrowedMessage "), data...))
	}
	cases := []struct {
		name    string
		handler websocket.EventHandler
		want    string
	}{
		{"both, by value", websocket.EventFuncs{Message: message, BorrowedMessage: borrowed}, "BorrowedMessage hi"},
		{"both, by pointer", &websocket.EventFuncs{Message: message, BorrowedMessage: borrowed}, "BorrowedMessage hi"},
		{"Message only, by value", websocket.EventFuncs{Message: message}, "Message hi"},
		{"Message only, by pointer", &websocket.EventFuncs{Message: message}, "Message hi"},
		{"BorrowedMessage only, by pointer", &websocket.EventFuncs{BorrowedMessage: borrowed}, "BorrowedMessage hi"},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, tc.handler)
				c, _ := wstest.Dial(t, nil, url, nil)
				_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
				if err := c.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
					t.Fatal(err)
				}
				if _, p, err := c.ReadMessage(); err != nil || string(p) != tc.want {
					t.Fatalf("got %q, %v; want %q", p, err, tc.want)
				}
			})
		}
	})
}

// TestEventsSlowPeerLendsItsSlot fills the socket of a peer that never
// reads from a callback, with a single callback slot: on netpoll the
// blocked callback lends its slot while it waits, so another connection's
// messages are still delivered. (On the standard transport a connection
// has a goroutine of its own and its blocked writes keep their slot.)
func TestEventsSlowPeerLendsItsSlot(t *testing.T) {
	tr := wstest.Transports[0]
	if tr.Name != "netpoll" {
		t.Fatalf("the first transport is %s, want netpoll", tr.Name)
	}
	flooding := make(chan struct{}, 1)
	floodEnded := make(chan error, 1)
	u := &websocket.HertzUpgrader{EventWorkers: 1, WriteTimeout: wstest.Guard}
	url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, u, websocket.EventFuncs{
		Message: func(c *websocket.Conn, mt int, p []byte) {
			if string(p) != "flood" {
				_ = c.WriteMessage(mt, p)
				return
			}
			flooding <- struct{}{}
			chunk := make([]byte, 64<<10)
			for i := 0; i < 4096; i++ { // 256 MiB at most: far past any socket buffer
				if err := c.WriteMessage(websocket.BinaryMessage, chunk); err != nil {
					floodEnded <- err
					return
				}
			}
			floodEnded <- errors.New("256 MiB written to a peer that reads nothing")
		},
	})
	slow := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
	slow.Write(wstest.Masked(true, frame.OpText, []byte("flood")))
	wstest.Receive(t, flooding, "the flooding callback to start")
	wstest.WaitBlocked(t, "internal/transport.(*waiter).wait")

	other, _ := wstest.Dial(t, nil, url, nil)
	_ = other.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := other.WriteMessage(websocket.TextMessage, []byte("still served")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := other.ReadMessage(); err != nil || string(p) != "still served" {
		t.Fatalf("the other connection got %q, %v while a callback waited on a slow peer", p, err)
	}
	_ = slow.NetConn.Close()
	if err := wstest.Receive(t, floodEnded, "the flood to end"); err == nil {
		t.Fatal("the flood ended without an error")
	}
}
