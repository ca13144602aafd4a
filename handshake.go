package websocket

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/hertzws/websocket/frame"
)

// The opening handshake pieces (RFC 6455 §4) that the server upgrader and
// the clients share.

// websocketGUID is the fixed string of RFC 6455 §1.3 mixed into the
// handshake key.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// newChallengeKey returns a fresh Sec-WebSocket-Key: 16 random bytes,
// base64-encoded (RFC 6455 §4.1).
func newChallengeKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("websocket: crypto/rand failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// headerHasToken reports whether a comma-separated header, possibly on
// several lines, holds token, compared without regard to ASCII case
// (RFC 7230 §6.7 for Upgrade, §6.1 for Connection; RFC 6455 §4.2.1 asks for
// an ASCII case-insensitive match, so no Unicode folding: "webſocket" with
// a long s is not "websocket").
func headerHasToken(lines [][]byte, token string) bool {
	for _, line := range lines {
		s := string(line)
		for s != "" {
			var item string
			if i := strings.IndexByte(s, ','); i >= 0 {
				item, s = s[:i], s[i+1:]
			} else {
				item, s = s, ""
			}
			if asciiEqualFold(strings.Trim(item, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// asciiEqualFold reports whether a and b are equal with ASCII letters
// compared without regard to case.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// splitTokens splits a comma-separated header value into its non-empty,
// trimmed elements.
func splitTokens(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validChallengeKey reports whether key is the base64 encoding of 16 bytes,
// as RFC 6455 §4.1 requires of Sec-WebSocket-Key.
func validChallengeKey(key []byte) bool {
	if len(key) != 24 {
		return false
	}
	var decoded [18]byte
	n, err := base64.StdEncoding.Decode(decoded[:], key)
	return err == nil && n == 16
}

// computeAcceptKey returns the Sec-WebSocket-Accept value for a challenge
// key (RFC 6455 §4.2.2, item 5.4).
func computeAcceptKey(key []byte) string {
	h := sha1.New()
	h.Write(key)
	h.Write([]byte(websocketGUID))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
}

// clientOffer is what a client asked for in its opening handshake, kept to
// judge the server's answer.
type clientOffer struct {
	key       string
	protocols []string
	deflate   *frame.DeflateParams // nil when compression was not offered
}

// newClientOffer prepares the handshake values of a client.
func newClientOffer(protocols []string, enableCompression bool, opts *CompressionOptions) *clientOffer {
	o := &clientOffer{key: newChallengeKey(), protocols: protocols}
	if enableCompression {
		offer := opts.policy().Offer()
		o.deflate = &offer
	}
	return o
}

// requestHeaders calls set for each header the offer puts in the request.
func (o *clientOffer) requestHeaders(set func(name, value string)) {
	set("Upgrade", "websocket")
	set("Connection", "Upgrade")
	set("Sec-WebSocket-Key", o.key)
	set("Sec-WebSocket-Version", "13")
	if len(o.protocols) > 0 {
		set("Sec-WebSocket-Protocol", strings.Join(o.protocols, ", "))
	}
	if o.deflate != nil {
		set("Sec-WebSocket-Extensions", o.deflate.String())
	}
}

// handshakeFailure is the error of a switching response the client
// refuses, for reason.
func handshakeFailure(reason string) error {
	return HandshakeError{Status: 101, Reason: reason}
}

// check judges the server's response as RFC 6455 §4.1 asks of a client:
// status 101, the Upgrade and Connection tokens, the exact accept value, a
// subprotocol the client offered, and only extensions it offered, with
// parameters valid for its offer. header returns every line of a response
// header. A status other than 101 yields ErrBadHandshake itself, as
// gorilla/websocket does.
func (o *clientOffer) check(status int, header func(name string) [][]byte) (subprotocol string, agreed *frame.DeflateParams, err error) {
	if status != 101 {
		return "", nil, ErrBadHandshake
	}
	if !headerHasToken(header("Upgrade"), "websocket") {
		return "", nil, handshakeFailure("'websocket' token not found in the 'Upgrade' response header")
	}
	if !headerHasToken(header("Connection"), "upgrade") {
		return "", nil, handshakeFailure("'upgrade' token not found in the 'Connection' response header")
	}
	accept := header("Sec-WebSocket-Accept")
	if len(accept) != 1 || string(accept[0]) != computeAcceptKey([]byte(o.key)) {
		return "", nil, handshakeFailure("'Sec-WebSocket-Accept' does not match the key sent")
	}
	if lines := header("Sec-WebSocket-Protocol"); len(lines) > 0 {
		subprotocol = strings.TrimSpace(string(lines[0]))
		if len(lines) > 1 || !contains(o.protocols, subprotocol) {
			return "", nil, handshakeFailure("the server chose subprotocol " + strconv.Quote(subprotocol) + ", which the client did not offer")
		}
	}
	lines := header("Sec-WebSocket-Extensions")
	exts := frame.ParseExtensions(lines)
	if len(exts) == 0 {
		for _, l := range lines {
			if strings.TrimSpace(string(l)) != "" {
				return "", nil, handshakeFailure("malformed 'Sec-WebSocket-Extensions' response header")
			}
		}
		return subprotocol, nil, nil
	}
	if o.deflate == nil {
		return "", nil, handshakeFailure("the server accepted extension " + strconv.Quote(exts[0].Name) + ", which the client did not offer")
	}
	// RFC 6455 §9.1 and RFC 7692 §7.1: only what was offered, with
	// parameters the offer allows.
	params, accepted, err := frame.AcceptDeflateResponse(*o.deflate, exts)
	if err != nil {
		return "", nil, handshakeFailure(err.Error())
	}
	if accepted {
		agreed = &params
	}
	return subprotocol, agreed, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
