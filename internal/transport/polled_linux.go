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

	// Read side: the bytes read and not consumed yet.
	readBuffer
	readErr error

	// Write side: the output queued until Flush.
	queue writeQueue

	readable, writable waiter
	// writeWaits is told before a write waits for room (SetWriteWaits).
	writeWaits WriteWaiter
	// Deadlines in Unix nanoseconds, 0 for none.
	readDeadline, writeDeadline atomic.Int64
}

// NewPolledSocket takes fd, a connected non-blocking stream socket, with
// its addresses. pending holds bytes already read beyond the handshake;
// they are read first. The caller registers fd with the Poller and passes
// its events to Notify.
func NewPolledSocket(fd int, local, remote net.Addr, pending []byte, readSize, writeSize int) *PolledSocket {
	t := &PolledSocket{
		fd: int32(fd), local: local, remote: remote,
		readBuffer: readBuffer{pool: PoolFor(readSize)},
		queue:      writeQueue{pool: PoolFor(writeSize)},
	}
	t.start(pending)
	return t
}

// WriteWaiter is told when a write must wait for room in the socket.
type WriteWaiter interface{ WriteWaits() }

// SetWriteWaits makes every write that finds the socket full call
// w.WriteWaits before it waits for room: the connection's owner uses it to
// give up what a writer waiting on a slow peer should not hold. Call it
// before the socket is used.
func (t *PolledSocket) SetWriteWaits(w WriteWaiter) { t.writeWaits = w }

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
	for t.Len() < n {
		if err := t.fill(n); err != nil {
			return t.peeked(n), err
		}
	}
	return t.peeked(n), nil
}

// fill reads at least one more byte, first making room for n unread bytes.
func (t *PolledSocket) fill(n int) error {
	if t.readErr != nil {
		return t.readErr
	}
	m, err := t.read(t.room(n), true)
	t.filled(m) // nothing came: wait holding no buffer next time
	return err
}

// ReadAvailable reads what the socket holds already into the read buffer,
// without waiting: it returns 0 and no error when nothing has arrived.
func (t *PolledSocket) ReadAvailable() (int, error) {
	if t.readErr != nil {
		return 0, t.readErr
	}
	buf := t.roomWithoutGrowing()
	if len(buf) == 0 {
		return 0, nil // full: the reader has work to do first
	}
	n, err := t.read(buf, false)
	t.filled(n)
	return n, err
}

// ReadsDirect reports whether a read of n bytes goes around the buffer: a
// large one, when nothing is buffered.
func (t *PolledSocket) ReadsDirect(n int) bool { return n >= directRead && t.Len() == 0 }

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
	if t.queue.big != nil {
		if err := t.Flush(); err != nil {
			return nil, err
		}
	}
	return t.queue.malloc(n), nil
}

// WriteBinary queues b; a large b is referenced, not copied, until Flush.
func (t *PolledSocket) WriteBinary(b []byte) (int, error) {
	if t.queue.big != nil {
		if err := t.Flush(); err != nil {
			return 0, err
		}
	}
	t.queue.add(b)
	return len(b), nil
}

// CopiesPayload is false: Flush gathers a referenced payload and the
// buffers before it into one writev.
func (*PolledSocket) CopiesPayload(int) bool { return false }

// Flush writes everything queued, with one system call where the socket
// takes it all, and gives the output buffer back.
func (t *PolledSocket) Flush() error {
	err := t.writeAll(t.queue.buffers())
	t.queue.reset()
	return err
}

// writeAll writes iov's buffers in order, waiting for room while the
// socket is full. It consumes iov's elements as they are written.
func (t *PolledSocket) writeAll(iov [][]byte) error {
	for len(iov) > 0 && len(iov[0]) == 0 {
		iov = iov[1:]
	}
	prepared := false
	for len(iov) > 0 {
		if t.closed.Load() {
			return t.opError("write", net.ErrClosed)
		}
		var n int
		var err error
		if len(iov) == 1 {
			n, err = syscall.Write(int(t.fd), iov[0])
		} else {
			n, err = unix.Writev(int(t.fd), iov)
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
			if t.writeWaits != nil {
				t.writeWaits.WriteWaits()
			}
			if err := t.writable.wait(&t.writeDeadline, &t.closed); err != nil {
				return t.opError("write", err)
			}
			continue
		case err != nil:
			return t.opError("write", os.NewSyscallError("write", err))
		}
		for len(iov) > 0 && n >= len(iov[0]) {
			n -= len(iov[0])
			iov = iov[1:]
		}
		if len(iov) > 0 {
			iov[0] = iov[0][n:]
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
		t.put()
	}
	t.queue.reset()
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
