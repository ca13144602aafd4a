package websocket

import (
	"bufio"
	"net"
)

// netTransport gives a plain net.Conn (what a Dialer dials, TLS included)
// the buffered reader and output buffer a Conn expects from a transport.
// Hertz's own connections need no such wrapper.
type netTransport struct {
	net.Conn
	br *bufio.Reader
	// out holds framed bytes until Flush; large payloads are queued in
	// big, after out, and written from the caller's slice with one
	// writev instead of being copied.
	out []byte
	big []byte
}

const (
	// bigWrite is the payload size from which WriteBinary keeps a
	// reference instead of copying.
	bigWrite = 4096
	// maxIdleOut is the largest output buffer kept between messages.
	maxIdleOut = 64 << 10
)

func newNetTransport(c net.Conn, br *bufio.Reader) *netTransport {
	return &netTransport{Conn: c, br: br}
}

func (t *netTransport) Peek(n int) ([]byte, error) { return t.br.Peek(n) }

func (t *netTransport) Skip(n int) error {
	_, err := t.br.Discard(n)
	return err
}

func (t *netTransport) Release() error { return nil }

func (t *netTransport) Len() int { return t.br.Buffered() }

// Malloc returns n bytes of the output buffer for the caller to fill.
func (t *netTransport) Malloc(n int) ([]byte, error) {
	if t.big != nil {
		if err := t.Flush(); err != nil {
			return nil, err
		}
	}
	l := len(t.out)
	if cap(t.out)-l < n {
		grown := make([]byte, l, 2*cap(t.out)+n)
		copy(grown, t.out)
		t.out = grown
	}
	t.out = t.out[:l+n]
	return t.out[l:], nil
}

// WriteBinary queues b; a large b is referenced, not copied, until Flush.
func (t *netTransport) WriteBinary(b []byte) (int, error) {
	if t.big != nil {
		if err := t.Flush(); err != nil {
			return 0, err
		}
	}
	if len(b) >= bigWrite {
		t.big = b
		return len(b), nil
	}
	t.out = append(t.out, b...)
	return len(b), nil
}

// Flush writes everything queued, in one system call where it can.
func (t *netTransport) Flush() error {
	var err error
	switch {
	case t.big != nil:
		bufs := net.Buffers{t.out, t.big}
		_, err = bufs.WriteTo(t.Conn)
	case len(t.out) > 0:
		_, err = t.Conn.Write(t.out)
	}
	t.big = nil
	if cap(t.out) > maxIdleOut {
		t.out = nil
	}
	t.out = t.out[:0]
	return err
}
