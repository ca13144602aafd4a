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

// The violations CheckHeader, ParseHeader and ParseClosePayload report.
// Each is one preallocated value: reporting it allocates nothing, and
// callers compare with errors.Is (or ==) rather than with its Reason.
var (
	ErrReservedOpcode         = protocolError("reserved opcode")                                                              // RFC 6455 §5.2
	ErrUnexpectedRSV          = protocolError("unexpected RSV bit")                                                           // §5.2: no extension defines it
	ErrInvalidPayloadLength   = protocolError("invalid payload length")                                                       // §5.2: not the minimal encoding
	ErrLengthMSB              = protocolError("payload length has most significant bit set")                                  // §5.2
	ErrControlRSV             = protocolError("RSV bit set on control frame")                                                 // RFC 7692 §6
	ErrFragmentedControl      = protocolError("fragmented control frame")                                                     // §5.5
	ErrControlTooLong         = protocolError("control frame payload too long")                                               // §5.5
	ErrContinuationRSV        = protocolError("RSV bit set on continuation frame")                                            // RFC 7692 §6.1
	ErrMaskedFromServer       = protocolError("masked frame from server")                                                     // §5.1
	ErrUnmaskedFromClient     = protocolError("unmasked frame from client")                                                   // §5.1
	ErrUnexpectedContinuation = protocolError("unexpected continuation frame")                                                // §5.4
	ErrExpectedContinuation   = protocolError("expected continuation frame")                                                  // §5.4
	ErrCloseTooLong           = protocolError("close frame payload too long")                                                 // §5.5
	ErrCloseOneByte           = protocolError("close frame payload of one byte")                                              // §5.5.1
	ErrInvalidCloseCode       = protocolError("invalid close code")                                                           // §7.4
	ErrCloseReasonUTF8        = &ProtocolError{Code: CloseInvalidFramePayloadData, Reason: "close reason is not valid UTF-8"} // §5.5.1
)

// protocolError returns a *ProtocolError with code 1002 and the given reason.
func protocolError(reason string) *ProtocolError {
	return &ProtocolError{Code: CloseProtocolError, Reason: reason}
}
