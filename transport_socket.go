package websocket

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// socketTransport is the transport of a Conn that has a net.Conn of its
// own: a server connection handed over from netpoll after the handshake
// (see handover_netpoll.go), and every Dialer connection.
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
// the holder of the Conn's frame lock; deadlines and Close are safe from
// any goroutine, as they are on net.Conn.
type socketTransport struct {
	conn net.Conn
	// raw lets a read wait for readability without holding a buffer; it
	// is nil for connections with no descriptor of their own (TLS), whose
	// reads block in conn.Read with a buffer taken.
	raw       syscall.RawConn
	readPool  *bytePool
	writePool *bytePool

	// Read side. The unread bytes are in.b[r:w]; in is nil while there
	// are none.
	in      *pooledBytes
	r, w    int
	readErr error // sticky: the stream ended or failed
	// waitRead is readReady bound once, so a wait allocates no closure;
	// readN and readRes carry its result out.
	waitRead func(fd uintptr) bool
	readN    int
	readRes  error
	// tryRead is tryReadInto bound once, for readDirect without waiting
	// into direct.
	tryRead func(fd uintptr) bool
	direct  []byte

	// Write side. out holds the bytes queued so far; big, when set, is a
	// large payload that follows them, referenced until Flush.
	outBuf *pooledBytes
	out    []byte
	big    []byte
	iov    [2][]byte
	bufs   net.Buffers
}

// pooledBytes is what a bytePool holds: a pointer, so that Put does not
// allocate.
type pooledBytes struct{ b []byte }

// bytePool is a pool of buffers of one size.
type bytePool struct {
	size int
	pool sync.Pool
}

func (p *bytePool) get() *pooledBytes {
	if pb, ok := p.pool.Get().(*pooledBytes); ok {
		return pb
	}
	return &pooledBytes{b: make([]byte, p.size)}
}

func (p *bytePool) put(pb *pooledBytes) {
	if len(pb.b) == p.size {
		p.pool.Put(pb)
	}
}

// bytePools holds one bytePool per buffer size in use.
var bytePools sync.Map // int → *bytePool

// bytePoolFor returns the shared pool of size-byte buffers.
func bytePoolFor(size int) *bytePool {
	if p, ok := bytePools.Load(size); ok {
		return p.(*bytePool)
	}
	p, _ := bytePools.LoadOrStore(size, &bytePool{size: size})
	return p.(*bytePool)
}

const (
	// directRead is the payload read size from which a Conn reads straight
	// into the caller's buffer when nothing is buffered, skipping the copy
	// through the transport's own buffer.
	directRead = 4096
	// referencedWrite is the payload size from which WriteBinary keeps a
	// reference instead of copying: the payload then leaves with the header
	// in one writev.
	referencedWrite = 2048
	// serverWriteBufferSize is the size of a server connection's pooled
	// output buffer: a frame header and a payload below referencedWrite
	// fit, and so does any control frame.
	serverWriteBufferSize = 4096
)

// newSocketTransport wraps conn. pending holds bytes already read from the
// connection beyond the handshake; they are read first. readSize and
// writeSize are the sizes of the pooled buffers.
func newSocketTransport(conn net.Conn, pending []byte, readSize, writeSize int) *socketTransport {
	t := &socketTransport{
		conn:      conn,
		raw:       rawConnOf(conn),
		readPool:  bytePoolFor(readSize),
		writePool: bytePoolFor(writeSize),
	}
	t.waitRead, t.tryRead = t.readReady, t.tryReadInto
	if len(pending) > 0 {
		t.in = t.readPool.get()
		if len(pending) > len(t.in.b) {
			t.in = &pooledBytes{b: make([]byte, len(pending))}
		}
		t.w = copy(t.in.b, pending)
	}
	return t
}

// Peek returns the next n unread bytes, reading from the connection until
// there are that many. On error it returns the bytes it has.
func (t *socketTransport) Peek(n int) ([]byte, error) {
	for t.w-t.r < n {
		if err := t.fill(n); err != nil {
			if t.in == nil {
				return nil, err
			}
			return t.in.b[t.r:t.w], err
		}
	}
	return t.in.b[t.r : t.r+n], nil
}

// Skip consumes n buffered bytes.
func (t *socketTransport) Skip(n int) error {
	if n < 0 || n > t.w-t.r {
		return errShortSkip
	}
	t.r += n
	return nil
}

// Release gives the read buffer back to its pool once it holds no unread
// byte. Slices returned by Peek are invalid afterwards.
func (t *socketTransport) Release() error {
	if t.in != nil && t.r == t.w {
		t.readPool.put(t.in)
		t.in, t.r, t.w = nil, 0, 0
	}
	return nil
}

// Len returns the number of unread buffered bytes.
func (t *socketTransport) Len() int { return t.w - t.r }

// fill reads at least one more byte into the buffer, first making room for
// n unread bytes from r on.
func (t *socketTransport) fill(n int) error {
	if t.readErr != nil {
		return t.readErr
	}
	if t.in != nil && len(t.in.b)-t.r < n {
		// Move the unread bytes to the front, into a larger buffer when
		// n exceeds the pool's size (rare: that one is not pooled).
		if len(t.in.b) < n {
			larger := &pooledBytes{b: make([]byte, n)}
			t.w = copy(larger.b, t.in.b[t.r:t.w])
			t.readPool.put(t.in)
			t.in = larger
		} else {
			t.w = copy(t.in.b, t.in.b[t.r:t.w])
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
			t.in = t.readPool.get()
		}
		var m int
		m, err = t.conn.Read(t.in.b[t.w:])
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

// readDirect reads into p straight from the connection, around the
// buffer, which must be empty (see directReader). Without wait it makes
// one attempt that takes what the socket holds, possibly nothing; a
// connection without a descriptor of its own cannot, and reads nothing.
func (t *socketTransport) readDirect(p []byte, wait bool) (int, error) {
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

// isStreamEnd reports whether err ends the byte stream for good (unlike a
// timeout, after which the Conn decides).
func isStreamEnd(err error) bool {
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// Malloc returns n bytes of the output buffer for the caller to fill.
func (t *socketTransport) Malloc(n int) ([]byte, error) {
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
func (t *socketTransport) WriteBinary(b []byte) (int, error) {
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
func (t *socketTransport) reserve(n int) {
	if t.outBuf == nil {
		t.outBuf = t.writePool.get()
		t.out = t.outBuf.b[:0]
	}
	if cap(t.out)-len(t.out) < n {
		grown := make([]byte, len(t.out), 2*cap(t.out)+n)
		copy(grown, t.out)
		t.out = grown
	}
}

// Flush writes everything queued, in one system call where it can, and
// gives the output buffer back to its pool.
func (t *socketTransport) Flush() error {
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
		t.writePool.put(t.outBuf)
		t.outBuf = nil
	}
	return err
}

func (t *socketTransport) SetReadDeadline(d time.Time) error  { return t.conn.SetReadDeadline(d) }
func (t *socketTransport) SetWriteDeadline(d time.Time) error { return t.conn.SetWriteDeadline(d) }
func (t *socketTransport) Close() error                       { return t.conn.Close() }

var errShortSkip = errors.New("websocket: skip beyond the buffered bytes")
