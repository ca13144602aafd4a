package websocket

import (
	"errors"
	"io"
	"time"

	"github.com/hertzws/websocket/frame"
)

// ErrCloseHandshakeTimeout is returned by CloseHandshake when the peer did
// not answer the close frame within the close handshake timeout.
var ErrCloseHandshakeTimeout = errors.New("websocket: the peer did not answer the close frame in time")

// errInvalidCloseCode refuses a close code that may not be sent.
var errInvalidCloseCode = errors.New("websocket: invalid close code")

// CloseHandshake closes the connection politely (RFC 6455 §7.1.2): it
// sends a close frame with code and text, reads and discards whatever the
// peer still sends until the peer's close frame arrives, then closes the
// TCP connection. It returns nil when the peer answered with its close
// frame, ErrCloseHandshakeTimeout when it did not within the close
// handshake timeout (HertzUpgrader.CloseHandshakeTimeout, or
// DefaultCloseHandshakeTimeout when that is not above zero), and the
// error that ended the connection otherwise (such as a peer that hung up
// without a close frame). The connection is closed in every case.
//
// code is one that may be sent (1000–1003, 1007–1014, 3000–4999; see
// frame.CloseCode.ValidOnWire), or CloseNoStatusReceived for a close frame
// without a code; another returns an error and sends nothing. text is cut
// to the 123 bytes a close frame holds.
//
// CloseHandshake reads the connection, so the one-reader rule applies: call
// it from the goroutine that reads (for example when the handler's read
// loop is done), or when no goroutine reads. If the peer's close has
// already been received (a read returned a *CloseError), the default close
// handler has answered it, and CloseHandshake only closes the connection.
// Messages written before it (held ones included) go out first.
//
// Close, unlike CloseHandshake, drops the connection at once, as in
// gorilla/websocket.
func (c *Conn) CloseHandshake(code int, text string) error {
	if code != CloseNoStatusReceived && !frame.CloseCode(code).ValidOnWire() {
		return errInvalidCloseCode
	}
	timeout := c.closeTimeout
	if timeout <= 0 {
		timeout = DefaultCloseHandshakeTimeout
	}
	deadline := time.Now().Add(timeout)
	err := c.WriteControl(CloseMessage, FormatCloseMessage(code, text), deadline)
	if err != nil && err != ErrCloseSent {
		_ = c.Close()
		return err
	}
	if c.closeReceived.Load() {
		_ = c.Close()
		return nil
	}
	err = c.discardUntilClose(deadline)
	_ = c.Close()
	return err
}

// discardUntilClose reads and drops messages until the peer's close frame
// arrives (nil) or deadline passes (ErrCloseHandshakeTimeout).
func (c *Conn) discardUntilClose(deadline time.Time) error {
	if err := c.SetReadDeadline(deadline); err != nil {
		return c.closeAnswered(err)
	}
	for {
		_, r, err := c.NextReader()
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err != nil {
			if !c.closeReceived.Load() && !time.Now().Before(deadline) {
				return ErrCloseHandshakeTimeout
			}
			return c.closeAnswered(err)
		}
	}
}

// closeAnswered maps the error a read ended with once a close was sent:
// nil if the peer's close arrived meanwhile, else err.
func (c *Conn) closeAnswered(err error) error {
	if c.closeReceived.Load() {
		return nil
	}
	return err
}
