//go:build linux

// The corking tests count the server's write system calls in
// /proc/self/io, which only Linux has.

package websocket_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// corkServer starts the echo of a corking test: a blocking handler that
// echoes with ReadMessageInto and WriteMessage (so a held echo's payload
// is overwritten by the next read, and only a copy keeps it right), or
// the same through the event-driven mode.
func corkServer(t *testing.T, tr wstest.Transport, events bool, u *websocket.HertzUpgrader) string {
	t.Helper()
	if events {
		return wstest.StartEvents(t, tr, wstest.EngineSettings{}, u, newEventEcho())
	}
	return wstest.StartHandler(t, tr, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
		buf := make([]byte, 0, 64)
		for {
			mt, p, err := c.ReadMessageInto(buf[:0])
			if err != nil {
				return
			}
			buf = p
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	})
}

// forEachCorkMode runs f on both transports, in the blocking and the
// event-driven mode.
func forEachCorkMode(t *testing.T, f func(t *testing.T, tr wstest.Transport, events bool)) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, events := range []bool{false, true} {
			events := events
			name := "blocking"
			if events {
				name = "events"
			}
			t.Run(name, func(t *testing.T) { f(t, tr, events) })
		}
	})
}

// writeSyscalls returns the number of write system calls this process
// has made (Linux's /proc/self/io, syscw).
func writeSyscalls(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatalf("reading /proc/self/io: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "syscw: ") {
			v := strings.TrimPrefix(line, "syscw: ")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("syscw %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no syscw in /proc/self/io")
	return 0
}

// TestCorkedEchoesOfABatch sends rounds of 16 messages in one TCP write
// and checks that each comes back whole and in order, and that the server
// answers a round with a few write calls, not one per message. Without
// corking it makes 16 per round.
func TestCorkedEchoesOfABatch(t *testing.T) {
	const rounds, batch = 30, 16
	forEachCorkMode(t, func(t *testing.T, tr wstest.Transport, events bool) {
		rc := wstest.DialHandshake(t, wstest.Addr(corkServer(t, tr, events, nil)), "/ws")
		sent := make([][]byte, batch)
		var wire []byte
		round := func(r int) {
			wire = wire[:0]
			for i := range sent {
				sent[i] = []byte(fmt.Sprintf("round %d, message %d: %s", r, i, strings.Repeat("x", i*7)))
				wire = append(wire, wstest.Masked(true, frame.OpBinary, sent[i])...)
			}
			rc.Write(wire)
			for i := range sent {
				op, got := rc.ReadMessage()
				if op != frame.OpBinary || !bytes.Equal(got, sent[i]) {
					t.Fatalf("round %d: echo %d = %v %q, want %q", r, i, op, got, sent[i])
				}
			}
		}
		round(-1) // warm up: buffers and pools
		before := writeSyscalls(t)
		for r := 0; r < rounds; r++ {
			round(r)
		}
		// The client made one write per round.
		serverWrites := writeSyscalls(t) - before - rounds
		t.Logf("%d write calls for %d echoes", serverWrites, rounds*batch)
		if serverWrites > rounds*batch/4 {
			t.Errorf("the server made %d write calls for %d echoes in %d batches; want at most %d", serverWrites, rounds*batch, rounds, rounds*batch/4)
		}
	})
}

// TestCorkedWriteLeavesWithinTheBound has the handler write the echo of
// the first of two messages that arrived together, then do something slow
// before it reads the second: the held echo must not wait for that.
func TestCorkedWriteLeavesWithinTheBound(t *testing.T) {
	const slow = 1500 * time.Millisecond
	forEachCorkMode(t, func(t *testing.T, tr wstest.Transport, events bool) {
		var url string
		if events {
			url = wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, websocket.EventFuncs{
				Message: func(c *websocket.Conn, mt int, data []byte) {
					_ = c.WriteMessage(mt, data)
					time.Sleep(slow)
				},
			})
		} else {
			url = wstest.StartHandler(t, tr, wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
				for {
					mt, p, err := c.ReadMessage()
					if err != nil {
						return
					}
					if err := c.WriteMessage(mt, p); err != nil {
						return
					}
					time.Sleep(slow)
				}
			})
		}
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		rc.Write(append(wstest.Masked(true, frame.OpText, []byte("first")), wstest.Masked(true, frame.OpText, []byte("second"))...))
		start := time.Now()
		if _, got := rc.ReadMessage(); string(got) != "first" {
			t.Fatalf("echo = %q, want first", got)
		}
		// The bound is 500 µs; a third of the handler's pause leaves
		// room for a loaded machine and still fails a write held until
		// the handler reads again.
		if waited := time.Since(start); waited > slow/3 {
			t.Errorf("the first echo came after %v; the handler paused %v after writing it", waited, slow)
		}
		if _, got := rc.ReadMessage(); string(got) != "second" {
			t.Fatalf("echo = %q, want second", got)
		}
	})
}

// TestCorkedWriteSentByClose writes the echo of the first of two messages
// that arrived together, which is held, then closes the connection with
// Close: the echo must still reach the peer, before the end of the
// stream.
func TestCorkedWriteSentByClose(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			_ = c.WriteMessage(mt, p)
			_ = c.Close()
		})
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		rc.Write(append(wstest.Masked(true, frame.OpText, []byte("kept")), wstest.Masked(true, frame.OpText, []byte("unread"))...))
		if _, got := rc.ReadMessage(); string(got) != "kept" {
			t.Fatalf("echo = %q, want kept", got)
		}
		rc.ExpectClosed()
	})
}

// TestCorkedWritesKeepControlOrder sends a ping between data messages of
// one batch: the pong must come between their echoes, as it was asked.
func TestCorkedWritesKeepControlOrder(t *testing.T) {
	forEachCorkMode(t, func(t *testing.T, tr wstest.Transport, events bool) {
		rc := wstest.DialHandshake(t, wstest.Addr(corkServer(t, tr, events, nil)), "/ws")
		var wire []byte
		wire = append(wire, wstest.Masked(true, frame.OpText, []byte("one"))...)
		wire = append(wire, wstest.Masked(true, frame.OpPing, []byte("ping"))...)
		wire = append(wire, wstest.Masked(true, frame.OpText, []byte("two"))...)
		rc.Write(wire)
		want := []struct {
			op      frame.Opcode
			payload string
		}{{frame.OpText, "one"}, {frame.OpPong, "ping"}, {frame.OpText, "two"}}
		for i, w := range want {
			f := rc.ReadFrame()
			if f.Header.Opcode != w.op || string(f.Payload) != w.payload {
				t.Fatalf("frame %d = %v %q, want %v %q", i, f.Header.Opcode, f.Payload, w.op, w.payload)
			}
		}
	})
}

// TestWriteMessages sends batches of mixed sizes with WriteMessages, with
// and without compression, from the server and from the client: every
// message arrives whole and in order, and a batch of small messages goes
// out in a few write calls.
func TestWriteMessages(t *testing.T) {
	batch := [][]byte{[]byte("a"), nil, wstest.RandomText(3000, 1), wstest.RandomText(10_000, 2), []byte("b"), wstest.RandomText(200_000, 3), []byte("c")}
	small := make([][]byte, 100)
	for i := range small {
		small[i] = []byte(fmt.Sprintf("small message %d", i))
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, compress := range []bool{false, true} {
			compress := compress
			t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
				// The handler answers "send" with the batch and "small"
				// with the small batch; anything else is echoed as a
				// batch of three copies.
				errs := make(chan error, 8)
				u := &websocket.HertzUpgrader{EnableCompression: compress}
				url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
					for {
						mt, p, err := c.ReadMessage()
						if err != nil {
							return
						}
						switch string(p) {
						case "send":
							errs <- c.WriteMessages(websocket.TextMessage, batch...)
						case "small":
							errs <- c.WriteMessages(websocket.TextMessage, small...)
						default:
							errs <- c.WriteMessages(mt, p, p, p)
						}
					}
				})
				c, _ := wstest.Dial(t, &websocket.Dialer{EnableCompression: compress}, url, nil)
				expect := func(want [][]byte) {
					t.Helper()
					for i, w := range want {
						mt, got, err := c.ReadMessage()
						if err != nil || mt != websocket.TextMessage || !bytes.Equal(got, w) {
							t.Fatalf("message %d: %d, %d bytes, %v; want text, %d bytes", i, mt, len(got), err, len(w))
						}
					}
					if err := wstest.Receive(t, errs, "WriteMessages"); err != nil {
						t.Fatalf("WriteMessages: %v", err)
					}
				}
				if err := c.WriteMessage(websocket.TextMessage, []byte("send")); err != nil {
					t.Fatal(err)
				}
				expect(batch)
				// From the client: masked frames, held and sent together.
				if err := c.WriteMessages(websocket.TextMessage, []byte("x"), []byte("y")); err != nil {
					t.Fatal(err)
				}
				expect([][]byte{[]byte("x"), []byte("x"), []byte("x")})
				expect([][]byte{[]byte("y"), []byte("y"), []byte("y")})

				if err := c.WriteMessage(websocket.TextMessage, []byte("small")); err != nil {
					t.Fatal(err)
				}
				before := writeSyscalls(t)
				expect(small)
				if n := writeSyscalls(t) - before; n > 4 {
					t.Errorf("100 small messages took %d write calls, want a few", n)
				}
			})
		}
	})
}

// TestWriteMessagesErrors checks WriteMessages' answers to a control type
// and to a closed connection.
func TestWriteMessagesErrors(t *testing.T) {
	url := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, wstest.EchoMessages)
	c, _ := wstest.Dial(t, nil, url, nil)
	if err := c.WriteMessages(websocket.PingMessage, []byte("p")); err == nil {
		t.Error("WriteMessages(PingMessage) succeeded, want an error")
	}
	if err := c.WriteMessages(websocket.TextMessage); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
	_ = c.Close()
	if err := c.WriteMessages(websocket.TextMessage, []byte("late")); err != websocket.ErrConnClosed {
		t.Errorf("after Close: %v, want ErrConnClosed", err)
	}
}
