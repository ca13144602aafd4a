package transport

import (
	"io"
	"net"
	"syscall"
	"time"
)

// Socket is the transport of a connection that has a net.Conn of its own:
// a server connection handed over from netpoll after the handshake (see
// handover_unix.go), and every Dialer connection.
//
// It holds no buffer while the connection is idle. A read first waits for
// the socket to become readable and only then takes a buffer from a pool
// (through syscall.RawConn, where the connection has a file descriptor);
// the buffer goes back as soon as every byte in it was consumed and Release
// is called, which the Conn does at frame boundaries. Writes collect the
// frame header and small payloads in a pooled buffer, keep a reference to a
// large payload instead of copying it, and go out at Flush in one write (or
// one writev), after which the buffer goes back too.
//
// The read side belongs to the one reading goroutine, the write side to
// the holder of the WebSocket connection's frame lock; deadlines and Close are safe from
// any goroutine, as they are on net.Conn.
type Socket struct {
	conn net.Conn
	// raw lets a read wait for readability without holding a buffer; it
	// is nil for connections with no descriptor of their own (TLS), whose
	// reads block in conn.Read with a buffer taken.
	raw       syscall.RawConn
	readPool  *Pool
	writePool *Pool

	// Read side. The unread bytes are in.b[r:w]; in is nil while there
	// are none.
	in      *Buffer
	r, w    int
	readErr error // sticky: the stream ended or failed
	// waitRead is readReady bound once, so a wait allocates no closure;
	// readN and readRes carry its result out.
	waitRead func(fd uintptr) bool
	readN    int
	readRes  error
	// tryRead is tryReadInto bound once, for ReadDirect without waiting
	// into direct.
	tryRead func(fd uintptr) bool
	direct  []byte

	// Write side. out holds the bytes queued so far; big, when set, is a
	// large payload that follows them, referenced until Flush.
	outBuf *Buffer
	out    []byte
	big    []byte
	iov    [2][]byte
	bufs   net.Buffers
}

const (
	// directRead is the payload read size from which a Socket reads
	// straight into the caller's buffer when nothing is buffered, skipping
	// the copy through its own buffer (see ReadsDirect).
	directRead = 4096
	// referencedWrite is the payload size from which WriteBinary keeps a
	// reference instead of copying: the payload then leaves with the header
	// in one writev.
	referencedWrite = 2048
	// ServerWriteBufferSize is the size of a server connection's pooled
	// output buffer: a frame header and a payload below referencedWrite
	// fit, and so does any control frame.
	ServerWriteBufferSize = 4096
)

// NewSocket wraps conn. pending holds bytes already read from the
// connection beyond the handshake; they are read first. readSize and
// writeSize are the sizes of the pooled buffers.
func NewSocket(conn net.Conn, pending []byte, readSize, writeSize int) *Socket {
	t := &Socket{
		conn:      conn,
		raw:       rawConnOf(conn),
		readPool:  PoolFor(readSize),
		writePool: PoolFor(writeSize),
	}
	t.waitRead, t.tryRead = t.readReady, t.tryReadInto
	if len(pending) > 0 {
		t.in = t.readPool.Get()
		if len(pending) > len(t.in.B) {
			t.in = &Buffer{B: make([]byte, len(pending))}
		}
		t.w = copy(t.in.B, pending)
	}
	return t
}

// Peek returns the next n unread bytes, reading from the connection until
// there are that many. On error it returns the bytes it has.
func (t *Socket) Peek(n int) ([]byte, error) {
	for t.w-t.r < n {
		if err := t.fill(n); err != nil {
			if t.in == nil {
				return nil, err
			}
			return t.in.B[t.r:t.w], err
		}
	}
	return t.in.B[t.r : t.r+n], nil
}

// Skip consumes n buffered bytes.
func (t *Socket) Skip(n int) error {
	if n < 0 || n > t.w-t.r {
		return errShortSkip
	}
	t.r += n
	return nil
}

// Release gives the read buffer back to its pool once it holds no unread
// byte. Slices returned by Peek are invalid afterwards.
func (t *Socket) Release() error {
	if t.in != nil && t.r == t.w {
		t.readPool.Put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	return nil
}

// Len returns the number of unread buffered bytes.
func (t *Socket) Len() int { return t.w - t.r }

// fill reads at least one more byte into the buffer, first making room for
// n unread bytes from r on.
func (t *Socket) fill(n int) error {
	if t.readErr != nil {
		return t.readErr
	}
	if t.in != nil && len(t.in.B)-t.r < n {
		// Move the unread bytes to the front, into a larger buffer when
		// n exceeds the pool's size (rare: that one is not pooled).
		if len(t.in.B) < n {
			larger := &Buffer{B: make([]byte, n)}
			t.w = copy(larger.B, t.in.B[t.r:t.w])
			t.readPool.Put(t.in)
			t.in = larger
		} else {
			t.w = copy(t.in.B, t.in.B[t.r:t.w])
		}
		t.r = 0
	}
	var err error
	if t.raw != nil {
		t.readN, t.readRes = 0, nil
		if err = t.raw.Read(t.waitRead); err == nil {
			err = t.readRes
		}
		err = socketOpError(err, "read")
		t.w += t.readN
		if t.readN > 0 {
			return nil
		}
	} else {
		if t.in == nil {
			t.in = t.readPool.Get()
		}
		var m int
		m, err = t.conn.Read(t.in.B[t.w:])
		t.w += m
		if m > 0 {
			return nil
		}
		if err == nil {
			return nil // a zero read without error: try again
		}
	}
	if err == nil {
		err = io.EOF
	}
	if isStreamEnd(err) {
		t.readErr = err
	}
	return err
}

// ReadsDirect reports whether a read of n bytes goes around the buffer: a
// large one, when nothing is buffered.
func (t *Socket) ReadsDirect(n int) bool { return n >= directRead && t.w == t.r }

// ReadDirect reads into p straight from the connection, around the buffer,
// which is empty. Without wait it makes one attempt that takes what the
// socket holds, possibly nothing; a connection without a descriptor of its
// own cannot, and reads nothing.
func (t *Socket) ReadDirect(p []byte, wait bool) (int, error) {
	if t.readErr != nil {
		return 0, t.readErr
	}
	var n int
	var err error
	switch {
	case wait:
		n, err = t.conn.Read(p)
		if n == 0 && err == nil {
			err = io.ErrNoProgress
		}
	case t.raw != nil:
		t.direct, t.readN, t.readRes = p, 0, nil
		if err = t.raw.Read(t.tryRead); err == nil {
			err = t.readRes
		}
		err = socketOpError(err, "read")
		n, t.direct = t.readN, nil
	}
	if n == 0 && err != nil && isStreamEnd(err) {
		t.readErr = err
	}
	return n, err
}

// Malloc returns n bytes of the output buffer for the caller to fill.
func (t *Socket) Malloc(n int) ([]byte, error) {
	if t.big != nil {
		if err := t.Flush(); err != nil {
			return nil, err
		}
	}
	t.reserve(n)
	l := len(t.out)
	t.out = t.out[:l+n]
	return t.out[l:], nil
}

// WriteBinary queues b; a large b is referenced, not copied, until Flush.
func (t *Socket) WriteBinary(b []byte) (int, error) {
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
	t.out = append(t.out, b...)
	return len(b), nil
}

// reserve makes room for n more bytes in the output buffer.
func (t *Socket) reserve(n int) {
	if t.outBuf == nil {
		t.outBuf = t.writePool.Get()
		t.out = t.outBuf.B[:0]
	}
	if cap(t.out)-len(t.out) < n {
		grown := make([]byte, len(t.out), 2*cap(t.out)+n)
		copy(grown, t.out)
		t.out = grown
	}
}

// Flush writes everything queued, in one system call where it can, and
// gives the output buffer back to its pool.
func (t *Socket) Flush() error {
	var err error
	switch {
	case t.big != nil:
		t.iov[0], t.iov[1] = t.out, t.big
		t.bufs = t.iov[:]
		_, err = t.bufs.WriteTo(t.conn)
		err = socketOpError(err, "write")
		t.iov[0], t.iov[1] = nil, nil
	case len(t.out) > 0:
		_, err = t.conn.Write(t.out)
	}
	t.big, t.out = nil, nil
	if t.outBuf != nil {
		t.writePool.Put(t.outBuf)
		t.outBuf = nil
	}
	return err
}

// SetReadDeadline sets the deadline of reads, a blocked one included.
func (t *Socket) SetReadDeadline(d time.Time) error { return t.conn.SetReadDeadline(d) }

// SetWriteDeadline sets the deadline of writes, a blocked one included.
func (t *Socket) SetWriteDeadline(d time.Time) error { return t.conn.SetWriteDeadline(d) }

// LiveDeadlines is true: a net.Conn's deadlines wake blocked calls.
func (t *Socket) LiveDeadlines() bool { return true }

// Close closes the connection.
func (t *Socket) Close() error { return t.conn.Close() }
