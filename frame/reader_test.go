package frame

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// trickleReader is a test Reader that pulls its input from an io.Reader that
// yields one byte per Read, so every Peek has to assemble its bytes across
// many reads. Peek returns at most what was asked. When the input ends early
// it returns the bytes it has along with io.EOF (like bufio.Reader), or, if
// strict is set, no bytes at all (like readers that give all or nothing).
type trickleReader struct {
	src    io.Reader
	buf    []byte
	err    error
	strict bool
	peeks  int
}

func newTrickleReader(data []byte, strict bool) *trickleReader {
	return &trickleReader{src: iotest.OneByteReader(bytes.NewReader(data)), strict: strict}
}

func (r *trickleReader) fill(n int) {
	var one [1]byte
	for len(r.buf) < n && r.err == nil {
		m, err := r.src.Read(one[:])
		r.buf = append(r.buf, one[:m]...)
		if err != nil {
			r.err = err
		}
	}
}

func (r *trickleReader) Peek(n int) ([]byte, error) {
	r.peeks++
	r.fill(n)
	if len(r.buf) < n {
		if r.strict {
			return nil, r.err
		}
		return r.buf, r.err
	}
	return r.buf[:n], nil
}

func (r *trickleReader) Skip(n int) error {
	r.fill(n)
	if len(r.buf) < n {
		r.buf = r.buf[:0]
		return r.err
	}
	r.buf = r.buf[n:]
	return nil
}

// newOneByteBufio returns a BufioReader over a source that yields one byte
// per Read, with the smallest buffer bufio allows.
func newOneByteBufio(data []byte) *BufioReader {
	return NewBufioReader(bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16))
}

func TestBufioReader(t *testing.T) {
	r := NewBufioReader(bufio.NewReaderSize(bytes.NewReader([]byte("hello world")), 16))
	if got := r.Len(); got != 0 {
		t.Fatalf("Len before any read = %d, want 0", got)
	}
	p, err := r.Peek(5)
	if err != nil || string(p) != "hello" {
		t.Fatalf("Peek(5) = %q, %v", p, err)
	}
	if got := r.Len(); got != 11 {
		t.Fatalf("Len after Peek = %d, want 11", got)
	}
	if err := r.Skip(6); err != nil {
		t.Fatalf("Skip(6) = %v", err)
	}
	p, err = r.Peek(5)
	if err != nil || string(p) != "world" {
		t.Fatalf("Peek(5) = %q, %v", p, err)
	}
	if err := r.Release(); err != nil {
		t.Fatalf("Release = %v", err)
	}
	if err := r.Skip(6); err != io.EOF {
		t.Fatalf("Skip past end = %v, want io.EOF", err)
	}
	if _, err := r.Peek(17); err != bufio.ErrBufferFull {
		t.Fatalf("Peek beyond buffer = %v, want bufio.ErrBufferFull", err)
	}
}
