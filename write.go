package websocket

import (
	"time"

	"github.com/hertzws/websocket/frame"
)

// WriteMessage is a helper method for getting a writer using NextWriter,
// writing the message and closing the writer. A data message goes out as a
// single frame; control messages are sent with WriteControl.
//
// It is safe to call from any goroutine. A data message waits while a
// writer from NextWriter is open, until that writer is closed: WriteMessage
// does not close it, unlike gorilla/websocket's, since the writer may be
// another goroutine's (see NextWriter). A control message does not wait.
//
// When it returns nil, the message has been handed to the kernel or, while
// the reader still has received messages to deliver, held in the output
// buffer to go out with the answers to them, within 500 µs at the latest
// (see "Corked writes" in the package documentation); an error sending a
// held message is returned by the next write.
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		return c.WriteControl(messageType, data, time.Time{})
	default:
		return errBadWriteOpCode
	}
	if err := c.acquire(&c.msgLock); err != nil {
		return err
	}
	defer c.msgLock.unlock()
	return c.writeDataLocked(frame.Opcode(messageType), data, false)
}

// writeDataLocked sends data as one message, compressed when that is on.
// In a batch (WriteMessages) its frame is held for the batch's flush. The
// caller holds msgLock.
func (c *Conn) writeDataLocked(opcode frame.Opcode, data []byte, batch bool) error {
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	h := frame.Header{Fin: true, Opcode: opcode}
	size := len(data) // for the observer: data may become the compressed payload
	if c.compressing(len(data)) {
		payload, err := c.compress(data)
		if err != nil {
			return err
		}
		defer c.compression.deflater.EndMessage()
		// RFC 7692 §6: RSV1 marks the first frame of a compressed message.
		h.Rsv, data = frame.Rsv1, payload
	}
	if err := c.acquire(&c.frameLock); err != nil {
		return err
	}
	c.cork.batch = batch
	err := c.writeFrameLocked(h, data, 0)
	c.cork.batch = false
	c.frameLock.unlock()
	if err == nil {
		c.observeWritten(opcode, int64(size), int64(len(data)))
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
	hold := c.holdable(h, len(payload))
	// The payload is copied into the output buffer right behind its header
	// (masked on the way for a client) when the frame may be held, so that
	// the caller's slice is free when the write returns; when it is masked
	// and fits in one chunk; and when the transport would otherwise send
	// header and payload with a call each.
	whole := hold || c.t.CopiesPayload(len(payload))
	if h.Masked {
		whole = len(payload) <= maskChunk
	}
	size := h.Size()
	if whole {
		size += len(payload)
	}
	buf, err := c.t.Malloc(size)
	if err != nil {
		return c.failWrite(err)
	}
	n := frame.PutHeader(buf, h)
	switch {
	case whole && h.Masked:
		frame.MaskCopy(buf[n:], payload, h.Mask, 0)
	case whole:
		copy(buf[n:], payload)
	case h.Masked:
		err = c.writeMaskedPayload(payload, h.Mask)
	default:
		err = c.writePayload(payload)
	}
	if err != nil {
		return c.failWrite(err)
	}
	if hold && c.holdLocked(n+len(payload)) {
		return nil // see cork.go
	}
	return c.flushLocked()
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
