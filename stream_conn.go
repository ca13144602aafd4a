package websocket

import (
	"context"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// NetConnOf returns a net.Conn that carries a byte stream over the
// WebSocket connection c, in data messages of messageType (BinaryMessage,
// or TextMessage), so that protocols written for TCP (HTTP, gRPC, SSH, a
// plain TCP tunnel) can run over a WebSocket. It is this package's
// counterpart of coder/websocket's NetConn. (Conn.NetConn is something
// else: the raw connection under the WebSocket framing.)
//
// Write sends the bytes of each call as one message; a Write of no bytes
// sends nothing. Read returns the bytes of the messages received, in order,
// as one stream: message boundaries do not show. A message of the other
// data type fails the stream: the peer is sent close code 1003 (Unsupported
// Data) and Read returns an error for which CloseCode reports 1003. A close
// message with code 1000 (Normal Closure) or 1001 (Going Away) reads as
// io.EOF; any other close code, and a connection that ended without a close
// message (code 1006), is returned as the *CloseError it is.
//
// One goroutine may Read while others Write, as net/http and io.Copy do;
// each Write goes out whole, so Writes from several goroutines never mix
// their bytes, but their order is theirs to arrange.
//
// Deadlines follow net.Conn's contract. A read deadline, also one set while
// a Read waits, makes Read return an error that matches
// os.ErrDeadlineExceeded and is a net.Error whose Timeout method reports
// true; the stream is intact, and a Read after the deadline has been moved
// or cleared goes on with the next byte. Write deadlines are the Conn's
// (see Conn.SetWriteDeadline): a Write whose deadline has passed before it
// starts fails without sending anything, but a Write that times out once
// it has started may have sent part of its message, after which every
// Write fails; the connection is then good only for reading and closing.
//
// Close sends a close message with code 1000, waits up to a second for the
// peer's (so that the peer reads io.EOF, not a reset), closes c and returns
// once every goroutine of the stream has ended; a Write blocked on a peer
// that does not read holds it up for that second. Read and Write return
// ErrConnClosed after Close, and a second Close returns it too. When ctx is
// done, the stream is closed in the same way with code 1008 (Policy
// Violation) and ctx.Err() as reason, and Read and Write return an error
// that matches ctx.Err() and net.ErrClosed. 1008, as for this package's
// own time limits, and not 1000 or 1001: the peer must see a stream cut
// short as an error, never as io.EOF, the end of a complete stream.
// (coder/websocket sent 1008 for a cancelled read up to v1.8.10, and since
// drops the connection, which the peer sees as 1006.) A ctx that is never
// done, such as context.Background(), costs no goroutine.
//
// NetConnOf takes c over: from the call on, a goroutine of the stream
// reads c, holding up to 64 KiB that Read has not returned yet, and
// handles the pings and close messages that arrive. Do not read c
// yourself, nor write data messages to it, nor set its read deadline;
// handlers set on c run on that goroutine and must not call the net.Conn's
// Close, which waits for it.
// While the program does not Read, that goroutine stops once it holds
// 64 KiB, and control messages wait as well: with HertzUpgrader.KeepAlive
// on, not reading for two intervals loses the connection. Each message
// must still arrive whole within the MessageTimeout of the upgrader or
// Dialer (one minute by default), or the connection fails with code 1008:
// a large Write over a slow link, or a reader that pauses in the middle of
// a large message, can exceed it, so keep messages moderate (io.Copy
// writes 32 KiB at a time). The read limit is turned off (SetReadLimit(0)):
// the stream never holds a whole message, so a message's size costs no
// memory. With TextMessage each Write must be valid UTF-8 on its own, or
// the peer fails the connection with code 1007: use BinaryMessage unless a
// peer insists on text.
//
// LocalAddr and RemoteAddr are c's. Close the net.Conn, or c, to end the
// stream's goroutines; on the server, keep the HertzHandler running until
// the net.Conn is closed, as the connection closes when it returns.
//
// messageType must be TextMessage or BinaryMessage; NetConnOf panics
// otherwise.
func NetConnOf(ctx context.Context, c *Conn, messageType int) net.Conn {
	if messageType != TextMessage && messageType != BinaryMessage {
		panic("websocket: NetConnOf: messageType must be TextMessage or BinaryMessage")
	}
	c.SetReadLimit(0)
	s := &streamConn{
		c:           c,
		messageType: messageType,
		rd:          newStreamDeadline(),
		chunks:      make(chan []byte),
		free:        make(chan []byte, streamChunks),
		pumpDone:    make(chan struct{}),
		closing:     make(chan struct{}),
		watchDone:   make(chan struct{}),
	}
	for i := 0; i < streamChunks; i++ {
		s.free <- nil // the pump makes the buffer when it first needs it
	}
	go s.pump()
	if done := ctx.Done(); done != nil {
		go s.watch(ctx, done)
	} else {
		close(s.watchDone)
	}
	return s
}

const (
	// streamChunk is the size of the buffers the pump reads messages into.
	streamChunk = 32 << 10
	// streamChunks is how many there are: while Read copies from one, the
	// pump fills the other.
	streamChunks = 2
)

// streamConn is the net.Conn NetConnOf returns.
//
// A goroutine, the pump (stream_pump.go), reads the messages from the
// Conn into chunks and hands them to Read through chunks; Read gives each
// back through free once it has returned all its bytes. Read waits for a
// chunk with a deadline of its own, so a timeout leaves the pump, and the
// Conn, untouched.
type streamConn struct {
	c           *Conn
	messageType int

	// Read side. readMu is held by Read: one at a time.
	readMu   sync.Mutex
	chunk    []byte // the chunk Read is returning, whole
	pending  []byte // the part of chunk not yet returned
	rd       *streamDeadline
	chunks   chan []byte   // pump → Read
	free     chan []byte   // Read → pump
	pumpErr  error         // why the pump stopped (io.EOF at a normal close); set before pumpDone is closed
	pumpDone chan struct{} // closed when the pump has ended

	// writeDeadline is the write deadline in Unix nanoseconds, 0 for none,
	// checked before each Write.
	writeDeadline atomic.Int64

	// Closing (stream_close.go). closeOnce runs once, for Close, the
	// watcher of ctx, or the pump refusing a message of the wrong type;
	// it sets cause and closeTimer and then closes closing.
	closeOnce  sync.Once
	closing    chan struct{}
	cause      error       // what Read and Write return once closing is closed
	closeTimer *time.Timer // closes the Conn if the close handshake takes too long
	watchDone  chan struct{}
}

// Read reads bytes of the messages received, as described at NetConnOf.
func (s *streamConn) Read(p []byte) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	// The order of the checks is a socket's: closed, then empty, then
	// deadline, which fails a Read even when bytes are waiting.
	if isClosed(s.closing) {
		return 0, s.cause
	}
	if len(p) == 0 {
		return 0, nil
	}
	expired := s.rd.wait()
	if isClosed(expired) {
		return 0, s.timeoutError("read")
	}
	if len(s.pending) == 0 {
		select {
		case chunk := <-s.chunks:
			s.chunk, s.pending = chunk, chunk
		case <-s.pumpDone:
			// Every chunk the pump sent has been received: the
			// channel is unbuffered.
			return 0, s.pumpErr
		case <-expired:
			return 0, s.timeoutError("read")
		case <-s.closing:
			return 0, s.cause
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	if len(s.pending) == 0 {
		// Never blocks: free has room for every chunk there is.
		s.free <- s.chunk[:cap(s.chunk)]
		s.chunk = nil
	}
	return n, nil
}

// Write sends p as one message, as described at NetConnOf.
func (s *streamConn) Write(p []byte) (int, error) {
	if isClosed(s.closing) {
		return 0, s.cause
	}
	if len(p) == 0 {
		return 0, nil
	}
	if d := s.writeDeadline.Load(); d != 0 && time.Now().UnixNano() >= d {
		// Fail before the Conn sees the deadline: a write that times
		// out on the socket ends every later write.
		return 0, s.timeoutError("write")
	}
	if err := s.c.WriteMessage(s.messageType, p); err != nil {
		if isClosed(s.closing) {
			return 0, s.cause
		}
		return 0, err
	}
	return len(p), nil
}

// LocalAddr returns the Conn's local address.
func (s *streamConn) LocalAddr() net.Addr { return s.c.LocalAddr() }

// RemoteAddr returns the Conn's remote address.
func (s *streamConn) RemoteAddr() net.Addr { return s.c.RemoteAddr() }

// SetDeadline sets the read and the write deadline.
func (s *streamConn) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline; it applies to a Read already
// waiting, and a Read that timed out may be retried once it has moved.
func (s *streamConn) SetReadDeadline(t time.Time) error {
	if isClosed(s.closing) {
		return ErrConnClosed
	}
	s.rd.set(t)
	return nil
}

// SetWriteDeadline sets the write deadline of the Conn, which applies to a
// Write already blocked; see NetConnOf for what a Write that times out
// leaves behind.
func (s *streamConn) SetWriteDeadline(t time.Time) error {
	if isClosed(s.closing) {
		return ErrConnClosed
	}
	s.writeDeadline.Store(deadlineNanos(t))
	return s.c.SetWriteDeadline(t)
}

// timeoutError is the error of a Read or Write whose deadline has passed,
// shaped as a socket's.
func (s *streamConn) timeoutError(op string) error {
	remote := s.c.RemoteAddr()
	return &net.OpError{Op: op, Net: addrNetwork(remote), Source: s.c.LocalAddr(), Addr: remote, Err: os.ErrDeadlineExceeded}
}
