package websocket

import (
	"bytes"
	"testing"

	"github.com/hertzws/websocket/frame"
)

// TestReadWhole checks when ReadMessage takes its one-step path (a
// message that has arrived whole, in one frame) and that it then returns
// the message, unmasked, in memory of exactly its size or in the buffer
// passed to ReadMessageInto.
func TestReadWhole(t *testing.T) {
	msg := bytes.Repeat([]byte("风起于青萍之末 "), 40) // 880 bytes of text
	whole := benchFrames(frame.RoleServer, frame.OpText, msg)
	fragmented := append(clientFrame(false, frame.OpText, msg[:100]), clientFrame(true, frame.OpContinuation, msg[100:])...)
	large := benchFrames(frame.RoleServer, frame.OpBinary, bytes.Repeat([]byte{7}, receiveAllowance+1))
	tests := []struct {
		name   string
		frames []byte
		buf    []byte
		taken  bool
	}{
		{"whole text", whole, nil, true},
		{"into a large enough buffer", whole, make([]byte, 0, 4096), true},
		{"into a small buffer", whole, make([]byte, 0, 10), true},
		{"fragmented", fragmented, nil, false},
		{"half arrived", whole[:len(whole)/2], nil, false},
		{"empty", benchFrames(frame.RoleServer, frame.OpBinary, nil), nil, false},
		{"larger than the allowance", large, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := benchConn(frame.RoleServer, tt.frames)
			_, r, err := c.NextReader()
			if err != nil {
				t.Fatal(err)
			}
			p, taken, err := r.(*messageReader).readWhole(tt.buf)
			if taken != tt.taken || err != nil {
				t.Fatalf("readWhole: taken %v, %v; want taken %v", taken, err, tt.taken)
			}
			if !taken {
				return
			}
			if !bytes.Equal(p, msg) {
				t.Fatalf("got %d bytes, not the message", len(p))
			}
			if cap(tt.buf) >= len(msg) && &p[0] != &tt.buf[:1][0] {
				t.Error("the message did not go into the buffer that holds it")
			}
			if cap(tt.buf) < len(msg) && cap(p) != len(msg) {
				t.Errorf("a new buffer of capacity %d for %d bytes", cap(p), len(msg))
			}
			// The message is consumed: the next one starts cleanly.
			if _, _, err := c.ReadMessage(); err != nil {
				t.Fatalf("the next message: %v", err)
			}
		})
	}
}

// clientFrame encodes one masked frame, as a client sends it.
func clientFrame(fin bool, op frame.Opcode, payload []byte) []byte {
	h := frame.Header{Fin: fin, Opcode: op, PayloadLen: int64(len(payload)), Masked: true, Mask: [4]byte{1, 2, 3, 4}}
	b := make([]byte, h.Size()+len(payload))
	n := frame.PutHeader(b, h)
	frame.MaskCopy(b[n:], payload, h.Mask, 0)
	return b
}
