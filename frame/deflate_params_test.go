package frame_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/hertzws/websocket/frame"
)

// Pieces of expected permessage-deflate elements.
const (
	pmd  = "permessage-deflate"
	snct = "; server_no_context_takeover"
	cnct = "; client_no_context_takeover"
)

func smwb(n int) string { return "; server_max_window_bits=" + strconv.Itoa(n) }
func cmwb(n int) string { return "; client_max_window_bits=" + strconv.Itoa(n) }

// lines turns header lines written as strings into what ParseExtensions
// takes.
func lines(ls ...string) [][]byte {
	b := make([][]byte, len(ls))
	for i, l := range ls {
		b[i] = []byte(l)
	}
	return b
}

// parseOne parses a header line that must hold exactly one element.
func parseOne(t *testing.T, line string) frame.Extension {
	t.Helper()
	exts := frame.ParseExtensions(lines(line))
	if len(exts) != 1 {
		t.Fatalf("ParseExtensions(%q) = %d elements, want 1", line, len(exts))
	}
	return exts[0]
}

// checkParamsErr checks that err is a *DeflateParamsError for param.
func checkParamsErr(t *testing.T, err error, param string) {
	t.Helper()
	if !errors.Is(err, frame.ErrInvalidDeflateParams) {
		t.Fatalf("error %v does not wrap ErrInvalidDeflateParams", err)
	}
	var pe *frame.DeflateParamsError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *DeflateParamsError", err)
	}
	if pe.Param != param {
		t.Errorf("error %v names %q, want %q", err, pe.Param, param)
	}
}

func TestParseDeflateParams(t *testing.T) {
	const (
		sN = "server_no_context_takeover"
		cN = "client_no_context_takeover"
		sW = "server_max_window_bits"
		cW = "client_max_window_bits"
	)
	type P = frame.DeflateParams
	tests := []struct {
		in      string
		want    P
		errName string // parameter named by the error; "" for success
	}{
		// Each parameter alone.
		{"permessage-deflate", P{}, ""},
		{"permessage-deflate; server_no_context_takeover", P{ServerNoContextTakeover: true}, ""},
		{"permessage-deflate; client_no_context_takeover", P{ClientNoContextTakeover: true}, ""},
		{"permessage-deflate; server_max_window_bits=8", P{ServerMaxWindowBits: 8}, ""},
		{"permessage-deflate; server_max_window_bits=9", P{ServerMaxWindowBits: 9}, ""},
		{"permessage-deflate; server_max_window_bits=10", P{ServerMaxWindowBits: 10}, ""},
		{"permessage-deflate; server_max_window_bits=15", P{ServerMaxWindowBits: 15}, ""},
		{"permessage-deflate; client_max_window_bits", P{ClientMaxWindowBitsOffered: true}, ""},
		{"permessage-deflate; client_max_window_bits=8", P{ClientMaxWindowBits: 8, ClientMaxWindowBitsOffered: true}, ""},
		{"permessage-deflate; client_max_window_bits=13", P{ClientMaxWindowBits: 13, ClientMaxWindowBitsOffered: true}, ""},
		{"permessage-deflate; client_max_window_bits=15", P{ClientMaxWindowBits: 15, ClientMaxWindowBitsOffered: true}, ""},
		{`permessage-deflate; server_max_window_bits="10"`, P{ServerMaxWindowBits: 10}, ""},
		{`permessage-deflate; client_max_window_bits="1\2"`, P{ClientMaxWindowBits: 12, ClientMaxWindowBitsOffered: true}, ""},

		// Combined, in any order, any case.
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
			P{true, true, 10, 9, true}, ""},
		{"permessage-deflate; client_max_window_bits; server_max_window_bits=12; client_no_context_takeover",
			P{ClientNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBitsOffered: true}, ""},
		{"PerMessage-Deflate; Server_No_Context_Takeover; CLIENT_MAX_WINDOW_BITS=11",
			P{ServerNoContextTakeover: true, ClientMaxWindowBits: 11, ClientMaxWindowBitsOffered: true}, ""},

		// Malformed.
		{"x-webkit-deflate-frame", P{}, "x-webkit-deflate-frame"},
		{"permessage-deflate; foo", P{}, "foo"},
		{"permessage-deflate; foo=1", P{}, "foo"},
		{"permessage-deflate; no_context_takeover", P{}, "no_context_takeover"},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", P{}, sN},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", P{}, cN},
		{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", P{}, sW},
		{"permessage-deflate; client_max_window_bits; client_max_window_bits=10", P{}, cW},
		{"permessage-deflate; Client_Max_Window_Bits; client_max_window_bits", P{}, cW},
		{"permessage-deflate; server_no_context_takeover=true", P{}, sN},
		{`permessage-deflate; client_no_context_takeover="x"`, P{}, cN},
		{"permessage-deflate; server_max_window_bits", P{}, sW},
		{"permessage-deflate; server_max_window_bits=7", P{}, sW},
		{"permessage-deflate; server_max_window_bits=16", P{}, sW},
		{"permessage-deflate; server_max_window_bits=08", P{}, sW},
		{"permessage-deflate; server_max_window_bits=010", P{}, sW},
		{"permessage-deflate; server_max_window_bits=05", P{}, sW},
		{"permessage-deflate; server_max_window_bits=1", P{}, sW},
		{"permessage-deflate; server_max_window_bits=20", P{}, sW},
		{"permessage-deflate; client_max_window_bits=00", P{}, cW},
		{"permessage-deflate; server_max_window_bits=0", P{}, sW},
		{"permessage-deflate; server_max_window_bits=-9", P{}, sW},
		{"permessage-deflate; server_max_window_bits=+9", P{}, sW},
		{"permessage-deflate; server_max_window_bits=1a", P{}, sW},
		{"permessage-deflate; server_max_window_bits=9999999999999999999999", P{}, sW},
		{`permessage-deflate; server_max_window_bits="08"`, P{}, sW},
		{"permessage-deflate; client_max_window_bits=7", P{}, cW},
		{"permessage-deflate; client_max_window_bits=16", P{}, cW},
		{"permessage-deflate; client_max_window_bits=08", P{}, cW},
		{"permessage-deflate; client_max_window_bits=1a", P{}, cW},
		{"permessage-deflate; client_max_window_bits=ten", P{}, cW},
		{"permessage-deflate; server_no_context_takeover; client_max_window_bits=20", P{}, cW},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.in, func(t *testing.T) {
			got, err := frame.ParseDeflateParams(parseOne(t, tt.in))
			if tt.errName != "" {
				if got != (P{}) {
					t.Errorf("params %+v on error, want zero", got)
				}
				checkParamsErr(t, err, tt.errName)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseDeflateParamsStruct(t *testing.T) {
	// Elements ParseExtensions would not produce.
	pmdExt := func(ps ...frame.ExtensionParam) frame.Extension {
		return frame.Extension{Name: pmd, Params: ps}
	}
	val := func(name, v string) frame.ExtensionParam {
		return frame.ExtensionParam{Name: name, Value: v, HasValue: true}
	}
	tests := []struct {
		name    string
		e       frame.Extension
		errName string
	}{
		{"empty server value", pmdExt(val("server_max_window_bits", "")), "server_max_window_bits"},
		{"empty client value", pmdExt(val("client_max_window_bits", "")), "client_max_window_bits"},
		{"space in value", pmdExt(val("client_max_window_bits", " 9")), "client_max_window_bits"},
		{"empty flag value", pmdExt(val("server_no_context_takeover", "")), "server_no_context_takeover"},
		{"empty name", frame.Extension{}, ""},
		{"upper-case name", frame.Extension{Name: "PERMESSAGE-DEFLATE"}, "ok"},
		{"upper-case param", pmdExt(frame.ExtensionParam{Name: "SERVER_NO_CONTEXT_TAKEOVER"}), "ok"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			p, err := frame.ParseDeflateParams(tt.e)
			if tt.errName == "ok" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if p != (frame.DeflateParams{}) {
				t.Errorf("params %+v on error", p)
			}
			checkParamsErr(t, err, tt.errName)
		})
	}
}

func TestDeflateParamsError(t *testing.T) {
	_, err := frame.ParseDeflateParams(parseOne(t, "permessage-deflate; server_max_window_bits=16"))
	const want = "websocket: invalid permessage-deflate parameters: server_max_window_bits: invalid value"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	e := &frame.DeflateParamsError{Reason: "x"}
	if got := e.Error(); got != "websocket: invalid permessage-deflate parameters: x" {
		t.Errorf("Error() = %q", got)
	}
}

func TestDeflateParamsString(t *testing.T) {
	type P = frame.DeflateParams
	tests := []struct {
		p    P
		want string
	}{
		{P{}, pmd},
		{P{ServerNoContextTakeover: true}, pmd + snct},
		{P{ClientNoContextTakeover: true}, pmd + cnct},
		{P{ServerMaxWindowBits: 9}, pmd + smwb(9)},
		{P{ClientMaxWindowBits: 12}, pmd + cmwb(12)},
		{P{ClientMaxWindowBits: 12, ClientMaxWindowBitsOffered: true}, pmd + cmwb(12)},
		{P{ClientMaxWindowBitsOffered: true}, pmd + "; client_max_window_bits"},
		{P{true, true, 10, 11, true}, pmd + snct + cnct + smwb(10) + cmwb(11)},
		{P{true, true, 15, 0, true}, pmd + snct + cnct + smwb(15) + "; client_max_window_bits"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
		// Every formatted element parses back to itself.
		back, err := frame.ParseDeflateParams(parseOne(t, tt.want))
		want := tt.p
		if want.ClientMaxWindowBits != 0 {
			want.ClientMaxWindowBitsOffered = true
		}
		if err != nil || back != want {
			t.Errorf("ParseDeflateParams(%q) = %+v, %v; want %+v", tt.want, back, err, want)
		}
	}
}

func TestDeflateParamsWindowBits(t *testing.T) {
	type P = frame.DeflateParams
	tests := []struct {
		p              P
		server, client int
	}{
		{P{}, 15, 15},
		{P{ClientMaxWindowBitsOffered: true}, 15, 15},
		{P{ServerMaxWindowBits: 8}, 8, 15},
		{P{ClientMaxWindowBits: 9}, 15, 9},
		{P{ServerMaxWindowBits: 12, ClientMaxWindowBits: 10}, 12, 10},
	}
	for _, tt := range tests {
		if s, c := tt.p.ServerWindowBits(), tt.p.ClientWindowBits(); s != tt.server || c != tt.client {
			t.Errorf("%+v: window bits %d, %d; want %d, %d", tt.p, s, c, tt.server, tt.client)
		}
	}
}

func TestDeflatePolicyOffer(t *testing.T) {
	type Pol = frame.DeflatePolicy
	tests := []struct {
		pol  Pol
		want string
	}{
		{Pol{}, pmd + "; client_max_window_bits"},
		{Pol{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, pmd + "; client_max_window_bits"},
		{Pol{ServerMaxWindowBits: 99, ClientMaxWindowBits: -1}, pmd + "; client_max_window_bits"},
		{Pol{ServerNoContextTakeover: true}, pmd + snct + "; client_max_window_bits"},
		{Pol{ClientNoContextTakeover: true}, pmd + cnct + "; client_max_window_bits"},
		{Pol{ServerMaxWindowBits: 10}, pmd + smwb(10) + "; client_max_window_bits"},
		{Pol{ClientMaxWindowBits: 12}, pmd + cmwb(12)},
		{Pol{ServerMaxWindowBits: 3, ClientMaxWindowBits: 7}, pmd + smwb(8) + cmwb(8)},
		{Pol{true, true, 9, 11}, pmd + snct + cnct + smwb(9) + cmwb(11)},
	}
	for _, tt := range tests {
		o := tt.pol.Offer()
		if got := o.String(); got != tt.want {
			t.Errorf("%+v.Offer() = %q, want %q", tt.pol, got, tt.want)
		}
		if !o.ClientMaxWindowBitsOffered {
			t.Errorf("%+v.Offer() does not offer client_max_window_bits", tt.pol)
		}
		back, err := frame.ParseDeflateParams(parseOne(t, o.String()))
		if err != nil || back != o {
			t.Errorf("offer %q parses to %+v, %v; want %+v", o, back, err, o)
		}
	}
}

func TestNegotiateDeflate(t *testing.T) {
	type Pol = frame.DeflatePolicy
	policies := []struct {
		name string
		pol  Pol
	}{
		{"default", Pol{}},
		{"server10", Pol{ServerMaxWindowBits: 10}},
		{"clientNoCtx", Pol{ClientNoContextTakeover: true}},
		{"client10", Pol{ClientMaxWindowBits: 10}},
		{"mixed", Pol{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 12}},
	}
	const no = "" // declined
	// want holds the expected response under each policy above, in order.
	tests := []struct {
		name  string
		lines []string
		want  [5]string
	}{
		{"bare (Firefox, Safari)", []string{"permessage-deflate"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd, pmd + snct + cnct + smwb(9)}},
		{"Chromium, Node ws", []string{"permessage-deflate; client_max_window_bits"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"Chromium, no space", []string{"permessage-deflate;client_max_window_bits"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"upper case", []string{"Permessage-Deflate; Client_Max_Window_Bits"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"server_no_context_takeover", []string{"permessage-deflate; server_no_context_takeover"},
			[5]string{pmd + snct, pmd + snct + smwb(10), pmd + snct + cnct, pmd + snct, pmd + snct + cnct + smwb(9)}},
		{"client_no_context_takeover", []string{"permessage-deflate; client_no_context_takeover"},
			[5]string{pmd + cnct, pmd + cnct + smwb(10), pmd + cnct, pmd + cnct, pmd + snct + cnct + smwb(9)}},
		{"server_max_window_bits=12", []string{"permessage-deflate; server_max_window_bits=12"},
			[5]string{pmd + smwb(12), pmd + smwb(10), pmd + cnct + smwb(12), pmd + smwb(12), pmd + snct + cnct + smwb(9)}},
		{"server_max_window_bits=8", []string{"permessage-deflate; server_max_window_bits=8"},
			[5]string{pmd + smwb(8), pmd + smwb(8), pmd + cnct + smwb(8), pmd + smwb(8), pmd + snct + cnct + smwb(8)}},
		{"server_max_window_bits=15", []string{"permessage-deflate; server_max_window_bits=15"},
			[5]string{pmd + smwb(15), pmd + smwb(10), pmd + cnct + smwb(15), pmd + smwb(15), pmd + snct + cnct + smwb(9)}},
		{"client_max_window_bits=12", []string{"permessage-deflate; client_max_window_bits=12"},
			[5]string{pmd + cmwb(12), pmd + smwb(10) + cmwb(12), pmd + cnct + cmwb(12), pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"client_max_window_bits=15", []string{"permessage-deflate; client_max_window_bits=15"},
			[5]string{pmd + cmwb(15), pmd + smwb(10) + cmwb(15), pmd + cnct + cmwb(15), pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"client_max_window_bits=8", []string{"permessage-deflate; client_max_window_bits=8"},
			[5]string{pmd + cmwb(8), pmd + smwb(10) + cmwb(8), pmd + cnct + cmwb(8), pmd + cmwb(8), pmd + snct + cnct + smwb(9) + cmwb(8)}},
		{"all four", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"},
			[5]string{
				pmd + snct + cnct + smwb(10) + cmwb(9), pmd + snct + cnct + smwb(10) + cmwb(9),
				pmd + snct + cnct + smwb(10) + cmwb(9), pmd + snct + cnct + smwb(10) + cmwb(9),
				pmd + snct + cnct + smwb(9) + cmwb(9)}},
		{"Node ws with options, any order", []string{"permessage-deflate; client_max_window_bits=11; server_max_window_bits=13; client_no_context_takeover"},
			[5]string{pmd + cnct + smwb(13) + cmwb(11), pmd + cnct + smwb(10) + cmwb(11), pmd + cnct + smwb(13) + cmwb(11),
				pmd + cnct + smwb(13) + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(11)}},
		{"12-bit windows both ways", []string{"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"},
			[5]string{pmd + smwb(12) + cmwb(12), pmd + smwb(10) + cmwb(12), pmd + cnct + smwb(12) + cmwb(12),
				pmd + smwb(12) + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"quoted value", []string{`permessage-deflate; server_max_window_bits="10"`},
			[5]string{pmd + smwb(10), pmd + smwb(10), pmd + cnct + smwb(10), pmd + smwb(10), pmd + snct + cnct + smwb(9)}},
		{"quoted value with escape", []string{`permessage-deflate; client_max_window_bits="1\1"`},
			[5]string{pmd + cmwb(11), pmd + smwb(10) + cmwb(11), pmd + cnct + cmwb(11), pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(11)}},

		// Declined: no acceptable offer.
		{"no header", nil, [5]string{no, no, no, no, no}},
		{"empty header", []string{""}, [5]string{no, no, no, no, no}},
		{"server_max_window_bits without value", []string{"permessage-deflate; server_max_window_bits"}, [5]string{no, no, no, no, no}},
		{"server_max_window_bits=7", []string{"permessage-deflate; server_max_window_bits=7"}, [5]string{no, no, no, no, no}},
		{"server_max_window_bits=16", []string{"permessage-deflate; server_max_window_bits=16"}, [5]string{no, no, no, no, no}},
		{"client_max_window_bits=08", []string{"permessage-deflate; client_max_window_bits=08"}, [5]string{no, no, no, no, no}},
		{`quoted "010"`, []string{`permessage-deflate; server_max_window_bits="010"`}, [5]string{no, no, no, no, no}},
		{"flag with value", []string{"permessage-deflate; server_no_context_takeover=true"}, [5]string{no, no, no, no, no}},
		{"unknown parameter", []string{"permessage-deflate; foo"}, [5]string{no, no, no, no, no}},
		{"duplicate parameter", []string{"permessage-deflate; client_max_window_bits; client_max_window_bits=10"}, [5]string{no, no, no, no, no}},
		{"x-webkit-deflate-frame", []string{"x-webkit-deflate-frame"}, [5]string{no, no, no, no, no}},
		{"x-webkit-deflate-frame with params", []string{"x-webkit-deflate-frame; no_context_takeover; max_window_bits=10"}, [5]string{no, no, no, no, no}},
		{"unterminated quote swallows the later offer", []string{`permessage-deflate; client_max_window_bits="10, permessage-deflate`}, [5]string{no, no, no, no, no}},

		// Several offers: the first acceptable one wins.
		{"first offer invalid, second accepted",
			[]string{"permessage-deflate; server_max_window_bits=20, permessage-deflate; client_max_window_bits"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"first offer preferred over fallback",
			[]string{"permessage-deflate; server_max_window_bits=8; client_max_window_bits, permessage-deflate; client_max_window_bits"},
			[5]string{pmd + smwb(8), pmd + smwb(8), pmd + cnct + smwb(8), pmd + smwb(8) + cmwb(10), pmd + snct + cnct + smwb(8) + cmwb(12)}},
		{"first offer malformed syntax",
			[]string{"permessage-deflate; =10, permessage-deflate"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd, pmd + snct + cnct + smwb(9)}},
		{"unknown extension first",
			[]string{"foo-ext; a=1, permessage-deflate"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd, pmd + snct + cnct + smwb(9)}},
		{"x-webkit-deflate-frame ignored",
			[]string{"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits"},
			[5]string{pmd, pmd + smwb(10), pmd + cnct, pmd + cmwb(10), pmd + snct + cnct + smwb(9) + cmwb(12)}},
		{"several header lines",
			[]string{"foo", "permessage-deflate; server_no_context_takeover", "permessage-deflate"},
			[5]string{pmd + snct, pmd + snct + smwb(10), pmd + snct + cnct, pmd + snct, pmd + snct + cnct + smwb(9)}},
		{"invalid offer on the first line, valid on the second",
			[]string{`permessage-deflate; client_max_window_bits=""`, "permessage-deflate; client_no_context_takeover"},
			[5]string{pmd + cnct, pmd + cnct + smwb(10), pmd + cnct, pmd + cnct, pmd + snct + cnct + smwb(9)}},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			offers := frame.ParseExtensions(lines(tt.lines...))
			for i, p := range policies {
				got, ok := frame.NegotiateDeflate(offers, p.pol)
				want := tt.want[i]
				if want == no {
					if ok || got != (frame.DeflateParams{}) {
						t.Errorf("%s: accepted %q, want declined", p.name, got)
					}
					continue
				}
				if !ok || got.String() != want {
					t.Errorf("%s: = %q, %v; want %q", p.name, got, ok, want)
				}
				if got.ClientMaxWindowBitsOffered {
					t.Errorf("%s: response has ClientMaxWindowBitsOffered", p.name)
				}
			}
		})
	}
}

func TestAcceptDeflateResponse(t *testing.T) {
	type P = frame.DeflateParams
	offerDefault := frame.DeflatePolicy{}.Offer() // client_max_window_bits without a value
	tests := []struct {
		name    string
		offer   P
		resp    []string
		want    string // agreed params; "" for not accepted
		errName string // parameter named by the error
	}{
		{"no header", offerDefault, nil, "", ""},
		{"empty header", offerDefault, []string{""}, "", ""},
		{"bare", offerDefault, []string{pmd}, pmd, ""},
		{"upper case", offerDefault, []string{"PERMESSAGE-DEFLATE; SERVER_NO_CONTEXT_TAKEOVER"}, pmd + snct, ""},
		{"client window limited", offerDefault, []string{pmd + cmwb(10)}, pmd + cmwb(10), ""},
		{"client window 15", offerDefault, []string{pmd + cmwb(15)}, pmd + cmwb(15), ""},
		{"server may add server_no_context_takeover", offerDefault, []string{pmd + snct}, pmd + snct, ""},
		{"server may add client_no_context_takeover", offerDefault, []string{pmd + cnct}, pmd + cnct, ""},
		{"server may add server_max_window_bits", offerDefault, []string{pmd + smwb(10)}, pmd + smwb(10), ""},
		{"everything", offerDefault, []string{pmd + snct + cnct + smwb(9) + cmwb(8)}, pmd + snct + cnct + smwb(9) + cmwb(8), ""},
		{"client_max_window_bits without value", offerDefault, []string{pmd + "; client_max_window_bits"}, "", "client_max_window_bits"},
		{"other extension", offerDefault, []string{"foo"}, "", "foo"},
		{"other extension after", offerDefault, []string{pmd + ", foo"}, "", "foo"},
		{"accepted twice", offerDefault, []string{pmd, pmd}, "", pmd},
		{"unknown parameter", offerDefault, []string{pmd + "; bar"}, "", "bar"},
		{"invalid value", offerDefault, []string{pmd + "; server_max_window_bits=16"}, "", "server_max_window_bits"},
		{"duplicate parameter", offerDefault, []string{pmd + snct + snct}, "", "server_no_context_takeover"},

		{"client_max_window_bits not offered", P{}, []string{pmd + cmwb(10)}, "", "client_max_window_bits"},
		{"nothing offered, bare response", P{}, []string{pmd}, pmd, ""},
		{"client window above offer", P{ClientMaxWindowBits: 10, ClientMaxWindowBitsOffered: true}, []string{pmd + cmwb(12)}, "", "client_max_window_bits"},
		{"client window below offer", P{ClientMaxWindowBits: 10, ClientMaxWindowBitsOffered: true}, []string{pmd + cmwb(9)}, pmd + cmwb(9), ""},
		{"client window equal to offer", P{ClientMaxWindowBits: 10, ClientMaxWindowBitsOffered: true}, []string{pmd + cmwb(10)}, pmd + cmwb(10), ""},
		{"offered client window kept", P{ClientMaxWindowBits: 10, ClientMaxWindowBitsOffered: true}, []string{pmd}, pmd + cmwb(10), ""},
		{"server window offered, missing", P{ServerMaxWindowBits: 10}, []string{pmd}, "", "server_max_window_bits"},
		{"server window above offer", P{ServerMaxWindowBits: 10}, []string{pmd + smwb(11)}, "", "server_max_window_bits"},
		{"server window equal to offer", P{ServerMaxWindowBits: 10}, []string{pmd + smwb(10)}, pmd + smwb(10), ""},
		{"server window below offer", P{ServerMaxWindowBits: 10}, []string{pmd + smwb(8)}, pmd + smwb(8), ""},
		{"server_no_context_takeover offered, missing", P{ServerNoContextTakeover: true}, []string{pmd}, "", "server_no_context_takeover"},
		{"server_no_context_takeover offered, repeated", P{ServerNoContextTakeover: true}, []string{pmd + snct}, pmd + snct, ""},
		{"client_no_context_takeover offered, not repeated", P{ClientNoContextTakeover: true}, []string{pmd}, pmd + cnct, ""},
		{"client_no_context_takeover offered, repeated", P{ClientNoContextTakeover: true}, []string{pmd + cnct}, pmd + cnct, ""},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			agreed, ok, err := frame.AcceptDeflateResponse(tt.offer, frame.ParseExtensions(lines(tt.resp...)))
			switch {
			case tt.errName != "":
				if ok || agreed != (P{}) {
					t.Errorf("= %q, %v on error", agreed, ok)
				}
				checkParamsErr(t, err, tt.errName)
			case tt.want == "":
				if ok || err != nil || agreed != (P{}) {
					t.Errorf("= %q, %v, %v; want not accepted", agreed, ok, err)
				}
			default:
				if !ok || err != nil || agreed.String() != tt.want {
					t.Errorf("= %q, %v, %v; want %q", agreed, ok, err, tt.want)
				}
				if agreed.ClientMaxWindowBitsOffered {
					t.Errorf("agreed %+v has ClientMaxWindowBitsOffered", agreed)
				}
			}
		})
	}
}

// TestDeflateNegotiationRoundTrip runs both sides against each other for
// every pair of policies: the client's offer goes through the header
// syntax, the server's response back, and both must agree.
func TestDeflateNegotiationRoundTrip(t *testing.T) {
	var pols []frame.DeflatePolicy
	for _, sn := range []bool{false, true} {
		for _, cn := range []bool{false, true} {
			for _, sb := range []int{0, 8, 10, 15} {
				for _, cb := range []int{0, 9, 12, 15} {
					pols = append(pols, frame.DeflatePolicy{
						ServerNoContextTakeover: sn, ClientNoContextTakeover: cn,
						ServerMaxWindowBits: sb, ClientMaxWindowBits: cb,
					})
				}
			}
		}
	}
	bits := func(n int) int {
		if n == 0 {
			return 15
		}
		return n
	}
	for _, cp := range pols {
		offer := cp.Offer()
		offers := frame.ParseExtensions(lines(offer.String()))
		for _, sp := range pols {
			resp, ok := frame.NegotiateDeflate(offers, sp)
			if !ok {
				t.Fatalf("server %+v declined %q", sp, offer)
			}
			agreed, ok, err := frame.AcceptDeflateResponse(offer, frame.ParseExtensions(lines(resp.String())))
			if !ok || err != nil {
				t.Fatalf("client %+v rejected %q from server %+v: %v", cp, resp, sp, err)
			}
			if agreed != resp {
				t.Errorf("client %+v, server %+v: client agreed %+v, server %+v", cp, sp, agreed, resp)
			}
			if agreed.ServerWindowBits() > bits(cp.ServerMaxWindowBits) || agreed.ServerWindowBits() > bits(sp.ServerMaxWindowBits) {
				t.Errorf("client %+v, server %+v: server window %d", cp, sp, agreed.ServerWindowBits())
			}
			if agreed.ClientWindowBits() > bits(cp.ClientMaxWindowBits) || agreed.ClientWindowBits() > bits(sp.ClientMaxWindowBits) {
				t.Errorf("client %+v, server %+v: client window %d", cp, sp, agreed.ClientWindowBits())
			}
			if agreed.ServerNoContextTakeover != (cp.ServerNoContextTakeover || sp.ServerNoContextTakeover) ||
				agreed.ClientNoContextTakeover != (cp.ClientNoContextTakeover || sp.ClientNoContextTakeover) {
				t.Errorf("client %+v, server %+v: agreed %+v", cp, sp, agreed)
			}
		}
	}
}

func ExampleNegotiateDeflate() {
	// The server reads the client's offers, here those of a browser that
	// also offers an old extension, and picks the first acceptable one.
	header := [][]byte{[]byte("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits")}
	offers := frame.ParseExtensions(header)

	policy := frame.DeflatePolicy{ClientNoContextTakeover: true, ServerMaxWindowBits: 12}
	agreed, ok := frame.NegotiateDeflate(offers, policy)
	if !ok {
		fmt.Println("no compression")
		return
	}
	// agreed.String() is the Sec-WebSocket-Extensions response header.
	fmt.Println(agreed)
	fmt.Println("server window bits:", agreed.ServerWindowBits())
	fmt.Println("client window bits:", agreed.ClientWindowBits())

	// The client checks the response against what it offered.
	offer := frame.DeflatePolicy{}.Offer()
	fmt.Println(offer)
	resp := frame.ParseExtensions([][]byte{[]byte(agreed.String())})
	clientAgreed, accepted, err := frame.AcceptDeflateResponse(offer, resp)
	fmt.Println(clientAgreed == agreed, accepted, err)
	// Output:
	// permessage-deflate; client_no_context_takeover; server_max_window_bits=12
	// server window bits: 12
	// client window bits: 15
	// permessage-deflate; client_max_window_bits
	// true true <nil>
}
