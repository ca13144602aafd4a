package websocket

import (
	"sync"

	"github.com/hertzws/websocket/frame"
)

// PreparedMessage caches the on-the-wire form of a message so that sending
// it to many connections frames it once. It is safe for concurrent use.
//
// A server writes the same bytes to every connection; a client masks each
// send with a fresh key, as RFC 6455 §5.3 requires, so for a client a
// prepared message saves only the copy of the payload.
type PreparedMessage struct {
	messageType int
	data        []byte

	once        sync.Once
	serverFrame []byte // header and payload, unmasked
}

// NewPreparedMessage returns an initialized PreparedMessage. The data is
// copied, so the caller may reuse its slice. Only TextMessage and
// BinaryMessage are accepted.
func NewPreparedMessage(messageType int, data []byte) (*PreparedMessage, error) {
	if messageType != TextMessage && messageType != BinaryMessage {
		return nil, errBadWriteOpCode
	}
	return &PreparedMessage{messageType: messageType, data: append([]byte(nil), data...)}, nil
}

// frameFor returns the complete unmasked frame, built on first use.
func (pm *PreparedMessage) frameFor() []byte {
	pm.once.Do(func() {
		h := frame.Header{Fin: true, Opcode: frame.Opcode(pm.messageType), PayloadLen: int64(len(pm.data))}
		b := make([]byte, 0, h.Size()+len(pm.data))
		b = frame.AppendHeader(b, h)
		pm.serverFrame = append(b, pm.data...)
	})
	return pm.serverFrame
}

// WritePreparedMessage writes prepared message into connection.
func (c *Conn) WritePreparedMessage(pm *PreparedMessage) error {
	if err := c.acquire(c.msgLock); err != nil {
		return err
	}
	defer func() { <-c.msgLock }()
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	if err := c.acquire(c.frameLock); err != nil {
		return err
	}
	defer func() { <-c.frameLock }()
	if c.role == frame.RoleClient {
		return c.writeFrameLocked(frame.Header{Fin: true, Opcode: frame.Opcode(pm.messageType)}, pm.data, 0)
	}
	return c.writeRawLocked(pm.frameFor())
}
