package websocket_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestReadMessageInto echoes messages read with ReadMessageInto into one
// buffer passed back each time: every message comes back whole, a message
// that fits is read into the buffer itself, a larger one into a new buffer
// that the next reads reuse, and the read limit holds inside a buffer
// larger than it.
func TestReadMessageInto(t *testing.T) {
	type read struct {
		n       int
		inPlace bool // p began where the buffer passed in began
	}
	cases := []struct {
		name     string
		mt       int
		data     []byte
		compress bool
		inPlace  bool
	}{
		{"fits", websocket.TextMessage, []byte("hello"), false, true},
		{"fills the buffer", websocket.BinaryMessage, wstest.RandomBytes(4096, 1), false, true},
		{"larger: a new buffer", websocket.BinaryMessage, wstest.RandomBytes(5000, 2), false, false},
		{"fits the grown buffer", websocket.BinaryMessage, wstest.RandomBytes(4500, 3), false, true},
		{"compressed", websocket.TextMessage, wstest.JSONText(3000, 4), true, true},
		{"much larger", websocket.TextMessage, wstest.RandomText(300_000, 5), false, false},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		reads := make(chan read, len(cases))
		u := &websocket.HertzUpgrader{EnableCompression: true}
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			buf := make([]byte, 0, 4096)
			for {
				mt, p, err := c.ReadMessageInto(buf[:0])
				if err != nil {
					return
				}
				reads <- read{len(p), len(p) > 0 && cap(buf) > 0 && &p[0] == &buf[:1][0]}
				buf = p
				if err := c.WriteMessage(mt, p); err != nil {
					return
				}
			}
		})
		c, _ := wstest.Dial(t, &websocket.Dialer{EnableCompression: true}, url, nil)
		for _, tc := range cases {
			c.EnableWriteCompression(tc.compress)
			wstest.CheckEcho(t, c, tc.mt, tc.data)
			r := wstest.Receive(t, reads, "the server's read")
			if r.n != len(tc.data) || r.inPlace != tc.inPlace {
				t.Errorf("%s: read %d bytes, in the buffer passed in: %v; want %d, %v", tc.name, r.n, r.inPlace, len(tc.data), tc.inPlace)
			}
		}
	})
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		// 1,200 bytes in two fragments, under a read limit of 1,000, into a
		// 64 KiB buffer: 1009, as with ReadMessage.
		errs := make(chan error, 1)
		u := &websocket.HertzUpgrader{ReadLimit: 1000}
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			_, _, err := c.ReadMessageInto(make([]byte, 0, 64<<10))
			errs <- err
		})
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		rc.Write(wstest.Masked(false, frame.OpBinary, bytes.Repeat([]byte{1}, 600)))
		rc.Write(wstest.Masked(true, frame.OpContinuation, bytes.Repeat([]byte{2}, 600)))
		rc.ExpectCloseCode(websocket.CloseMessageTooBig)
		if err := wstest.Receive(t, errs, "the read's error"); !errors.Is(err, websocket.ErrReadLimit) {
			t.Fatalf("ReadMessageInto returned %v, want ErrReadLimit", err)
		}
	})
}
