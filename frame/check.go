package frame

// Role tells [CheckHeader] which side of the connection is receiving.
type Role uint8

// Roles of the local endpoint.
const (
	// RoleServer means we are the server: incoming frames must be masked
	// (RFC 6455 §5.1).
	RoleServer Role = iota
	// RoleClient means we are the client: incoming frames must not be masked
	// (RFC 6455 §5.1).
	RoleClient
)

// String returns "server" or "client".
func (r Role) String() string {
	switch r {
	case RoleServer:
		return "server"
	case RoleClient:
		return "client"
	}
	return "unknown role"
}

// State is the connection state [CheckHeader] needs to judge an incoming
// frame header.
type State struct {
	// Role is the local endpoint's role.
	Role Role
	// AllowedRsv holds the RSV bits that a negotiated extension defines,
	// such as Rsv1 for permessage-deflate; zero when none was negotiated.
	AllowedRsv byte
	// InMessage reports that a fragmented data message is open: its first
	// frame arrived without FIN and its final fragment has not arrived yet.
	InMessage bool
}

// CheckHeader is the single gate for the framing rules of RFC 6455 §5 that
// can be judged from a header alone. It returns nil if h is acceptable in
// state s, or a *[ProtocolError] with code CloseProtocolError and a short
// reason for the first rule h breaks:
//
//   - the opcode is reserved (§5.2);
//   - an RSV bit is set that no negotiated extension defines (§5.2);
//   - an RSV bit is set on a control frame or a continuation frame:
//     extension bits are only defined on the first frame of a data message
//     (RFC 7692 §6.1);
//   - a control frame is fragmented or has a payload over 125 bytes (§5.5);
//   - a server receives an unmasked frame, or a client a masked one (§5.1);
//   - a continuation frame arrives outside a fragmented message, or a text
//     or binary frame arrives inside one (§5.4).
//
// Control frames may arrive in the middle of a fragmented message (§5.4), so
// InMessage does not affect them. CheckHeader does not allocate unless it
// fails.
func CheckHeader(h Header, s State) error {
	if h.Opcode.IsReserved() {
		// RFC 6455 §5.2: if an unknown opcode is received, the receiving
		// endpoint MUST _Fail the WebSocket Connection_.
		return ErrReservedOpcode
	}
	if h.Rsv&^s.AllowedRsv != 0 {
		// RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension is negotiated
		// that defines meanings for non-zero values.
		return ErrUnexpectedRSV
	}
	if h.PayloadLen < 0 {
		return ErrInvalidPayloadLength
	}
	if h.Opcode.IsControl() {
		if h.Rsv != 0 {
			// RFC 7692 §6.1: an endpoint MUST NOT set the "Per-Message
			// Compressed" bit of control frames.
			return ErrControlRSV
		}
		// RFC 6455 §5.5: control frames MUST NOT be fragmented.
		if !h.Fin {
			return ErrFragmentedControl
		}
		// RFC 6455 §5.5: payload length of 125 bytes or less.
		if h.PayloadLen > MaxControlPayload {
			return ErrControlTooLong
		}
	} else if h.Opcode == OpContinuation && h.Rsv != 0 {
		// RFC 7692 §6.1: an endpoint MUST NOT set the "Per-Message
		// Compressed" bit on non-first fragments of a data message.
		return ErrContinuationRSV
	}
	// RFC 6455 §5.1: a server MUST close the connection upon receiving a
	// frame that is not masked; a client MUST close a connection if it
	// detects a masked frame.
	if s.Role == RoleClient {
		if h.Masked {
			return ErrMaskedFromServer
		}
	} else if !h.Masked {
		return ErrUnmaskedFromClient
	}
	// RFC 6455 §5.4: fragments of one message MUST NOT be interleaved with
	// fragments of another, and a continuation frame only continues an open
	// fragmented message.
	switch h.Opcode {
	case OpContinuation:
		if !s.InMessage {
			return ErrUnexpectedContinuation
		}
	case OpText, OpBinary:
		if s.InMessage {
			return ErrExpectedContinuation
		}
	}
	return nil
}
