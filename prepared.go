package websocket

import (
	"github.com/hertzws/websocket/frame"
)

// PreparedMessage caches the on-the-wire form of a message so that sending
// it to many connections frames it, and compresses it, once. It is safe for
// concurrent use.
//
// One form is kept per way of sending that the message was asked for:
// uncompressed, or compressed at a given level and window size. A compressed
// form is a fresh DEFLATE stream that refers to no earlier message, so the
// same bytes are correct on connections with and without context takeover;
// a connection with context takeover restarts its own window after sending
// one (see frame.Deflater.ForgetContext).
//
// A server writes the same bytes to every connection; a client masks each
// send with a fresh key, as RFC 6455 §5.3 requires, so for a client a
// prepared message saves the framing and compression but not the copy.
type PreparedMessage struct {
	messageType int
	data        []byte
	forms       preparedForms
}

// NewPreparedMessage returns an initialized PreparedMessage. The data is
// copied, so the caller may reuse its slice. Every message type is
// accepted; a control message (CloseMessage, PingMessage, PongMessage)
// carries at most 125 bytes (RFC 6455 §5.5), and a longer one is refused
// here, as gorilla/websocket refuses it.
func NewPreparedMessage(messageType int, data []byte) (*PreparedMessage, error) {
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		if len(data) > frame.MaxControlPayload {
			return nil, errInvalidControlFrame
		}
	default:
		return nil, errBadWriteOpCode
	}
	return &PreparedMessage{messageType: messageType, data: append([]byte(nil), data...)}, nil
}

// isControl reports whether the message is a control message, which goes
// out between the frames of a data message and is never compressed
// (RFC 6455 §5.4, RFC 7692 §6).
func (pm *PreparedMessage) isControl() bool {
	return frame.Opcode(pm.messageType).IsControl()
}

// form returns the message encoded as key asks, encoding it on first use.
func (pm *PreparedMessage) form(key preparedKey) (*preparedForm, error) {
	pm.forms.mu.Lock()
	defer pm.forms.mu.Unlock()
	for _, f := range pm.forms.forms {
		if f.key == key {
			return f, nil
		}
	}
	f := &preparedForm{key: key, payload: pm.data}
	h := frame.Header{Fin: true, Opcode: frame.Opcode(pm.messageType)}
	if key.compressed {
		payload, err := frame.AppendCompressed(nil, pm.data, key.level, key.windowBits)
		if err != nil {
			return nil, err
		}
		f.payload = payload
		h.Rsv = frame.Rsv1
	}
	h.PayloadLen = int64(len(f.payload))
	b := make([]byte, 0, h.Size()+len(f.payload))
	b = frame.AppendHeader(b, h)
	f.frame = append(b, f.payload...)
	pm.forms.forms = append(pm.forms.forms, f)
	return f, nil
}

// WritePreparedMessage writes prepared message into connection. It is safe
// to call from any goroutine. A data message waits while a writer from
// NextWriter is open, as WriteMessage does; a control message goes out
// between its frames. A prepared close message counts as the close message
// sent, as with WriteControl: later writes return ErrCloseSent.
func (c *Conn) WritePreparedMessage(pm *PreparedMessage) error {
	one := [1]*PreparedMessage{pm} // stays on the stack: writePrepared keeps no reference
	return c.writePrepared(one[:])
}

// WritePreparedMessages writes the prepared messages in order, as as many
// calls of WritePreparedMessage would, but hands them to the network
// together: a server sends up to a few KiB of them with one system call.
// A connection's queue of outgoing messages (a hub's writer for one
// client, say) thus drains with fewer system calls than messages, which
// also lets the kernel send them in fewer packets. It stops at the first
// message that fails, and at a close message: the messages after it
// return ErrCloseSent, unsent.
func (c *Conn) WritePreparedMessages(pms []*PreparedMessage) error {
	return c.writePrepared(pms)
}

// batchFlush is how many bytes of prepared frames a server queues in the
// transport's output buffer before it flushes them.
const batchFlush = 4096

func (c *Conn) writePrepared(pms []*PreparedMessage) error {
	// Data messages need the data side; a batch of control messages
	// only, like WriteControl, does not wait for an open writer.
	data := false
	for _, pm := range pms {
		if !pm.isControl() {
			data = true
			break
		}
	}
	if data {
		if err := c.acquire(&c.msgLock); err != nil {
			return err
		}
		defer c.msgLock.unlock()
	}
	if err := c.acquire(&c.frameLock); err != nil {
		return err
	}
	defer c.frameLock.unlock()
	queued := 0
	for _, pm := range pms {
		if c.closeSent.Load() {
			if queued > 0 {
				if err := c.flushLocked(); err != nil {
					return err
				}
			}
			return ErrCloseSent
		}
		var key preparedKey
		if !pm.isControl() && c.compressing(len(pm.data)) {
			d := c.compression.deflater
			key = preparedKey{compressed: true, level: d.Level(), windowBits: d.WindowBits()}
		}
		f, err := pm.form(key)
		if err != nil {
			if queued > 0 {
				_ = c.flushLocked()
			}
			return err
		}
		if c.role == frame.RoleClient {
			// RFC 6455 §5.3: a client masks each frame with a key of
			// its own, so the cached frame cannot be sent as it is.
			h := frame.Header{Fin: true, Opcode: frame.Opcode(pm.messageType)}
			if key.compressed {
				h.Rsv = frame.Rsv1
			}
			err = c.writeFrameLocked(h, f.payload, 0)
		} else {
			if queued > 0 && queued+len(f.frame) > batchFlush {
				if err := c.flushLocked(); err != nil {
					return err
				}
				queued = 0
			}
			err = c.queueRawLocked(f.frame)
			queued += len(f.frame)
		}
		if key.compressed {
			// The peer's window now holds this message and ours does not.
			c.compression.deflater.ForgetContext()
		}
		if pm.messageType == CloseMessage {
			// The close goes out now, and counts as sent once it has.
			if err == nil && queued > 0 {
				err = c.flushLocked()
				queued = 0
			}
			if err == nil {
				c.closeFrameSent(pm.data)
				c.closeWasSent()
			}
		}
		if err != nil {
			return err
		}
		if !pm.isControl() {
			c.observeWritten(frame.Opcode(pm.messageType), int64(len(pm.data)), int64(len(f.payload)))
		}
	}
	if queued > 0 {
		return c.flushLocked()
	}
	return nil
}
