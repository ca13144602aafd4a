package transport

import (
	"time"

	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/network/standard"
)

// FromHertz returns the transport of a connection that stays on a Hertz
// transport after its handshake: Hertz's standard transport, a netpoll
// connection that could not be handed over, or a connection taken over
// from Hertz's client. keep, which may be nil, is held for as long as the
// transport is reachable (Hertz's client closes a connection whose
// response body stream is collected).
func FromHertz(raw network.Conn, keep any) Conn {
	if sc, ok := raw.(*standard.Conn); ok {
		return &standardConn{Conn: sc, keep: keep}
	}
	_, live := raw.(*standard.TLSConn)
	return &hertzConn{Conn: raw, live: live, keep: keep}
}

// hertzConn is a Hertz network.Conn used as it is: it reads nothing around
// its buffer, and its deadlines fall back to timeouts where the transport
// has no deadlines (netpoll's read side).
type hertzConn struct {
	network.Conn
	live bool
	keep any
}

// ReadsDirect is false: every payload byte goes through Peek.
func (*hertzConn) ReadsDirect(int) bool { return false }

// ReadDirect reads nothing; it is never called, as ReadsDirect is false.
func (*hertzConn) ReadDirect([]byte, bool) (int, error) { return 0, nil }

// CopiesPayload is true on the standard transport's TLS connections for a
// frame that fits in one TLS record (tlsCopiedPayload): their Flush writes
// each buffer node as a record and a system call of its own, while a
// larger frame takes a record per 16 KiB either way, so copying it saves
// no call. netpoll's Flush gathers its nodes into one writev.
func (c *hertzConn) CopiesPayload(n int) bool { return c.live && n <= tlsCopiedPayload }

// tlsCopiedPayload is the largest payload that fits in one TLS record
// (16 KiB of plaintext, RFC 8446 §5.1) behind the longest frame header
// that size can have (2 + 2 length + 4 mask bytes).
const tlsCopiedPayload = 16<<10 - 8

// LiveDeadlines reports whether the connection's deadlines wake blocked
// calls: those of the standard transport's TLS connections do, netpoll's
// read timer belongs to the reading goroutine.
func (c *hertzConn) LiveDeadlines() bool { return c.live }

// SetReadDeadline sets the read deadline, or the equivalent read timeout
// where the transport has no read deadline.
func (c *hertzConn) SetReadDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return c.Conn.SetReadTimeout(timeoutUntil(t))
	}
	return nil
}

// SetWriteDeadline sets the write deadline, or the equivalent write
// timeout where the transport has no write deadline.
func (c *hertzConn) SetWriteDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return c.Conn.SetWriteTimeout(timeoutUntil(t))
	}
	return nil
}

// timeoutUntil turns a deadline into a timeout from now: zero for none, at
// least a nanosecond for a deadline that has passed.
func timeoutUntil(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	if d := time.Until(t); d > 0 {
		return d
	}
	return time.Nanosecond
}

// standardConn is a connection of Hertz's standard transport. Its Read
// copies buffered bytes across the transport's buffer nodes without
// allocating, and reads a large p straight from the socket once nothing is
// buffered; Peek, by contrast, allocates a copy of any span that crosses
// two nodes. So every payload is read through Read, and a large payload is
// written with Write, which flushes what is buffered and then writes the
// payload from the caller's memory: WriteBinary would allocate a buffer
// node for a payload of largeWrite bytes or more.
type standardConn struct {
	*standard.Conn
	keep any
}

// largeWrite is the payload size from which a standardConn sends the
// payload with the connection's Write.
const largeWrite = 4096

// copiedPayload is the largest payload a connection whose Flush makes a
// call per buffer node copies behind its header. Below it, the copy costs
// less than the call it saves: the second write of a 16 KiB frame (header,
// then payload) cost more server time on loopback than the copy of its
// payload. Above it, the frame is sent as header and payload, with no copy.
const copiedPayload = 64 << 10

// CopiesPayload is true up to copiedPayload bytes: the standard
// transport's Flush writes each buffer node with a call of its own.
func (*standardConn) CopiesPayload(n int) bool { return n <= copiedPayload }

// ReadsDirect is true: every payload read goes through Read.
func (*standardConn) ReadsDirect(int) bool { return true }

// ReadDirect reads into p what is buffered, or else what the socket has,
// waiting for at least one byte. Without wait it reads nothing: the caller
// asks only to top up a read, which Read has done already.
func (c *standardConn) ReadDirect(p []byte, wait bool) (int, error) {
	if !wait {
		return 0, nil
	}
	return c.Conn.Read(p)
}

// WriteBinary queues a small b and writes a large one at once, after what
// is queued.
func (c *standardConn) WriteBinary(b []byte) (int, error) {
	if len(b) >= largeWrite {
		return c.Conn.Write(b)
	}
	return c.Conn.WriteBinary(b)
}

// LiveDeadlines is true: the standard transport's deadlines are a
// net.Conn's.
func (*standardConn) LiveDeadlines() bool { return true }
