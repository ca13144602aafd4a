package websocket

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hertzws/websocket/frame"
)

// memTransport is a transport over bytes in memory: reads come from in,
// writes are counted and dropped. It stands in for a connection in the
// read-path fuzz target.
type memTransport struct {
	memoryOnly
	in      []byte
	written int
	pending int
	closed  bool
}

func (m *memTransport) Peek(n int) ([]byte, error) {
	if m.closed {
		return nil, ErrConnClosed
	}
	if n > len(m.in) {
		return m.in, io.EOF
	}
	return m.in[:n], nil
}

func (m *memTransport) Skip(n int) error {
	if n > len(m.in) {
		return io.EOF
	}
	m.in = m.in[n:]
	return nil
}

func (m *memTransport) Release() error { return nil }
func (m *memTransport) Len() int       { return len(m.in) }

func (m *memTransport) Malloc(n int) ([]byte, error) {
	m.pending += n
	return make([]byte, n), nil
}

func (m *memTransport) WriteBinary(b []byte) (int, error) {
	m.pending += len(b)
	return len(b), nil
}

func (m *memTransport) Flush() error {
	m.written += m.pending
	m.pending = 0
	return nil
}

func (m *memTransport) SetReadDeadline(time.Time) error  { return nil }
func (m *memTransport) SetWriteDeadline(time.Time) error { return nil }
func (m *memTransport) Close() error                     { m.closed = true; return nil }

// FuzzReadPath feeds arbitrary bytes to the whole read path, as server and
// as client, with and without compression negotiated. Whatever the bytes,
// reading yields whole messages and then ends in a typed error: never a
// panic, and never a message larger than the read limit.
func FuzzReadPath(f *testing.F) {
	mask := [4]byte{1, 2, 3, 4}
	text := func(fin bool, op frame.Opcode, rsv byte, masked bool, payload []byte) []byte {
		h := frame.Header{Fin: fin, Opcode: op, Rsv: rsv, Masked: masked, Mask: mask, PayloadLen: int64(len(payload))}
		b := frame.AppendHeader(nil, h)
		p := append([]byte(nil), payload...)
		if masked {
			frame.Mask(mask, 0, p)
		}
		return append(b, p...)
	}
	compressed, _ := frame.AppendCompressed(nil, []byte("hello hello hello hello"), 1, 15)
	seeds := [][]byte{
		{},
		text(true, frame.OpText, 0, true, []byte("hello")),
		text(true, frame.OpText, 0, false, []byte("hello")),
		append(text(false, frame.OpText, 0, true, []byte("he")), append(text(true, frame.OpPing, 0, true, []byte("p")), text(true, frame.OpContinuation, 0, true, []byte("llo"))...)...),
		text(true, frame.OpText, frame.Rsv1, true, compressed),
		text(true, frame.OpText, frame.Rsv1, false, compressed),
		text(true, frame.OpBinary, frame.Rsv1, true, []byte{0xff, 0xfe, 0x00}),
		text(true, frame.OpClose, 0, true, []byte{0x03, 0xe8, 'o', 'k'}),
		text(true, frame.OpText, 0, true, []byte{0xff}),
	}
	for _, s := range seeds {
		for mode := byte(0); mode < 4; mode++ {
			f.Add(mode, s)
		}
	}
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		role := frame.RoleServer
		if mode&1 != 0 {
			role = frame.RoleClient
		}
		cfg := connConfig{writeBufferSize: 512, readLimit: 1 << 16}
		if mode&2 != 0 {
			cfg.compression = &frame.DeflateParams{}
		}
		mt := &memTransport{in: data}
		c := newConn(mt, role, cfg, nil, nil)
		for i := 0; i < len(data)+2; i++ {
			_, msg, err := c.ReadMessage()
			if err != nil {
				var pe *ProtocolError
				var ce *CloseError
				switch {
				case errors.As(err, &pe), errors.As(err, &ce),
					errors.Is(err, ErrReadLimit), errors.Is(err, ErrConnClosed):
				default:
					t.Fatalf("untyped read error %T %v", err, err)
				}
				return
			}
			if int64(len(msg)) > cfg.readLimit {
				t.Fatalf("message of %d bytes passed a %d-byte limit", len(msg), cfg.readLimit)
			}
		}
		t.Fatalf("read path did not end after %d messages", len(data)+2)
	})
}
