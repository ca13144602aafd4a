package websocket

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// messageWriter is the io.WriteCloser NextWriter hands out. Like readers,
// the Conn keeps two and alternates, so a writer costs no allocation and a
// writer used after its Close is recognised by its sequence number (until
// its slot serves the message after next).
//
// mu is held for the length of every call on the writer, and by whoever
// ends the message. NextWriter, which ends a message still open, so waits
// for a call in progress on it (another goroutine's Write blocked on a slow
// peer, say) to return: the frames of two messages never interleave
// (RFC 6455 §5.4). No user code runs while mu is held: ReadFrom releases it
// around every call into its source, and buffers go back to a BufferPool
// after it is released.
type messageWriter struct {
	mu sync.Mutex
	c  *Conn
	// slot is used in the Conn's own two writers only: once NextWriter
	// has ended the message of the writer serving this slot, a new writer
	// serves it (see endForNext), and slot points to that one.
	slot atomic.Pointer[messageWriter]
	writerState
}

// writerState is a writer's message. It is reset when the message ends.
type writerState struct {
	seq    uint32
	opcode frame.Opcode // of the next frame: the message type, then continuation
	rsv    byte         // RSV bits of the next frame: RSV1 on the first of a compressed message
	// control: a control message, sent as one frame of at most 125 bytes
	// at Close (RFC 6455 §5.5).
	control bool
	buf     []byte            // bytes written but not yet framed
	pooled  *writeBuffer      // where buf came from, when a BufferPool is used
	own     *transport.Buffer // where buf came from otherwise (the Conn's writeBuffers)
	// copyBuf, when set, is the large buffer ReadFrom switched buf to; it
	// goes back to its pool (putCopyBuffer) when the message ends.
	copyBuf *transport.Buffer
	// deflater compresses the message when it goes out compressed; it
	// belongs to the Conn and is ours while we hold msgLock.
	deflater *frame.Deflater
	// lent is set while ReadFrom waits in its source, which fills buf
	// beyond its length. Whoever ends the message meanwhile (the source
	// itself, through Close or NextWriter) sends buf up to its length and
	// leaves the buffers to ReadFrom.
	lent bool
	// err, set when the message ended other than by Close or NextWriter
	// (a control payload grown past 125 bytes), is what the writer's
	// methods return from then on.
	err error
}

// writeBuffer is what a Conn stores in a BufferPool: a pointer, so that Put
// does not allocate.
type writeBuffer struct{ b []byte }

// NextWriter returns a writer for the next message to send. The writer's
// Close method flushes the complete message to the network.
//
// There can be at most one open writer on a connection. As in
// gorilla/websocket, NextWriter closes the writer that is open when it is
// called, if the application has not done so: the bytes buffered in it go
// out as the final frame of its message, the new message follows (after
// any whole message another goroutine was waiting to send), and the old
// writer's methods fail from then on. A goroutine may thus call NextWriter
// again without closing its writer, and never waits for itself.
// If another goroutine is inside a call on the open writer (a Write blocked
// on a slow peer, say), NextWriter waits for that call to return before it
// closes the writer, so the frames of two messages never interleave
// (RFC 6455 §5.4).
//
// Whose writer is open cannot be known, so NextWriter and the writers it
// returns are for one goroutine at a time, as in gorilla/websocket: a
// second goroutine's NextWriter ends the first one's message where it
// stands. WriteMessage, WriteJSON and WritePreparedMessage, which are safe
// from any goroutine, never close an open writer: they wait until it is
// closed, and so must not be called by the goroutine that holds it before
// it does (they would wait for ever; Close still wakes them). WriteControl,
// and WriteMessage and WritePreparedMessage with a control message, do not
// wait for it: control frames go out between the frames of a message.
//
// Every message type is accepted. A control message (CloseMessage,
// PingMessage or PongMessage) goes out as one frame at Close and carries at
// most 125 bytes (RFC 6455 §5.5): the Write that would take it past that
// fails, as do the writer's later calls, and nothing is sent. A close
// message sent this way counts as the close message sent, as with
// WriteControl: later writes return ErrCloseSent.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	control := false
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		control = true
	default:
		return nil, errBadWriteOpCode
	}
	// The buffer is taken before any lock, so that a BufferPool's code
	// never runs while one is held.
	var st writerState
	if control {
		st.buf = make([]byte, 0, frame.MaxControlPayload)
	} else if c.writeBufferPool != nil {
		wb, _ := c.writeBufferPool.Get().(*writeBuffer)
		if wb == nil || cap(wb.b) < c.writeBufferSize {
			wb = &writeBuffer{b: make([]byte, 0, c.writeBufferSize)}
		}
		st.pooled, st.buf = wb, wb.b[:0]
	} else {
		st.own = c.writeBuffers.Get()
		st.buf = st.own.B[:0]
	}
	err := c.takeMessageLock()
	if err == nil {
		switch {
		case c.closed.Load():
			err = ErrConnClosed
		case c.closeSent.Load():
			err = ErrCloseSent
		}
		if err != nil {
			<-c.msgLock
		}
	}
	if err != nil {
		if st.pooled != nil {
			st.pooled.b = st.buf
		}
		c.putWriteBuffers(st.pooled, st.own, nil)
		return nil, err
	}
	// writeSeq is odd while a writer is open and even between writers, so
	// seq>>1 counts messages and picks the slot. It changes only for the
	// holder of msgLock, which is now us. It moves on once the writer is
	// ready, under w.mu, so that a NextWriter that finds it odd finds the
	// writer ready too.
	seq := c.writeSeq.Load() + 1
	st.seq, st.opcode, st.control = seq, frame.Opcode(messageType), control
	if !control && c.compressing(-1) {
		st.deflater = c.compression.deflater
		st.rsv = frame.Rsv1
	}
	w := c.writerFor(seq)
	w.mu.Lock()
	if w.c == nil {
		w.c = c // once, before the writer is first handed out
	}
	w.writerState = st
	c.writeSeq.Store(seq)
	w.mu.Unlock()
	return w, nil
}

// takeMessageLock acquires msgLock for NextWriter. If a writer is open when
// it is called, its message is ended first. msgLock then goes to whoever
// waited for it longest (a channel hands a released slot to a blocked
// sender), so that a goroutine that keeps opening writers without closing
// them does not starve the others' messages. A writer opened after the
// call began is another goroutine's (this one is here): wait for it.
func (c *Conn) takeMessageLock() error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	select {
	case c.msgLock <- struct{}{}:
		return nil
	default:
	}
	if seq := c.writeSeq.Load(); seq&1 == 1 {
		c.endForNext(c.writerFor(seq), seq)
	}
	return c.acquire(c.msgLock)
}

// writerFor returns the writer that serves message seq's slot.
func (c *Conn) writerFor(seq uint32) *messageWriter {
	home := &c.writers[(seq>>1)&1]
	if w := home.slot.Load(); w != nil {
		return w
	}
	return home
}

// endForNext ends the message, for NextWriter, if w is still the open writer
// with sequence number seq, as Close would: what is buffered goes out as its
// final frame, and msgLock is released. The writer is also retired: a new
// one serves its slot from now on, so that w, which its holder may still
// call, can never write into a later message.
func (c *Conn) endForNext(w *messageWriter, seq uint32) {
	w.mu.Lock()
	if w.seq != seq || c.writeSeq.Load() != seq {
		w.mu.Unlock()
		return // closed meanwhile
	}
	// An error here is the connection's (recorded by failWrite) or
	// ErrCloseSent, both of which the next message meets again.
	_ = w.finish()
	c.writers[(seq>>1)&1].slot.Store(&messageWriter{c: c})
	c.writeSeq.Add(1)
	pooled, own, copyBuf := w.detach()
	<-c.msgLock
	w.mu.Unlock()
	c.putWriteBuffers(pooled, own, copyBuf)
}

// usable reports why the writer's methods cannot be used, if they cannot.
// The caller holds w.mu.
func (w *messageWriter) usable() error {
	switch {
	case w.seq != w.c.writeSeq.Load():
		return w.ended()
	case w.lent:
		return errWriterReentered
	case w.c.closed.Load():
		return ErrConnClosed // bytes buffered now could never be sent
	}
	return nil
}

// ended is the error of a call on a writer whose message has ended.
func (w *messageWriter) ended() error {
	if w.err != nil {
		return w.err
	}
	return errWriterClosed
}

// Write buffers p, sending a frame each time the write buffer fills. A
// write at least as large as the buffer goes out as a frame of its own
// without being copied.
func (w *messageWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	if w.control {
		if err := w.controlFits(len(p)); err != nil {
			return 0, err
		}
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if w.deflater != nil {
		return w.writeCompressed(p)
	}
	written := 0
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= cap(w.buf) {
			if err := w.flushFrame(p, false); err != nil {
				return written, err
			}
			return written + len(p), nil
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
		written += n
		if len(w.buf) == cap(w.buf) {
			if err := w.flushFrame(w.buf, false); err != nil {
				return written, err
			}
			w.buf = w.buf[:0]
		}
	}
	return written, nil
}

// WriteString is Write for a string.
func (w *messageWriter) WriteString(s string) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	if w.control {
		if err := w.controlFits(len(s)); err != nil {
			return 0, err
		}
		w.buf = append(w.buf, s...)
		return len(s), nil
	}
	written := 0
	for len(s) > 0 {
		if w.c.closed.Load() {
			return written, ErrConnClosed
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], s)
		w.buf = w.buf[:len(w.buf)+n]
		s = s[n:]
		written += n
		if w.deflater != nil {
			// Compress through the buffer: no string conversion.
			_, err := w.writeCompressed(w.buf)
			w.buf = w.buf[:0]
			if err != nil {
				return written - n, err
			}
			continue
		}
		if len(w.buf) == cap(w.buf) {
			if err := w.flushFrame(w.buf, false); err != nil {
				return written, err
			}
			w.buf = w.buf[:0]
		}
	}
	return written, nil
}

// controlFits checks that n more bytes keep a control message within the
// 125 bytes of RFC 6455 §5.5. When they would not, the message ends unsent
// and frees the connection for the next writer, and the writer's calls
// return errInvalidControlFrame from then on. (gorilla/websocket reports
// the same error from Close.) The caller holds w.mu.
func (w *messageWriter) controlFits(n int) error {
	if len(w.buf)+n <= frame.MaxControlPayload {
		return nil
	}
	c := w.c
	c.writeSeq.Add(1)
	// A control writer's buffer is its own, not a pool's.
	w.writerState = writerState{seq: w.seq, err: errInvalidControlFrame}
	<-c.msgLock
	return errInvalidControlFrame
}

// detach takes the writer's buffers from it, for the caller to give back
// with putWriteBuffers once it holds no lock, unless ReadFrom has lent them
// to its source: then ReadFrom gives them back. The caller holds w.mu.
func (w *messageWriter) detach() (pooled *writeBuffer, own, copyBuf *transport.Buffer) {
	if w.lent {
		return nil, nil, nil
	}
	pooled, own, copyBuf = w.pooled, w.own, w.copyBuf
	if pooled != nil {
		pooled.b = w.buf[:0]
	}
	w.pooled, w.own, w.copyBuf, w.buf = nil, nil, nil, nil
	return pooled, own, copyBuf
}

// putWriteBuffers gives writer buffers back to the pools they came from.
func (c *Conn) putWriteBuffers(pooled *writeBuffer, own, copyBuf *transport.Buffer) {
	if pooled != nil {
		c.writeBufferPool.Put(pooled)
	}
	if own != nil {
		c.writeBuffers.Put(own)
	}
	if copyBuf != nil {
		putCopyBuffer(copyBuf)
	}
}

// ReadFrom's buffers come from pools of sizes minCopyBuffer to
// maxCopyBuffer, powers of two: a message copied from a NextReader whose
// length is known goes out as one frame up to maxCopyBuffer.
const (
	minCopyBuffer = 32 << 10
	maxCopyBuffer = 1 << 20
)

// copyPools are the pools of ReadFrom's buffers, smallest first.
var copyPools = func() (pools []*transport.Pool) {
	for n := minCopyBuffer; n <= maxCopyBuffer; n <<= 1 {
		pools = append(pools, transport.PoolFor(n))
	}
	return pools
}()

// copyBufferFor returns a pooled buffer of at least size bytes, within the
// bounds above.
func copyBufferFor(size int64) *transport.Buffer {
	i := 0
	for n := int64(minCopyBuffer); n < size && i < len(copyPools)-1; n <<= 1 {
		i++
	}
	return copyPools[i].Get()
}

// putCopyBuffer gives a buffer from copyBufferFor back to its pool.
func putCopyBuffer(pb *transport.Buffer) {
	for _, p := range copyPools {
		if p.Size() == len(pb.B) {
			p.Put(pb)
			return
		}
	}
}

// ReadFrom copies r into the message until r returns io.EOF, so that
// io.Copy and io.CopyBuffer to a message writer use it. It reads into a
// pooled buffer and sends a frame only when the buffer is full and more is
// to come; what it read last is sent by Close as the final frame. When r is
// a message from NextReader whose length the headers give, the buffer
// holds the whole message, up to 1 MiB: an echo or proxy loop forwards
// each message as one frame, with one write. Other readers go out in
// frames of 32 KiB. Either way there is no empty final frame, which Write
// followed by Close would need.
//
// r may use the Conn while ReadFrom waits in it (its ping handler answers,
// say): WriteControl, Close, and NextWriter, which ends this message with
// what was read before, all work from there; writing to this writer from
// there fails.
func (w *messageWriter) ReadFrom(r io.Reader) (int64, error) {
	mr, _ := r.(*messageReader)
	var known int64
	if mr != nil {
		known = mr.knownRemaining() // before w.mu: it takes the read lock
	}
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	if w.control {
		w.mu.Unlock()
		return w.readControlFrom(r)
	}
	var pooled *writeBuffer
	var own *transport.Buffer
	if w.copyBuf == nil {
		// Switch to a large buffer, keeping what Write buffered so far:
		// large enough for the whole message when r is a message whose
		// length is known.
		cb := copyBufferFor(int64(len(w.buf)) + known)
		n := copy(cb.B, w.buf)
		pooled, own, _ = w.detach()
		w.copyBuf, w.buf = cb, cb.B[:n]
	}
	total, err := w.copyFrom(r, mr)
	w.mu.Unlock()
	w.c.putWriteBuffers(pooled, own, nil)
	return total, err
}

// copyFrom is ReadFrom's loop. w.mu is held on entry and on return, and is
// released around every call into r, with the buffer lent: the message may
// end meanwhile, and then the buffer is ours to give back.
func (w *messageWriter) copyFrom(r io.Reader, mr *messageReader) (int64, error) {
	seq := w.seq
	var total int64
	for idle := 0; ; {
		if w.deflater != nil && len(w.buf) > 0 {
			if _, err := w.writeCompressed(w.buf); err != nil {
				return total, err
			}
			w.buf = w.buf[:0]
		}
		if len(w.buf) == cap(w.buf) {
			if mr != nil {
				cb := w.copyBuf
				w.lent = true
				w.mu.Unlock()
				eof := mr.atEOF()
				w.mu.Lock()
				if !w.openAs(seq) {
					putCopyBuffer(cb)
					return total, errWriterClosed
				}
				w.lent = false
				if eof {
					return total, nil // the buffer is the last frame: Close sends it
				}
			}
			if err := w.flushFrame(w.buf, false); err != nil {
				return total, err
			}
			w.buf = w.buf[:0]
		}
		cb, buf := w.copyBuf, w.buf
		w.lent = true
		w.mu.Unlock()
		n, err := r.Read(buf[len(buf):cap(buf)])
		w.mu.Lock()
		if !w.openAs(seq) {
			// r ended the message (Close, NextWriter) while it read:
			// what it returned has no message to go to.
			putCopyBuffer(cb)
			return total, errWriterClosed
		}
		w.lent = false
		w.buf = buf[:len(buf)+n]
		total += int64(n)
		switch {
		case err == io.EOF:
			if w.deflater != nil && len(w.buf) > 0 {
				_, err := w.writeCompressed(w.buf)
				w.buf = w.buf[:0]
				return total, err
			}
			return total, nil
		case err != nil:
			return total, err
		case n > 0:
			idle = 0
		default:
			if idle++; idle >= maxEmptyReads {
				return total, io.ErrNoProgress
			}
		}
	}
}

// openAs reports whether w still holds the open message with sequence
// number seq. The caller holds w.mu.
func (w *messageWriter) openAs(seq uint32) bool {
	return w.seq == seq && w.c.writeSeq.Load() == seq
}

// readControlFrom is ReadFrom for a control message: r is read through a
// small buffer of its own and written with Write, which enforces the limit.
func (w *messageWriter) readControlFrom(r io.Reader) (int64, error) {
	buf := make([]byte, frame.MaxControlPayload+1)
	var total int64
	for idle := 0; ; {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
			idle = 0
		}
		switch {
		case err == io.EOF:
			return total, nil
		case err != nil:
			return total, err
		case n == 0:
			if idle++; idle >= maxEmptyReads {
				return total, io.ErrNoProgress
			}
		}
	}
}

// maxEmptyReads is how many reads in a row may return nothing before
// ReadFrom gives up on the reader.
const maxEmptyReads = 100

// Close sends the buffered bytes as the final frame of the message (a
// control message as its one frame) and frees the connection for the next
// writer. Closing a writer again, or one whose message NextWriter already
// ended, returns an error and sends nothing.
func (w *messageWriter) Close() error {
	c := w.c
	w.mu.Lock()
	if w.seq != c.writeSeq.Load() {
		err := w.ended()
		w.mu.Unlock()
		return err
	}
	err := w.finish()
	c.writeSeq.Add(1) // this writer is now stale
	pooled, own, copyBuf := w.detach()
	w.writerState = writerState{seq: w.seq}
	<-c.msgLock
	w.mu.Unlock()
	c.putWriteBuffers(pooled, own, copyBuf)
	return err
}

// finish sends what ends the message: the final frame of a data message,
// the one frame of a control message. The caller holds w.mu, and the
// message holds msgLock.
func (w *messageWriter) finish() error {
	c := w.c
	if w.control {
		return c.WriteControl(int(w.opcode), w.buf, time.Time{})
	}
	if w.deflater != nil {
		last, err := w.deflater.Finish()
		if err == nil {
			err = w.flushFrame(last, true)
		}
		w.deflater.EndMessage()
		return err
	}
	return w.flushFrame(w.buf, true)
}

func (w *messageWriter) flushFrame(payload []byte, fin bool) error {
	c := w.c
	if err := c.acquire(c.frameLock); err != nil {
		return err
	}
	err := c.writeFrameLocked(frame.Header{Fin: fin, Rsv: w.rsv, Opcode: w.opcode}, payload, 0)
	<-c.frameLock
	w.opcode, w.rsv = frame.OpContinuation, 0
	return err
}

// writeCompressed compresses p into the message and sends a frame whenever
// a buffer's worth of compressed bytes is ready.
func (w *messageWriter) writeCompressed(p []byte) (int, error) {
	d := w.deflater
	if _, err := d.Write(p); err != nil {
		return 0, err
	}
	if pending := d.Pending(); len(pending) >= w.c.writeBufferSize {
		if err := w.flushFrame(pending, false); err != nil {
			return 0, err
		}
		d.Consume(len(pending))
	}
	return len(p), nil
}

// WriteMessage is a helper method for getting a writer using NextWriter,
// writing the message and closing the writer. A data message goes out as a
// single frame; control messages are sent with WriteControl.
//
// It is safe to call from any goroutine. A data message waits while a
// writer from NextWriter is open, until that writer is closed: WriteMessage
// does not close it, unlike gorilla/websocket's, since the writer may be
// another goroutine's (see NextWriter). A control message does not wait.
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		return c.WriteControl(messageType, data, time.Time{})
	default:
		return errBadWriteOpCode
	}
	if err := c.acquire(c.msgLock); err != nil {
		return err
	}
	defer func() { <-c.msgLock }()
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	if c.compressing(len(data)) {
		return c.writeCompressed(frame.Opcode(messageType), data)
	}
	if err := c.acquire(c.frameLock); err != nil {
		return err
	}
	err := c.writeFrameLocked(frame.Header{Fin: true, Opcode: frame.Opcode(messageType)}, data, 0)
	<-c.frameLock
	return err
}

// WriteControl writes a control message (CloseMessage, PingMessage or
// PongMessage) with the given deadline; a zero deadline means the write
// deadline set with SetWriteDeadline applies. The payload must be at most
// 125 bytes (RFC 6455 §5.5). It may be called while a NextWriter is open:
// the control frame goes out between the message's frames.
//
// A deadline that has already passed returns a timeout error at once and
// sends nothing, as in gorilla/websocket; the connection stays usable.
//
// After a close message has been sent, further writes return ErrCloseSent.
func (c *Conn) WriteControl(messageType int, data []byte, deadline time.Time) error {
	switch messageType {
	case CloseMessage, PingMessage, PongMessage:
	default:
		return errBadWriteOpCode
	}
	if len(data) > frame.MaxControlPayload {
		return errInvalidControlFrame
	}
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		// Handing the transport a deadline in the past would fail the
		// write there, and a failed write ends every later one.
		return c.writeTimeoutError()
	}
	if err := c.acquireBefore(c.frameLock, deadline); err != nil {
		return err
	}
	defer func() { <-c.frameLock }()
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	err := c.writeFrameLocked(frame.Header{Fin: true, Opcode: frame.Opcode(messageType)}, data, deadlineNanos(deadline))
	if messageType == CloseMessage && err == nil {
		c.closeWasSent()
	}
	return err
}

// closeWasSent records that a close frame has gone out, by whichever path:
// no data frame may follow it (RFC 6455 §5.5.1), the TCP connection closes
// if the peer's close came first, and otherwise the peer's close is awaited
// for CloseHandshakeTimeout (§7.1.1). The caller holds frameLock.
func (c *Conn) closeWasSent() {
	c.closeSent.Store(true)
	c.closeIfHandshakeDone()
	if !c.closed.Load() && c.closeTimeout > 0 {
		time.AfterFunc(c.closeTimeout, func() {
			if !c.closeReceived.Load() {
				_ = c.Close()
			}
		})
	}
}

// maskChunk is how much of a client's payload is masked into the output
// buffer at a time.
const maskChunk = 32 << 10

// writeFrameLocked sends one frame: the header goes into the transport's
// output buffer, the payload follows (masked on the way for a client), and
// one Flush hands both to the kernel. deadline, when not zero, overrides the
// connection's write deadline for this frame. The caller holds frameLock.
func (c *Conn) writeFrameLocked(h frame.Header, payload []byte, deadline int64) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	if c.writeErr != nil {
		return c.writeErr
	}
	if !h.Opcode.IsControl() && c.closeSent.Load() {
		// RFC 6455 §5.5.1: no data frame after a close frame. A message
		// checked closeSent before it took frameLock, but a close may
		// have gone out since, or while its writer was open.
		return ErrCloseSent
	}
	if err := c.applyWriteDeadline(deadline); err != nil {
		return c.failWrite(err)
	}
	h.PayloadLen = int64(len(payload))
	if c.role == frame.RoleClient {
		// RFC 6455 §5.3: a client masks every frame with a fresh key.
		h.Masked = true
		h.Mask = newMaskKey()
	}
	buf, err := c.t.Malloc(h.Size())
	if err != nil {
		return c.failWrite(err)
	}
	frame.PutHeader(buf, h)
	if h.Masked {
		err = c.writeMaskedPayload(payload, h.Mask)
	} else {
		err = c.writePayload(payload)
	}
	if err != nil {
		return c.failWrite(err)
	}
	if err := c.t.Flush(); err != nil {
		return c.failWrite(err)
	}
	return nil
}

// writeMaskedPayload masks payload with key on its way into the output
// buffer, in chunks, so that a large message needs no buffer of its size:
// every chunk but the last is sent as soon as it is masked, and the output
// buffer never grows past one chunk. The caller flushes the last.
func (c *Conn) writeMaskedPayload(payload []byte, key [4]byte) error {
	pos := 0
	for len(payload) > 0 {
		n := len(payload)
		if n > maskChunk {
			n = maskChunk
		}
		buf, err := c.t.Malloc(n)
		if err != nil {
			return err
		}
		pos = frame.MaskCopy(buf, payload[:n], key, pos)
		payload = payload[n:]
		if len(payload) > 0 {
			if err := c.t.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// writePayload queues b after what the output buffer holds (the transport
// may reference a large b until the flush, or send it at once).
func (c *Conn) writePayload(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := c.t.WriteBinary(b)
	return err
}

// queueRawLocked puts bytes that already form whole frames (a prepared
// message) in the output buffer, to go out at the next flushLocked. The
// caller holds frameLock.
func (c *Conn) queueRawLocked(b []byte) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	if c.writeErr != nil {
		return c.writeErr
	}
	if err := c.applyWriteDeadline(0); err != nil {
		return c.failWrite(err)
	}
	if err := c.writePayload(b); err != nil {
		return c.failWrite(err)
	}
	return nil
}

// flushLocked sends what the output buffer holds. The caller holds
// frameLock.
func (c *Conn) flushLocked() error {
	if err := c.t.Flush(); err != nil {
		return c.failWrite(err)
	}
	return nil
}

// failWrite records a transport write error: a frame may have been cut, so
// the stream can no longer be trusted and every later write fails too.
//
// A write that timed out at the WriteTimeout (no deadline of the
// application's in force) closes the connection: a peer that has not read
// for that long is gone or hostile, and the goroutines reading and writing
// for it should end.
func (c *Conn) failWrite(err error) error {
	if c.closed.Load() {
		err = ErrConnClosed
	}
	c.writeErr = err
	if c.wd.fromFallback.Load() && isTimeout(err) {
		_ = c.Close()
	}
	return err
}

// isTimeout reports whether err is a net.Error that timed out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closeIfHandshakeDone closes the TCP connection once close frames have gone
// both ways. RFC 6455 §7.1.1: the server should close the TCP connection
// first; a client waits for the server to do so.
func (c *Conn) closeIfHandshakeDone() {
	if c.role == frame.RoleServer && c.closeSent.Load() && c.closeReceived.Load() {
		_ = c.Close()
	}
}
