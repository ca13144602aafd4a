package websocket_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// aLongTimeAgo is the deadline net/http's server sets to stop its
// background read.
var aLongTimeAgo = time.Unix(1, 0)

// checkStreamTimeout fails the test unless err is a timeout as a socket's
// would be: a *net.OpError with Op op, a net.Error whose Timeout reports
// true, matching os.ErrDeadlineExceeded.
func checkStreamTimeout(t *testing.T, err error, op string) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != op {
		t.Fatalf("error %v (%T) is not a *net.OpError with Op %q", err, err, op)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%v is not a net.Error with Timeout", err)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("errors.Is(%v, os.ErrDeadlineExceeded) = false", err)
	}
}

// sendOnSignal is a handler that sends msg as a binary message once
// signalled, then reads until the peer closes.
func sendOnSignal(signal <-chan struct{}, msg string) websocket.HertzHandler {
	return func(c *websocket.Conn) {
		select {
		case <-signal:
		case <-time.After(wstest.Guard):
			return
		}
		if err := c.WriteMessage(websocket.BinaryMessage, []byte(msg)); err != nil {
			return
		}
		_ = readUntilError(c)
	}
}

// readN reads exactly n bytes from nc within Guard.
func readN(t *testing.T, nc net.Conn, n int) string {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(wstest.Guard))
	defer func() { _ = nc.SetReadDeadline(time.Time{}) }()
	buf := make([]byte, n)
	if _, err := io.ReadFull(nc, buf); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return string(buf)
}

// TestNetConnOfReadTimeoutRetry: a Read that times out leaves the stream
// intact. It fails again at once while the deadline stays passed, even
// with bytes waiting (as a socket's does), and once the deadline is moved
// the next Read gets the next byte.
func TestNetConnOfReadTimeoutRetry(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		signal := make(chan struct{})
		wsURL := startStreamServer(t, tr, sendOnSignal(signal, "abcdef"))
		nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
		buf := make([]byte, 2)

		start := time.Now()
		if err := nc.SetReadDeadline(start.Add(50 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		_, err := nc.Read(buf)
		checkStreamTimeout(t, err, "read")
		if took := time.Since(start); took < 45*time.Millisecond {
			t.Fatalf("the Read timed out after %v, before its deadline", took)
		}
		_, err = nc.Read(buf)
		checkStreamTimeout(t, err, "read")

		close(signal)
		if err := nc.SetReadDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got := readN(t, nc, 2); got != "ab" {
			t.Fatalf("read %q after the timeouts, want %q", got, "ab")
		}
		// "cdef" is waiting in the stream now.
		if err := nc.SetReadDeadline(aLongTimeAgo); err != nil {
			t.Fatal(err)
		}
		_, err = nc.Read(buf)
		checkStreamTimeout(t, err, "read")
		if got := readN(t, nc, 4); got != "cdef" {
			t.Fatalf("read %q after the deadline moved, want %q", got, "cdef")
		}
	})
}

// TestNetConnOfDeadlineWakesRead: a deadline set while a Read waits wakes
// it with a timeout, whether it lies ahead or already passed (as net/http
// sets it to stop its background read), and the stream goes on.
func TestNetConnOfDeadlineWakesRead(t *testing.T) {
	setters := []struct {
		name   string
		set    func(nc net.Conn) error
		passed bool
	}{
		{"SetReadDeadline ahead", func(nc net.Conn) error { return nc.SetReadDeadline(time.Now().Add(wakeAfter)) }, false},
		{"SetDeadline ahead", func(nc net.Conn) error { return nc.SetDeadline(time.Now().Add(wakeAfter)) }, false},
		{"SetReadDeadline passed", func(nc net.Conn) error { return nc.SetReadDeadline(aLongTimeAgo) }, true},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, setter := range setters {
			setter := setter
			t.Run(setter.name, func(t *testing.T) {
				signal := make(chan struct{})
				wsURL := startStreamServer(t, tr, sendOnSignal(signal, "after"))
				nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
				readErr := make(chan error, 1)
				go func() {
					_, err := nc.Read(make([]byte, 8))
					readErr <- err
				}()
				wstest.WaitBlocked(t, "websocket.(*streamConn).Read")
				setAt := time.Now()
				if err := setter.set(nc); err != nil {
					t.Fatal(err)
				}
				err := wstest.ReceiveWithin(t, readErr, wakeAfter+wakeBound, "the blocked Read")
				elapsed := time.Since(setAt)
				checkStreamTimeout(t, err, "read")
				if !setter.passed && elapsed < wakeAfter-5*time.Millisecond {
					t.Fatalf("the Read returned %v after the deadline was set %v ahead", elapsed, wakeAfter)
				}
				if err := nc.SetDeadline(time.Time{}); err != nil {
					t.Fatal(err)
				}
				close(signal)
				if got := readN(t, nc, 5); got != "after" {
					t.Fatalf("read %q after the timeout, want %q", got, "after")
				}
			})
		}
	})
}

// TestNetConnOfWriteDeadline: a write deadline that passed before the Write
// fails it without sending anything, and the stream stays writable; one
// that passes while a Write is blocked on a peer that reads nothing (set
// before, or while the Write waits) fails it with a timeout, on the client
// and on the server.
func TestNetConnOfWriteDeadline(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		t.Run("passed before the Write", func(t *testing.T) {
			got := make(chan []byte, 2)
			wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
				for {
					_, msg, err := c.ReadMessage()
					if err != nil {
						return
					}
					got <- msg
				}
			})
			nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
			if err := nc.SetWriteDeadline(aLongTimeAgo); err != nil {
				t.Fatal(err)
			}
			_, err := nc.Write([]byte("never"))
			checkStreamTimeout(t, err, "write")
			if err := nc.SetWriteDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
			if _, err := nc.Write([]byte("sent")); err != nil {
				t.Fatalf("Write after the deadline was cleared: %v", err)
			}
			if msg := wstest.Receive(t, got, "the message"); string(msg) != "sent" {
				t.Fatalf("the server received %q first, want %q", msg, "sent")
			}
		})
		for _, side := range []string{"client", "server"} {
			for _, whileBlocked := range []bool{false, true} {
				side, whileBlocked := side, whileBlocked
				name := side + "/set before"
				if whileBlocked {
					name = side + "/set while blocked"
				}
				t.Run(name, func(t *testing.T) {
					err := blockedStreamWrite(t, tr, side == "server", whileBlocked)
					checkStreamTimeout(t, err, "write")
				})
			}
		}
	})
}

// blockedStreamWrite writes to a peer that reads nothing, from a client or
// a server stream, with a write deadline set wakeAfter ahead before the
// writes or once they block, and returns the error that ended them. The
// writing stream cannot be written after a timeout: that is checked too.
func blockedStreamWrite(t *testing.T, tr wstest.Transport, server, whileBlocked bool) error {
	t.Helper()
	write := func(nc net.Conn) error {
		if !whileBlocked {
			_ = nc.SetWriteDeadline(time.Now().Add(wakeAfter))
			return writeStreamUntilError(nc)
		}
		werr := make(chan error, 1)
		go func() { werr <- writeStreamUntilError(nc) }()
		if !wstest.AwaitBlocked("websocket.(*streamConn).Write", wstest.Guard) {
			return errors.New("the Write never blocked")
		}
		_ = nc.SetWriteDeadline(time.Now().Add(wakeAfter))
		select {
		case err := <-werr:
			return err
		case <-time.After(wakeAfter + wakeBound):
			_ = nc.Close()
			<-werr
			return errors.New("the Write is still blocked after its deadline")
		}
	}
	afterTimeout := func(nc net.Conn, err error) error {
		if _, again := nc.Write([]byte("x")); again == nil {
			return errors.New("a Write after a timed-out Write succeeded")
		}
		return err
	}
	if !server {
		wsURL := startSilentStreamServer(t, tr)
		nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
		return afterTimeout(nc, write(nc))
	}
	result := make(chan error, 1)
	wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
		nc := websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage)
		err := write(nc)
		result <- afterTimeout(nc, err)
		_ = nc.Close()
	})
	silentPeer(t, wsURL)
	return wstest.Receive(t, result, "the server stream's write")
}
