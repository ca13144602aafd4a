package websocket

import (
	"errors"
	"net"
	"strconv"

	"github.com/hertzws/websocket/frame"
)

var (
	// ErrCloseSent is returned when the application writes a message to the
	// connection after sending a close message.
	ErrCloseSent = errors.New("websocket: close sent")

	// ErrReadLimit is returned when reading a message that is larger than the
	// read limit set for the connection. The peer has been sent close code
	// 1009 (Message Too Big).
	ErrReadLimit error = &codedError{code: CloseMessageTooBig, text: "websocket: read limit exceeded"}

	// ErrConnClosed is returned by every operation on a Conn after Close, or
	// after the HertzHandler that owned it returned. It matches net.ErrClosed
	// with errors.Is.
	ErrConnClosed error = &connClosedError{}

	// ErrBadHandshake is returned when the opening handshake fails.
	ErrBadHandshake = errors.New("websocket: bad handshake")

	// ErrReceiveBudget is returned by a read when the server-wide budget
	// for messages being received (HertzUpgrader.ReceiveBudget) could not
	// hold the rest of a message whose size was not known in advance. The
	// peer has been sent close code 1013 (Try Again Later).
	ErrReceiveBudget error = &codedError{code: CloseTryAgainLater, text: "websocket: server receive budget exhausted"}

	errInvalidControlFrame = errors.New("websocket: invalid control frame")
	errBadWriteOpCode      = errors.New("websocket: bad write message type")
	errWriterClosed        = errors.New("websocket: write to closed writer")
	errWriterReentered     = errors.New("websocket: write to a message writer from inside its own ReadFrom")
	errStaleReader         = errors.New("websocket: read from a message reader after NextReader was called again")
)

// ProtocolError reports bytes from the peer that break RFC 6455 (or a
// negotiated extension). Code is the close code that was sent to the peer
// before the connection was closed: 1002 for framing violations, 1007 for
// invalid UTF-8 in a text message or close reason. Match it with errors.As.
type ProtocolError = frame.ProtocolError

// ErrMessageTimeout is returned by a read when a message did not arrive
// whole within its MessageTimeout. The peer has been sent close code 1008
// (Policy Violation). It is a net.Error whose Timeout method reports true.
var ErrMessageTimeout error = &timeoutError{codedError{
	code: ClosePolicyViolation,
	text: "websocket: message timeout: the peer did not send the whole message in time",
}}

// codedError is a sentinel error that names the close code this side sent
// the peer when it happened (see CloseCode).
type codedError struct {
	code int
	text string
}

func (e *codedError) Error() string  { return e.text }
func (e *codedError) closeCode() int { return e.code }

// timeoutError is a codedError that is also a net.Error whose Timeout
// method reports true: ErrMessageTimeout and ErrKeepAliveTimeout.
type timeoutError struct{ codedError }

func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return false }

// closeCoder is an error that knows the close code this side sent.
type closeCoder interface{ closeCode() int }

// CloseCode returns the close code that ended the connection err comes
// from, or -1 when err carries none:
//
//   - the peer's code for a *CloseError (1006 when the connection ended
//     without a close frame);
//   - the code this side sent for a *ProtocolError (1002, 1007),
//     ErrReadLimit (1009), ErrMessageTimeout (1008), ErrReceiveBudget (1013)
//     and ErrKeepAliveTimeout (1001).
//
// It looks through wrapped errors, as errors.As does. It is this package's
// counterpart of coder/websocket's CloseStatus.
func CloseCode(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return int(pe.Code)
	}
	var coded closeCoder
	if errors.As(err, &coded) {
		return coded.closeCode()
	}
	return -1
}

// HandshakeError describes an opening handshake that failed (RFC 6455
// §4). HertzUpgrader.Upgrade returns one, with the status it answered,
// for a request that is not a valid upgrade or is refused; a client
// returns one, with status 101, for a switching response that breaks §4.1
// (a wrong Sec-WebSocket-Accept, a subprotocol or extension it did not
// offer, ...).
//
// Every HandshakeError wraps ErrBadHandshake, so errors.Is(err,
// ErrBadHandshake) holds for every failed handshake. As in
// gorilla/websocket it is a value, not a pointer: take it with a type
// assertion, err.(HandshakeError), or with errors.As and a HandshakeError
// variable.
//
// A client answered with a status other than 101 gets ErrBadHandshake
// itself, which gorilla/websocket users compare with ==; the status and
// body are in the response returned beside it.
type HandshakeError struct {
	// Status is the HTTP status of the failed handshake: the one the
	// server answered with, or 101 for a switching response the client
	// refused; 0 when there was no response.
	Status int
	// Reason says what was wrong, without the "websocket: " prefix.
	Reason  string
	message string
}

// Error returns the reason the handshake failed.
func (e HandshakeError) Error() string {
	if e.message != "" {
		return e.message
	}
	return "websocket: bad handshake: " + e.Reason
}

// Unwrap returns ErrBadHandshake.
func (e HandshakeError) Unwrap() error { return ErrBadHandshake }

// connClosedError is ErrConnClosed: it reads well and unwraps to
// net.ErrClosed, so code that checks for a closed network connection works.
type connClosedError struct{}

func (*connClosedError) Error() string { return "websocket: use of closed connection" }
func (*connClosedError) Unwrap() error { return net.ErrClosed }

// CloseError is returned by read methods when the peer sent a close message,
// or, with Code CloseAbnormalClosure (1006), when the connection ended
// without one.
type CloseError struct {
	// Code is defined in RFC 6455, section 11.7.
	Code int

	// Text is the optional text payload.
	Text string
}

// Error returns "websocket: close ", the code, the code's name in
// parentheses when it has one, and ": " and the text when there is a text.
// The names are gorilla/websocket's, so that messages read the same, for
// the codes it names ("websocket: close 1000 (normal)"); 1012, 1013 and
// 1014, which it does not name, are named as in IANA's registry of close
// codes (the one RFC 6455 §11.7 set up). Other codes have no name.
func (e *CloseError) Error() string {
	s := "websocket: close " + strconv.Itoa(e.Code)
	if name := closeCodeName(e.Code); name != "" {
		s += " (" + name + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// closeCodeName returns the name CloseError.Error gives code, or "".
func closeCodeName(code int) string {
	switch code {
	case CloseNormalClosure:
		return "normal"
	case CloseGoingAway:
		return "going away"
	case CloseProtocolError:
		return "protocol error"
	case CloseUnsupportedData:
		return "unsupported data"
	case CloseNoStatusReceived:
		return "no status"
	case CloseAbnormalClosure:
		return "abnormal closure"
	case CloseInvalidFramePayloadData:
		return "invalid payload data"
	case ClosePolicyViolation:
		return "policy violation"
	case CloseMessageTooBig:
		return "message too big"
	case CloseMandatoryExtension:
		return "mandatory extension missing"
	case CloseInternalServerErr:
		return "internal server error"
	case CloseTLSHandshake:
		return "TLS handshake error"
	case CloseServiceRestart, CloseTryAgainLater, int(frame.CloseBadGateway):
		// Registered after gorilla's list was written.
		return frame.CloseCode(code).String()
	}
	return ""
}

// IsCloseError returns boolean indicating whether the error is a *CloseError
// with one of the specified codes.
func IsCloseError(err error, codes ...int) bool {
	var e *CloseError
	if errors.As(err, &e) {
		for _, code := range codes {
			if e.Code == code {
				return true
			}
		}
	}
	return false
}

// IsUnexpectedCloseError returns boolean indicating whether the error is a
// *CloseError with a code not in the list of expected codes.
func IsUnexpectedCloseError(err error, expectedCodes ...int) bool {
	var e *CloseError
	if errors.As(err, &e) {
		for _, code := range expectedCodes {
			if e.Code == code {
				return false
			}
		}
		return true
	}
	return false
}
