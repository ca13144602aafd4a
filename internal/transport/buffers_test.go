package transport

import (
	"bytes"
	"testing"
)

// TestWriteQueueChainsBuffers: output that outgrows one pooled buffer goes
// on in further buffers from the pool, in order, with contiguous Malloc
// space where asked; a Malloc larger than the pool's buffers gets a buffer
// of its own; reset gives everything back.
func TestWriteQueueChainsBuffers(t *testing.T) {
	tests := []struct {
		name string
		ops  []int // > 0: add that many bytes; < 0: malloc that many
		big  int   // a referenced payload queued last (0: none)
	}{
		{name: "one buffer", ops: []int{10, -5, 20}},
		{name: "adds across buffers", ops: []int{50, 50, 50, 50}},
		{name: "an add larger than a buffer", ops: []int{10, 200}},
		{name: "malloc that does not fit leaves a gap", ops: []int{60, -10, 60, -64}},
		{name: "malloc past the pool size", ops: []int{10, -100, 10}},
		{name: "then a referenced payload", ops: []int{40, 40, -30}, big: referencedWrite},
		{name: "only a referenced payload", big: referencedWrite + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := writeQueue{pool: PoolFor(64)}
			var want []byte
			fill := byte('a')
			for _, op := range tt.ops {
				p := bytes.Repeat([]byte{fill}, abs(op))
				fill++
				if op > 0 {
					q.add(p)
				} else {
					copy(q.malloc(-op), p)
				}
				want = append(want, p...)
			}
			if tt.big > 0 {
				big := bytes.Repeat([]byte{'B'}, tt.big)
				q.add(big)
				if &q.big[0] != &big[0] {
					t.Fatal("the large payload was copied")
				}
				want = append(want, big...)
			}
			var got []byte
			for _, b := range q.buffers() {
				if len(b) == 0 {
					t.Fatal("an empty buffer would be sent")
				}
				got = append(got, b...)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("queued %q, want %q", got, want)
			}
			q.reset()
			if q.out != nil || len(q.full) != 0 || q.big != nil || len(q.buffers()) != 0 {
				t.Fatal("reset kept something queued")
			}
		})
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
