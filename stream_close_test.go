package websocket_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestNetConnOfPeerClose: the bytes sent before the peer's close are read
// first; then a close with code 1000 or 1001 reads as io.EOF, another code
// as its *CloseError, and a connection dropped without a close message as
// a *CloseError with code 1006. No goroutine is left once the stream is
// closed.
func TestNetConnOfPeerClose(t *testing.T) {
	rows := []struct {
		name string
		code int // 0: the handler returns without a close message
		eof  bool
	}{
		{"1000 normal", websocket.CloseNormalClosure, true},
		{"1001 going away", websocket.CloseGoingAway, true},
		{"1011 internal error", websocket.CloseInternalServerErr, false},
		{"4000 application", 4000, false},
		{"dropped", 0, false},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, row := range rows {
			row := row
			t.Run(row.name, func(t *testing.T) {
				wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
					if err := c.WriteMessage(websocket.BinaryMessage, []byte("last words")); err != nil || row.code == 0 {
						return
					}
					msg := websocket.FormatCloseMessage(row.code, "bye")
					_ = c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
					_ = readUntilError(c)
				})
				base := streamGoroutines(t, tr)
				nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
				got, err := readStream(nc, 4, 100)
				if string(got) != "last words" {
					t.Fatalf("read %q before the close, want %q", got, "last words")
				}
				switch {
				case row.eof:
					if err != io.EOF {
						t.Fatalf("read error %v, want io.EOF", err)
					}
				case row.code == 0:
					if !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
						t.Fatalf("read error %v, want close 1006", err)
					}
				default:
					if !websocket.IsCloseError(err, row.code) || websocket.CloseCode(err) != row.code {
						t.Fatalf("read error %v, want close %d", err, row.code)
					}
				}
				if _, again := nc.Read(make([]byte, 1)); again != err {
					t.Fatalf("second read error %v, want %v again", again, err)
				}
				if err := nc.Close(); err != nil {
					t.Fatalf("Close after the peer's close: %v", err)
				}
				wstest.WaitGoroutines(t, base, 0)
			})
		}
	})
}

// TestNetConnOfWrongMessageType: a message of the other data type fails
// the stream: the peer receives close code 1003, and Read returns an error
// whose CloseCode is 1003. Both ways: a server stream that receives text,
// a client stream that receives binary.
func TestNetConnOfWrongMessageType(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		t.Run("server stream", func(t *testing.T) {
			readErr := make(chan error, 1)
			wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
				nc := websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage)
				_, err := io.ReadAll(nc)
				readErr <- err
				_ = nc.Close()
			})
			c, _ := wstest.Dial(t, nil, wsURL, nil)
			if err := c.WriteMessage(websocket.TextMessage, []byte("not binary")); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
			if err := readUntilError(c); !websocket.IsCloseError(err, websocket.CloseUnsupportedData) {
				t.Fatalf("client read %v, want close 1003", err)
			}
			if err := wstest.Receive(t, readErr, "the server's read"); websocket.CloseCode(err) != websocket.CloseUnsupportedData {
				t.Fatalf("server stream read %v (close code %d), want an error with code 1003", err, websocket.CloseCode(err))
			}
		})
		t.Run("client stream", func(t *testing.T) {
			serverErr := make(chan error, 1)
			wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
				if err := c.WriteMessage(websocket.BinaryMessage, []byte{0xff}); err != nil {
					serverErr <- err
					return
				}
				serverErr <- readUntilError(c)
			})
			base := streamGoroutines(t, tr)
			nc, _ := dialStream(t, wsURL, websocket.TextMessage)
			_, err := io.ReadAll(nc)
			if websocket.CloseCode(err) != websocket.CloseUnsupportedData {
				t.Fatalf("client stream read %v, want an error with code 1003", err)
			}
			if err := wstest.Receive(t, serverErr, "the server's read"); !websocket.IsCloseError(err, websocket.CloseUnsupportedData) {
				t.Fatalf("server read %v, want close 1003", err)
			}
			if _, err := nc.Write([]byte("x")); websocket.CloseCode(err) != websocket.CloseUnsupportedData {
				t.Fatalf("Write after the refusal: %v, want the same error", err)
			}
			if err := nc.Close(); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Close after the refusal: %v, want net.ErrClosed", err)
			}
			wstest.WaitGoroutines(t, base, 0)
		})
	})
}

// TestNetConnOfContext: when the stream's context is done, the peer
// receives close code 1008 with the context's error as reason, and Read
// (one already waiting included) and Write return an error that matches
// the context's error and net.ErrClosed.
func TestNetConnOfContext(t *testing.T) {
	rows := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled while reading", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, context.Canceled},
		{"cancelled before", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, row := range rows {
			row := row
			t.Run(row.name, func(t *testing.T) {
				ctx, cancel := row.ctx()
				defer cancel()
				type result struct{ read, write, close error }
				results := make(chan result, 1)
				wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
					nc := websocket.NetConnOf(ctx, c, websocket.BinaryMessage)
					var r result
					_, r.read = nc.Read(make([]byte, 10))
					_, r.write = nc.Write([]byte("late"))
					r.close = nc.Close()
					results <- r
				})
				base := streamGoroutines(t, tr)
				c, _ := wstest.Dial(t, nil, wsURL, nil)
				if row.name == "cancelled while reading" {
					wstest.WaitBlocked(t, "websocket.(*streamConn).Read")
					cancel()
				}
				_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
				err := readUntilError(c)
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != row.want.Error() {
					t.Fatalf("client read %v, want close 1008 with reason %q", err, row.want)
				}
				r := wstest.Receive(t, results, "the server stream's errors")
				for what, err := range map[string]error{"Read": r.read, "Write": r.write} {
					if !errors.Is(err, row.want) || !errors.Is(err, net.ErrClosed) {
						t.Errorf("%s: %v, want an error matching %v and net.ErrClosed", what, err, row.want)
					}
				}
				if !errors.Is(r.close, net.ErrClosed) {
					t.Errorf("Close after the context closed the stream: %v, want net.ErrClosed", r.close)
				}
				_ = c.Close()
				wstest.WaitGoroutines(t, base, 0)
			})
		}
	})
}

// TestNetConnOfCloseTwice: Close sends close code 1000 and returns nil,
// promptly when the peer answers; a second Close returns an error matching
// net.ErrClosed, and so do Read, Write and the deadline setters; nothing
// panics and no goroutine is left.
func TestNetConnOfCloseTwice(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		serverErr := make(chan error, 1)
		wsURL := startStreamServer(t, tr, func(c *websocket.Conn) { serverErr <- readUntilError(c) })
		base := streamGoroutines(t, tr)
		nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
		start := time.Now()
		if err := nc.Close(); err != nil {
			t.Fatalf("first Close: %v", err)
		}
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("Close took %v with a peer that answers at once", took)
		}
		if err := wstest.Receive(t, serverErr, "the server's read"); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("server read %v, want close 1000", err)
		}
		_, readErr := nc.Read(make([]byte, 1))
		_, writeErr := nc.Write([]byte("x"))
		for what, err := range map[string]error{
			"second Close":     nc.Close(),
			"Read":             readErr,
			"Write":            writeErr,
			"SetDeadline":      nc.SetDeadline(time.Now()),
			"SetReadDeadline":  nc.SetReadDeadline(time.Now()),
			"SetWriteDeadline": nc.SetWriteDeadline(time.Now()),
		} {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s after Close: %v, want net.ErrClosed", what, err)
			}
		}
		wstest.WaitGoroutines(t, base, 0)
	})
}

// TestNetConnOfCloseUnblocks: Close wakes a Read waiting for a peer that
// sends nothing at once, and a Write blocked on a peer that reads nothing
// within the second Close gives the close handshake.
func TestNetConnOfCloseUnblocks(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		t.Run("read", func(t *testing.T) {
			wsURL := startStreamServer(t, tr, func(c *websocket.Conn) { _ = readUntilError(c) })
			base := streamGoroutines(t, tr)
			nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
			readErr := make(chan error, 1)
			go func() {
				_, err := nc.Read(make([]byte, 10))
				readErr <- err
			}()
			wstest.WaitBlocked(t, "websocket.(*streamConn).Read")
			if err := nc.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := wstest.ReceiveWithin(t, readErr, time.Second, "the blocked Read"); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("blocked Read returned %v, want net.ErrClosed", err)
			}
			wstest.WaitGoroutines(t, base, 0)
		})
		t.Run("write", func(t *testing.T) {
			wsURL := startSilentStreamServer(t, tr)
			nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
			writeErr := make(chan error, 1)
			go func() { writeErr <- writeStreamUntilError(nc) }()
			wstest.WaitBlocked(t, "websocket.(*streamConn).Write")
			start := time.Now()
			closeErr := make(chan error, 1)
			go func() { closeErr <- nc.Close() }()
			if err := wstest.ReceiveWithin(t, writeErr, 3*time.Second, "the blocked Write"); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("blocked Write returned %v, want net.ErrClosed", err)
			}
			if err := wstest.ReceiveWithin(t, closeErr, 3*time.Second, "Close"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			t.Logf("Close with a blocked Write took %v", time.Since(start).Round(time.Millisecond))
		})
	})
}

// writeStreamUntilError writes 256 KiB at a time until a Write fails, for
// at most 256 MiB, far more than loopback socket buffers hold.
func writeStreamUntilError(nc net.Conn) error {
	p := make([]byte, 256<<10)
	for i := 0; i < 1024; i++ {
		if _, err := nc.Write(p); err != nil {
			return err
		}
	}
	return errors.New("256 MiB went out to a peer that reads nothing")
}
