package frame

import "errors"

// ErrShortHeader is returned by [ParseHeader] when the byte slice ends before
// the complete frame header. More bytes may make it decodable.
var ErrShortHeader = errors.New("websocket: frame header too short")

// ProtocolError reports that the peer violated RFC 6455. The endpoint should
// send a close frame with Code and then fail the WebSocket connection
// (RFC 6455 §7.1.7).
type ProtocolError struct {
	// Code is the close code to send to the peer, usually
	// CloseProtocolError (1002) or CloseInvalidFramePayloadData (1007).
	Code CloseCode
	// Reason is a short human-readable description of the violation. It is
	// at most MaxCloseReason bytes, so it can double as the close reason.
	Reason string
}

// Error returns a message such as "websocket: protocol error: reserved
// opcode" whose prefix depends on Code.
func (e *ProtocolError) Error() string {
	var prefix string
	switch e.Code {
	case CloseProtocolError:
		prefix = "websocket: protocol error"
	case CloseInvalidFramePayloadData:
		prefix = "websocket: invalid payload data"
	case CloseMessageTooBig:
		prefix = "websocket: message too big"
	case CloseUnsupportedData:
		prefix = "websocket: unsupported data"
	case ClosePolicyViolation:
		prefix = "websocket: policy violation"
	default:
		prefix = "websocket: protocol error (" + e.Code.String() + ")"
	}
	if e.Reason == "" {
		return prefix
	}
	return prefix + ": " + e.Reason
}

// protocolError returns a *ProtocolError with code 1002 and the given reason.
func protocolError(reason string) error {
	return &ProtocolError{Code: CloseProtocolError, Reason: reason}
}
