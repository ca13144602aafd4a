package transport

import "time"

// Conn is what a WebSocket connection needs from the byte stream beneath
// it: a buffered reader it can Peek into and Skip over, a way to read a
// payload around that buffer, an output buffer it fills and flushes,
// deadlines and Close.
//
// The read side belongs to one goroutine at a time, and so does the write
// side; deadlines and Close are safe from any goroutine.
type Conn interface {
	// Peek returns the next n unread bytes, reading until there are that
	// many. On error it returns the bytes it has.
	Peek(n int) ([]byte, error)
	// Skip consumes n buffered bytes.
	Skip(n int) error
	// Release lets the transport recycle the read buffer once it holds no
	// unread byte. Slices returned by Peek are invalid afterwards.
	Release() error
	// Len returns the number of unread buffered bytes.
	Len() int

	// ReadsDirect reports whether a payload read of n bytes should go
	// through ReadDirect rather than Peek and Skip: a transport that can
	// read straight into the caller's memory says so for reads where that
	// saves a copy.
	ReadsDirect(n int) bool
	// ReadDirect reads into p around the read buffer. With wait it waits
	// for at least one byte; without, it takes only what has arrived
	// already, possibly nothing, and a transport that cannot tell reads
	// nothing. It is called only when ReadsDirect(len(p)) is true.
	ReadDirect(p []byte, wait bool) (int, error)

	// Malloc returns n bytes of the output buffer for the caller to fill.
	Malloc(n int) ([]byte, error)
	// WriteBinary queues b after the bytes already queued. The transport
	// may keep a reference to a large b until Flush instead of copying it,
	// or send what is queued and b at once; either way the caller leaves b
	// alone until Flush returns.
	WriteBinary(b []byte) (int, error)
	// Flush sends everything queued.
	Flush() error
	// CopiesPayload reports whether a frame payload of n bytes is best
	// copied into the output buffer right behind its header: true where
	// Flush sends each queued buffer with a call of its own, for payloads
	// small enough that the copy costs less than the second call.
	CopiesPayload(n int) bool

	// SetReadDeadline and SetWriteDeadline set the deadline of the next
	// and of the current wait, as net.Conn's methods do; the zero time
	// means none.
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	// LiveDeadlines reports whether a deadline set while another goroutine
	// is blocked in a read or write applies to that call, waking it. When
	// it does not, the blocked goroutine applies the deadline before its
	// next wait.
	LiveDeadlines() bool
	// Close closes the connection and wakes blocked calls.
	Close() error
}
