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
	if t.readInto(fd, t.room(0)) {
		t.filled(t.readN)
		return true
	}
	if t.Len() == 0 {
		t.put()
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
