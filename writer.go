package websocket

import (
	"io"
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
	// For the Observer: the message's type, the bytes written to a
	// compressed message, and the payload bytes of the frames sent.
	messageType     frame.Opcode
	written, framed int64
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
			c.msgLock.unlock()
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
	st.messageType = st.opcode
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
// waited for it longest (writeLock hands a released lock to its oldest
// waiter), so that a goroutine that keeps opening writers without closing
// them does not starve the others' messages. A writer opened after the
// call began is another goroutine's (this one is here): wait for it.
func (c *Conn) takeMessageLock() error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	if c.msgLock.tryLock() {
		return nil
	}
	if seq := c.writeSeq.Load(); seq&1 == 1 {
		c.endForNext(c.writerFor(seq), seq)
	}
	return c.acquire(&c.msgLock)
}

// writerFor returns the writer that serves message seq's slot.
func (c *Conn) writerFor(seq uint32) *messageWriter {
	home := &c.writerPair()[(seq>>1)&1]
	if w := home.slot.Load(); w != nil {
		return w
	}
	return home
}

// writerPair returns the Conn's two writers, making them on first use: a
// Conn that never calls NextWriter does not carry them.
func (c *Conn) writerPair() *[2]messageWriter {
	if p := c.writers.Load(); p != nil {
		return p
	}
	c.writers.CompareAndSwap(nil, new([2]messageWriter))
	return c.writers.Load()
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
	c.writerPair()[(seq>>1)&1].slot.Store(&messageWriter{c: c})
	c.writeSeq.Add(1)
	pooled, own, copyBuf := w.detach()
	c.msgLock.unlock()
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
// without being copied, and a compressed message is compressed from p.
func (w *messageWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	if w.deflater != nil && !w.control {
		return w.writeCompressed(p)
	}
	n, err := appendFrames(w, p, true)
	if err != nil || n == len(p) {
		return n, err
	}
	if err := w.flushFrame(p[n:], false); err != nil {
		return n, err
	}
	return len(p), nil
}

// WriteString is Write for a string, which it copies into the write
// buffer (compressing from there, for a compressed message).
func (w *messageWriter) WriteString(s string) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	return appendFrames(w, s, false)
}

// appendFrames copies p into the write buffer and sends a frame each time
// the buffer fills, compressed for a compressed message; a control message
// only collects its payload, up to the 125 bytes it may carry. With
// stopAtLarge it returns early, the buffer empty, when the rest of p would
// fill the buffer by itself, so that the caller can send that rest without
// copying. It returns how many bytes of p it took. w.mu is held.
func appendFrames[T []byte | string](w *messageWriter, p T, stopAtLarge bool) (int, error) {
	if w.control {
		if err := w.controlFits(len(p)); err != nil {
			return 0, err
		}
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	written := 0
	for len(p) > 0 {
		if w.c.closed.Load() {
			return written, ErrConnClosed
		}
		if stopAtLarge && len(w.buf) == 0 && len(p) >= cap(w.buf) {
			return written, nil
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
		written += n
		if w.deflater != nil {
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
	c.msgLock.unlock()
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

// openAs reports whether w still holds the open message with sequence
// number seq. The caller holds w.mu.
func (w *messageWriter) openAs(seq uint32) bool {
	return w.seq == seq && w.c.writeSeq.Load() == seq
}

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
	c.msgLock.unlock()
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
	if err := c.acquire(&c.frameLock); err != nil {
		return err
	}
	err := c.writeFrameLocked(frame.Header{Fin: fin, Rsv: w.rsv, Opcode: w.opcode}, payload, 0)
	c.frameLock.unlock()
	w.opcode, w.rsv = frame.OpContinuation, 0
	w.framed += int64(len(payload))
	if fin && err == nil && c.observer != nil {
		w.observeWritten()
	}
	return err
}

// observeWritten reports the message, whose final frame has gone out, to
// the Conn's observer.
func (w *messageWriter) observeWritten() {
	payload := w.framed
	if w.deflater != nil {
		payload = w.written
	}
	w.c.observeWritten(w.messageType, payload, w.framed)
}

// writeCompressed compresses p into the message and sends a frame whenever
// a buffer's worth of compressed bytes is ready.
func (w *messageWriter) writeCompressed(p []byte) (int, error) {
	d := w.deflater
	if _, err := d.Write(p); err != nil {
		return 0, err
	}
	w.written += int64(len(p))
	if pending := d.Pending(); len(pending) >= w.c.writeBufferSize {
		if err := w.flushFrame(pending, false); err != nil {
			return 0, err
		}
		d.Consume(len(pending))
	}
	return len(p), nil
}
