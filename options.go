package websocket

import "time"

// Defaults shared by every way of making a Conn. The upgrader (and, later, the
// client) read them through the helpers below so that no default is written
// twice.
const (
	// DefaultReadBufferSize is the size of the buffer a Conn asks the
	// transport for when ReadBufferSize is zero. On Hertz the transport's own
	// buffered reader is used, so this is a hint, not an allocation.
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

	// minCompressionLevel and maxCompressionLevel bound SetCompressionLevel,
	// as in compress/flate: -2 (Huffman only) to 9 (best compression).
	minCompressionLevel = -2
	maxCompressionLevel = 9

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

// connConfig is the normalised configuration a Conn is built from, filled in
// once from the upgrader (or dialer) fields with every zero value replaced
// by its default.
type connConfig struct {
	readBufferSize  int
	writeBufferSize int
	writeBufferPool BufferPool
	readLimit       int64
	subprotocol     string
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func readLimitOrDefault(v int64) int64 {
	if v <= 0 {
		return DefaultReadLimit
	}
	return v
}

func handshakeTimeoutOrDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultHandshakeTimeout
	}
	return d
}
