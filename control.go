package websocket

import (
	"time"

	"github.com/hertzws/websocket/frame"
)

// SetCloseHandler sets the handler for close messages received from the
// peer. The code argument to h is the received close code or
// CloseNoStatusReceived if the close message is empty. The default close
// handler sends a close message back to the peer, echoing the code, after
// which the server closes the TCP connection (RFC 6455 §5.5.1, §7.1.1).
//
// The handler function is called from the NextReader, ReadMessage and message
// reader Read methods. The application must read the connection to process
// close messages. After the handler returns, the read method returns a
// *CloseError.
//
// A handler that does not send a close message leaves the connection open
// for writing until the application sends one or closes the Conn.
func (c *Conn) SetCloseHandler(h func(code int, text string) error) {
	if h == nil {
		c.closeHandler.Store(nil)
		return
	}
	c.closeHandler.Store(&h)
}

// CloseHandler returns the current close handler.
func (c *Conn) CloseHandler() func(code int, text string) error {
	if p := c.closeHandler.Load(); p != nil {
		return *p
	}
	return c.defaultCloseHandler
}

func (c *Conn) defaultCloseHandler(code int, _ string) error {
	// The echo is a courtesy: a peer that closed the TCP connection right
	// after its close frame (as one failing the connection does) cannot
	// receive it, and the read must still report the peer's close code,
	// not the failed write. ErrCloseSent means we started the handshake
	// and this close completes it. As in gorilla/websocket.
	_ = c.WriteControl(CloseMessage, FormatCloseMessage(code, ""), time.Now().Add(closeWriteTimeout))
	return nil
}

// SetPingHandler sets the handler for ping messages received from the peer.
// The appData argument to h is the PING message application data. The
// default ping handler sends a pong with the same application data to the
// peer (RFC 6455 §5.5.2).
//
// The handler function is called from the NextReader, ReadMessage and message
// reader Read methods. The application must read the connection to process
// ping messages.
func (c *Conn) SetPingHandler(h func(appData string) error) {
	if h == nil {
		c.pingHandler.Store(nil)
		return
	}
	c.pingHandler.Store(&h)
}

// PingHandler returns the current ping handler.
func (c *Conn) PingHandler() func(appData string) error {
	if p := c.pingHandler.Load(); p != nil {
		return *p
	}
	return c.defaultPingHandler
}

func (c *Conn) defaultPingHandler(appData string) error {
	err := c.WriteControl(PongMessage, []byte(appData), time.Now().Add(closeWriteTimeout))
	if err == ErrCloseSent {
		return nil // RFC 6455 §5.5.1: after a close is sent, no pong is owed
	}
	return err
}

// SetPongHandler sets the handler for pong messages received from the peer.
// The appData argument to h is the PONG message application data. The
// default pong handler does nothing.
//
// The handler function is called from the NextReader, ReadMessage and message
// reader Read methods. The application must read the connection to process
// pong messages.
func (c *Conn) SetPongHandler(h func(appData string) error) {
	if h == nil {
		c.pongHandler.Store(nil)
		return
	}
	c.pongHandler.Store(&h)
}

// PongHandler returns the current pong handler.
func (c *Conn) PongHandler() func(appData string) error {
	if p := c.pongHandler.Load(); p != nil {
		return *p
	}
	return defaultPongHandler
}

func defaultPongHandler(string) error { return nil }

// handleControl reads a control frame's payload and runs its handler.
// RFC 6455 §5.5: control frames may arrive between the frames of a
// fragmented message and are at most 125 bytes.
func (c *Conn) handleControl(h frame.Header) error {
	n := int(h.PayloadLen)
	var buf [frame.MaxControlPayload]byte // on the stack: an idle Conn keeps none
	payload := buf[:n]
	if n > 0 {
		b, err := c.t.Peek(n)
		if len(b) < n {
			return unexpectedEOF(err)
		}
		if h.Masked {
			frame.MaskCopy(payload, b, h.Mask, 0)
		} else {
			copy(payload, b)
		}
		if err := c.t.Skip(n); err != nil {
			return err
		}
	}
	_ = c.t.Release()

	switch h.Opcode {
	case frame.OpPing:
		if h := c.pingHandler.Load(); h != nil {
			return (*h)(string(payload))
		}
		return c.defaultPingHandler(string(payload))
	case frame.OpPong:
		c.pongReceived(payload)
		if h := c.pongHandler.Load(); h != nil {
			return (*h)(string(payload))
		}
		return nil // the default pong handler does nothing
	default: // frame.OpClose; CheckHeader refused every other opcode
		code, reason, err := frame.ParseClosePayload(payload)
		if err != nil {
			return err
		}
		c.closeFrameReceived(int(code))
		c.closeReceived.Store(true)
		handler := c.defaultCloseHandler
		if h := c.closeHandler.Load(); h != nil {
			handler = *h
		}
		if err := handler(int(code), reason); err != nil {
			return err
		}
		c.closeIfHandshakeDone()
		return &CloseError{Code: int(code), Text: reason}
	}
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
	if err := c.acquireBefore(&c.frameLock, deadline); err != nil {
		return err
	}
	defer c.frameLock.unlock()
	if c.closeSent.Load() {
		return ErrCloseSent
	}
	err := c.writeFrameLocked(frame.Header{Fin: true, Opcode: frame.Opcode(messageType)}, data, deadlineNanos(deadline))
	if messageType == CloseMessage && err == nil {
		c.closeFrameSent(data)
		c.closeWasSent()
	}
	return err
}
