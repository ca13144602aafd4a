package frame

import (
	"encoding/binary"
	"io"
)

// Header bit masks and limits from RFC 6455 §5.2 and §5.5.
const (
	// Rsv1 is the RSV1 bit as it sits in the first header byte. It is used
	// by permessage-deflate (RFC 7692 §6).
	Rsv1 byte = 0x40
	// Rsv2 is the RSV2 bit as it sits in the first header byte.
	Rsv2 byte = 0x20
	// Rsv3 is the RSV3 bit as it sits in the first header byte.
	Rsv3 byte = 0x10

	// MaxHeaderSize is the largest encoded frame header: 2 fixed bytes, an
	// 8-byte extended payload length and a 4-byte masking key.
	MaxHeaderSize = 14
	// MaxControlPayload is the largest payload a control frame may carry.
	// RFC 6455 §5.5: all control frames MUST have a payload length of 125
	// bytes or less.
	MaxControlPayload = 125
)

const (
	finBit  byte = 0x80
	rsvBits      = Rsv1 | Rsv2 | Rsv3
	opBits  byte = 0x0F
	maskBit byte = 0x80
	lenBits byte = 0x7F

	len16Marker = 126 // RFC 6455 §5.2: 16-bit extended payload length follows
	len64Marker = 127 // RFC 6455 §5.2: 64-bit extended payload length follows
)

// Header is a decoded WebSocket frame header (RFC 6455 §5.2).
type Header struct {
	// Fin is set on the final fragment of a message.
	Fin bool
	// Rsv holds any of Rsv1, Rsv2 and Rsv3, in their first-byte positions.
	// Other bits are ignored when encoding.
	Rsv byte
	// Opcode is the frame type. Only its low 4 bits are encoded.
	Opcode Opcode
	// Masked reports whether the payload is masked with Mask. RFC 6455
	// §5.3: frames sent by a client are masked, frames sent by a server are
	// not.
	Masked bool
	// Mask is the masking key. It is encoded only when Masked is set.
	Mask [4]byte
	// PayloadLen is the length of the payload in bytes, between 0 and
	// 1<<63 - 1. The encoders do not check the range.
	PayloadLen int64
}

// Size returns the encoded size of h in bytes: 2, 4 or 10, plus 4 if h is
// masked. The shortest length encoding is assumed, as [PutHeader] produces.
func (h Header) Size() int {
	n := 2
	switch {
	case h.PayloadLen >= 0 && h.PayloadLen <= 125:
	case h.PayloadLen >= 0 && h.PayloadLen <= 0xFFFF:
		n += 2
	default:
		n += 8
	}
	if h.Masked {
		n += 4
	}
	return n
}

// PutHeader encodes h into dst[:h.Size()] and returns the number of bytes
// written. It panics if dst is shorter than h.Size(). The payload length
// uses the shortest form (RFC 6455 §5.2: "the minimal number of bytes MUST be
// used to encode the length"): 7 bits up to 125, 16 bits up to 65535 and
// 64 bits beyond. PutHeader does not allocate.
func PutHeader(dst []byte, h Header) int {
	n := h.Size()
	_ = dst[n-1] // one bounds check up front
	b0 := h.Rsv&rsvBits | byte(h.Opcode)&opBits
	if h.Fin {
		b0 |= finBit
	}
	var b1 byte
	if h.Masked {
		b1 = maskBit
	}
	i := 2
	switch {
	case h.PayloadLen >= 0 && h.PayloadLen <= 125:
		b1 |= byte(h.PayloadLen)
	case h.PayloadLen >= 0 && h.PayloadLen <= 0xFFFF:
		b1 |= len16Marker
		binary.BigEndian.PutUint16(dst[2:4], uint16(h.PayloadLen))
		i = 4
	default:
		b1 |= len64Marker
		binary.BigEndian.PutUint64(dst[2:10], uint64(h.PayloadLen))
		i = 10
	}
	dst[0] = b0
	dst[1] = b1
	if h.Masked {
		copy(dst[i:i+4], h.Mask[:])
	}
	return n
}

// AppendHeader appends the encoding of h, as produced by [PutHeader], to dst
// and returns the extended slice.
func AppendHeader(dst []byte, h Header) []byte {
	var buf [MaxHeaderSize]byte
	n := PutHeader(buf[:], h)
	return append(dst, buf[:n]...)
}

// encodedSize returns the size of the header whose second byte is b1, as it
// appears on the wire.
func encodedSize(b1 byte) int {
	n := 2
	switch b1 & lenBits {
	case len16Marker:
		n += 2
	case len64Marker:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// decodeHeader decodes a header from p, which must hold at least
// encodedSize(p[1]) bytes.
func decodeHeader(p []byte) (Header, error) {
	var h Header
	b0, b1 := p[0], p[1]
	h.Fin = b0&finBit != 0
	h.Rsv = b0 & rsvBits
	h.Opcode = Opcode(b0 & opBits)
	h.Masked = b1&maskBit != 0
	i := 2
	// RFC 6455 §5.2 requires senders to use the minimal length encoding but
	// gives receivers no rule for non-minimal forms. Like most
	// implementations we simply decode them: the length is unambiguous.
	switch l := b1 & lenBits; l {
	case len16Marker:
		h.PayloadLen = int64(binary.BigEndian.Uint16(p[2:4]))
		i = 4
	case len64Marker:
		u := binary.BigEndian.Uint64(p[2:10])
		// RFC 6455 §5.2: the most significant bit MUST be 0.
		if u>>63 != 0 {
			return Header{}, ErrLengthMSB
		}
		h.PayloadLen = int64(u)
		i = 10
	default:
		h.PayloadLen = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], p[i:i+4])
	}
	return h, nil
}

// ParseHeader decodes the frame header at the start of b and returns it with
// its encoded size n. If b holds fewer bytes than the header needs, it
// returns n == 0 and [ErrShortHeader]. A 64-bit payload length with the most
// significant bit set yields a *[ProtocolError] with code
// CloseProtocolError. ParseHeader checks only the encoding; use
// [CheckHeader] for the protocol rules.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return Header{}, 0, ErrShortHeader
	}
	n = encodedSize(b[1])
	if len(b) < n {
		return Header{}, 0, ErrShortHeader
	}
	h, err = decodeHeader(b[:n])
	if err != nil {
		return Header{}, 0, err
	}
	return h, n, nil
}

// ReadHeader reads and decodes one frame header from r, advancing r past it.
// It peeks the first two bytes, works out the full header size, peeks that
// many bytes, decodes them and skips them.
//
// Errors from r pass through unchanged, with one exception: io.EOF is turned
// into io.ErrUnexpectedEOF when at least one byte of the header had been
// read. io.EOF before the first byte is returned as io.EOF, which marks the
// clean end of the input. A 64-bit payload length with the most significant
// bit set yields a *[ProtocolError] with code CloseProtocolError; r is then
// left unadvanced. ReadHeader does not allocate unless it fails.
func ReadHeader(r Reader) (Header, error) {
	p, err := r.Peek(2)
	if err != nil || len(p) < 2 {
		return Header{}, startError(r, p, err)
	}
	n := encodedSize(p[1])
	if n > 2 {
		p, err = r.Peek(n)
		if err != nil || len(p) < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, err
		}
	}
	h, err := decodeHeader(p)
	if err != nil {
		return Header{}, err
	}
	if err := r.Skip(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	return h, nil
}

// startError maps the failure of the first two-byte Peek: io.EOF stays io.EOF
// only if no byte at all was available.
func startError(r Reader, p []byte, err error) error {
	if err != nil && err != io.EOF {
		return err
	}
	if len(p) > 0 {
		return io.ErrUnexpectedEOF
	}
	// Some readers return no bytes at all when they cannot satisfy the whole
	// request, so probe for a single byte to tell a clean end from a header
	// cut short.
	if q, perr := r.Peek(1); perr == nil && len(q) == 1 {
		return io.ErrUnexpectedEOF
	}
	if err == nil {
		// A reader that returns fewer bytes than asked without an error.
		return io.ErrUnexpectedEOF
	}
	return io.EOF
}
