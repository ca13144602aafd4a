package websocket

import (
	"time"

	"github.com/hertzws/websocket/frame"
)

// Defaults shared by every way of making a Conn. The upgrader, the Dialer
// and the ClientUpgrader read them through the helpers below so that no
// default is written twice.
const (
	// DefaultReadBufferSize is the size of a Conn's read buffers when
	// ReadBufferSize is zero. They come from a shared pool and are held
	// only while received bytes wait in them; on Hertz's standard transport
	// its own buffered reader is used instead.
	DefaultReadBufferSize = 4096

	// DefaultWriteBufferSize is the size of the buffer a message writer
	// returned by NextWriter fills before it emits a frame, when
	// WriteBufferSize is zero. It does not limit the size of a message.
	DefaultWriteBufferSize = 4096

	// DefaultReadLimit is the largest message, in bytes, a Conn accepts when
	// the application does not choose a limit: 32 MiB. A larger message is
	// refused with close code 1009 (Message Too Big) and ErrReadLimit.
	DefaultReadLimit int64 = 32 << 20

	// DefaultHandshakeTimeout bounds the writing of the handshake response
	// when HandshakeTimeout is zero.
	DefaultHandshakeTimeout = 10 * time.Second

	// DefaultCompressionLevel is the flate level used for compressed
	// messages until SetCompressionLevel chooses another.
	DefaultCompressionLevel = 1

	// DefaultCompressionThreshold is the size, in bytes, below which
	// WriteMessage, WriteJSON and prepared messages go out uncompressed when
	// CompressionOptions.Threshold is zero: deflate cannot shrink a message
	// that small enough to pay for the work.
	DefaultCompressionThreshold = 128

	// DefaultCloseHandshakeTimeout is how long a connection that sent a
	// close frame waits for the peer's close before it drops the TCP
	// connection, when CloseHandshakeTimeout is zero (RFC 6455 §7.1.1 lets
	// the endpoint close once it has waited long enough).
	DefaultCloseHandshakeTimeout = 5 * time.Second

	// CloseHandshakeTimeout is DefaultCloseHandshakeTimeout.
	//
	// Deprecated: use DefaultCloseHandshakeTimeout; the wait is chosen per
	// upgrader or dialer with their CloseHandshakeTimeout field.
	CloseHandshakeTimeout = DefaultCloseHandshakeTimeout

	// DefaultMessageTimeout is how long one incoming message may take to
	// arrive, from its first frame header to the last byte of its final
	// frame, when MessageTimeout is zero: one minute. At the default read
	// limit a peer must send a 32 MiB message at 560 KB/s at least; a peer
	// that trickles a message more slowly (to keep a buffer pinned) is
	// closed with 1008 (Policy Violation) and the read returns
	// ErrMessageTimeout.
	DefaultMessageTimeout = 60 * time.Second

	// DefaultWriteTimeout bounds one write (a message, or one frame of a
	// NextWriter) when WriteTimeout is zero: 30 seconds. A peer that stops
	// reading makes writes block once the socket buffers are full; after
	// this long the write fails with a timeout error and the connection is
	// closed, so that no goroutine waits for ever on a peer that is gone or
	// hostile.
	DefaultWriteTimeout = 30 * time.Second

	// closeWriteTimeout bounds how long the library itself waits to write a
	// close frame (answering a peer's close or a protocol error), so a peer
	// that stopped reading cannot hold a goroutine.
	closeWriteTimeout = 1 * time.Second
)

// BufferPool represents a pool of buffers. The *sync.Pool type satisfies this
// interface. The type of the value stored in a pool is not specified.
//
// An application should use one pool for all the connections that share a
// buffer size. A pool is most useful when there is a modest volume of writes
// across a large number of connections.
type BufferPool interface {
	// Get gets a value from the pool or returns nil if the pool is empty.
	Get() interface{}
	// Put adds a value to the pool.
	Put(interface{})
}

// CompressionOptions tunes permessage-deflate (RFC 7692) once
// EnableCompression has turned it on. The zero value asks for what browsers
// and most peers use: context takeover in both directions, 32 KiB windows,
// level 1, and no compression for messages under 128 bytes.
//
// The Server* and Client* names are those of the RFC 7692 parameters and
// mean the same on both ends: the server's compressor and the client's.
//
// Memory: with context takeover a connection keeps, once it has sent and
// received compressed messages, what RFC 7692 makes it keep: the last
// 2^bits bytes it sent and the last 2^bits bytes it received, each in a
// buffer a quarter larger, and, at level 1 (the default), an 8 KiB match
// table; the rest of the compressor and decompressor comes from shared
// pools for each message. That is 88 KiB with 32 KiB windows, and 13 KiB
// with ServerMaxWindowBits and ClientMaxWindowBits of 12 (measured by
// bench/cmd/deflatecost; the README's Compression section has the table).
// At levels other than 1, context takeover keeps a klauspost/compress
// writer for the connection's life instead (800 KiB to 1 MiB). Without
// takeover idle connections hold nothing.
type CompressionOptions struct {
	// Level is the flate level, 1 (fastest) to 9 (smallest), that new
	// connections start with; zero means DefaultCompressionLevel. The
	// other flate levels (-2 Huffman only, 0 stored) are available per
	// connection through Conn.SetCompressionLevel.
	Level int

	// Threshold is the size in bytes below which a message whose size is
	// known up front (WriteMessage, WriteJSON, PreparedMessage) is sent
	// uncompressed. Zero means DefaultCompressionThreshold; a negative
	// value compresses every message. Messages written through NextWriter
	// are always compressed.
	Threshold int

	// ServerNoContextTakeover makes the server start every message it sends
	// with an empty window (RFC 7692 §7.1.1.1): less compression, no
	// compressor kept between messages.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover asks the client to start every message with
	// an empty window (RFC 7692 §7.1.1.2), so the server keeps no history
	// for decompressing.
	ClientNoContextTakeover bool

	// ServerMaxWindowBits caps the server's LZ77 window at 2^n bytes, 8..15
	// (RFC 7692 §7.1.2.1). Zero means 15 (32 KiB). A server honours a
	// smaller value the client asks for.
	ServerMaxWindowBits int

	// ClientMaxWindowBits asks the client to cap its window at 2^n bytes,
	// 8..15 (RFC 7692 §7.1.2.2), which bounds the history the server keeps
	// for it. It is only sent to a client that offered the parameter. Zero
	// means 15.
	ClientMaxWindowBits int
}

// policy turns the options into the negotiation policy of package frame.
func (o *CompressionOptions) policy() frame.DeflatePolicy {
	return frame.DeflatePolicy{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
}

// level returns the starting compression level.
func (o *CompressionOptions) level() int {
	if o.Level == 0 {
		return DefaultCompressionLevel
	}
	return o.Level
}

// threshold returns the smallest message size that is compressed.
func (o *CompressionOptions) threshold() int {
	switch {
	case o.Threshold == 0:
		return DefaultCompressionThreshold
	case o.Threshold < 0:
		return 0
	}
	return o.Threshold
}

// connConfig is the normalised configuration a Conn is built from, filled in
// once from the upgrader (or dialer) fields with every zero value replaced
// by its default.
type connConfig struct {
	readBufferSize  int
	writeBufferSize int
	writeBufferPool BufferPool
	readLimit       int64
	subprotocol     string

	// keepAlive is the ping interval, zero when keepalive is off.
	keepAlive time.Duration

	// messageTimeout bounds the arrival of one message, writeTimeout one
	// write; zero for none.
	messageTimeout time.Duration
	writeTimeout   time.Duration

	// closeHandshakeTimeout is how long a Conn that sent a close frame
	// waits for the peer's; zero for as long as the Conn lives.
	closeHandshakeTimeout time.Duration

	// budget is the server-wide budget ReadMessage's buffers draw from,
	// nil for none (see receiveBudget).
	budget *receiveBudget

	// shutdown, when set, sends FIN at once where closing the transport
	// does not (see transport.Shutdown).
	shutdown func()

	// compression is the agreed permessage-deflate parameters, nil when
	// the extension was not negotiated.
	compression *frame.DeflateParams
	// compressionOptions are the local settings (level, threshold) used
	// when compression is negotiated.
	compressionOptions CompressionOptions

	// observer receives the Conn's events, nil for none.
	observer Observer
}

// connOptions are the settings HertzUpgrader, Dialer and ClientUpgrader
// share, as the application set them (zero for a default).
type connOptions struct {
	readBufferSize, writeBufferSize int
	writeBufferPool                 BufferPool
	readLimit                       int64
	compression                     CompressionOptions
	keepAlive                       time.Duration
	messageTimeout, writeTimeout    time.Duration
	closeHandshakeTimeout           time.Duration
	observer                        Observer
}

// config is the one place where a Conn's settings get their defaults:
// every zero replaced by its default, with the subprotocol and the
// compression parameters the handshake agreed (nil for none).
func (o connOptions) config(subprotocol string, agreed *frame.DeflateParams) connConfig {
	return connConfig{
		readBufferSize:     readBufferSizeOrDefault(o.readBufferSize),
		writeBufferSize:    orDefault(o.writeBufferSize, DefaultWriteBufferSize),
		writeBufferPool:    o.writeBufferPool,
		readLimit:          readLimitOrDefault(o.readLimit),
		subprotocol:        subprotocol,
		compression:        agreed,
		compressionOptions: o.compression,
		keepAlive:          o.keepAlive,
		messageTimeout:     timeoutOrDefault(o.messageTimeout, DefaultMessageTimeout),
		writeTimeout:       timeoutOrDefault(o.writeTimeout, DefaultWriteTimeout),

		closeHandshakeTimeout: timeoutOrDefault(o.closeHandshakeTimeout, DefaultCloseHandshakeTimeout),
		observer:              o.observer,
	}
}

// readBufferSizeOrDefault is the size of a Conn's read buffer: at least a
// whole control frame, header included, since a Conn peeks one at once.
func readBufferSizeOrDefault(size int) int {
	const least = frame.MaxHeaderSize + frame.MaxControlPayload
	size = orDefault(size, DefaultReadBufferSize)
	if size < least {
		size = least
	}
	return size
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// readLimitOrDefault maps HertzUpgrader.ReadLimit to a Conn's limit: zero
// means DefaultReadLimit, a negative value means no limit (the Conn checks
// only limits above zero) and is kept as is.
func readLimitOrDefault(v int64) int64 {
	if v == 0 {
		return DefaultReadLimit
	}
	return v
}

// timeoutOrDefault maps a timeout field to the value a Conn uses: zero
// means def, a negative value means none (0).
func timeoutOrDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func handshakeTimeoutOrDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultHandshakeTimeout
	}
	return d
}
