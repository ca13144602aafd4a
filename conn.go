package websocket

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// The message types defined in RFC 6455 §11.8, numbered as their opcodes.
const (
	// TextMessage denotes a text data message. The text message payload is
	// interpreted as UTF-8 encoded text data.
	TextMessage = 1

	// BinaryMessage denotes a binary data message.
	BinaryMessage = 2

	// CloseMessage denotes a close control message. The optional message
	// payload contains a numeric code and text. Use the FormatCloseMessage
	// function to format a close message payload.
	CloseMessage = 8

	// PingMessage denotes a ping control message. The optional message payload
	// is UTF-8 encoded text.
	PingMessage = 9

	// PongMessage denotes a pong control message. The optional message payload
	// is UTF-8 encoded text.
	PongMessage = 10
)

// Conn represents a WebSocket connection.
//
// Concurrency: one goroutine at a time may read (NextReader, ReadMessage,
// ReadJSON and the io.Reader they return). WriteMessage, WriteControl,
// WritePreparedMessage, WriteJSON, Close and the Set*Deadline methods are
// safe to call from any number of goroutines at once. A writer returned by
// NextWriter holds the data side of the connection until it is closed, or
// until the next NextWriter, which closes it as gorilla/websocket's does;
// so NextWriter and its writers are for one goroutine at a time. Control
// frames (WriteControl, the automatic pong) may still go out between its
// frames, as RFC 6455 §5.4 allows.
//
// On the server a Conn lives inside the HertzHandler passed to Upgrade. When
// the handler returns the connection is closed and every later use of the
// Conn returns an error (never a panic, never a write to a recycled
// connection).
type Conn struct {
	t           transport.Conn
	role        frame.Role
	subprotocol string
	localAddr   net.Addr
	remoteAddr  net.Addr

	// Lifecycle. Close closes done and the transport exactly once; a
	// goroutine waiting for a write lock gives up when done is closed.
	closeOnce sync.Once
	closed    atomic.Bool
	done      atomic.Pointer[chan struct{}] // see doneChan
	shutdown  func()                        // sends FIN at once where closing the transport does not; may be nil
	// liveDeadlines: deadlines go to the transport when set, waking
	// blocked calls (see deadline.go).
	liveDeadlines bool

	// Write side. msgLock is held for a whole data message (a NextWriter
	// holds it until its Close); frameLock is held from the first byte of a
	// frame to its Flush, and guards every field below it.
	msgLock            writeLock
	frameLock          writeLock
	writeErr           error
	writeBufferSize    int
	writeBufferPool    BufferPool
	writeBuffers       *transport.Pool                  // NextWriter's buffers when writeBufferPool is nil
	writers            atomic.Pointer[[2]messageWriter] // NextWriter's, made on first use
	writeSeq           atomic.Uint32
	wd                 deadline
	cork               corkState
	closeSent          atomic.Bool
	pings              atomic.Pointer[pings] // Ping's, made on first use
	compressionEnabled atomic.Bool
	compressionLevel   atomic.Int32

	// Read side, guarded by readMu: one reader at a time.
	readMu        sync.Mutex
	readErr       error
	rd            deadline
	readLimit     atomic.Int64
	hdr           frame.Header // the frame being read
	readRemaining int64        // payload bytes of hdr not yet consumed
	readMaskPos   int
	fragmented    bool // a data message has frames still to come (§5.4)
	messageDone   bool // the final frame's payload has been consumed
	messageText   bool
	messageLen    int64 // wire bytes of the message so far
	// messageTimeout bounds the arrival of a message; messageDeadline
	// (Unix nanoseconds) is when the message being read must be whole, 0
	// between messages.
	messageTimeout  time.Duration
	messageDeadline int64
	// closeTimeout is how long the Conn waits for the peer's close after
	// sending its own, 0 for no limit (see closeWasSent).
	closeTimeout time.Duration
	// budget is the server-wide receive budget ReadMessage draws on, nil
	// for none.
	budget *receiveBudget
	// Compressed messages (RFC 7692): messageCompressed is set by the
	// first frame's RSV1, inflating while the inflater holds the message,
	// messageOut counts the inflated bytes for the read limit.
	messageCompressed bool
	inflating         bool
	messageOut        int64
	allowedRsv        byte // RSV bits a negotiated extension defines
	rawPayload        rawPayload
	probe             [1]byte // readInto's one-byte look past the read limit
	utf8              frame.UTF8Validator
	readers           [2]messageReader
	readSeq           uint32
	closeReceived     atomic.Bool

	// The handlers set by the application; nil means the default.
	pingHandler  atomic.Pointer[func(appData string) error]
	pongHandler  atomic.Pointer[func(appData string) error]
	closeHandler atomic.Pointer[func(code int, text string) error]

	netConn atomic.Pointer[netConnView] // made by the first NetConn

	// compression is the permessage-deflate state, nil when the extension
	// was not negotiated.
	compression *compression

	// framesSeen counts frame headers and payload reads, so keepalive can
	// tell whether anything arrived since its last ping.
	framesSeen atomic.Uint64
	keepAlive  *keepAlive // nil unless keepalive is on

	// usesClock: the Conn holds the coarse clock (clock.go) until Close.
	usesClock bool

	// liveNext and livePrev link the Conn into its upgrader's liveConns,
	// under its mu.
	liveNext, livePrev *Conn

	// events is the poller's handle when an EventHandler is served without
	// a goroutine per connection (events_poll.go), nil otherwise.
	events atomic.Pointer[eventConn]
	// callbackPanicked: an EventHandler callback panicked (events.go).
	callbackPanicked atomic.Bool
	// callbackSlot is the state of the slot of the callback running for
	// this connection (events.go): slotFree, slotHeld or slotLent.
	callbackSlot atomic.Int32

	// observer receives the connection's events (observer.go), nil for
	// none. closeCode is the code ConnClosed will report: the peer's
	// close frame's, else our own's, 0 while none went either way.
	observer  Observer
	closeCode atomic.Int32
}

// newConn wraps a transport whose handshake is complete.
func newConn(t transport.Conn, role frame.Role, cfg connConfig, local, remote net.Addr) *Conn {
	c := &Conn{
		t:               t,
		role:            role,
		subprotocol:     cfg.subprotocol,
		localAddr:       local,
		remoteAddr:      remote,
		writeBufferSize: cfg.writeBufferSize,
		writeBufferPool: cfg.writeBufferPool,
		writeBuffers:    transport.PoolFor(cfg.writeBufferSize),
		messageDone:     true,
	}
	c.liveDeadlines = t.LiveDeadlines()
	c.readLimit.Store(cfg.readLimit)
	c.messageTimeout = cfg.messageTimeout
	c.closeTimeout = cfg.closeHandshakeTimeout
	c.budget = cfg.budget
	c.wd.fallback = int64(cfg.writeTimeout)
	if c.messageTimeout > 0 || c.wd.fallback > 0 {
		c.usesClock = true
		clock.acquire()
	}
	c.rawPayload.c = c
	c.compressionLevel.Store(DefaultCompressionLevel)
	if cfg.compression != nil {
		c.compression = newCompression(role, cfg.compression, &cfg.compressionOptions)
		c.allowedRsv = frame.Rsv1
		c.compressionEnabled.Store(true)
		c.compressionLevel.Store(int32(c.compression.deflater.Level()))
	}
	c.shutdown = cfg.shutdown
	if cfg.observer != nil {
		c.observer = cfg.observer
		c.observer.ConnOpened()
	}
	if cfg.keepAlive > 0 {
		c.startKeepAlive(cfg.keepAlive)
	}
	return c
}

// Subprotocol returns the negotiated subprotocol for the connection, or the
// empty string when none was negotiated.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// LocalAddr returns the local network address. It stays valid after Close.
func (c *Conn) LocalAddr() net.Addr { return c.localAddr }

// RemoteAddr returns the remote network address. It stays valid after Close.
func (c *Conn) RemoteAddr() net.Addr { return c.remoteAddr }

// SetReadDeadline sets the read deadline on the underlying network
// connection. After a read has timed out, the WebSocket connection state is
// corrupt and all future reads return an error. A zero value for t means
// reads will not time out.
//
// As with net.Conn, it may be called from any goroutine, and a read already
// blocked returns at the new deadline with a timeout error: a *net.OpError
// with Op "read" whose Timeout method reports true and which matches
// os.ErrDeadlineExceeded with errors.Is.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	return c.closedOr(c.rd.set(c.t, true, c.liveDeadlines, deadlineNanos(t)))
}

// SetWriteDeadline sets the write deadline on the underlying network
// connection. After a write has timed out, the WebSocket state is corrupt and
// all future writes return an error. A zero value for t means writes will
// not time out.
//
// As with net.Conn, it may be called from any goroutine, and a write
// already blocked (a peer that does not read) returns at the new deadline
// with a timeout error: a *net.OpError with Op "write" whose Timeout method
// reports true and which matches os.ErrDeadlineExceeded with errors.Is.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	return c.closedOr(c.wd.set(c.t, false, c.liveDeadlines, deadlineNanos(t)))
}

// SetReadLimit sets the maximum size in bytes for a message read from the
// peer. If a message exceeds the limit, the connection sends a close message
// with code 1009 (Message Too Big) to the peer and returns ErrReadLimit to
// the application. A limit of zero or less removes the limit.
//
// Connections made by HertzUpgrader start with its ReadLimit, or
// DefaultReadLimit (32 MiB) when that is zero.
func (c *Conn) SetReadLimit(limit int64) { c.readLimit.Store(limit) }

// EnableWriteCompression enables and disables write compression of
// subsequent text and binary messages. This function is a noop if
// compression was not negotiated with the peer.
func (c *Conn) EnableWriteCompression(enable bool) { c.compressionEnabled.Store(enable) }

// SetCompressionLevel sets the flate compression level for subsequent text
// and binary messages. This function is a noop if compression was not
// negotiated with the peer. See the compress/flate package for a
// description of compression levels; valid levels are -2 to 9, and another
// returns frame.ErrInvalidCompressionLevel.
func (c *Conn) SetCompressionLevel(level int) error {
	if !frame.ValidCompressionLevel(level) {
		return frame.ErrInvalidCompressionLevel
	}
	c.compressionLevel.Store(int32(level))
	return nil
}

// doneChan returns a channel that is closed when the Conn is closed. It is
// made by the first goroutine that has to wait for it: an idle Conn carries
// none.
func (c *Conn) doneChan() <-chan struct{} {
	for {
		if p := c.done.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if c.done.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// closeDone closes the channel doneChan returns; Close calls it once. From
// then on doneChan returns closedChan.
func (c *Conn) closeDone() {
	if p := c.done.Swap(&closedChan); p != nil && *p != closedChan {
		close(*p)
	}
}

// closedChan is the done channel of a closed Conn that no goroutine waited
// on.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// acquire takes a write lock, giving up with ErrConnClosed once the Conn is
// closed.
func (c *Conn) acquire(lock *writeLock) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	if lock.tryLock() {
		return nil
	}
	if taken, _ := lock.lock(c.doneChan(), nil); !taken {
		return ErrConnClosed
	}
	return nil
}

// acquireBefore is acquire with a deadline; a zero deadline waits until the
// lock is free or the Conn closes.
func (c *Conn) acquireBefore(lock *writeLock, deadline time.Time) error {
	if deadline.IsZero() {
		return c.acquire(lock)
	}
	if lock.tryLock() {
		return nil
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	taken, timedOut := lock.lock(c.doneChan(), timer.C)
	switch {
	case taken:
		return nil
	case timedOut:
		return c.writeTimeoutError()
	}
	return ErrConnClosed
}
