package frame

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// CloseCode is a status code carried in a close frame (RFC 6455 §7.4).
type CloseCode uint16

// Close codes defined by RFC 6455 §7.4.1 and the IANA "WebSocket Close Code
// Number Registry" (RFC 6455 §11.7).
const (
	// CloseNormalClosure means the purpose of the connection was fulfilled.
	CloseNormalClosure CloseCode = 1000
	// CloseGoingAway means an endpoint is going away, such as a server
	// shutting down or a browser leaving the page.
	CloseGoingAway CloseCode = 1001
	// CloseProtocolError means an endpoint received a frame that violates
	// the protocol.
	CloseProtocolError CloseCode = 1002
	// CloseUnsupportedData means an endpoint received a type of data it
	// cannot accept.
	CloseUnsupportedData CloseCode = 1003
	// CloseNoStatusReceived stands for a close frame without a status code.
	// It MUST NOT be sent on the wire (§7.4.1).
	CloseNoStatusReceived CloseCode = 1005
	// CloseAbnormalClosure stands for a connection that closed without a
	// close frame. It MUST NOT be sent on the wire (§7.4.1).
	CloseAbnormalClosure CloseCode = 1006
	// CloseInvalidFramePayloadData means a message's data was inconsistent
	// with its type, such as non-UTF-8 data in a text message (§8.1).
	CloseInvalidFramePayloadData CloseCode = 1007
	// ClosePolicyViolation means a message violated the endpoint's policy.
	ClosePolicyViolation CloseCode = 1008
	// CloseMessageTooBig means a message was too big to process.
	CloseMessageTooBig CloseCode = 1009
	// CloseMandatoryExtension is sent by a client whose required extensions
	// the server did not negotiate.
	CloseMandatoryExtension CloseCode = 1010
	// CloseInternalServerErr means the server met an unexpected condition.
	CloseInternalServerErr CloseCode = 1011
	// CloseServiceRestart means the service is restarting (IANA registry).
	CloseServiceRestart CloseCode = 1012
	// CloseTryAgainLater means the service is overloaded (IANA registry).
	CloseTryAgainLater CloseCode = 1013
	// CloseBadGateway means a gateway received an invalid response from an
	// upstream server (IANA registry).
	CloseBadGateway CloseCode = 1014
	// CloseTLSHandshake stands for a failed TLS handshake. It MUST NOT be
	// sent on the wire (§7.4.1).
	CloseTLSHandshake CloseCode = 1015
)

// MaxCloseReason is the longest close reason in bytes: a close frame is a
// control frame with at most 125 bytes of payload (RFC 6455 §5.5), of which
// the status code takes 2 (§5.5.1).
const MaxCloseReason = MaxControlPayload - 2

// ValidOnWire reports whether c may appear in a close frame. Per RFC 6455
// §7.4.1 and §7.4.2 and the IANA registry these are 1000-1003, 1007-1014
// and 3000-4999. Codes below 1000, 1004 (reserved), 1005, 1006 and 1015
// (never sent), 1016-2999 (reserved for future RFCs) and 5000 and above are
// not.
func (c CloseCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// String returns a short lower-case description of c, such as
// "normal closure", or "close code N" for a code without a registered name.
func (c CloseCode) String() string {
	switch c {
	case CloseNormalClosure:
		return "normal closure"
	case CloseGoingAway:
		return "going away"
	case CloseProtocolError:
		return "protocol error"
	case CloseUnsupportedData:
		return "unsupported data"
	case CloseNoStatusReceived:
		return "no status received"
	case CloseAbnormalClosure:
		return "abnormal closure"
	case CloseInvalidFramePayloadData:
		return "invalid frame payload data"
	case ClosePolicyViolation:
		return "policy violation"
	case CloseMessageTooBig:
		return "message too big"
	case CloseMandatoryExtension:
		return "mandatory extension"
	case CloseInternalServerErr:
		return "internal server error"
	case CloseServiceRestart:
		return "service restart"
	case CloseTryAgainLater:
		return "try again later"
	case CloseBadGateway:
		return "bad gateway"
	case CloseTLSHandshake:
		return "TLS handshake"
	}
	return "close code " + strconv.FormatUint(uint64(c), 10)
}

// ParseClosePayload decodes the payload of a close frame (RFC 6455 §5.5.1).
//
// An empty payload yields CloseNoStatusReceived, an empty reason and no
// error (§7.1.5). A payload of one byte, over 125 bytes or with a code that
// is not [CloseCode.ValidOnWire] yields a *[ProtocolError] with code
// CloseProtocolError. A reason that is not valid UTF-8 yields a
// *ProtocolError with code CloseInvalidFramePayloadData (§5.5.1, §8.1).
func ParseClosePayload(p []byte) (code CloseCode, reason string, err error) {
	switch {
	case len(p) > MaxControlPayload:
		return 0, "", ErrCloseTooLong
	case len(p) == 0:
		return CloseNoStatusReceived, "", nil
	case len(p) == 1:
		return 0, "", ErrCloseOneByte
	}
	code = CloseCode(binary.BigEndian.Uint16(p))
	if !code.ValidOnWire() {
		return 0, "", ErrInvalidCloseCode
	}
	r := p[2:]
	if !utf8.Valid(r) {
		return 0, "", ErrCloseReasonUTF8
	}
	return code, string(r), nil
}

// AppendClosePayload appends a close frame payload carrying code and reason
// to dst and returns the extended slice.
//
// If code is CloseNoStatusReceived it appends nothing, which makes an empty
// close frame (§7.1.5). Otherwise it appends the code as a 2-byte big-endian
// integer followed by the reason. A reason longer than MaxCloseReason bytes
// is cut at the last UTF-8 rune boundary at or below MaxCloseReason bytes,
// so a valid reason stays valid. The caller is responsible for passing a
// code that is [CloseCode.ValidOnWire] and a reason that is valid UTF-8.
func AppendClosePayload(dst []byte, code CloseCode, reason string) []byte {
	if code == CloseNoStatusReceived {
		return dst
	}
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, truncateReason(reason)...)
}

// truncateReason cuts s to at most MaxCloseReason bytes without splitting a
// UTF-8 encoded rune.
func truncateReason(s string) string {
	if len(s) <= MaxCloseReason {
		return s
	}
	cut := MaxCloseReason
	// s[cut] is the first byte left out. If it continues a rune, back up to
	// that rune's first byte; a rune is at most utf8.UTFMax bytes long, so
	// at most UTFMax-1 steps are needed for valid UTF-8.
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut]
}
