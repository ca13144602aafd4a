//go:build linux

package transport

import (
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// PolledSocket is the transport of an event-driven server connection: it
// owns the socket's descriptor and waits for it through the Poller only,
// not through Go's runtime poller. An idle connection then costs this
// struct and the Conn above it: no net.Conn, no runtime poll descriptor,
// no buffer.
//
// Its reads and writes are non-blocking system calls; a read or write that
// finds the socket empty (or full) waits for the poller's next edge on a
// channel made on the first such wait, with a timer only when a deadline is
// set. Close shuts the socket down and wakes the waiters, but the
// descriptor is closed only by Destroy, which the connection calls once no
// goroutine can be inside a read or write: a descriptor number is never
// released while a call could still use it, so no call can reach a socket
// that reused the number.
type PolledSocket struct {
	fd            int32 // -1 once destroyed
	closed        atomic.Bool
	local, remote net.Addr
	readPool      *Pool
	writePool     *Pool

	// Read side. The unread bytes are in.b[r:w]; in is nil while there
	// are none.
	in      *Buffer
	r, w    int32
	readErr error

	// Write side: out.B[:outLen] holds the queued bytes, big a large
	// payload that follows them, referenced until Flush.
	out    *Buffer
	outLen int32
	big    []byte

	readable, writable waiter
	// Deadlines in Unix nanoseconds, 0 for none.
	readDeadline, writeDeadline atomic.Int64
}

// NewPolledSocket takes fd, a connected non-blocking stream socket, with
// its addresses. pending holds bytes already read beyond the handshake;
// they are read first. The caller registers fd with the Poller and passes
// its events to Notify.
func NewPolledSocket(fd int, local, remote net.Addr, pending []byte, readSize, writeSize int) *PolledSocket {
	t := &PolledSocket{fd: int32(fd), local: local, remote: remote, readPool: PoolFor(readSize), writePool: PoolFor(writeSize)}
	if len(pending) > 0 {
		t.in = t.readPool.Get()
		if len(pending) > len(t.in.B) {
			t.in = &Buffer{B: make([]byte, len(pending))}
		}
		t.w = int32(copy(t.in.B, pending))
	}
	return t
}

// Descriptor returns the socket's file descriptor.
func (t *PolledSocket) Descriptor() int { return int(t.fd) }

// Notify passes on a poller event: it wakes a read waiting for bytes and a
// write waiting for room.
func (t *PolledSocket) Notify(events Events) {
	if events&Readable != 0 {
		t.readable.notify()
	}
	if events&Writable != 0 {
		t.writable.notify()
	}
}

// Peek returns the next n unread bytes, reading until there are that many.
// On error it returns the bytes it has.
func (t *PolledSocket) Peek(n int) ([]byte, error) {
	for int(t.w-t.r) < n {
		if err := t.fill(n); err != nil {
			if t.in == nil {
				return nil, err
			}
			return t.in.B[t.r:t.w], err
		}
	}
	return t.in.B[t.r : int(t.r)+n], nil
}

// Skip consumes n buffered bytes.
func (t *PolledSocket) Skip(n int) error {
	if n < 0 || n > int(t.w-t.r) {
		return errShortSkip
	}
	t.r += int32(n)
	return nil
}

// Release gives the read buffer back once it holds no unread byte.
func (t *PolledSocket) Release() error {
	if t.in != nil && t.r == t.w {
		t.readPool.Put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	return nil
}

// Len returns the number of unread buffered bytes.
func (t *PolledSocket) Len() int { return int(t.w - t.r) }

// fill reads at least one more byte, first making room for n unread bytes.
func (t *PolledSocket) fill(n int) error {
	if t.readErr != nil {
		return t.readErr
	}
	if t.in == nil {
		t.in = t.readPool.Get()
		t.r, t.w = 0, 0
	}
	if len(t.in.B)-int(t.r) < n {
		if len(t.in.B) < n {
			larger := &Buffer{B: make([]byte, n)}
			t.w = int32(copy(larger.B, t.in.B[t.r:t.w]))
			t.readPool.Put(t.in)
			t.in = larger
		} else {
			t.w = int32(copy(t.in.B, t.in.B[t.r:t.w]))
		}
		t.r = 0
	}
	m, err := t.read(t.in.B[t.w:], true)
	t.w += int32(m)
	if m == 0 && t.r == t.w {
		// Nothing came: wait holding no buffer next time.
		t.readPool.Put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	return err
}

// ReadAvailable reads what the socket holds already into the read buffer,
// without waiting: it returns 0 and no error when nothing has arrived.
func (t *PolledSocket) ReadAvailable() (int, error) {
	if t.readErr != nil {
		return 0, t.readErr
	}
	if t.in == nil {
		t.in = t.readPool.Get()
		t.r, t.w = 0, 0
	} else if int(t.w) == len(t.in.B) {
		if t.r == 0 {
			return 0, nil // full: the reader has work to do first
		}
		t.w = int32(copy(t.in.B, t.in.B[t.r:t.w]))
		t.r = 0
	}
	n, err := t.read(t.in.B[t.w:], false)
	t.w += int32(n)
	if t.r == t.w {
		t.readPool.Put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	return n, err
}

// ReadsDirect reports whether a read of n bytes goes around the buffer: a
// large one, when nothing is buffered.
func (t *PolledSocket) ReadsDirect(n int) bool { return n >= directRead && t.w == t.r }

// ReadDirect reads into p straight from the socket. Without wait it takes
// only what the socket holds, possibly nothing.
func (t *PolledSocket) ReadDirect(p []byte, wait bool) (int, error) {
	if t.readErr != nil {
		return 0, t.readErr
	}
	return t.read(p, wait)
}

// read reads once into p, waiting for bytes if wait is set; without, it
// returns 0 and no error when the socket is empty. The end of the stream
// and failures are sticky.
func (t *PolledSocket) read(p []byte, wait bool) (int, error) {
	prepared := false
	for {
		if t.closed.Load() {
			return 0, t.opError("read", net.ErrClosed)
		}
		n, err := syscall.Read(int(t.fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if !wait {
				return 0, nil
			}
			if !prepared {
				// Make the channel, then try again: an edge between
				// the failed attempt and now would be lost otherwise.
				t.readable.prepare()
				prepared = true
				continue
			}
			if err := t.readable.wait(&t.readDeadline, &t.closed); err != nil {
				return 0, t.opError("read", err)
			}
			continue
		case err != nil:
			t.readErr = t.opError("read", os.NewSyscallError("read", err))
			return 0, t.readErr
		case n == 0 && len(p) > 0:
			t.readErr = io.EOF
			return 0, io.EOF
		}
		return n, nil
	}
}

// Malloc returns n bytes of the output buffer for the caller to fill.
func (t *PolledSocket) Malloc(n int) ([]byte, error) {
	if t.big != nil {
		if err := t.Flush(); err != nil {
			return nil, err
		}
	}
	t.reserve(n)
	l := int(t.outLen)
	t.outLen += int32(n)
	return t.out.B[l : l+n], nil
}

// WriteBinary queues b; a large b is referenced, not copied, until Flush.
func (t *PolledSocket) WriteBinary(b []byte) (int, error) {
	if t.big != nil {
		if err := t.Flush(); err != nil {
			return 0, err
		}
	}
	if len(b) >= referencedWrite {
		t.big = b
		return len(b), nil
	}
	t.reserve(len(b))
	t.outLen += int32(copy(t.out.B[t.outLen:], b))
	return len(b), nil
}

// reserve makes room for n more bytes in the output buffer.
func (t *PolledSocket) reserve(n int) {
	if t.out == nil {
		t.out = t.writePool.Get()
		t.outLen = 0
	}
	if len(t.out.B)-int(t.outLen) < n {
		// Rare: more small writes than the buffer holds before a Flush.
		grown := &Buffer{B: make([]byte, 2*len(t.out.B)+n)}
		copy(grown.B, t.out.B[:t.outLen])
		t.writePool.Put(t.out)
		t.out = grown
	}
}

// Flush writes everything queued, with one system call where the socket
// takes it all, and gives the output buffer back.
func (t *PolledSocket) Flush() error {
	var queued []byte
	if t.out != nil {
		queued = t.out.B[:t.outLen]
	}
	err := t.writeAll(queued, t.big)
	t.big = nil
	if t.out != nil {
		t.writePool.Put(t.out) // a grown buffer is not the pool's size: dropped
		t.out, t.outLen = nil, 0
	}
	return err
}

// writeAll writes a then b, waiting for room while the socket is full.
func (t *PolledSocket) writeAll(a, b []byte) error {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	prepared := false
	for len(a)+len(b) > 0 {
		if t.closed.Load() {
			return t.opError("write", net.ErrClosed)
		}
		var n int
		var err error
		switch {
		case len(b) == 0:
			n, err = syscall.Write(int(t.fd), a)
		case len(a) == 0:
			n, err = syscall.Write(int(t.fd), b)
		default:
			n, err = unix.Writev(int(t.fd), [][]byte{a, b})
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if !prepared {
				// Make the channel, then try again: an edge between
				// the failed attempt and now would be lost otherwise.
				t.writable.prepare()
				prepared = true
				continue
			}
			if err := t.writable.wait(&t.writeDeadline, &t.closed); err != nil {
				return t.opError("write", err)
			}
			continue
		case err != nil:
			return t.opError("write", os.NewSyscallError("write", err))
		}
		if n >= len(a) {
			b = b[n-len(a):]
			a = nil
		} else {
			a = a[n:]
		}
	}
	return nil
}

// SetReadDeadline sets the deadline of reads, a waiting one included.
func (t *PolledSocket) SetReadDeadline(d time.Time) error {
	t.readDeadline.Store(unixNanos(d))
	t.readable.notify()
	return nil
}

// SetWriteDeadline sets the deadline of writes, a waiting one included.
func (t *PolledSocket) SetWriteDeadline(d time.Time) error {
	t.writeDeadline.Store(unixNanos(d))
	t.writable.notify()
	return nil
}

// LiveDeadlines is true: a deadline set while a call waits applies to it.
func (t *PolledSocket) LiveDeadlines() bool { return true }

// Close shuts the socket down, so that the peer sees the connection end
// and waiting calls return; the descriptor stays open until Destroy.
func (t *PolledSocket) Close() error {
	if t.closed.Swap(true) {
		return t.opError("close", net.ErrClosed)
	}
	err := syscall.Shutdown(int(t.fd), syscall.SHUT_RDWR)
	t.readable.notify()
	t.writable.notify()
	if err != nil && err != syscall.ENOTCONN {
		return t.opError("close", os.NewSyscallError("shutdown", err))
	}
	return nil
}

// Destroy closes the descriptor and gives the buffers back. The caller
// makes sure that no goroutine is inside a read or a write, and that the
// Poller no longer passes the descriptor's events on; it is called once,
// after Close.
func (t *PolledSocket) Destroy() {
	if t.fd < 0 {
		return
	}
	_ = syscall.Close(int(t.fd))
	t.fd = -1
	if t.in != nil {
		t.readPool.Put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	if t.out != nil {
		t.writePool.Put(t.out)
		t.out, t.outLen, t.big = nil, 0, nil
	}
}

// opError wraps err as a net.Conn would.
func (t *PolledSocket) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: t.local, Addr: t.remote, Err: err}
}

// unixNanos is d in Unix nanoseconds, 0 for the zero time.
func unixNanos(d time.Time) int64 {
	if d.IsZero() {
		return 0
	}
	if n := d.UnixNano(); n > 0 {
		return n
	}
	return 1 // a time before 1970 has passed
}

// waiter is where a read or a write waits for the poller's next edge. Its
// channel, of capacity one, is made on first use: a connection that never
// had to wait has none.
type waiter struct {
	ch atomic.Pointer[chan struct{}]
}

// prepare makes the channel, before the attempt that may have to wait.
func (w *waiter) prepare() chan struct{} {
	if p := w.ch.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{}, 1)
	if w.ch.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *w.ch.Load()
}

// notify wakes the waiting call, or the next one to wait.
func (w *waiter) notify() {
	if p := w.ch.Load(); p != nil {
		select {
		case *p <- struct{}{}:
		default:
		}
	}
}

// wait waits for a notification, until the deadline passes or the socket
// is closed. A spurious wakeup is possible: the caller tries again.
func (w *waiter) wait(deadline *atomic.Int64, closed *atomic.Bool) error {
	ch := w.prepare()
	for {
		if closed.Load() {
			return net.ErrClosed
		}
		d := deadline.Load()
		if d == 0 {
			<-ch
			return nil
		}
		left := time.Duration(d - time.Now().UnixNano())
		if left <= 0 {
			return os.ErrDeadlineExceeded
		}
		timer := time.NewTimer(left)
		select {
		case <-ch:
			timer.Stop()
			return nil
		case <-timer.C:
			// Look at the deadline again: it may have moved.
		}
	}
}
