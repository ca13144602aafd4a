package websocket

import (
	"encoding/binary"
	"time"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// Close codes defined in RFC 6455, section 11.7.
const (
	CloseNormalClosure           = 1000
	CloseGoingAway               = 1001
	CloseProtocolError           = 1002
	CloseUnsupportedData         = 1003
	CloseNoStatusReceived        = 1005
	CloseAbnormalClosure         = 1006
	CloseInvalidFramePayloadData = 1007
	ClosePolicyViolation         = 1008
	CloseMessageTooBig           = 1009
	CloseMandatoryExtension      = 1010
	CloseInternalServerErr       = 1011
	CloseServiceRestart          = 1012
	CloseTryAgainLater           = 1013
	CloseTLSHandshake            = 1015
)

// FormatCloseMessage formats closeCode and text as a WebSocket close message
// payload: the code as two bytes, big-endian, then the text (RFC 6455
// §5.5.1). For code CloseNoStatusReceived it returns an empty, non-nil
// payload, as gorilla/websocket does: that code means "no code was sent"
// and must not itself be sent (RFC 6455 §7.1.5). A text longer than the 123
// bytes a close frame has room for is cut at a UTF-8 boundary, where
// gorilla/websocket keeps it whole and WriteControl then refuses it.
func FormatCloseMessage(closeCode int, text string) []byte {
	if closeCode == CloseNoStatusReceived {
		return []byte{}
	}
	n := len(text)
	if n > frame.MaxCloseReason {
		n = frame.MaxCloseReason
	}
	// AppendClosePayload writes any code but 1005 as given and cuts the
	// text; the code is written again below as the int it is, so that a
	// value such as 1005+65536 comes out as its low 16 bits, as in
	// gorilla/websocket, and not as an empty payload.
	b := frame.AppendClosePayload(make([]byte, 0, 2+n), frame.CloseNormalClosure, text)
	binary.BigEndian.PutUint16(b, uint16(closeCode))
	return b
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

// closeIfHandshakeDone closes the TCP connection once close frames have gone
// both ways. RFC 6455 §7.1.1: the server should close the TCP connection
// first; a client waits for the server to do so.
func (c *Conn) closeIfHandshakeDone() {
	if c.role == frame.RoleServer && c.closeSent.Load() && c.closeReceived.Load() {
		_ = c.Close()
	}
}

// Close closes the underlying network connection without sending or waiting
// for a close message, and wakes any goroutine blocked reading or writing on
// the Conn. It is safe to call from any goroutine. The first call returns
// the transport's result; later calls return ErrConnClosed.
//
// Messages that writes returned nil for but that are still held in the
// output buffer (see "Corked writes" in the package documentation) are
// sent first, waiting at most a second for a peer that does not read.
//
// To close the WebSocket politely, call CloseHandshake instead: it sends a
// close message, reads until the peer's close arrives or a timeout passes,
// and then closes.
func (c *Conn) Close() error {
	err := ErrConnClosed
	c.closeOnce.Do(func() {
		c.flushHeldBeforeClose()
		c.closed.Store(true)
		c.closeDone()
		c.stopKeepAlive()
		if c.usesClock {
			clock.release()
		}
		err = c.t.Close()
		if c.shutdown != nil {
			c.shutdown()
		}
		if e := c.events.Load(); e != nil {
			e.Wake(transport.Readable | transport.Writable) // so that OnClose runs
		}
		c.observeClosed()
	})
	return err
}

// release is called when the server handler returns: it closes the
// connection and waits until no goroutine is inside a transport call, so
// that nothing touches the connection after Hertz takes it back.
func (c *Conn) release() {
	_ = c.Close()
	c.readMu.Lock()
	c.frameLock.lock(nil, nil) // wait for a frame being written
	c.frameLock.unlock()
	c.readMu.Unlock()
	if d, ok := c.t.(destroyer); ok {
		d.Destroy()
	}
}

// destroyer is a transport whose Close leaves its descriptor open until
// Destroy, which runs once no goroutine can be inside a transport call
// (internal/transport's PolledSocket).
type destroyer interface{ Destroy() }
