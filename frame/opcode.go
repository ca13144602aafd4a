package frame

import "strconv"

// Opcode is the 4-bit frame type carried in the first header byte
// (RFC 6455 §5.2).
type Opcode byte

// Opcodes defined by RFC 6455 §5.2 and §11.8.
const (
	// OpContinuation marks a continuation fragment of a data message (§5.4).
	OpContinuation Opcode = 0x0
	// OpText marks the first frame of a text message (§5.6).
	OpText Opcode = 0x1
	// OpBinary marks the first frame of a binary message (§5.6).
	OpBinary Opcode = 0x2
	// OpClose marks a close control frame (§5.5.1).
	OpClose Opcode = 0x8
	// OpPing marks a ping control frame (§5.5.2).
	OpPing Opcode = 0x9
	// OpPong marks a pong control frame (§5.5.3).
	OpPong Opcode = 0xA
)

// IsControl reports whether o is a control opcode. RFC 6455 §5.5: control
// frames are identified by opcodes where the most significant bit of the
// opcode is 1, so this includes the reserved control opcodes 0xB-0xF.
func (o Opcode) IsControl() bool {
	return o&0x8 != 0
}

// IsData reports whether o is one of the data opcodes defined by RFC 6455:
// continuation, text or binary (§5.6). Reserved non-control opcodes 0x3-0x7
// are not data opcodes.
func (o Opcode) IsData() bool {
	return o == OpContinuation || o == OpText || o == OpBinary
}

// IsReserved reports whether o is reserved for future use: 0x3-0x7 for
// further non-control frames and 0xB-0xF for further control frames
// (RFC 6455 §5.2). Values above 0xF cannot appear on the wire and are
// reported as reserved too.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the lower-case name of o, such as "text" or "ping", or
// "Opcode(0xN)" for a reserved opcode.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "Opcode(0x" + strconv.FormatUint(uint64(o), 16) + ")"
}
