package conformance

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/klauspost/compress/flate"
)

// pmdState is a negotiated permessage-deflate configuration, seen from the
// fuzzer: how it compresses what it sends and how the peer compresses
// what it receives.
type pmdState struct {
	response       string
	sendWindowBits int
	sendNoTakeover bool
	recvWindowBits int
	recvNoTakeover bool
}

// deflateOffer is one permessage-deflate element of an offer or response,
// parsed loosely: parameter names lower-cased, values unquoted.
type deflateOffer struct {
	params map[string]string // value "" for parameters without one
	order  []string
}

func (o deflateOffer) has(name string) bool { _, ok := o.params[name]; return ok }

// bits returns the integer value of a window-bits parameter, 0 if absent
// or valueless, -1 if malformed.
func (o deflateOffer) bits(name string) int {
	v, ok := o.params[name]
	if !ok || v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > 15 || v[0] == '0' {
		return -1
	}
	return n
}

// parseExtensions parses Sec-WebSocket-Extensions header values and
// returns the permessage-deflate elements in order. It reports an error
// for an element it cannot parse or a parameter repeated in an element.
func parseExtensions(values []string) ([]deflateOffer, error) {
	var out []deflateOffer
	for _, v := range values {
		for _, elem := range splitOutsideQuotes(v, ',') {
			elem = strings.TrimSpace(elem)
			if elem == "" {
				continue
			}
			parts := splitOutsideQuotes(elem, ';')
			name := strings.ToLower(strings.TrimSpace(parts[0]))
			if name != "permessage-deflate" {
				continue
			}
			o := deflateOffer{params: map[string]string{}}
			for _, p := range parts[1:] {
				p = strings.TrimSpace(p)
				if p == "" {
					return nil, fmt.Errorf("empty parameter in %q", elem)
				}
				k, val := p, ""
				if i := strings.IndexByte(p, '='); i >= 0 {
					k, val = strings.TrimSpace(p[:i]), strings.TrimSpace(p[i+1:])
					val = strings.Trim(val, `"`)
					if val == "" {
						return nil, fmt.Errorf("empty value in %q", elem)
					}
				}
				k = strings.ToLower(k)
				if _, dup := o.params[k]; dup {
					return nil, fmt.Errorf("parameter %s repeated in %q", k, elem)
				}
				o.params[k] = val
				o.order = append(o.order, k)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// Parameter names of RFC 7692 §7.1.
const (
	pServerNoTakeover = "server_no_context_takeover"
	pClientNoTakeover = "client_no_context_takeover"
	pServerMaxBits    = "server_max_window_bits"
	pClientMaxBits    = "client_max_window_bits"
)

// clientAccept checks a server's permessage-deflate response against
// the offers the fuzzing client sent (RFC 7692 §7.1) and returns the
// agreed configuration. A response the offers do not allow is an error:
// the client must fail the connection.
func clientAccept(offers []string, resp deflateOffer) (*pmdState, error) {
	for k, v := range resp.params {
		switch k {
		case pServerNoTakeover, pClientNoTakeover:
			if v != "" {
				return nil, fmt.Errorf("%s has a value", k)
			}
		case pServerMaxBits, pClientMaxBits:
			if v == "" || resp.bits(k) < 0 {
				return nil, fmt.Errorf("%s has invalid value %q", k, v)
			}
		default:
			return nil, fmt.Errorf("unknown parameter %s", k)
		}
	}
	parsed, _ := parseExtensions(offers)
	// The response must fit at least one offer.
	var fitErr error
	for _, o := range parsed {
		if err := responseFits(o, resp); err != nil {
			fitErr = err
			continue
		}
		st := &pmdState{
			response:       "permessage-deflate",
			sendWindowBits: 15,
			recvWindowBits: 15,
			sendNoTakeover: resp.has(pClientNoTakeover),
			recvNoTakeover: resp.has(pServerNoTakeover),
		}
		if n := resp.bits(pClientMaxBits); n > 0 {
			st.sendWindowBits = n
		}
		if n := resp.bits(pServerMaxBits); n > 0 {
			st.recvWindowBits = n
		}
		st.response = formatOffer(resp)
		return st, nil
	}
	if fitErr == nil {
		fitErr = fmt.Errorf("no permessage-deflate offer was sent")
	}
	return nil, fitErr
}

func responseFits(offer, resp deflateOffer) error {
	if offer.has(pServerNoTakeover) && !resp.has(pServerNoTakeover) {
		return fmt.Errorf("response lacks the offered %s", pServerNoTakeover)
	}
	if ob := offer.bits(pServerMaxBits); ob > 0 {
		rb := resp.bits(pServerMaxBits)
		if rb == 0 {
			return fmt.Errorf("response lacks the offered %s", pServerMaxBits)
		}
		if rb > ob {
			return fmt.Errorf("response's %s=%d is above the offered %d", pServerMaxBits, rb, ob)
		}
	}
	if resp.has(pClientMaxBits) {
		if !offer.has(pClientMaxBits) {
			return fmt.Errorf("response has %s, which was not offered", pClientMaxBits)
		}
		if ob := offer.bits(pClientMaxBits); ob > 0 && resp.bits(pClientMaxBits) > ob {
			return fmt.Errorf("response's %s is above the offered %d", pClientMaxBits, ob)
		}
	}
	return nil
}

func formatOffer(o deflateOffer) string {
	var b strings.Builder
	b.WriteString("permessage-deflate")
	for _, k := range o.order {
		b.WriteString("; ")
		b.WriteString(k)
		if v := o.params[k]; v != "" {
			b.WriteString("=")
			b.WriteString(v)
		}
	}
	return b.String()
}

// Offer is one permessage-deflate offer as Autobahn's PerMessageDeflateOffer
// builds it. Autobahn's client always says it accepts
// client_no_context_takeover and client_max_window_bits; the request
// fields ask the server for server_no_context_takeover and
// server_max_window_bits.
type Offer struct {
	AcceptNoContextTakeover  bool
	AcceptMaxWindowBits      bool
	RequestNoContextTakeover bool
	RequestMaxWindowBits     int
}

// DefaultOffer is Autobahn's PerMessageDeflateOffer().
var DefaultOffer = Offer{AcceptNoContextTakeover: true, AcceptMaxWindowBits: true}

// String is the offer as a Sec-WebSocket-Extensions element.
func (o Offer) String() string {
	s := "permessage-deflate"
	if o.AcceptNoContextTakeover {
		s += "; " + pClientNoTakeover
	}
	if o.AcceptMaxWindowBits {
		s += "; " + pClientMaxBits
	}
	if o.RequestNoContextTakeover {
		s += "; " + pServerNoTakeover
	}
	if o.RequestMaxWindowBits != 0 {
		s += "; " + pServerMaxBits + "=" + strconv.Itoa(o.RequestMaxWindowBits)
	}
	return s
}

// serverAcceptState is the configuration a fuzzing server agreed with
// response, an element its Accept function produced.
func serverAcceptState(response string) (*pmdState, error) {
	parsed, err := parseExtensions([]string{response})
	if err != nil || len(parsed) != 1 {
		return nil, fmt.Errorf("bad accept response %q", response)
	}
	r := parsed[0]
	st := &pmdState{
		response:       response,
		sendWindowBits: 15,
		recvWindowBits: 15,
		sendNoTakeover: r.has(pServerNoTakeover),
		recvNoTakeover: r.has(pClientNoTakeover),
	}
	if n := r.bits(pServerMaxBits); n > 0 {
		st.sendWindowBits = n
	}
	if n := r.bits(pClientMaxBits); n > 0 {
		st.recvWindowBits = n
	}
	return st, nil
}

// compressor compresses the messages the fuzzer sends (RFC 7692 §7.2.1):
// a sync flush ends each, whose 0x00 0x00 0xff 0xff tail is removed.
type compressor struct {
	buf        bytes.Buffer
	w          *flate.Writer
	noTakeover bool
}

func newCompressor(windowBits int, noTakeover bool) *compressor {
	c := &compressor{noTakeover: noTakeover}
	var err error
	if windowBits >= 15 {
		c.w, err = flate.NewWriter(&c.buf, flate.DefaultCompression)
	} else {
		c.w, err = flate.NewWriterWindow(&c.buf, 1<<windowBits)
	}
	if err != nil {
		panic("conformance: " + err.Error())
	}
	return c
}

func (c *compressor) compress(msg []byte) []byte {
	c.buf.Reset()
	_, _ = c.w.Write(msg)
	_ = c.w.Flush()
	out := append([]byte(nil), c.buf.Bytes()...)
	out = bytes.TrimSuffix(out, []byte{0x00, 0x00, 0xff, 0xff})
	if c.noTakeover {
		c.buf.Reset()
		c.w.Reset(&c.buf)
	}
	return out
}
