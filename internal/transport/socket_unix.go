//go:build !windows

package transport

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawConnOf returns the descriptor-level access to conn that lets a read
// wait for readability before it takes a buffer, or nil when conn has no
// descriptor of its own (a TLS connection, say).
func rawConnOf(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// readReady is called by RawConn.Read, first at once and then each time
// the socket becomes readable, until it returns true. It takes a buffer
// only for the attempt: while the socket has nothing to give, an empty
// buffer goes back to its pool, so a connection waits holding none.
func (t *Socket) readReady(fd uintptr) bool {
	if t.in == nil {
		t.in = t.readPool.Get()
		t.r, t.w = 0, 0
	}
	if t.readInto(fd, t.in.B[t.w:]) {
		return true
	}
	if t.r == t.w {
		t.readPool.Put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	return false
}

// tryReadInto makes one read into t.direct for RawConn.Read and never asks
// it to wait: a socket with nothing to give reads zero bytes.
func (t *Socket) tryReadInto(fd uintptr) bool {
	t.readInto(fd, t.direct)
	return true
}

// readInto reads once from fd into p, leaving the outcome in readN and
// readRes. It returns false when the socket has nothing to give yet.
func (t *Socket) readInto(fd uintptr, p []byte) bool {
	for {
		n, err := syscall.Read(int(fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			t.readRes = os.NewSyscallError("read", err)
		case n == 0:
			t.readRes = io.EOF
		default:
			t.readN = n
		}
		return true
	}
}

// ReadAvailable reads what the socket holds already into the read buffer,
// without waiting: it returns 0 and no error when nothing has arrived. An
// event-driven connection calls it between messages, where it would
// otherwise wait. The end of the stream is reported here and again by the
// reads that follow.
func (t *Socket) ReadAvailable() (int, error) {
	if t.readErr != nil {
		return 0, t.readErr
	}
	if t.raw == nil {
		return 0, errNoDescriptor
	}
	if t.in == nil {
		t.in = t.readPool.Get()
		t.r, t.w = 0, 0
	} else if t.w == len(t.in.B) {
		if t.r == 0 {
			return 0, nil // full: the reader has work to do first
		}
		t.w = copy(t.in.B, t.in.B[t.r:t.w])
		t.r = 0
	}
	t.direct, t.readN, t.readRes = t.in.B[t.w:], 0, nil
	err := t.raw.Read(t.tryRead)
	if err == nil {
		err = t.readRes
	}
	n := t.readN
	t.direct = nil
	t.w += n
	if t.r == t.w {
		t.readPool.Put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	if err != nil {
		err = socketOpError(err, "read")
		if isStreamEnd(err) {
			t.readErr = err
		}
	}
	return n, err
}
