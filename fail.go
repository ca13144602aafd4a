package websocket

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/hertzws/websocket/frame"
)

// failRead makes err the connection's permanent read error. Violations of
// the protocol and of the read limit are answered with a close frame
// carrying their code, and the connection is closed (RFC 6455 §7.1.7).
func (c *Conn) failRead(err error) error {
	state := readState{
		closed:           c.closed.Load(),
		keepAliveExpired: c.keepAliveExpired(),
		messageTimedOut:  c.messageTimedOut(err),
	}
	f := classifyReadError(err, state)
	if f.closeCode != 0 {
		c.failConnection(f.closeCode, f.reason)
	}
	c.readErr = f.err
	if c.inflating {
		c.endInflate()
	}
	return f.err
}

// readState is what classifyReadError needs to know of the connection.
type readState struct {
	closed           bool // Close was called (by us, keepalive or the close handshake)
	keepAliveExpired bool // keepalive closed it
	messageTimedOut  bool // the read timed out at the message deadline
}

// readFailure is what a read error becomes: the error every later read
// returns and, when closeCode is not 0, the close frame to send the peer
// before closing (RFC 6455 §7.1.7).
type readFailure struct {
	err       error
	closeCode int
	reason    string
}

// classifyReadError decides, without side effects, what failRead does with
// err.
func classifyReadError(err error, st readState) readFailure {
	var pe *frame.ProtocolError
	switch {
	case errors.As(err, &pe):
		return readFailure{err, int(pe.Code), pe.Reason}
	case err == errReadLimitExceeded:
		return readFailure{ErrReadLimit, CloseMessageTooBig, "message too big"}
	case err == errBudgetExhausted:
		return readFailure{ErrReceiveBudget, CloseTryAgainLater, "server busy: receive budget exhausted"}
	case err == errBudgetDeadline || st.messageTimedOut:
		// The peer is too slow to be holding a message buffer; it may
		// still be reading, so tell it why.
		return readFailure{ErrMessageTimeout, ClosePolicyViolation, "message timeout"}
	case st.closed:
		var ce *CloseError
		switch {
		case st.keepAliveExpired:
			return readFailure{err: ErrKeepAliveTimeout}
		case !errors.As(err, &ce):
			return readFailure{err: ErrConnClosed}
		}
		return readFailure{err: err}
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		// RFC 6455 §7.1.5: no close frame was received: 1006.
		return readFailure{err: &CloseError{Code: CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}}
	case errors.Is(err, syscall.ECONNRESET):
		// A reset ends the connection without a close frame too; netpoll
		// reports it as EOF, the standard transport as ECONNRESET.
		return readFailure{err: &CloseError{Code: CloseAbnormalClosure, Text: syscall.ECONNRESET.Error()}}
	}
	return readFailure{err: err}
}

// failReadLocked is failRead for a caller that does not hold readMu.
func (c *Conn) failReadLocked(err error) error {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.readErr != nil {
		return c.readErr
	}
	return c.failRead(err)
}

// messageTimedOut reports whether err is a read that timed out at the
// message deadline, rather than at a deadline the application set.
func (c *Conn) messageTimedOut(err error) bool {
	md := c.messageDeadline
	if md == 0 || time.Now().UnixNano() < md {
		return false
	}
	if at := c.rd.at.Load(); at != 0 && at < md {
		return false
	}
	return isTimeout(err)
}

// failConnection sends a close frame with code and reason, within a short
// time, and closes the connection.
func (c *Conn) failConnection(code int, reason string) {
	_ = c.WriteControl(CloseMessage, FormatCloseMessage(code, reason), time.Now().Add(closeWriteTimeout))
	_ = c.Close()
}

// unexpectedEOF turns the end of the stream in the middle of a frame into
// io.ErrUnexpectedEOF and passes other errors through.
func unexpectedEOF(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
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
