package frame

import (
	"reflect"
	"strings"
	"testing"
)

// ext builds an expected Extension.
func ext(name string, params ...ExtensionParam) Extension {
	return Extension{Name: name, Params: params}
}

// pn is a parameter without a value; pv one with a value.
func pn(name string) ExtensionParam { return ExtensionParam{Name: name} }
func pv(name, value string) ExtensionParam {
	return ExtensionParam{Name: name, Value: value, HasValue: true}
}

// headerLines turns header lines written as strings into what
// ParseExtensions takes.
func headerLines(lines ...string) [][]byte {
	if lines == nil {
		return nil
	}
	b := make([][]byte, len(lines))
	for i, l := range lines {
		b[i] = []byte(l)
	}
	return b
}

func TestParseExtensions(t *testing.T) {
	pmd := ExtensionPermessageDeflate
	tests := []struct {
		name  string
		lines []string
		want  []Extension
	}{
		{"no lines", nil, nil},
		{"empty line", []string{""}, nil},
		{"whitespace only", []string{" \t "}, nil},
		{"single", []string{"permessage-deflate"}, []Extension{ext(pmd)}},
		{"single with params",
			[]string{"permessage-deflate; client_max_window_bits; server_max_window_bits=10"},
			[]Extension{ext(pmd, pn("client_max_window_bits"), pv("server_max_window_bits", "10"))}},
		{"multiple elements",
			[]string{"foo, bar; baz=1, permessage-deflate"},
			[]Extension{ext("foo"), ext("bar", pv("baz", "1")), ext(pmd)}},
		{"several lines",
			[]string{"foo", "bar;x=y, baz", "permessage-deflate; client_no_context_takeover"},
			[]Extension{ext("foo"), ext("bar", pv("x", "y")), ext("baz"), ext(pmd, pn("client_no_context_takeover"))}},
		{"several lines with empty ones",
			[]string{"", "foo", " ", "bar"},
			[]Extension{ext("foo"), ext("bar")}},
		{"same extension twice", // offers in preference order (RFC 7692 §5)
			[]string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"},
			[]Extension{ext(pmd, pv("server_max_window_bits", "10")), ext(pmd)}},
		{"quoted value",
			[]string{`foo; a="10"`},
			[]Extension{ext("foo", pv("a", "10"))}},
		{"quoted value with escapes",
			[]string{`foo; a="1\0"; b="\a\B\-"`},
			[]Extension{ext("foo", pv("a", "10"), pv("b", "aB-"))}},
		{"quoted value then more params",
			[]string{`foo; a = "x" ; b ,bar`},
			[]Extension{ext("foo", pv("a", "x"), pn("b")), ext("bar")}},
		{"no whitespace",
			[]string{"foo;a=1;b,bar;c"},
			[]Extension{ext("foo", pv("a", "1"), pn("b")), ext("bar", pn("c"))}},
		{"whitespace everywhere",
			[]string{"  foo \t;\t a \t=\t 1 ;b , \tbar  "},
			[]Extension{ext("foo", pv("a", "1"), pn("b")), ext("bar")}},
		{"names lower-cased, values kept",
			[]string{"PerMessage-Deflate; Client_Max_Window_Bits=Ab; SERVER_NO_CONTEXT_TAKEOVER"},
			[]Extension{ext(pmd, pv("client_max_window_bits", "Ab"), pn("server_no_context_takeover"))}},
		{"all token characters",
			[]string{"a!#$%&'*+-.^_`|~09Z; x=!#$%&'*+-.^_`|~09Z"},
			[]Extension{ext("a!#$%&'*+-.^_`|~09z", pv("x", "!#$%&'*+-.^_`|~09Z"))}},
		{"empty elements",
			[]string{", , foo,,bar ,", ","},
			[]Extension{ext("foo"), ext("bar")}},
		{"bad token char dropped",
			[]string{"fo@o, bar, b(a)z; x=1"},
			[]Extension{ext("bar")}},
		{"bad char in param name dropped",
			[]string{"foo; a/b=1, bar"},
			[]Extension{ext("bar")}},
		{"bad char in value dropped",
			[]string{"foo; a=1/2, bar"},
			[]Extension{ext("bar")}},
		{"space inside name dropped",
			[]string{"per message, bar"},
			[]Extension{ext("bar")}},
		{"two values dropped",
			[]string{"foo; a=1 2, bar"},
			[]Extension{ext("bar")}},
		{"empty extension name",
			[]string{"; a=1, bar", "=1, baz"},
			[]Extension{ext("bar"), ext("baz")}},
		{"empty parameter name",
			[]string{"foo; =1, bar; ; x, baz;"},
			nil},
		{"trailing semicolon dropped",
			[]string{"foo;, bar"},
			[]Extension{ext("bar")}},
		{"double semicolon dropped",
			[]string{"foo;;a, bar"},
			[]Extension{ext("bar")}},
		{"equals without value",
			[]string{"foo; a=, bar; b= ;c, baz; c =  "},
			nil},
		{"equals without value, others survive",
			[]string{"foo; a=, bar"},
			[]Extension{ext("bar")}},
		{"double equals",
			[]string{"foo; a==1, bar"},
			[]Extension{ext("bar")}},
		{"unterminated quote swallows the rest of the line",
			[]string{`bar, foo; a="10, baz`, "qux"},
			[]Extension{ext("bar"), ext("qux")}},
		{"comma inside quotes does not split",
			[]string{`foo; a="x,y", bar`},
			[]Extension{ext("bar")}},
		{"escaped quote inside quotes",
			[]string{`foo; a="x\",y", bar`},
			[]Extension{ext("bar")}},
		{"empty quoted value",
			[]string{`foo; a="", bar`},
			[]Extension{ext("bar")}},
		{"quoted value that is not a token",
			[]string{`foo; a="a b", bar; b="\ ", baz; c="é"`},
			nil},
		{"quote in a name",
			[]string{`fo"o", bar`},
			[]Extension{ext("bar")}},
		{"text after quoted value",
			[]string{`foo; a="1"2, bar`},
			[]Extension{ext("bar")}},
		{"backslash outside quotes",
			[]string{`foo; a=\1, bar`},
			[]Extension{ext("bar")}},
		{"CR LF and NUL",
			[]string{"foo\r\n, bar\x00, baz"},
			[]Extension{ext("baz")}},
		{"non-ASCII",
			[]string{"föo, bar; x=\xff, baz"},
			[]Extension{ext("baz")}},
		{"garbage",
			[]string{"\x00\xff\"", `"\`, ";;;,,,===", "\\"},
			nil},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			got := ParseExtensions(headerLines(tt.lines...))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseExtensions(%q)\n got %#v\nwant %#v", tt.lines, got, tt.want)
			}
		})
	}
}

func TestParseExtensionsDoesNotAlias(t *testing.T) {
	line := []byte("foo; a=bar")
	got := ParseExtensions([][]byte{line})
	copy(line, "xxxxxxxxxx")
	want := []Extension{ext("foo", pv("a", "bar"))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result changed with its input: %#v", got)
	}
}

func TestIsTokenChar(t *testing.T) {
	const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for c := 0; c < 256; c++ {
		want := strings.IndexByte(tchars, byte(c)) >= 0
		if got := isTokenChar(byte(c)); got != want {
			t.Errorf("isTokenChar(%#x) = %v, want %v", c, got, want)
		}
	}
}

func BenchmarkParseExtensions(b *testing.B) {
	lines := headerLines("permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
		`permessage-deflate; server_no_context_takeover; server_max_window_bits="10"`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = ParseExtensions(lines)
	}
}
