package websocket

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"

	"github.com/hertzws/websocket/frame"
)

// piecesTransport records what a frame write hands the transport: each
// Malloc and WriteBinary is a piece, as a transport whose Flush sends
// each buffer node with a call of its own would send it.
type piecesTransport struct {
	loopTransport
	copies  bool
	pieces  [][]byte
	written []byte
	flushes []int // pieces per Flush
}

func (p *piecesTransport) CopiesPayload(int) bool { return p.copies }

func (p *piecesTransport) Malloc(n int) ([]byte, error) {
	b := make([]byte, n)
	p.pieces = append(p.pieces, b)
	return b, nil
}

func (p *piecesTransport) WriteBinary(b []byte) (int, error) {
	p.pieces = append(p.pieces, b)
	return len(b), nil
}

func (p *piecesTransport) Flush() error {
	p.flushes = append(p.flushes, len(p.pieces))
	for _, b := range p.pieces {
		p.written = append(p.written, b...)
	}
	p.pieces = p.pieces[:0]
	return nil
}

// TestFramePieces checks how a data frame reaches the transport: whole
// (header and payload in one output buffer, one call to send) where the
// transport asks for copies and for a client's masked frame of up to one
// mask chunk, header then the caller's payload elsewhere. Either way the
// bytes sent decode to the message.
func TestFramePieces(t *testing.T) {
	tests := []struct {
		name    string
		role    frame.Role
		copies  bool
		size    int
		flushes []int // pieces handed to the transport before each Flush
	}{
		{"server 16 KiB, transport gathers", frame.RoleServer, false, 16 << 10, []int{2}},
		{"server 16 KiB, transport copies", frame.RoleServer, true, 16 << 10, []int{1}},
		{"server 100 B, transport gathers", frame.RoleServer, false, 100, []int{2}},
		{"server 100 B, transport copies", frame.RoleServer, true, 100, []int{1}},
		{"client 16 KiB", frame.RoleClient, false, 16 << 10, []int{1}},
		{"client one chunk", frame.RoleClient, false, maskChunk, []int{1}},
		{"client past one chunk", frame.RoleClient, false, maskChunk + 1, []int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &piecesTransport{copies: tt.copies}
			cfg := connConfig{writeBufferSize: DefaultWriteBufferSize, readLimit: DefaultReadLimit}
			c := newConn(tr, tt.role, cfg, nil, nil)
			msg := bytes.Repeat([]byte("hertz websocket "), tt.size/16+1)[:tt.size]
			if err := c.WriteMessage(BinaryMessage, msg); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(tr.flushes) != fmt.Sprint(tt.flushes) {
				t.Errorf("pieces per flush: %v, want %v", tr.flushes, tt.flushes)
			}
			r := frame.NewBufioReader(bufio.NewReader(bytes.NewReader(tr.written)))
			got, err := frame.ReadHeader(r)
			if err != nil {
				t.Fatal(err)
			}
			payload := append([]byte(nil), tr.written[got.Size():]...)
			if got.Masked {
				frame.Mask(got.Mask, 0, payload)
			}
			if !bytes.Equal(payload, msg) {
				t.Errorf("the frame's payload (%d bytes) is not the message (%d bytes)", len(payload), len(msg))
			}
		})
	}
}
