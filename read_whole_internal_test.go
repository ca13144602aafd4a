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

// TestStagingBuffer checks where ReadMessage reads a message that is
// still arriving: a message of minStaging to receiveAllowance bytes into
// the smallest pooled staging buffer that holds it (less than twice its
// size, so a peer that stalls holds no more), copied out at the end; a
// smaller one, or one read into the caller's buffer, into its own.
func TestStagingBuffer(t *testing.T) {
	tests := []struct {
		name     string
		total    int64
		buffered int
		buf      []byte
		pool     int // size of the staging buffer, 0 for none
	}{
		{"1 KiB arriving", 1 << 10, 100, nil, 0},
		{"4 KiB arriving", 4 << 10, 100, nil, 4 << 10},
		{"5000 B arriving", 5000, 100, nil, 8 << 10},
		{"16 KiB arriving", 16 << 10, 100, nil, 16 << 10},
		{"32 KiB arriving", 32 << 10, 100, nil, 32 << 10},
		{"16 KiB arrived", 16 << 10, 16 << 10, nil, 0},
		{"16 KiB into a caller's buffer", 16 << 10, 100, make([]byte, 0, 100), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := benchConn(frame.RoleServer, make([]byte, tt.buffered))
			c.readRemaining = tt.total
			mb := messageBuffer{p: tt.buf}
			defer c.releaseMessageBuffer(&mb)
			if room, err := c.growMessage(&mb); !room || err != nil {
				t.Fatalf("growMessage: room %v, %v", room, err)
			}
			if int64(cap(mb.p)) != tt.total {
				t.Errorf("buffer of capacity %d for a message of %d bytes", cap(mb.p), tt.total)
			}
			staged := 0
			if mb.pooled != nil {
				staged = len(mb.pooled.B)
			}
			if staged != tt.pool || mb.copyOut != (tt.pool > 0) {
				t.Fatalf("staging buffer of %d bytes (copy out %v), want %d", staged, mb.copyOut, tt.pool)
			}
			if mb.copyOut {
				mb.p = append(mb.p, "hello"...)
				out := mb.message()
				if string(out) != "hello" || &out[0] == &mb.p[0] {
					t.Errorf("the message was not copied out of the staging buffer")
				}
			}
		})
	}
}
