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
	raw syscall.RawConn

	// Read side: the bytes read and not consumed yet.
	readBuffer
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

	// Write side: the output queued until Flush.
	queue writeQueue
	bufs  net.Buffers
}

const (
	// directRead is the payload read size from which a Socket reads
	// straight into the caller's buffer when nothing is buffered, skipping
	// the copy through its own buffer (see ReadsDirect).
	directRead = 4096
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
		conn:       conn,
		raw:        rawConnOf(conn),
		readBuffer: readBuffer{pool: PoolFor(readSize)},
		queue:      writeQueue{pool: PoolFor(writeSize)},
	}
	t.waitRead, t.tryRead = t.readReady, t.tryReadInto
	t.start(pending)
	return t
}

// Peek returns the next n unread bytes, reading from the connection until
// there are that many. On error it returns the bytes it has.
func (t *Socket) Peek(n int) ([]byte, error) {
	for t.Len() < n {
		if err := t.fill(n); err != nil {
			return t.peeked(n), err
		}
	}
	return t.peeked(n), nil
}

// fill reads at least one more byte into the buffer, first making room for
// n unread bytes from r on.
func (t *Socket) fill(n int) error {
	if t.readErr != nil {
		return t.readErr
	}
	var err error
	if t.raw != nil {
		// readReady takes a buffer only for each attempt.
		if t.in != nil {
			t.room(n)
		}
		t.readN, t.readRes = 0, nil
		if err = t.raw.Read(t.waitRead); err == nil {
			err = t.readRes
		}
		err = socketOpError(err, "read")
		if t.readN > 0 {
			return nil
		}
	} else {
		m, rerr := t.conn.Read(t.room(n))
		t.filled(m)
		if m > 0 {
			return nil
		}
		if rerr == nil {
			return nil // a zero read without error: try again
		}
		err = rerr
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
func (t *Socket) ReadsDirect(n int) bool { return n >= directRead && t.Len() == 0 }

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
	if t.queue.big != nil {
		if err := t.Flush(); err != nil {
			return nil, err
		}
	}
	return t.queue.malloc(n), nil
}

// WriteBinary queues b; a large b is referenced, not copied, until Flush.
func (t *Socket) WriteBinary(b []byte) (int, error) {
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
func (*Socket) CopiesPayload(int) bool { return false }

// Flush writes everything queued, in one system call where it can, and
// gives the output buffer back to its pool.
func (t *Socket) Flush() error {
	var err error
	switch iov := t.queue.buffers(); len(iov) {
	case 0:
	case 1:
		_, err = t.conn.Write(iov[0])
	default:
		t.bufs = iov
		_, err = t.bufs.WriteTo(t.conn)
		err = socketOpError(err, "write")
		t.bufs = nil
	}
	t.queue.reset()
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
