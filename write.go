package websocket

import (
	"io"
	"time"

	"github.com/hertzws/websocket/frame"
)

// messageWriter is the io.WriteCloser NextWriter hands out. Like readers,
// the Conn keeps two and alternates, so a writer costs no allocation and a
// writer used after its Close is recognised by its sequence number.
type messageWriter struct {
	c      *Conn
	seq    uint32
	opcode frame.Opcode // of the next frame: the message type, then continuation
	rsv    byte         // RSV bits of the next frame: RSV1 on the first of a compressed message
	buf    []byte       // bytes written but not yet framed
	pooled *writeBuffer // where buf came from, when a BufferPool is used
	own    *pooledBytes // where buf came from otherwise (the Conn's writeBuffers)
	// copyBuf, when set, is the large buffer ReadFrom switched buf to; it
	// goes back to its pool (putCopyBuffer) at Close.
	copyBuf *pooledBytes
	// deflater compresses the message when it goes out compressed; it
	// belongs to the Conn and is ours while we hold msgLock.
	deflater *frame.Deflater
}

// writeBuffer is what a Conn stores in a BufferPool: a pointer, so that Put
// does not allocate.
type writeBuffer struct{ b []byte }

// NextWriter returns a writer for the next message to send. The writer's
// Close method flushes the complete message to the network.
//
// There can be at most one open writer on a connection: NextWriter waits
// until the previous writer is closed. Only TextMessage and BinaryMessage
// are accepted; use WriteControl for control messages.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	if messageType != TextMessage && messageType != BinaryMessage {
		return nil, errBadWriteOpCode
	}
	if err := c.acquire(c.msgLock); err != nil {
		return nil, err
	}
	if c.closeSent.Load() {
		<-c.msgLock
		return nil, ErrCloseSent
	}
	// writeSeq is odd while a writer is open and even between writers, so
	// seq>>1 counts messages and picks the slot.
	seq := c.writeSeq.Add(1)
	w := &c.writers[(seq>>1)&1]
	*w = messageWriter{c: c, seq: seq, opcode: frame.Opcode(messageType)}
	if c.compressing(-1) {
		w.deflater = c.compression.deflater
		w.rsv = frame.Rsv1
	}
	if c.writeBufferPool != nil {
		wb, _ := c.writeBufferPool.Get().(*writeBuffer)
		if wb == nil || cap(wb.b) < c.writeBufferSize {
			wb = &writeBuffer{b: make([]byte, 0, c.writeBufferSize)}
		}
		w.pooled = wb
		w.buf = wb.b[:0]
	} else {
		w.own = c.writeBuffers.get()
		w.buf = w.own.b[:0]
	}
	return w, nil
}

// Write buffers p, sending a frame each time the write buffer fills. A
// write at least as large as the buffer goes out as a frame of its own
// without being copied.
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.seq != w.c.writeSeq.Load() {
		return 0, errWriterClosed
	}
	if w.c.closed.Load() {
		return 0, ErrConnClosed // bytes buffered now could never be sent
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
	written := 0
	for len(s) > 0 {
		if w.seq != w.c.writeSeq.Load() {
			return written, errWriterClosed
		}
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

// releaseBuffer gives the writer's buffer back to the pool it came from.
func (w *messageWriter) releaseBuffer() {
	switch {
	case w.pooled != nil:
		w.pooled.b = w.buf[:0]
		w.c.writeBufferPool.Put(w.pooled)
	case w.own != nil:
		w.c.writeBuffers.put(w.own)
	}
	w.pooled, w.own = nil, nil
}

// ReadFrom's buffers come from pools of sizes minCopyBuffer to
// maxCopyBuffer, powers of two: a message copied from a NextReader whose
// length is known goes out as one frame up to maxCopyBuffer.
const (
	minCopyBuffer = 32 << 10
	maxCopyBuffer = 1 << 20
)

// copyPools are the pools of ReadFrom's buffers, smallest first.
var copyPools = func() (pools []*bytePool) {
	for n := minCopyBuffer; n <= maxCopyBuffer; n <<= 1 {
		pools = append(pools, bytePoolFor(n))
	}
	return pools
}()

// copyBufferFor returns a pooled buffer of at least size bytes, within the
// bounds above.
func copyBufferFor(size int64) *pooledBytes {
	i := 0
	for n := int64(minCopyBuffer); n < size && i < len(copyPools)-1; n <<= 1 {
		i++
	}
	return copyPools[i].get()
}

// putCopyBuffer gives a buffer from copyBufferFor back to its pool.
func putCopyBuffer(pb *pooledBytes) {
	for _, p := range copyPools {
		if p.size == len(pb.b) {
			p.put(pb)
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
func (w *messageWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.seq != w.c.writeSeq.Load() {
		return 0, errWriterClosed
	}
	if w.c.closed.Load() {
		return 0, ErrConnClosed
	}
	mr, _ := r.(*messageReader)
	if w.copyBuf == nil {
		// Switch to a large buffer, keeping what Write buffered so far:
		// large enough for the whole message when r is a message whose
		// length is known.
		size := int64(len(w.buf))
		if mr != nil {
			size += mr.knownRemaining()
		}
		cb := copyBufferFor(size)
		n := copy(cb.b, w.buf)
		w.releaseBuffer()
		w.copyBuf, w.buf = cb, cb.b[:n]
	}
	var total int64
	for idle := 0; ; {
		if w.deflater != nil && len(w.buf) > 0 {
			if _, err := w.writeCompressed(w.buf); err != nil {
				return total, err
			}
			w.buf = w.buf[:0]
		}
		if len(w.buf) == cap(w.buf) {
			if mr != nil && mr.atEOF() {
				return total, nil // the buffer is the last frame: Close sends it
			}
			if err := w.flushFrame(w.buf, false); err != nil {
				return total, err
			}
			w.buf = w.buf[:0]
		}
		n, err := r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+n]
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

// maxEmptyReads is how many reads in a row may return nothing before
// ReadFrom gives up on the reader.
const maxEmptyReads = 100

// Close sends the buffered bytes as the final frame of the message and
// frees the connection for the next writer.
func (w *messageWriter) Close() error {
	c := w.c
	if w.seq != c.writeSeq.Load() {
		return errWriterClosed
	}
	var err error
	if w.deflater != nil {
		var last []byte
		if last, err = w.deflater.Finish(); err == nil {
			err = w.flushFrame(last, true)
		}
		w.deflater.EndMessage()
	} else {
		err = w.flushFrame(w.buf, true)
	}
	c.writeSeq.Add(1) // this writer is now stale
	if w.copyBuf != nil {
		putCopyBuffer(w.copyBuf)
	} else {
		w.releaseBuffer()
	}
	*w = messageWriter{c: c, seq: w.seq}
	<-c.msgLock
	return err
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
	if err := c.acquireBefore(c.frameLock, deadline); err != nil {
		return err
	}
	defer func() { <-c.frameLock }()
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	err := c.writeFrameLocked(frame.Header{Fin: true, Opcode: frame.Opcode(messageType)}, data, deadlineNanos(deadline))
	if messageType == CloseMessage && err == nil {
		c.closeSent.Store(true)
		c.closeIfHandshakeDone()
		if !c.closed.Load() {
			// Wait a bounded time for the peer's close (RFC 6455 §7.1.1).
			time.AfterFunc(CloseHandshakeTimeout, func() {
				if !c.closeReceived.Load() {
					_ = c.Close()
				}
			})
		}
	}
	return err
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
	if err := c.applyWriteDeadline(deadline); err != nil {
		return c.failWrite(err)
	}
	h.PayloadLen = int64(len(payload))
	if c.role == frame.RoleClient {
		// RFC 6455 §5.3: a client masks every frame with a fresh key. The
		// payload is masked on its way into the output buffer, in chunks,
		// so a large message does not need a buffer of its size.
		h.Masked = true
		h.Mask = newMaskKey()
		buf, err := c.t.Malloc(h.Size())
		if err != nil {
			return c.failWrite(err)
		}
		frame.PutHeader(buf, h)
		pos := 0
		for len(payload) > 0 {
			n := len(payload)
			if n > maskChunk {
				n = maskChunk
			}
			buf, err := c.t.Malloc(n)
			if err != nil {
				return c.failWrite(err)
			}
			pos = frame.MaskCopy(buf, payload[:n], h.Mask, pos)
			payload = payload[n:]
			if len(payload) > 0 {
				// Send each chunk as it is masked: the output
				// buffer never grows past one chunk.
				if err := c.t.Flush(); err != nil {
					return c.failWrite(err)
				}
			}
		}
	} else {
		buf, err := c.t.Malloc(h.Size())
		if err != nil {
			return c.failWrite(err)
		}
		frame.PutHeader(buf, h)
		if err := c.writePayload(payload); err != nil {
			return c.failWrite(err)
		}
	}
	if err := c.t.Flush(); err != nil {
		return c.failWrite(err)
	}
	return nil
}

// writePayload queues b after what the output buffer holds. A large b goes
// through largeWriter where there is one, which sends the buffer and then b
// without allocating.
func (c *Conn) writePayload(b []byte) error {
	if c.largeWriter != nil && len(b) >= largeWrite {
		_, err := c.largeWriter.Write(b)
		return err
	}
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
func (c *Conn) failWrite(err error) error {
	if c.closed.Load() {
		err = ErrConnClosed
	}
	c.writeErr = err
	return err
}

// closeIfHandshakeDone closes the TCP connection once close frames have gone
// both ways. RFC 6455 §7.1.1: the server should close the TCP connection
// first; a client waits for the server to do so.
func (c *Conn) closeIfHandshakeDone() {
	if c.role == frame.RoleServer && c.closeSent.Load() && c.closeReceived.Load() {
		_ = c.Close()
	}
}
