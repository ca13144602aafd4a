package websocket

import (
	"encoding/binary"
	"time"

	"github.com/hertzws/websocket/frame"
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
		h = c.defaultCloseHandler
	}
	c.handlerMu.Lock()
	c.closeHandler = h
	c.handlerMu.Unlock()
}

// CloseHandler returns the current close handler.
func (c *Conn) CloseHandler() func(code int, text string) error {
	c.handlerMu.RLock()
	h := c.closeHandler
	c.handlerMu.RUnlock()
	if h == nil {
		return c.defaultCloseHandler
	}
	return h
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
		h = c.defaultPingHandler
	}
	c.handlerMu.Lock()
	c.pingHandler = h
	c.handlerMu.Unlock()
}

// PingHandler returns the current ping handler.
func (c *Conn) PingHandler() func(appData string) error {
	c.handlerMu.RLock()
	h := c.pingHandler
	c.handlerMu.RUnlock()
	if h == nil {
		return c.defaultPingHandler
	}
	return h
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
		h = defaultPongHandler
	}
	c.handlerMu.Lock()
	c.pongHandler = h
	c.handlerMu.Unlock()
}

// PongHandler returns the current pong handler.
func (c *Conn) PongHandler() func(appData string) error {
	c.handlerMu.RLock()
	h := c.pongHandler
	c.handlerMu.RUnlock()
	if h == nil {
		return defaultPongHandler
	}
	return h
}

func defaultPongHandler(string) error { return nil }
