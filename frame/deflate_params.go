package frame

import (
	"errors"
	"strconv"
)

// ExtensionPermessageDeflate is the registered name of the permessage-deflate
// extension (RFC 7692 §7).
const ExtensionPermessageDeflate = "permessage-deflate"

// Parameter names of permessage-deflate (RFC 7692 §7.1).
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// ErrInvalidDeflateParams is wrapped by every error that [ParseDeflateParams]
// and [AcceptDeflateResponse] return; test for it with errors.Is. The
// concrete error is a *[DeflateParamsError].
var ErrInvalidDeflateParams = errors.New("websocket: invalid permessage-deflate parameters")

// DeflateParamsError says why a permessage-deflate offer or response was
// rejected. It unwraps to [ErrInvalidDeflateParams].
type DeflateParamsError struct {
	// Param is the offending parameter or extension name, empty when the
	// problem is not tied to one.
	Param string
	// Reason is a short description, such as "duplicate parameter".
	Reason string
}

// Error returns a message such as "websocket: invalid permessage-deflate
// parameters: server_max_window_bits: value out of range".
func (e *DeflateParamsError) Error() string {
	s := ErrInvalidDeflateParams.Error()
	if e.Param != "" {
		s += ": " + e.Param
	}
	return s + ": " + e.Reason
}

// Unwrap returns [ErrInvalidDeflateParams].
func (e *DeflateParamsError) Unwrap() error { return ErrInvalidDeflateParams }

func deflateParamsError(param, reason string) error {
	return &DeflateParamsError{Param: param, Reason: reason}
}

// DeflateParams are the permessage-deflate parameters (RFC 7692 §7.1) of an
// offer or of an agreed response. The zero value is a bare
// "permessage-deflate": context takeover on both sides and 15-bit windows.
type DeflateParams struct {
	// ServerNoContextTakeover is server_no_context_takeover (§7.1.1.1): the
	// server starts every message with an empty LZ77 window.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover is client_no_context_takeover (§7.1.1.2):
	// the client starts every message with an empty LZ77 window.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is server_max_window_bits (§7.1.2.1), 8..15, or
	// 0 when the parameter is absent.
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the value of client_max_window_bits
	// (§7.1.2.2), 8..15, or 0 when the parameter is absent or has no value.
	ClientMaxWindowBits int
	// ClientMaxWindowBitsOffered reports that client_max_window_bits is
	// present, with or without a value. Only an offer may carry it without
	// a value: it tells the server the client can limit its window.
	ClientMaxWindowBitsOffered bool
}

// ParseDeflateParams validates one element named permessage-deflate and
// returns its parameters. It returns a *[DeflateParamsError] if, as RFC 7692
// §7 lists for declining an offer or failing on a response:
//
//   - the element has another name;
//   - a parameter is unknown;
//   - a parameter appears twice;
//   - server_no_context_takeover or client_no_context_takeover has a value;
//   - server_max_window_bits has no value;
//   - a window bits value is not a decimal integer from 8 to 15 without
//     leading zeros (§7.1.2.1, §7.1.2.2). Values sent as quoted-strings
//     are judged after unquoting, so "10" in quotes is accepted.
//
// client_max_window_bits without a value is accepted and sets only
// ClientMaxWindowBitsOffered; whether that is allowed in a response is left
// to [AcceptDeflateResponse].
func ParseDeflateParams(e Extension) (DeflateParams, error) {
	var p DeflateParams
	if !equalFoldASCII(e.Name, ExtensionPermessageDeflate) {
		return p, deflateParamsError(e.Name, "not permessage-deflate")
	}
	var seen [4]bool
	for _, q := range e.Params {
		idx := deflateParamIndex(q.Name)
		if idx < 0 {
			return DeflateParams{}, deflateParamsError(q.Name, "unknown parameter")
		}
		if seen[idx] {
			return DeflateParams{}, deflateParamsError(q.Name, "duplicate parameter")
		}
		seen[idx] = true
		switch idx {
		case 0, 1: // the no_context_takeover pair has no value (§7.1.1)
			if q.HasValue {
				return DeflateParams{}, deflateParamsError(q.Name, "unexpected value")
			}
			if idx == 0 {
				p.ServerNoContextTakeover = true
			} else {
				p.ClientNoContextTakeover = true
			}
		case 2: // server_max_window_bits always has a value (§7.1.2.1)
			if !q.HasValue {
				return DeflateParams{}, deflateParamsError(q.Name, "missing value")
			}
			bits, ok := parseWindowBits(q.Value)
			if !ok {
				return DeflateParams{}, deflateParamsError(q.Name, "invalid value")
			}
			p.ServerMaxWindowBits = bits
		case 3: // client_max_window_bits may omit its value in an offer (§7.1.2.2)
			p.ClientMaxWindowBitsOffered = true
			if q.HasValue {
				bits, ok := parseWindowBits(q.Value)
				if !ok {
					return DeflateParams{}, deflateParamsError(q.Name, "invalid value")
				}
				p.ClientMaxWindowBits = bits
			}
		}
	}
	return p, nil
}

// deflateParamIndex maps a parameter name to its slot in ParseDeflateParams,
// or -1 for a name permessage-deflate does not define.
func deflateParamIndex(name string) int {
	switch {
	case equalFoldASCII(name, paramServerNoContextTakeover):
		return 0
	case equalFoldASCII(name, paramClientNoContextTakeover):
		return 1
	case equalFoldASCII(name, paramServerMaxWindowBits):
		return 2
	case equalFoldASCII(name, paramClientMaxWindowBits):
		return 3
	}
	return -1
}

// parseWindowBits accepts the values RFC 7692 §7.1.2 allows: a decimal
// integer from 8 to 15 with no leading zero ("1*DIGIT" without leading
// zeros, in the range 8..15).
func parseWindowBits(s string) (int, bool) {
	switch len(s) {
	case 1:
		if s[0] == '8' || s[0] == '9' {
			return int(s[0] - '0'), true
		}
	case 2:
		if s[0] == '1' && '0' <= s[1] && s[1] <= '5' {
			return 10 + int(s[1]-'0'), true
		}
	}
	return 0, false
}

// equalFoldASCII reports whether s and lower are equal ignoring ASCII case;
// lower must already be lower-case. Extension and parameter names are
// case-insensitive tokens.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// String formats p as an element of a Sec-WebSocket-Extensions header:
// "permessage-deflate" followed by those of "; server_no_context_takeover",
// "; client_no_context_takeover", "; server_max_window_bits=N" and
// "; client_max_window_bits=N" that are set, in that order. When
// ClientMaxWindowBitsOffered is set and ClientMaxWindowBits is 0, the last
// is the bare "; client_max_window_bits" of an offer.
func (p DeflateParams) String() string {
	b := make([]byte, 0, 128)
	b = append(b, ExtensionPermessageDeflate...)
	if p.ServerNoContextTakeover {
		b = append(b, "; "+paramServerNoContextTakeover...)
	}
	if p.ClientNoContextTakeover {
		b = append(b, "; "+paramClientNoContextTakeover...)
	}
	if p.ServerMaxWindowBits != 0 {
		b = append(b, "; "+paramServerMaxWindowBits+"="...)
		b = strconv.AppendInt(b, int64(p.ServerMaxWindowBits), 10)
	}
	if p.ClientMaxWindowBits != 0 {
		b = append(b, "; "+paramClientMaxWindowBits+"="...)
		b = strconv.AppendInt(b, int64(p.ClientMaxWindowBits), 10)
	} else if p.ClientMaxWindowBitsOffered {
		b = append(b, "; "+paramClientMaxWindowBits...)
	}
	return string(b)
}

// ServerWindowBits returns the LZ77 window bits the server compresses with
// under p: ServerMaxWindowBits, or 15 when it is 0 (RFC 7692 §7.1.2.1).
func (p DeflateParams) ServerWindowBits() int {
	if p.ServerMaxWindowBits == 0 {
		return MaxWindowBits
	}
	return p.ServerMaxWindowBits
}

// ClientWindowBits returns the LZ77 window bits the client compresses with
// under p: ClientMaxWindowBits, or 15 when it is 0 (RFC 7692 §7.1.2.2).
func (p DeflateParams) ClientWindowBits() int {
	if p.ClientMaxWindowBits == 0 {
		return MaxWindowBits
	}
	return p.ClientMaxWindowBits
}

// DeflatePolicy is what the local endpoint wants from the permessage-deflate
// negotiation. The zero value accepts any valid offer with the defaults of
// RFC 7692: context takeover and 15-bit windows. Window bits of 0, or above
// 15, mean 15; values from 1 to 7 mean 8.
type DeflatePolicy struct {
	// ServerNoContextTakeover means the server will not keep its
	// compression context between messages (§7.1.1.1).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover means the client should not keep its
	// compression context between messages (§7.1.1.2). A server asks for
	// it in its response; a client offers it.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is the largest LZ77 window, as bits, the server
	// compresses with (§7.1.2.1).
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the largest LZ77 window, as bits, the client
	// should compress with (§7.1.2.2). A server can only impose it on a
	// client whose offer carries client_max_window_bits.
	ClientMaxWindowBits int
}

// policyBits normalises a policy's window bits to 8..15.
func policyBits(n int) int {
	switch {
	case n <= 0 || n > MaxWindowBits:
		return MaxWindowBits
	case n < MinWindowBits:
		return MinWindowBits
	}
	return n
}

// minInt returns the smaller of a and b (the go directive predates the min
// builtin).
func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// OffersDeflate reports whether offers include permessage-deflate.
func OffersDeflate(offers []Extension) bool {
	for _, e := range offers {
		if equalFoldASCII(e.Name, ExtensionPermessageDeflate) {
			return true
		}
	}
	return false
}

// NegotiateDeflate is the server side of the negotiation (RFC 7692 §5, §7.1).
// It walks offers in order, skips elements with other names and offers that
// [ParseDeflateParams] rejects (a server declines an offer it cannot accept
// and never fails the handshake over one, §5 and §7), and accepts the first
// valid permessage-deflate offer. The returned parameters are the agreed
// configuration and, formatted with String, the response element:
//
//   - server_no_context_takeover if the offer has it, which the server
//     accepts by repeating it (§7.1.1.1), or if policy wants it;
//   - client_no_context_takeover if the offer has it or policy wants it,
//     which a server may always include (§7.1.1.2);
//   - server_max_window_bits: when the offer has it, the same or a smaller
//     value (§7.1.2.1), the smaller of the offer and policy; otherwise only
//     when policy's value is below 15;
//   - client_max_window_bits only when the offer has the parameter, since a
//     response must not carry it otherwise (§7.1.2.2): the smaller of the
//     offer's value and policy's, included when that is below 15 or the
//     offer gave a value.
//
// Every window size in 8..15 can be honoured, so no offer is declined for
// its server_max_window_bits (§7.1.2.1). NegotiateDeflate returns
// (DeflateParams{}, false) when no offer is acceptable; the server then
// omits permessage-deflate from its response.
func NegotiateDeflate(offers []Extension, policy DeflatePolicy) (DeflateParams, bool) {
	for _, e := range offers {
		if !equalFoldASCII(e.Name, ExtensionPermessageDeflate) {
			continue
		}
		offer, err := ParseDeflateParams(e)
		if err != nil {
			continue // decline this offer and consider the next one
		}
		return respondDeflate(offer, policy), true
	}
	return DeflateParams{}, false
}

// respondDeflate builds the response to a valid offer; see NegotiateDeflate.
func respondDeflate(offer DeflateParams, policy DeflatePolicy) DeflateParams {
	var r DeflateParams
	r.ServerNoContextTakeover = offer.ServerNoContextTakeover || policy.ServerNoContextTakeover
	r.ClientNoContextTakeover = offer.ClientNoContextTakeover || policy.ClientNoContextTakeover

	server := policyBits(policy.ServerMaxWindowBits)
	if offer.ServerMaxWindowBits != 0 {
		r.ServerMaxWindowBits = minInt(offer.ServerMaxWindowBits, server)
	} else if server < MaxWindowBits {
		r.ServerMaxWindowBits = server
	}

	if offer.ClientMaxWindowBitsOffered {
		client := policyBits(policy.ClientMaxWindowBits)
		if offer.ClientMaxWindowBits != 0 {
			client = minInt(client, offer.ClientMaxWindowBits)
		}
		if client < MaxWindowBits || offer.ClientMaxWindowBits != 0 {
			r.ClientMaxWindowBits = client
		}
	}
	return r
}

// Offer returns the parameters a client offers for policy: the two
// no_context_takeover flags when set, server_max_window_bits when policy's
// value is below 15, and client_max_window_bits always, which tells the
// server the client can limit its window (§7.1.2.2), with policy's value
// when it is below 15.
func (p DeflatePolicy) Offer() DeflateParams {
	o := DeflateParams{
		ServerNoContextTakeover:    p.ServerNoContextTakeover,
		ClientNoContextTakeover:    p.ClientNoContextTakeover,
		ClientMaxWindowBitsOffered: true,
	}
	if bits := policyBits(p.ServerMaxWindowBits); bits < MaxWindowBits {
		o.ServerMaxWindowBits = bits
	}
	if bits := policyBits(p.ClientMaxWindowBits); bits < MaxWindowBits {
		o.ClientMaxWindowBits = bits
	}
	return o
}

// AcceptDeflateResponse is the client's check of the server's
// Sec-WebSocket-Extensions response, resp, to an offer of a single
// permessage-deflate element, offer (RFC 7692 §7.1). It returns
// accepted == false and no error when resp is empty: the server declined
// and messages go uncompressed. Otherwise it returns a *[DeflateParamsError],
// upon which the client must fail the WebSocket connection (RFC 6455 §9.1,
// RFC 7692 §7), if:
//
//   - resp has an element other than permessage-deflate, which the client
//     did not offer, or more than one element;
//   - the element fails [ParseDeflateParams];
//   - it has client_max_window_bits without a value, or when the offer did
//     not have the parameter, or with a value above the offered one
//     (§7.1.2.2);
//   - it lacks server_max_window_bits although the offer had it, or has a
//     value above the offered one: a server accepts that parameter only by
//     repeating it with the same or a smaller value (§7.1.2.1);
//   - it lacks server_no_context_takeover although the offer had it, which
//     a server accepts only by repeating it (§7.1.1.1).
//
// The agreed parameters are those of the response plus what the client
// committed to in its offer even if the server does not repeat it:
// client_no_context_takeover (§7.1.1.2) and the offered
// client_max_window_bits value (§7.1.2.2). ClientMaxWindowBitsOffered is
// false in them.
func AcceptDeflateResponse(offer DeflateParams, resp []Extension) (agreed DeflateParams, accepted bool, err error) {
	if len(resp) == 0 {
		return DeflateParams{}, false, nil
	}
	for _, e := range resp {
		if !equalFoldASCII(e.Name, ExtensionPermessageDeflate) {
			return DeflateParams{}, false, deflateParamsError(e.Name, "extension not offered")
		}
	}
	if len(resp) > 1 {
		return DeflateParams{}, false, deflateParamsError(ExtensionPermessageDeflate, "accepted more than once")
	}
	r, err := ParseDeflateParams(resp[0])
	if err != nil {
		return DeflateParams{}, false, err
	}
	if r.ClientMaxWindowBitsOffered {
		switch {
		case r.ClientMaxWindowBits == 0:
			return DeflateParams{}, false, deflateParamsError(paramClientMaxWindowBits, "missing value in response")
		case !offer.ClientMaxWindowBitsOffered && offer.ClientMaxWindowBits == 0:
			return DeflateParams{}, false, deflateParamsError(paramClientMaxWindowBits, "not offered")
		case offer.ClientMaxWindowBits != 0 && r.ClientMaxWindowBits > offer.ClientMaxWindowBits:
			return DeflateParams{}, false, deflateParamsError(paramClientMaxWindowBits, "larger than offered")
		}
	}
	if offer.ServerMaxWindowBits != 0 {
		switch {
		case r.ServerMaxWindowBits == 0:
			return DeflateParams{}, false, deflateParamsError(paramServerMaxWindowBits, "offered but missing")
		case r.ServerMaxWindowBits > offer.ServerMaxWindowBits:
			return DeflateParams{}, false, deflateParamsError(paramServerMaxWindowBits, "larger than offered")
		}
	}
	if offer.ServerNoContextTakeover && !r.ServerNoContextTakeover {
		return DeflateParams{}, false, deflateParamsError(paramServerNoContextTakeover, "offered but missing")
	}
	r.ClientMaxWindowBitsOffered = false
	if offer.ClientNoContextTakeover {
		r.ClientNoContextTakeover = true
	}
	if r.ClientMaxWindowBits == 0 {
		r.ClientMaxWindowBits = offer.ClientMaxWindowBits
	}
	return r, true, nil
}
