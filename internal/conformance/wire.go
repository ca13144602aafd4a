package conformance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Opcodes of RFC 6455 §5.2. The fuzzer sends any 4-bit value; these name
// the defined ones.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Close codes the judging refers to (RFC 6455 §7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseInvalidPayload  = 1007
	CloseMessageTooBig   = 1009
	closeNoCode          = -1 // a close frame without status code, or none seen
	maxControlPayloadLen = 125
)

// MaskMode says how a frame the fuzzer sends is masked.
type MaskMode int

const (
	// MaskAuto masks as the fuzzer's role requires: a client masks every
	// frame with a fresh random key, a server masks none.
	MaskAuto MaskMode = iota
	// MaskWrong does the opposite of what the role requires: a client
	// sends the frame unmasked, a server sends it masked. The peer must
	// fail the connection (RFC 6455 §5.1).
	MaskWrong
	// MaskKey masks with Frame.Key whatever the role.
	MaskKey
	// MaskNone never masks.
	MaskNone
)

// Frame is one frame as the fuzzer sends it: every header field can be set
// to any value, valid or not.
type Frame struct {
	Opcode byte
	// More clears FIN: more frames of the message follow.
	More bool
	// Rsv holds RSV1..RSV3 as the low three bits (RSV1 = 4).
	Rsv byte
	// Payload is the application data.
	Payload []byte
	// PayloadLen, when above zero, repeats Payload (cut at the end) up to
	// this many bytes, as Autobahn's payload_len does.
	PayloadLen int
	// Mask selects the masking, Key the key for MaskKey.
	Mask MaskMode
	Key  [4]byte
	// Chop writes the frame's octets in pieces of this many bytes, each a
	// separate write, as Autobahn's chopsize does; 0 writes it whole.
	Chop int
	// Sync writes the frame as a write of its own (Autobahn's sync):
	// frame-wise chops.
	Sync bool
}

// payload returns the frame's payload, expanded to PayloadLen.
func (f *Frame) payload() []byte {
	if f.PayloadLen <= 0 {
		return f.Payload
	}
	return repeat(f.Payload, f.PayloadLen)
}

// repeat returns n bytes made of p over and over (zeros if p is empty).
func repeat(p []byte, n int) []byte {
	out := make([]byte, n)
	if len(p) == 0 {
		return out
	}
	k := copy(out, p)
	for k < n {
		k += copy(out[k:], out[:k])
	}
	return out
}

// encodeFrame returns the frame's octets: header, then payload masked with
// key when masked is true.
func encodeFrame(opcode byte, fin bool, rsv byte, payload []byte, masked bool, key [4]byte) []byte {
	n := len(payload)
	b := make([]byte, 0, 14+n)
	b0 := opcode&0x0F | (rsv&0x07)<<4
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	var m byte
	if masked {
		m = 0x80
	}
	switch {
	case n <= 125:
		b = append(b, m|byte(n))
	case n <= 0xFFFF:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if masked {
		b = append(b, key[:]...)
		start := len(b)
		b = append(b, payload...)
		maskBytes(b[start:], key, 0)
	} else {
		b = append(b, payload...)
	}
	return b
}

// maskBytes XORs b with key, starting at key position pos, and returns the
// position after b. It works eight bytes at a time where it can.
func maskBytes(b []byte, key [4]byte, pos int) int {
	pos &= 3
	i := 0
	for ; i < len(b) && pos != 0; i++ {
		b[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	if len(b)-i >= 8 {
		k4 := uint64(binary.LittleEndian.Uint32(key[:]))
		k8 := k4 | k4<<32
		for ; len(b)-i >= 8; i += 8 {
			v := binary.LittleEndian.Uint64(b[i:])
			binary.LittleEndian.PutUint64(b[i:], v^k8)
		}
	}
	for ; i < len(b); i++ {
		b[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	return pos
}

// frameHeader is a received frame's header.
type frameHeader struct {
	fin    bool
	rsv    byte
	opcode byte
	masked bool
	key    [4]byte
	length uint64
}

// errBadLength is a 64-bit length with its top bit set (RFC 6455 §5.2):
// the stream cannot be parsed past it.
var errBadLength = errors.New("64-bit payload length has its most significant bit set")

// readHeader reads one frame header from r.
func readHeader(r io.Reader, scratch []byte) (frameHeader, error) {
	var h frameHeader
	b := scratch[:2]
	if _, err := io.ReadFull(r, b); err != nil {
		return h, err
	}
	h.fin = b[0]&0x80 != 0
	h.rsv = b[0] >> 4 & 0x07
	h.opcode = b[0] & 0x0F
	h.masked = b[1]&0x80 != 0
	h.length = uint64(b[1] & 0x7F)
	switch h.length {
	case 126:
		if _, err := io.ReadFull(r, scratch[:2]); err != nil {
			return h, unexpected(err)
		}
		h.length = uint64(binary.BigEndian.Uint16(scratch[:2]))
	case 127:
		if _, err := io.ReadFull(r, scratch[:8]); err != nil {
			return h, unexpected(err)
		}
		h.length = binary.BigEndian.Uint64(scratch[:8])
		if h.length>>63 != 0 {
			return h, errBadLength
		}
	}
	if h.masked {
		if _, err := io.ReadFull(r, h.key[:]); err != nil {
			return h, unexpected(err)
		}
	}
	return h, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// isControl reports whether opcode is a control opcode (RFC 6455 §5.5).
func isControl(opcode byte) bool { return opcode&0x08 != 0 }

// isDefined reports whether opcode is one RFC 6455 defines.
func isDefined(opcode byte) bool {
	switch opcode {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// validCloseCode reports whether code may be sent in a close frame: RFC
// 6455 §7.4 and the IANA registry allow 1000-1003, 1007-1014 and
// 3000-4999.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// closePayload builds a close frame payload: the code (unless code is
// closeNoCode) and the reason bytes as given, valid or not.
func closePayload(code int, reason []byte) []byte {
	var b []byte
	if code != closeNoCode {
		b = append(b, byte(code>>8), byte(code))
	}
	return append(b, reason...)
}

// validUTF8 reports whether b is well-formed UTF-8 (RFC 3629): no
// surrogates, no overlong forms, nothing above U+10FFFF.
func validUTF8(b []byte) bool { return utf8.Valid(b) }

// describeBytes formats b for a report: its length and a short prefix.
func describeBytes(b []byte) string {
	const max = 24
	if len(b) <= max {
		if utf8.Valid(b) {
			return fmt.Sprintf("%q", b)
		}
		return fmt.Sprintf("0x%x", b)
	}
	if utf8.Valid(b[:max]) {
		return fmt.Sprintf("%d bytes %q...", len(b), b[:max])
	}
	return fmt.Sprintf("%d bytes 0x%x...", len(b), b[:max])
}
