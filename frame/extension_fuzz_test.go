package frame

import (
	"bytes"
	"reflect"
	"testing"
)

// addExtensionSeeds seeds a fuzz target whose input is a header value, with
// '\n' separating header lines.
func addExtensionSeeds(f *testing.F) {
	for _, s := range []string{
		"",
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
		"permessage-deflate; client_max_window_bits=11; server_max_window_bits=13; client_no_context_takeover",
		`permessage-deflate; server_max_window_bits="1\0"`,
		"permessage-deflate; server_max_window_bits=20, permessage-deflate; client_max_window_bits",
		"x-webkit-deflate-frame, permessage-deflate",
		"foo; a=1\npermessage-deflate; server_no_context_takeover\npermessage-deflate",
		"  foo \t;\t a \t=\t 1 ;b , \tbar  ",
		`foo; a="x\",y", bar`,
		`bar, foo; a="10, baz`,
		", , foo,,bar ,",
		"permessage-deflate; server_max_window_bits=08",
		"permessage-deflate; client_max_window_bits; client_max_window_bits",
		"PerMessage-Deflate; Client_Max_Window_Bits=15",
		"\x00\xff\"\\",
	} {
		f.Add([]byte(s), uint8(0), uint8(0), uint8(0))
	}
	f.Add([]byte("permessage-deflate; server_max_window_bits=12"), uint8(3), uint8(10), uint8(12))
	f.Add([]byte("permessage-deflate; client_max_window_bits=8"), uint8(2), uint8(0), uint8(9))
	f.Add([]byte("permessage-deflate"), uint8(1), uint8(200), uint8(3))
}

// formatExtension writes e back in header syntax. Every value
// ParseExtensions returns is a token, so no quoting is needed.
func formatExtension(e Extension) []byte {
	b := []byte(e.Name)
	for _, p := range e.Params {
		b = append(b, "; "...)
		b = append(b, p.Name...)
		if p.HasValue {
			b = append(b, '=')
			b = append(b, p.Value...)
		}
	}
	return b
}

func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) || ('A' <= s[i] && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func FuzzParseExtensions(f *testing.F) {
	addExtensionSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, _, _, _ uint8) {
		exts := ParseExtensions(bytes.Split(data, []byte("\n")))
		for _, e := range exts {
			if !isLowerToken(e.Name) {
				t.Fatalf("element name %q is not a lower-case token", e.Name)
			}
			for _, p := range e.Params {
				if !isLowerToken(p.Name) {
					t.Fatalf("parameter name %q is not a lower-case token", p.Name)
				}
				if p.HasValue != isToken(p.Value) {
					t.Fatalf("parameter %+v: value is not a token", p)
				}
			}
			// Formatting an element and parsing it again gives it back.
			again := ParseExtensions([][]byte{formatExtension(e)})
			if len(again) != 1 || !reflect.DeepEqual(again[0], e) {
				t.Fatalf("re-parse of %q = %#v, want %#v", formatExtension(e), again, e)
			}
			p, err := ParseDeflateParams(e)
			if err != nil {
				continue
			}
			s := p.String()
			again = ParseExtensions([][]byte{[]byte(s)})
			if len(again) != 1 {
				t.Fatalf("%q parses to %d elements", s, len(again))
			}
			p2, err := ParseDeflateParams(again[0])
			if err != nil || p2 != p {
				t.Fatalf("%q parses to %+v, %v; want %+v", s, p2, err, p)
			}
		}
	})
}

func FuzzNegotiateDeflate(f *testing.F) {
	addExtensionSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, flags, serverBits, clientBits uint8) {
		policy := DeflatePolicy{
			ServerNoContextTakeover: flags&1 != 0,
			ClientNoContextTakeover: flags&2 != 0,
			ServerMaxWindowBits:     int(serverBits) % 20,
			ClientMaxWindowBits:     int(clientBits) % 20,
		}
		offers := ParseExtensions(bytes.Split(data, []byte("\n")))
		resp, ok := NegotiateDeflate(offers, policy)

		// The offer the server should have picked: the first valid one.
		var offer DeflateParams
		found := false
		for _, e := range offers {
			if p, err := ParseDeflateParams(e); err == nil {
				offer, found = p, true
				break
			}
		}
		if ok != found {
			t.Fatalf("accepted = %v, but a valid offer exists = %v", ok, found)
		}
		if !ok {
			if resp != (DeflateParams{}) {
				t.Fatalf("declined with params %+v", resp)
			}
			return
		}

		checkDeflateResponse(t, offer, policy, resp)

		// The client that made the offer accepts the response.
		agreed, accepted, err := AcceptDeflateResponse(offer, ParseExtensions([][]byte{[]byte(resp.String())}))
		if !accepted || err != nil {
			t.Fatalf("client rejects %q to offer %q: %v", resp, offer, err)
		}
		if agreed != resp {
			t.Fatalf("client agreed %+v, server %+v", agreed, resp)
		}
	})
}

// checkDeflateResponse checks a server's response against the RFC 7692
// §7.1 rules for the offer it accepts and against the server's policy.
func checkDeflateResponse(t *testing.T, offer DeflateParams, policy DeflatePolicy, resp DeflateParams) {
	t.Helper()
	inRange := func(n int) bool { return n >= 8 && n <= 15 }
	if resp.ClientMaxWindowBitsOffered {
		t.Fatalf("response %+v marks client_max_window_bits as offered", resp)
	}
	// §7.1.1.1: accepting server_no_context_takeover means repeating it.
	if offer.ServerNoContextTakeover && !resp.ServerNoContextTakeover ||
		policy.ServerNoContextTakeover && !resp.ServerNoContextTakeover {
		t.Fatalf("offer %+v, policy %+v: response %+v lacks server_no_context_takeover", offer, policy, resp)
	}
	if offer.ClientNoContextTakeover && !resp.ClientNoContextTakeover ||
		policy.ClientNoContextTakeover && !resp.ClientNoContextTakeover {
		t.Fatalf("offer %+v, policy %+v: response %+v lacks client_no_context_takeover", offer, policy, resp)
	}
	// §7.1.2.1: server_max_window_bits repeated with the same or a smaller value.
	if resp.ServerMaxWindowBits != 0 && !inRange(resp.ServerMaxWindowBits) {
		t.Fatalf("response %+v: server_max_window_bits out of range", resp)
	}
	if offer.ServerMaxWindowBits != 0 && (resp.ServerMaxWindowBits == 0 || resp.ServerMaxWindowBits > offer.ServerMaxWindowBits) {
		t.Fatalf("offer %+v: response %+v", offer, resp)
	}
	if want := policyBits(policy.ServerMaxWindowBits); resp.ServerWindowBits() > want {
		t.Fatalf("policy %+v: response %+v exceeds the server's window", policy, resp)
	}
	// §7.1.2.2: client_max_window_bits only if offered, with a value, no
	// larger than the offered one.
	if resp.ClientMaxWindowBits != 0 {
		if !offer.ClientMaxWindowBitsOffered {
			t.Fatalf("offer %+v: response %+v has client_max_window_bits", offer, resp)
		}
		if !inRange(resp.ClientMaxWindowBits) {
			t.Fatalf("response %+v: client_max_window_bits out of range", resp)
		}
	}
	if offer.ClientMaxWindowBits != 0 && resp.ClientMaxWindowBits != minInt(offer.ClientMaxWindowBits, policyBits(policy.ClientMaxWindowBits)) {
		t.Fatalf("offer %+v, policy %+v: response %+v", offer, policy, resp)
	}
	if offer.ClientMaxWindowBitsOffered {
		if want := policyBits(policy.ClientMaxWindowBits); resp.ClientWindowBits() > want {
			t.Fatalf("policy %+v: response %+v exceeds the client's window", policy, resp)
		}
	}
}
