package frame

import "bufio"

// Reader is the buffered input the frame layer decodes from. Hertz's
// network.Reader satisfies it.
//
// Peek returns the next n bytes without advancing the reader. The returned
// slice is only valid until the next call to Peek or Skip. When fewer than n
// bytes can be had, Peek returns a non-nil error (io.EOF when the input has
// ended); it may return the bytes that were available along with the error,
// or none.
//
// Skip discards the next n bytes, which must already have been peeked or be
// obtainable.
type Reader interface {
	Peek(n int) ([]byte, error)
	Skip(n int) error
}

// BufioReader adapts a *bufio.Reader to [Reader]. It also provides Len and
// Release, so it satisfies the wider interface
// { Peek; Skip; Len; Release } expected by the message layer.
//
// Peek cannot return more bytes than the size of the underlying
// bufio.Reader's buffer; larger requests fail with bufio.ErrBufferFull. The
// frame layer never peeks more than MaxHeaderSize bytes, and callers that
// peek payload should ask for at most Len() bytes at a time.
type BufioReader struct {
	br *bufio.Reader
}

// NewBufioReader returns a BufioReader that reads from br.
func NewBufioReader(br *bufio.Reader) *BufioReader {
	return &BufioReader{br: br}
}

// Peek returns the next n bytes without advancing the reader, as
// bufio.Reader.Peek does. The slice is valid until the next Peek or Skip.
func (r *BufioReader) Peek(n int) ([]byte, error) {
	return r.br.Peek(n)
}

// Skip discards the next n bytes. It returns an error, such as io.EOF, if
// fewer than n bytes could be discarded.
func (r *BufioReader) Skip(n int) error {
	_, err := r.br.Discard(n)
	return err
}

// Len returns the number of bytes that can be peeked or skipped without
// reading from the underlying reader.
func (r *BufioReader) Len() int {
	return r.br.Buffered()
}

// Release is a no-op that returns nil. It exists so that BufioReader matches
// readers, such as Hertz's, whose buffers are handed back explicitly.
func (r *BufioReader) Release() error {
	return nil
}
