package interop_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// The tests in this file call every write method of a server Conn where it
// could wait for a lock its own goroutine holds: NextWriter, WriteMessage and
// their kin while a writer is open, the handlers that run inside a read,
// ReadFrom's source, a writer closed twice. Each runs against a real Hertz
// server on both transports, read by gorilla's client and by this
// package's, and every wait is bounded: a call that deadlocks fails its test
// with a message saying so instead of hanging it.

// wlGuard bounds every wait in these tests.
const wlGuard = 10 * time.Second

// wlStall is how long a call that must wait is watched still waiting.
const wlStall = 300 * time.Millisecond

// wlPeer is the client side of a test: gorilla's Conn and this package's
// both have these methods.
type wlPeer interface {
	ReadMessage() (int, []byte, error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadDeadline(t time.Time) error
	SetPingHandler(h func(appData string) error)
	SetPongHandler(h func(appData string) error)
	Close() error
}

// wlClient is one kind of client that tests run against.
type wlClient struct {
	name string
	dial func(t *testing.T, url string, compress bool) wlPeer
}

var wlClients = []wlClient{
	{"gorilla", func(t *testing.T, url string, compress bool) wlPeer {
		t.Helper()
		d := gorilla.Dialer{HandshakeTimeout: wlGuard, EnableCompression: compress}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("gorilla dial %s: %v", url, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}},
	{"hertzws", func(t *testing.T, url string, compress bool) wlPeer {
		t.Helper()
		d := websocket.Dialer{HandshakeTimeout: wlGuard, EnableCompression: compress, ReadLimit: -1}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("hertzws dial %s: %v", url, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}},
}

// wlForEach runs f on each transport with each client.
func wlForEach(t *testing.T, f func(t *testing.T, tc wstest.Transport, cl wlClient)) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, cl := range wlClients {
			cl := cl
			t.Run(cl.name, func(t *testing.T) { f(t, tc, cl) })
		}
	})
}

// wlServer serves a /ws endpoint whose handler runs a test's steps once per
// connection, reports their result, and then reads until the client goes.
type wlServer struct {
	url  string
	done chan error

	mu       sync.Mutex
	conn     *websocket.Conn
	finished bool
}

// wlServe starts a server whose handler runs steps. When the test ends, a
// handler still inside its steps is stuck: its Conn is closed, which wakes
// every wait, so that the server can shut down.
func wlServe(t *testing.T, tc wstest.Transport, u *websocket.HertzUpgrader, steps func(c *websocket.Conn) error) *wlServer {
	t.Helper()
	if u == nil {
		u = &websocket.HertzUpgrader{}
	}
	s := &wlServer{done: make(chan error, 1)}
	s.url = wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
		s.mu.Lock()
		s.conn = c
		s.mu.Unlock()
		err := steps(c)
		s.mu.Lock()
		s.finished = true
		s.mu.Unlock()
		s.done <- err
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	t.Cleanup(s.unstick)
	return s
}

// unstick closes the Conn of a handler that has not finished its steps.
func (s *wlServer) unstick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && !s.finished {
		_ = s.conn.Close()
	}
}

// result waits for the handler's steps to end and returns their error. If
// they have not ended within wlGuard, a write is stuck: the test fails.
func (s *wlServer) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(wlGuard):
		s.unstick()
		t.Fatalf("the handler's steps did not end within %v: a write is stuck (deadlock)", wlGuard)
		return nil
	}
}

// wlRead reads the next data message from p within wlGuard.
func wlRead(t *testing.T, p wlPeer) (int, []byte) {
	t.Helper()
	_ = p.SetReadDeadline(time.Now().Add(wlGuard))
	mt, b, err := p.ReadMessage()
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	return mt, b
}

// wlExpect reads the next data message and checks its type and payload.
func wlExpect(t *testing.T, p wlPeer, mt int, want string) {
	t.Helper()
	gotType, got := wlRead(t, p)
	if gotType != mt || string(got) != want {
		t.Fatalf("client got %s %.60q, want %s %.60q", ciTypeName(gotType), got, ciTypeName(mt), want)
	}
}

// wlCloseCode returns the code and text of a close error from either
// client.
func wlCloseCode(err error) (code int, text string, ok bool) {
	var ours *websocket.CloseError
	if errors.As(err, &ours) {
		return ours.Code, ours.Text, true
	}
	var theirs *gorilla.CloseError
	if errors.As(err, &theirs) {
		return theirs.Code, theirs.Text, true
	}
	return 0, "", false
}

// wlWaiting reports whether nothing arrives on ch for wlStall.
func wlWaiting[T any](ch <-chan T) bool {
	select {
	case <-ch:
		return false
	case <-time.After(wlStall):
		return true
	}
}

// wlWithin waits up to wlGuard for a value on ch.
func wlWithin[T any](ch <-chan T) (T, bool) {
	select {
	case v := <-ch:
		return v, true
	case <-time.After(wlGuard):
		var zero T
		return zero, false
	}
}

// TestWriterNextWriterClosesOpenWriter: NextWriter called by the goroutine
// whose writer is still open closes that writer (its buffered bytes go out
// as the final frame) and returns a new one, as gorilla's does; it used to
// wait for ever. The old writer fails afterwards. Messages smaller than the
// write buffer (nothing of them sent yet) and larger (frames already out),
// compressed and not, data and control.
func TestWriterNextWriterClosesOpenWriter(t *testing.T) {
	sizes := []struct {
		name string
		n    int
	}{
		{"buffered", 10},
		{"started", 3*websocket.DefaultWriteBufferSize + 7},
	}
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		for _, compress := range []bool{false, true} {
			for _, size := range sizes {
				compress, size := compress, size
				t.Run(fmt.Sprintf("compress=%v/%s", compress, size.name), func(t *testing.T) {
					first := strings.Repeat("f", size.n)
					u := &websocket.HertzUpgrader{EnableCompression: compress}
					s := wlServe(t, tc, u, func(c *websocket.Conn) error {
						w1, err := c.NextWriter(websocket.TextMessage)
						if err != nil {
							return err
						}
						if _, err := io.WriteString(w1, first); err != nil {
							return err
						}
						w2, err := c.NextWriter(websocket.BinaryMessage)
						if err != nil {
							return fmt.Errorf("NextWriter with a writer open: %v", err)
						}
						if _, err := w2.Write([]byte("second")); err != nil {
							return err
						}
						if err := w2.Close(); err != nil {
							return err
						}
						if _, err := w1.Write([]byte("late")); err == nil {
							return errors.New("Write on the writer NextWriter closed succeeded")
						}
						if err := w1.Close(); err == nil {
							return errors.New("Close of the writer NextWriter closed succeeded")
						}
						// A writer left open with nothing written: an empty message.
						if _, err := c.NextWriter(websocket.TextMessage); err != nil {
							return err
						}
						// A control writer left open goes out too.
						ping, err := c.NextWriter(websocket.PingMessage)
						if err != nil {
							return err
						}
						if _, err := ping.Write([]byte("left open")); err != nil {
							return err
						}
						w4, err := c.NextWriter(websocket.TextMessage)
						if err != nil {
							return err
						}
						if _, err := w4.Write([]byte("last")); err != nil {
							return err
						}
						return w4.Close()
					})
					p := cl.dial(t, s.url, compress)
					pings := make(chan string, 4)
					p.SetPingHandler(func(data string) error { pings <- data; return nil })
					if err := s.result(t); err != nil {
						t.Fatal(err)
					}
					wlExpect(t, p, websocket.TextMessage, first)
					wlExpect(t, p, websocket.BinaryMessage, "second")
					wlExpect(t, p, websocket.TextMessage, "")
					wlExpect(t, p, websocket.TextMessage, "last")
					select {
					case got := <-pings:
						if got != "left open" {
							t.Fatalf("ping %q, want %q", got, "left open")
						}
					default:
						t.Fatal("the ping writer left open was never sent")
					}
				})
			}
		}
	})
}

// TestWriterNextWriterWaitsForCallInProgress: a NextWriter that closes an
// open writer waits first for a call in progress on it, here another
// goroutine's Write blocked on a peer that does not read, so that no frame
// of the new message comes between that Write's frames.
func TestWriterNextWriterWaitsForCallInProgress(t *testing.T) {
	const size = 24 << 20 // more than the socket buffers of both ends hold
	big := wstest.RandomBytes(size, 5)
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			w, err := c.NextWriter(websocket.BinaryMessage)
			if err != nil {
				return err
			}
			aDone := make(chan error, 1)
			go func() {
				_, err := w.Write(big)
				aDone <- err
				_ = w.Close() // NextWriter may have closed it first: either is fine
			}()
			time.Sleep(wlStall)
			select {
			case err := <-aDone:
				return fmt.Errorf("the %d-byte Write did not block (err %v): the test needs a larger message", size, err)
			default:
			}
			bDone := make(chan error, 1)
			go func() {
				w2, err := c.NextWriter(websocket.TextMessage)
				if err == nil {
					if _, err = w2.Write([]byte("b")); err == nil {
						err = w2.Close()
					}
				}
				bDone <- err
			}()
			// The client does not read yet: the Write stays blocked, and
			// NextWriter must wait for it.
			if !wlWaiting(bDone) {
				return errors.New("NextWriter did not wait for the Write in progress")
			}
			if err, ok := wlWithin(aDone); !ok || err != nil {
				return fmt.Errorf("the blocked Write: ended=%v err=%v", ok, err)
			}
			if err, ok := wlWithin(bDone); !ok || err != nil {
				return fmt.Errorf("NextWriter and its message: ended=%v err=%v", ok, err)
			}
			return nil
		})
		p := cl.dial(t, s.url, false)
		time.Sleep(3 * wlStall) // the server's Write blocks, and NextWriter waits
		mt, got := wlRead(t, p)
		if mt != websocket.BinaryMessage {
			t.Fatalf("first message is %s", ciTypeName(mt))
		}
		// Whole: no frame of the second message came between its frames.
		e2eSameBytes(t, got, big)
		wlExpect(t, p, websocket.TextMessage, "b")
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriterWholeMessageWaitsForOpenWriter: WriteMessage, WriteJSON and
// WritePreparedMessage from other goroutines wait while a writer is open,
// and go out whole after it, as the package's concurrency model promises.
func TestWriterWholeMessageWaitsForOpenWriter(t *testing.T) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("prepared"))
	if err != nil {
		t.Fatal(err)
	}
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			w, err := c.NextWriter(websocket.TextMessage)
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte("part1")); err != nil {
				return err
			}
			results := make(chan error, 3)
			go func() { results <- c.WriteMessage(websocket.TextMessage, []byte("other")) }()
			go func() { results <- c.WriteJSON(map[string]string{"k": "json"}) }()
			go func() { results <- c.WritePreparedMessage(pm) }()
			if !wlWaiting(results) {
				return errors.New("a whole message did not wait for the open writer")
			}
			if _, err := w.Write([]byte("part2")); err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			for i := 0; i < 3; i++ {
				err, ok := wlWithin(results)
				if !ok {
					return errors.New("a whole message still waits after the writer was closed")
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		p := cl.dial(t, s.url, false)
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		wlExpect(t, p, websocket.TextMessage, "part1part2")
		want := map[string]bool{"other": true, "{\"k\":\"json\"}\n": true, "prepared": true}
		for len(want) > 0 {
			_, got := wlRead(t, p)
			if !want[string(got)] {
				t.Fatalf("unexpected message %q", got)
			}
			delete(want, string(got))
		}
	})
}

// wlSource is a ReadFrom source: its first Read returns "abc", its second
// runs act (which may use the Conn and the writer being copied into) and
// then returns rest and io.EOF.
type wlSource struct {
	reads int
	act   func()
	rest  string
}

func (s *wlSource) Read(p []byte) (int, error) {
	s.reads++
	if s.reads == 1 {
		return copy(p, "abc"), nil
	}
	if s.act != nil {
		s.act()
	}
	return copy(p, s.rest), io.EOF
}

// TestWriterSameGoroutineWholeMessageWaits pins down the one wait this
// package cannot tell from a concurrent one: a data message written by the
// goroutine whose writer is open (with WriteMessage, WriteJSON,
// WritePreparedMessage, or from inside its ReadFrom's source) waits for that
// writer, as it must when another goroutine holds it, so it waits for
// ever; Close wakes it with ErrConnClosed. Control messages from there do
// not wait: WriteMessage and WritePreparedMessage with a control message
// and WriteControl go out between the open message's frames.
func TestWriterSameGoroutineWholeMessageWaits(t *testing.T) {
	pmPing, err := websocket.NewPreparedMessage(websocket.PingMessage, []byte("p3"))
	if err != nil {
		t.Fatal(err)
	}
	pmData, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("never"))
	if err != nil {
		t.Fatal(err)
	}
	waits := []struct {
		name  string
		write func(c *websocket.Conn, w io.Writer) error
	}{
		{"WriteMessage", func(c *websocket.Conn, _ io.Writer) error {
			return c.WriteMessage(websocket.TextMessage, []byte("never"))
		}},
		{"WriteJSON", func(c *websocket.Conn, _ io.Writer) error { return c.WriteJSON("never") }},
		{"WritePreparedMessage", func(c *websocket.Conn, _ io.Writer) error { return c.WritePreparedMessage(pmData) }},
		{"WriteMessageFromReadFromSource", func(c *websocket.Conn, w io.Writer) error {
			var err error
			src := &wlSource{act: func() { err = c.WriteMessage(websocket.TextMessage, []byte("never")) }}
			_, _ = io.Copy(w, src)
			return err
		}},
	}
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		for _, tt := range waits {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
					w, err := c.NextWriter(websocket.TextMessage)
					if err != nil {
						return err
					}
					if _, err := w.Write([]byte("open")); err != nil {
						return err
					}
					if err := c.WriteMessage(websocket.PingMessage, []byte("p1")); err != nil {
						return fmt.Errorf("WriteMessage(PingMessage): %v", err)
					}
					if err := c.WriteControl(websocket.PongMessage, []byte("p2"), time.Now().Add(wlGuard)); err != nil {
						return fmt.Errorf("WriteControl: %v", err)
					}
					if err := c.WritePreparedMessage(pmPing); err != nil {
						return fmt.Errorf("WritePreparedMessage(ping): %v", err)
					}
					timer := time.AfterFunc(wlStall, func() { _ = c.Close() })
					defer timer.Stop()
					start := time.Now()
					err = tt.write(c, w)
					if waited := time.Since(start); waited < wlStall*9/10 {
						return fmt.Errorf("returned after %v with %v, before Close: it did not wait", waited, err)
					}
					if !errors.Is(err, net.ErrClosed) {
						return fmt.Errorf("woken by Close with %v, want ErrConnClosed", err)
					}
					return nil
				})
				p := cl.dial(t, s.url, false)
				var mu sync.Mutex
				var got []string
				p.SetPingHandler(func(d string) error { mu.Lock(); got = append(got, "ping "+d); mu.Unlock(); return nil })
				p.SetPongHandler(func(d string) error { mu.Lock(); got = append(got, "pong "+d); mu.Unlock(); return nil })
				if err := s.result(t); err != nil {
					t.Fatal(err)
				}
				_ = p.SetReadDeadline(time.Now().Add(wlGuard))
				if mt, b, err := p.ReadMessage(); err == nil {
					t.Fatalf("client got %s %q; no data message was complete", ciTypeName(mt), b)
				}
				mu.Lock()
				defer mu.Unlock()
				if strings.Join(got, ",") != "ping p1,pong p2,ping p3" {
					t.Fatalf("control messages seen by the client: %q", got)
				}
			})
		}
	})
}

// TestWriterClosedWriter: a writer closed twice, or written to after its
// Close, reports an error, sends nothing and keeps no lock: the next
// NextWriter and WriteMessage proceed at once.
func TestWriterClosedWriter(t *testing.T) {
	for _, mt := range []int{websocket.TextMessage, websocket.PingMessage} {
		mt := mt
		t.Run(ciTypeName(mt), func(t *testing.T) {
			wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
				s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
					w, err := c.NextWriter(mt)
					if err != nil {
						return err
					}
					if _, err := w.Write([]byte("one")); err != nil {
						return err
					}
					if err := w.Close(); err != nil {
						return err
					}
					if err := w.Close(); err == nil {
						return errors.New("second Close succeeded")
					}
					if _, err := w.Write([]byte("x")); err == nil {
						return errors.New("Write after Close succeeded")
					}
					if _, err := io.WriteString(w, "x"); err == nil {
						return errors.New("WriteString after Close succeeded")
					}
					if _, err := io.Copy(w, strings.NewReader("x")); err == nil {
						return errors.New("ReadFrom after Close succeeded")
					}
					w2, err := c.NextWriter(websocket.TextMessage)
					if err != nil {
						return err
					}
					if _, err := w2.Write([]byte("two")); err != nil {
						return err
					}
					if err := w2.Close(); err != nil {
						return err
					}
					return c.WriteMessage(websocket.TextMessage, []byte("three"))
				})
				p := cl.dial(t, s.url, false)
				pings := make(chan string, 4)
				p.SetPingHandler(func(d string) error { pings <- d; return nil })
				if err := s.result(t); err != nil {
					t.Fatal(err)
				}
				if mt == websocket.TextMessage {
					wlExpect(t, p, websocket.TextMessage, "one")
				}
				wlExpect(t, p, websocket.TextMessage, "two")
				wlExpect(t, p, websocket.TextMessage, "three")
				if mt == websocket.PingMessage {
					if got := <-pings; got != "one" {
						t.Fatalf("ping %q", got)
					}
				}
				if len(pings) != 0 {
					t.Fatalf("%d more pings", len(pings))
				}
			})
		})
	}
}

// TestWriterConnCloseWithOpenWriter: Close does not wait for an open writer;
// it wakes the writes waiting for it, and the writer fails afterwards.
func TestWriterConnCloseWithOpenWriter(t *testing.T) {
	pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, []byte("waiting"))
	if err != nil {
		t.Fatal(err)
	}
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			w, err := c.NextWriter(websocket.BinaryMessage)
			if err != nil {
				return err
			}
			// Frames go out, and more stays buffered.
			if _, err := w.Write(make([]byte, 2*websocket.DefaultWriteBufferSize+10)); err != nil {
				return err
			}
			waiting := make(chan error, 2)
			go func() { waiting <- c.WriteMessage(websocket.TextMessage, []byte("waiting")) }()
			go func() { waiting <- c.WritePreparedMessage(pm) }()
			if !wlWaiting(waiting) {
				return errors.New("a whole message did not wait for the open writer")
			}
			closed := make(chan error, 1)
			go func() { closed <- c.Close() }()
			if err, ok := wlWithin(closed); !ok || err != nil {
				return fmt.Errorf("Close with a writer open: returned=%v err=%v", ok, err)
			}
			for i := 0; i < 2; i++ {
				err, ok := wlWithin(waiting)
				if !ok {
					return errors.New("Close did not wake a write waiting for the open writer")
				}
				if !errors.Is(err, net.ErrClosed) {
					return fmt.Errorf("waiting write woken with %v, want ErrConnClosed", err)
				}
			}
			if _, err := w.Write([]byte("more")); !errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("Write after Close: %v", err)
			}
			if err := w.Close(); err == nil {
				return errors.New("writer Close after Conn.Close succeeded")
			}
			if _, err := c.NextWriter(websocket.TextMessage); !errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("NextWriter after Close: %v", err)
			}
			return nil
		})
		cl.dial(t, s.url, false)
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriterHandlersWriteWhileReading: the ping and close handlers run
// inside the read methods; writes from them (data and control) proceed,
// also when the read is ReadFrom's source, an echo's io.Copy from a
// message in which the ping arrives between two frames.
func TestWriterHandlersWriteWhileReading(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		t.Run("ReadMessage", func(t *testing.T) {
			s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
				c.SetPingHandler(func(d string) error {
					if err := c.WriteMessage(websocket.TextMessage, []byte("ping:"+d)); err != nil {
						return err
					}
					if err := c.WriteControl(websocket.PongMessage, []byte(d), time.Now().Add(wlGuard)); err != nil {
						return err
					}
					return c.WriteMessage(websocket.PongMessage, []byte(d))
				})
				c.SetCloseHandler(func(code int, _ string) error {
					if err := c.WriteMessage(websocket.TextMessage, []byte("bye")); err != nil {
						return err
					}
					return c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, "ok"))
				})
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						if code, _, ok := wlCloseCode(err); !ok || code != websocket.CloseNormalClosure {
							return fmt.Errorf("read ended with %v", err)
						}
						return nil
					}
				}
			})
			p := cl.dial(t, s.url, false)
			pongs := make(chan string, 4)
			p.SetPongHandler(func(d string) error { pongs <- d; return nil })
			if err := p.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(wlGuard)); err != nil {
				t.Fatal(err)
			}
			wlExpect(t, p, websocket.TextMessage, "ping:hi")
			if err := p.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(wlGuard)); err != nil {
				t.Fatal(err)
			}
			wlExpect(t, p, websocket.TextMessage, "bye")
			_ = p.SetReadDeadline(time.Now().Add(wlGuard))
			_, _, err := p.ReadMessage()
			if code, text, ok := wlCloseCode(err); !ok || code != websocket.CloseNormalClosure || text != "ok" {
				t.Fatalf("client read ended with %v, want the handler's close 1000 \"ok\"", err)
			}
			if err := s.result(t); err != nil {
				t.Fatal(err)
			}
			if len(pongs) != 2 {
				t.Fatalf("%d pongs, want 2", len(pongs))
			}
		})
		t.Run("InsideReadFrom", func(t *testing.T) {
			s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
				c.SetPingHandler(func(d string) error {
					if err := c.WriteControl(websocket.PongMessage, []byte(d), time.Now().Add(wlGuard)); err != nil {
						return err
					}
					return c.WriteMessage(websocket.PongMessage, []byte(d+"2"))
				})
				mt, r, err := c.NextReader()
				if err != nil {
					return err
				}
				w, err := c.NextWriter(mt)
				if err != nil {
					return err
				}
				if _, err := io.Copy(w, r); err != nil {
					return err
				}
				return w.Close()
			})
			p := cl.dial(t, s.url, false)
			pongs := make(chan string, 4)
			p.SetPongHandler(func(d string) error { pongs <- d; return nil })
			// A message in two frames with a ping between them.
			want := wstest.RandomBytes(8000, 9)
			if err := wlWriteSplit(p, want[:5000], want[5000:]); err != nil {
				t.Fatal(err)
			}
			mt, got := wlRead(t, p)
			if mt != websocket.BinaryMessage {
				t.Fatalf("echo is %s", ciTypeName(mt))
			}
			e2eSameBytes(t, got, want)
			if err := s.result(t); err != nil {
				t.Fatal(err)
			}
			if a, b := <-pongs, <-pongs; a != "mid" || b != "mid2" {
				t.Fatalf("pongs %q, %q", a, b)
			}
		})
	})
}

// wlWriteSplit sends a binary message as two frames with a ping between
// them, through the client's own NextWriter: a first part larger than the
// client's 4 KiB write buffer makes both clients send a frame before the
// ping.
func wlWriteSplit(p wlPeer, a, b []byte) error {
	type nextWriter interface {
		NextWriter(int) (io.WriteCloser, error)
	}
	w, err := p.(nextWriter).NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write(a); err != nil {
		return err
	}
	if err := p.WriteControl(websocket.PingMessage, []byte("mid"), time.Now().Add(wlGuard)); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Close()
}

// TestWriterReadFromSourceReentry: ReadFrom's source runs while the writer
// is open. From there WriteControl goes out at once, NextWriter ends the
// message with what was read before, Close of the writer ends it the same
// way, and a Write into the writer fails: nothing waits for ever, and no
// byte lands in the wrong message.
func TestWriterReadFromSourceReentry(t *testing.T) {
	type outcome struct {
		n       int64
		copyErr bool
	}
	cases := []struct {
		name string
		// act runs inside the source's second Read; it returns the error
		// the case expects to be nil, or describes what went wrong.
		act  func(c *websocket.Conn, w io.WriteCloser) error
		rest string
		want outcome
		// msgs are the data messages the client reads, then "end".
		msgs []string
	}{
		{"WriteControl", func(c *websocket.Conn, _ io.WriteCloser) error {
			return c.WriteControl(websocket.PingMessage, []byte("src"), time.Now().Add(wlGuard))
		}, "def", outcome{6, false}, []string{"abcdef"}},
		{"NextWriter", func(c *websocket.Conn, _ io.WriteCloser) error {
			w2, err := c.NextWriter(websocket.TextMessage)
			if err != nil {
				return err
			}
			if _, err := w2.Write([]byte("inner")); err != nil {
				return err
			}
			return w2.Close()
		}, "def", outcome{3, true}, []string{"abc", "inner"}},
		{"CloseWriter", func(_ *websocket.Conn, w io.WriteCloser) error {
			return w.Close()
		}, "def", outcome{3, true}, []string{"abc"}},
		{"WriteToWriter", func(_ *websocket.Conn, w io.WriteCloser) error {
			if _, err := w.Write([]byte("zzz")); err == nil {
				return errors.New("a Write into the writer from its ReadFrom's source succeeded")
			}
			return nil
		}, "def", outcome{6, false}, []string{"abcdef"}},
	}
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		for _, compress := range []bool{false, true} {
			for _, tt := range cases {
				compress, tt := compress, tt
				t.Run(fmt.Sprintf("compress=%v/%s", compress, tt.name), func(t *testing.T) {
					u := &websocket.HertzUpgrader{EnableCompression: compress}
					s := wlServe(t, tc, u, func(c *websocket.Conn) error {
						w, err := c.NextWriter(websocket.BinaryMessage)
						if err != nil {
							return err
						}
						var actErr error
						src := &wlSource{act: func() { actErr = tt.act(c, w) }, rest: tt.rest}
						n, err := io.Copy(w, src)
						if actErr != nil {
							return actErr
						}
						if n != tt.want.n || (err != nil) != tt.want.copyErr {
							return fmt.Errorf("io.Copy = %d, %v; want %d, error %v", n, err, tt.want.n, tt.want.copyErr)
						}
						if err := w.Close(); (err != nil) != tt.want.copyErr {
							return fmt.Errorf("Close after io.Copy: %v", err)
						}
						return c.WriteMessage(websocket.TextMessage, []byte("end"))
					})
					p := cl.dial(t, s.url, compress)
					if err := s.result(t); err != nil {
						t.Fatal(err)
					}
					for i, want := range tt.msgs {
						_, got := wlRead(t, p)
						if string(got) != want {
							t.Fatalf("message %d is %q, want %q", i, got, want)
						}
					}
					wlExpect(t, p, websocket.TextMessage, "end")
				})
			}
		}
	})
}

// TestWriterKeepAliveWithOpenWriter: keepalive's pings go out while a
// writer is open and idle; they need no more than the frame lock. The
// handler reads on a goroutine of its own meanwhile, as keepalive needs the
// pongs to be read.
func TestWriterKeepAliveWithOpenWriter(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		u := &websocket.HertzUpgrader{KeepAlive: 100 * time.Millisecond}
		result := make(chan error, 1)
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			readDone := make(chan struct{})
			go func() {
				defer close(readDone)
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
			result <- func() error {
				if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
					return err
				}
				w, err := c.NextWriter(websocket.TextMessage)
				if err != nil {
					return err
				}
				if _, err := w.Write([]byte("slow")); err != nil {
					return err
				}
				time.Sleep(3 * wlStall) // several intervals with the writer open
				return w.Close()
			}()
			<-readDone
		})
		p := cl.dial(t, url, false)
		var pings atomic.Int32
		p.SetPingHandler(func(d string) error {
			pings.Add(1)
			return p.WriteControl(websocket.PongMessage, []byte(d), time.Now().Add(wlGuard))
		})
		wlExpect(t, p, websocket.TextMessage, "hello")
		wlExpect(t, p, websocket.TextMessage, "slow")
		if err, ok := wlWithin(result); !ok || err != nil {
			t.Fatalf("handler: ended=%v err=%v", ok, err)
		}
		if n := pings.Load(); n < 3 {
			t.Fatalf("%d keepalive pings while the writer was open, want several", n)
		}
	})
}

// TestWriterRetiredWriterStaysClosed: a writer whose message NextWriter
// ended is never reused: writing to it later, after its slot has served
// other messages, fails instead of adding to one of them.
func TestWriterRetiredWriterStaysClosed(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			w1, err := c.NextWriter(websocket.TextMessage)
			if err != nil {
				return err
			}
			if _, err := w1.Write([]byte("one")); err != nil {
				return err
			}
			var open io.WriteCloser
			for i := 0; i < 4; i++ { // the slots serve several messages
				w, err := c.NextWriter(websocket.TextMessage)
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(w, "m%d", i); err != nil {
					return err
				}
				if i == 3 {
					open = w
					break
				}
				if err := w.Close(); err != nil {
					return err
				}
			}
			if _, err := w1.Write([]byte("LATE")); err == nil {
				return errors.New("a writer NextWriter retired accepted a Write")
			}
			if err := w1.Close(); err == nil {
				return errors.New("a writer NextWriter retired accepted a Close")
			}
			return open.Close()
		})
		p := cl.dial(t, s.url, false)
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"one", "m0", "m1", "m2", "m3"} {
			wlExpect(t, p, websocket.TextMessage, want)
		}
	})
}

// TestWriterOneStreamerManyWriters is the concurrency model under the race
// detector: one goroutine streams messages through NextWriter, leaving
// every fifth open for its next NextWriter to close; three others write
// whole messages and pings at the same time. Every message arrives whole,
// each goroutine's in its order.
func TestWriterOneStreamerManyWriters(t *testing.T) {
	const perWriter = 40
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		pms := make([]*websocket.PreparedMessage, perWriter)
		for i := range pms {
			pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte(fmt.Sprintf("g2:%d:%s", i, strings.Repeat("p", i*37))))
			if err != nil {
				t.Fatal(err)
			}
			pms[i] = pm
		}
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			errs := make(chan error, 4)
			go func() { // the streamer
				var w io.WriteCloser
				for i := 0; i < perWriter; i++ {
					var err error
					if w, err = c.NextWriter(websocket.TextMessage); err != nil {
						errs <- err
						return
					}
					if _, err := fmt.Fprintf(w, "s:%d:", i); err != nil {
						errs <- err
						return
					}
					if _, err := io.WriteString(w, strings.Repeat("s", i*211)); err != nil {
						errs <- err
						return
					}
					if i%5 != 4 {
						if err := w.Close(); err != nil {
							errs <- err
							return
						}
					}
				}
				errs <- w.Close()
			}()
			for g := 0; g < 3; g++ {
				g := g
				go func() {
					for i := 0; i < perWriter; i++ {
						var err error
						switch g {
						case 0:
							err = c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("g0:%d:%s", i, strings.Repeat("m", i*53))))
						case 1:
							err = c.WriteJSON(fmt.Sprintf("g1:%d:", i))
						case 2:
							err = c.WritePreparedMessage(pms[i])
						}
						if err == nil && i%7 == 0 {
							err = c.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(wlGuard))
						}
						if err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
				}()
			}
			for i := 0; i < 4; i++ {
				err, ok := wlWithin(errs)
				if !ok {
					return errors.New("a writer is stuck")
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		p := cl.dial(t, s.url, false)
		next := map[string]int{}
		for n := 0; n < 4*perWriter; n++ {
			_, b := wlRead(t, p)
			msg := string(b)
			if strings.HasPrefix(msg, "\"g1:") { // WriteJSON's string
				msg = strings.TrimSuffix(strings.TrimPrefix(msg, "\""), "\"\n")
			}
			parts := strings.SplitN(msg, ":", 3)
			if len(parts) != 3 {
				t.Fatalf("garbled message %.60q", b)
			}
			var i int
			if _, err := fmt.Sscan(parts[1], &i); err != nil || i != next[parts[0]] {
				t.Fatalf("message %.30q out of order: want %s:%d", b, parts[0], next[parts[0]])
			}
			var want string
			switch parts[0] {
			case "s":
				want = strings.Repeat("s", i*211)
			case "g0":
				want = strings.Repeat("m", i*53)
			case "g2":
				want = strings.Repeat("p", i*37)
			}
			if parts[2] != want {
				t.Fatalf("message %s:%d is not whole: %d bytes of body, want %d", parts[0], i, len(parts[2]), len(want))
			}
			next[parts[0]]++
		}
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriterNoDataFrameAfterClose: once a close frame has gone out, no data
// frame may follow it (RFC 6455 §5.5.1), not even the rest of a message
// whose writer was open when the close was sent. The raw client sees every
// frame the server sends until the TCP connection ends.
func TestWriterNoDataFrameAfterClose(t *testing.T) {
	cases := []struct {
		name  string
		steps func(c *websocket.Conn) error
		want  []frame.Opcode
	}{
		{"WriteControlWhileWriterOpen", func(c *websocket.Conn) error {
			w, err := c.NextWriter(websocket.BinaryMessage)
			if err != nil {
				return err
			}
			if _, err := w.Write(make([]byte, 5000)); err != nil { // one frame goes out
				return err
			}
			if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"), time.Now().Add(wlGuard)); err != nil {
				return err
			}
			if _, err := w.Write(make([]byte, 5000)); err != websocket.ErrCloseSent {
				return fmt.Errorf("Write of a frame after the close: %v, want ErrCloseSent", err)
			}
			if err := w.Close(); err != websocket.ErrCloseSent {
				return fmt.Errorf("Close of the writer after the close: %v, want ErrCloseSent", err)
			}
			return nil
		}, []frame.Opcode{frame.OpBinary, frame.OpClose}},
		{"CloseWriterWhileWriterOpen", func(c *websocket.Conn) error {
			w, err := c.NextWriter(websocket.BinaryMessage)
			if err != nil {
				return err
			}
			if _, err := w.Write(make([]byte, 5000)); err != nil {
				return err
			}
			cw, err := c.NextWriter(websocket.CloseMessage) // ends the binary message first
			if err != nil {
				return err
			}
			if _, err := cw.Write(websocket.FormatCloseMessage(1000, "bye")); err != nil {
				return err
			}
			if err := cw.Close(); err != nil {
				return err
			}
			if err := c.WriteMessage(websocket.BinaryMessage, []byte("x")); err != websocket.ErrCloseSent {
				return fmt.Errorf("WriteMessage after the close: %v, want ErrCloseSent", err)
			}
			return nil
		}, []frame.Opcode{frame.OpBinary, frame.OpContinuation, frame.OpClose}},
		{"PreparedCloseWhileWriterOpen", func(c *websocket.Conn) error {
			pm, err := websocket.NewPreparedMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
			if err != nil {
				return err
			}
			w, err := c.NextWriter(websocket.TextMessage)
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte(strings.Repeat("t", 5000))); err != nil {
				return err
			}
			if err := c.WritePreparedMessage(pm); err != nil { // a control message: no wait
				return err
			}
			if err := w.Close(); err != websocket.ErrCloseSent {
				return fmt.Errorf("Close of the writer after the close: %v, want ErrCloseSent", err)
			}
			return nil
		}, []frame.Opcode{frame.OpText, frame.OpClose}},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range cases {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				result := make(chan error, 1)
				u := &websocket.HertzUpgrader{}
				addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
					h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
						_ = u.Upgrade(ctx, func(c *websocket.Conn) { result <- tt.steps(c) })
					})
				})
				rc := wstest.DialRaw(t, addr)
				rc.Handshake("/ws")
				var got []frame.Opcode
				for {
					f, err := rc.TryReadFrame()
					if err != nil {
						if !wstest.IsClosed(err) {
							t.Fatalf("after frames %v: %v", got, err)
						}
						break
					}
					got = append(got, f.Header.Opcode)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("frames %v, want %v", got, tt.want)
				}
				if err, ok := wlWithin(result); !ok || err != nil {
					t.Fatalf("handler: ended=%v err=%v", ok, err)
				}
			})
		}
	})
}

// wlPool is a BufferPool that writes to the Conn from Get and Put: no lock
// of the write path is held while a BufferPool's code runs.
type wlPool struct {
	p    sync.Pool
	conn atomic.Pointer[websocket.Conn]
	errs chan error
}

func (p *wlPool) Get() interface{} {
	if c := p.conn.Load(); c != nil {
		p.report(c.WriteControl(websocket.PingMessage, []byte("get"), time.Now().Add(wlGuard)))
	}
	return p.p.Get()
}

func (p *wlPool) Put(v interface{}) {
	if c := p.conn.Load(); c != nil {
		p.report(c.WriteMessage(websocket.TextMessage, []byte("put")))
	}
	p.p.Put(v)
}

func (p *wlPool) report(err error) {
	select {
	case p.errs <- err:
	default:
	}
}

// wlMarshaler writes a message of its own while it is encoded, the first
// time. (Built with the race detector, sonic encodes every value a second
// time with encoding/json, to find races.)
type wlMarshaler struct {
	c    *websocket.Conn
	once *sync.Once
}

func (m wlMarshaler) MarshalJSON() ([]byte, error) {
	var err error
	m.once.Do(func() { err = m.c.WriteMessage(websocket.TextMessage, []byte("from MarshalJSON")) })
	if err != nil {
		return nil, err
	}
	return []byte(`"marshaled"`), nil
}

// TestWriterUserCodeWrites: code of the application that the write path
// calls (a BufferPool's Get and Put, a MarshalJSON method, handlers that
// replace handlers) may write to the Conn, and raw bytes written through
// NetConn go out while a writer is open: none of it runs under a lock it
// needs.
func TestWriterUserCodeWrites(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		pool := &wlPool{errs: make(chan error, 16)}
		u := &websocket.HertzUpgrader{WriteBufferPool: pool}
		s := wlServe(t, tc, u, func(c *websocket.Conn) error {
			pool.conn.Store(c)
			w, err := c.NextWriter(websocket.TextMessage) // Get pings
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte("x")); err != nil {
				return err
			}
			// A ping frame, raw, between the open message's frames.
			if _, err := c.NetConn().Write([]byte{0x89, 2, 'n', 'c'}); err != nil {
				return fmt.Errorf("NetConn().Write with a writer open: %v", err)
			}
			if err := w.Close(); err != nil { // Put writes "put"
				return err
			}
			pool.conn.Store(nil)
			for i := 0; i < 2; i++ {
				if err, ok := wlWithin(pool.errs); !ok || err != nil {
					return fmt.Errorf("write from the BufferPool: ended=%v err=%v", ok, err)
				}
			}
			if err := c.WriteJSON(wlMarshaler{c, new(sync.Once)}); err != nil {
				return err
			}
			// A ping handler that replaces itself and writes.
			c.SetPingHandler(func(d string) error {
				c.SetPingHandler(nil)
				_ = c.PingHandler()
				return c.WriteMessage(websocket.TextMessage, []byte("handled "+d))
			})
			_, _, err = c.ReadMessage()
			if code, _, ok := wlCloseCode(err); !ok || code != websocket.CloseNormalClosure {
				return fmt.Errorf("read ended with %v", err)
			}
			return nil
		})
		p := cl.dial(t, s.url, false)
		var log gaControlLog
		log.watch(p)
		wlExpect(t, p, websocket.TextMessage, "x")
		wlExpect(t, p, websocket.TextMessage, "put")
		wlExpect(t, p, websocket.TextMessage, "from MarshalJSON")
		wlExpect(t, p, websocket.TextMessage, "\"marshaled\"\n")
		if err := p.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(wlGuard)); err != nil {
			t.Fatal(err)
		}
		wlExpect(t, p, websocket.TextMessage, "handled p")
		if err := p.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(wlGuard)); err != nil {
			t.Fatal(err)
		}
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		if got := log.String(); got != "ping get,ping nc" {
			t.Fatalf("client saw %q", got)
		}
	})
}

// TestWriterNextWriterFromAnotherGoroutine pins down the price of closing
// the open writer without knowing whose it is: another goroutine's
// NextWriter ends the first goroutine's message where it stands (whole
// frames, a valid stream), and the first goroutine's next call on its writer
// fails, so it knows. NextWriter is for one goroutine at a time.
func TestWriterNextWriterFromAnotherGoroutine(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			w, err := c.NextWriter(websocket.TextMessage)
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte("a1")); err != nil {
				return err
			}
			other := make(chan error, 1)
			go func() {
				w2, err := c.NextWriter(websocket.TextMessage)
				if err == nil {
					if _, err = w2.Write([]byte("b")); err == nil {
						err = w2.Close()
					}
				}
				other <- err
			}()
			if err, ok := wlWithin(other); !ok || err != nil {
				return fmt.Errorf("the other goroutine's NextWriter: ended=%v err=%v", ok, err)
			}
			if _, err := w.Write([]byte("a2")); err == nil {
				return errors.New("Write on a writer another goroutine's NextWriter closed succeeded")
			}
			if err := w.Close(); err == nil {
				return errors.New("Close of a writer another goroutine's NextWriter closed succeeded")
			}
			return nil
		})
		p := cl.dial(t, s.url, false)
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		wlExpect(t, p, websocket.TextMessage, "a1")
		wlExpect(t, p, websocket.TextMessage, "b")
	})
}
