package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// startStreamServer serves handler at /ws on 127.0.0.1 and transport tr
// and returns the ws:// URL.
func startStreamServer(t *testing.T, tr wstest.Transport, handler websocket.HertzHandler) string {
	t.Helper()
	return wstest.StartHandler(t, tr, wstest.EngineSettings{NoHijackConnPool: true}, nil, handler)
}

// dialStream dials wsURL and returns the connection as a NetConnOf stream
// of messageType, with the Conn under it; the stream is closed when the
// test ends.
func dialStream(t *testing.T, wsURL string, messageType int) (net.Conn, *websocket.Conn) {
	t.Helper()
	c, _ := wstest.Dial(t, nil, wsURL, nil)
	// A context that is not done until the test ends: the stream watches
	// it, and leak checks see that the watcher ends with Close.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	nc := websocket.NetConnOf(ctx, c, messageType)
	t.Cleanup(func() { _ = nc.Close() })
	return nc, c
}

// streamGoroutines returns the baseline of a leak check: the goroutines
// running once a throwaway connection on tr has started those that live as
// long as the process (Hertz's clock of the Date header, netpoll's
// pollers).
func streamGoroutines(t *testing.T, tr wstest.Transport) wstest.GoroutineSet {
	t.Helper()
	wsURL := startStreamServer(t, tr, wstest.Echo)
	c, _ := wstest.Dial(t, nil, wsURL, nil)
	wstest.CheckEcho(t, c, websocket.BinaryMessage, []byte("warm up"))
	_ = c.Close()
	return wstest.Goroutines()
}

// startSilentStreamServer starts a server whose handler neither reads nor
// writes until the test ends (within the guard), so that what is written
// to it fills the socket buffers.
func startSilentStreamServer(t *testing.T, tr wstest.Transport) string {
	t.Helper()
	release := make(chan struct{})
	wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
		select {
		case <-release:
		case <-time.After(wstest.Guard):
		}
	})
	t.Cleanup(func() { close(release) }) // before the server's shutdown, which waits for the handler
	return wsURL
}

// readStream reads r with a buffer of bufSize bytes until an error and
// returns what it read and the error. It gives up after limit bytes.
func readStream(r io.Reader, bufSize, limit int) ([]byte, error) {
	var got []byte
	buf := make([]byte, bufSize)
	for len(got) <= limit {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
	return got, errors.New("the stream goes on past its limit")
}

// TestNetConnOfReadStream: Read returns the bytes of the messages
// received as one stream, whatever the read size, across message
// boundaries, empty and fragmented messages, and ends with io.EOF at the
// peer's close with code 1000.
func TestNetConnOfReadStream(t *testing.T) {
	big := wstest.RandomBytes(100<<10, 1) // more than a chunk of the pump
	rows := []struct {
		name       string
		messages   [][]byte
		fragmented bool // sent through NextWriter in 1000-byte writes
		bufSize    int
	}{
		{"one message", [][]byte{[]byte("hello")}, false, 64},
		{"byte by byte", [][]byte{[]byte("ab"), []byte("cde"), []byte("f")}, false, 1},
		{"empty messages", [][]byte{{}, []byte("x"), {}, {}, []byte("yz"), {}}, false, 2},
		{"odd read size", [][]byte{big[:777], big[777:5000], big[5000:5001]}, false, 7},
		{"large message", [][]byte{big, []byte("tail")}, false, 64 << 10},
		{"large message small reads", [][]byte{big}, false, 1000},
		{"fragmented", [][]byte{big, big[:3000]}, true, 4096},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, row := range rows {
			row := row
			t.Run(row.name, func(t *testing.T) {
				wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
					for _, m := range row.messages {
						if err := sendBinary(c, m, row.fragmented); err != nil {
							return
						}
					}
					bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
					_ = c.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
					_ = readUntilError(c)
				})
				nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
				want := bytes.Join(row.messages, nil)
				got, err := readStream(nc, row.bufSize, len(want))
				if err != io.EOF {
					t.Fatalf("read ended with %v, want io.EOF", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("read %d bytes, want %d (equal prefix: %v)", len(got), len(want), bytes.HasPrefix(want, got))
				}
				if n, err := nc.Read(make([]byte, 8)); n != 0 || err != io.EOF {
					t.Fatalf("Read after the end = %d, %v; want 0, io.EOF", n, err)
				}
			})
		}
	})
}

// sendBinary sends m as one binary message, in one frame or through
// NextWriter in 1000-byte writes.
func sendBinary(c *websocket.Conn, m []byte, fragmented bool) error {
	if !fragmented {
		return c.WriteMessage(websocket.BinaryMessage, m)
	}
	w, err := c.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	for len(m) > 0 {
		n := 1000
		if n > len(m) {
			n = len(m)
		}
		if _, err := w.Write(m[:n]); err != nil {
			return err
		}
		m = m[n:]
	}
	return w.Close()
}

// TestNetConnOfWrite: each Write is one message of the stream's type, an
// empty Write sends nothing, and Close ends the stream with code 1000.
func TestNetConnOfWrite(t *testing.T) {
	writes := [][]byte{[]byte("a"), {}, []byte("bcd"), wstest.RandomBytes(200<<10, 2), {}, []byte("end")}
	for _, mt := range []int{websocket.BinaryMessage, websocket.TextMessage} {
		mt := mt
		name := map[int]string{websocket.BinaryMessage: "binary", websocket.TextMessage: "text"}[mt]
		t.Run(name, func(t *testing.T) {
			wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
				type received struct {
					mt  int
					msg []byte
				}
				got := make(chan received, len(writes)+1)
				end := make(chan error, 1)
				wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
					for {
						mt, msg, err := c.ReadMessage()
						if err != nil {
							end <- err
							return
						}
						got <- received{mt, msg}
					}
				})
				nc, _ := dialStream(t, wsURL, mt)
				for _, w := range writes {
					if mt == websocket.TextMessage {
						w = bytes.Map(func(r rune) rune { return 'a' + r%26 }, w) // valid UTF-8
					}
					n, err := nc.Write(w)
					if n != len(w) || err != nil {
						t.Fatalf("Write(%d bytes) = %d, %v", len(w), n, err)
					}
					if len(w) == 0 {
						continue
					}
					r := wstest.Receive(t, got, "the message")
					if r.mt != mt || len(r.msg) != len(w) || (mt == websocket.BinaryMessage && !bytes.Equal(r.msg, w)) {
						t.Fatalf("received a message of type %d and %d bytes, want type %d and %d bytes", r.mt, len(r.msg), mt, len(w))
					}
				}
				if err := nc.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				if err := wstest.Receive(t, end, "the server's read error"); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					t.Fatalf("server read %v, want close 1000", err)
				}
				select {
				case r := <-got:
					t.Fatalf("an extra message of %d bytes arrived", len(r.msg))
				default:
				}
			})
		})
	}
}

// TestNetConnOfFullDuplex: one goroutine writes while another reads, as
// io.Copy in both directions does, through a server that echoes every
// message; the stream comes back whole, also when the messages go out
// compressed (permessage-deflate), whose reader hands out inflated bytes
// piece by piece.
func TestNetConnOfFullDuplex(t *testing.T) {
	rows := []struct {
		name     string
		compress bool
		data     []byte
	}{
		{"plain", false, wstest.RandomBytes(4<<20, 3)},
		{"compressed", true, wstest.CompressibleBinary(4<<20, 3)},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		for _, row := range rows {
			row := row
			t.Run(row.name, func(t *testing.T) {
				u := &websocket.HertzUpgrader{EnableCompression: row.compress}
				wsURL := wstest.StartHandler(t, tr, wstest.EngineSettings{NoHijackConnPool: true}, u, wstest.Echo)
				c, resp := wstest.Dial(t, &websocket.Dialer{EnableCompression: row.compress}, wsURL, nil)
				if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != row.compress {
					t.Fatalf("compression negotiated: %v, want %v", got, row.compress)
				}
				nc := websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage)
				defer nc.Close()
				if nc.LocalAddr() != c.LocalAddr() || nc.RemoteAddr() != c.RemoteAddr() {
					t.Fatalf("addresses %v, %v; the Conn's are %v, %v", nc.LocalAddr(), nc.RemoteAddr(), c.LocalAddr(), c.RemoteAddr())
				}
				werr := make(chan error, 1)
				go func() { werr <- writeVaried(nc, row.data) }()
				got := make([]byte, len(row.data))
				if _, err := io.ReadFull(nc, got); err != nil {
					t.Fatalf("read: %v", err)
				}
				if err := wstest.Receive(t, werr, "the writer"); err != nil {
					t.Fatalf("write: %v", err)
				}
				if !bytes.Equal(got, row.data) {
					t.Fatal("the echoed stream differs from the one sent")
				}
			})
		}
	})
}

// writeVaried writes data to w in writes of varied sizes, as a program's
// would be.
func writeVaried(w io.Writer, data []byte) error {
	for size := 1; len(data) > 0; size = size*3 + 1 {
		if size > 100<<10 {
			size = 1
		}
		n := size
		if n > len(data) {
			n = len(data)
		}
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}
