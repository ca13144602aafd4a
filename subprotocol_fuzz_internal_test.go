package websocket

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
)

// naiveHasToken is the reference for headerHasToken, written the slow way:
// cut every line at each comma byte by byte, trim spaces and tabs, and
// compare with ASCII letters lower-cased (RFC 6455 §4.2.1 compares the
// tokens as ASCII case-insensitive values).
func naiveHasToken(lines []string, token string) bool {
	want := asciiLower(token)
	for _, line := range lines {
		item := ""
		for i := 0; i <= len(line); i++ {
			if i == len(line) || line[i] == ',' {
				if asciiLower(strings.Trim(item, " \t")) == want {
					return true
				}
				item = ""
				continue
			}
			item += line[i : i+1]
		}
	}
	return false
}

func asciiLower(s string) string { return asciiMapCase(s, 'A', 'a') }
func asciiUpper(s string) string { return asciiMapCase(s, 'a', 'A') }

// asciiMapCase moves the 26 ASCII letters starting at from to those
// starting at to, and leaves every other byte alone.
func asciiMapCase(s string, from, to byte) string {
	b := []byte(s)
	for i, c := range b {
		if from <= c && c < from+26 {
			b[i] = c - from + to
		}
	}
	return string(b)
}

// FuzzSubprotocolHeaders parses arbitrary Sec-WebSocket-Protocol and
// Connection-style header lines ('\n' separates lines in header) and checks:
//   - splitTokens yields trimmed, non-empty elements without commas, and
//     splitting its own joined output gives the same list;
//   - headerHasToken agrees with a naive implementation, finds an element
//     put into a list in any ASCII case, and never matches a token holding
//     a comma;
//   - Subprotocols returns the elements of every line in order, and the
//     upgrader selects the first of its own protocols the client offered,
//     or none when there is no common one.
func FuzzSubprotocolHeaders(f *testing.F) {
	for _, s := range [][2]string{
		{"chat, superchat", "chat"},
		{"chat,superchat\nmqtt", "mqtt"},
		{" , ,, chat ,", "chat"},
		{"keep-alive, Upgrade", "upgrade"},
		{"v1.json.api\tv2", "v2"},
		{"\t chat\t", "CHAT"},
		{"a,b", "a,b"},
		{"", ""},
		{"\x00\xff, \xe2\x82", "\xff"},
		{"\xff,\xe2\x82", "\xff"},
		{"web\u017focket", "websocket"}, // LATIN SMALL LETTER LONG S folds to s in Unicode, not in ASCII
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, header, token string) {
		lines := strings.Split(header, "\n")

		for _, line := range lines {
			elems := splitTokens(line)
			for _, e := range elems {
				if e == "" || e != strings.TrimSpace(e) || strings.Contains(e, ",") {
					t.Fatalf("splitTokens(%q) yields element %q", line, e)
				}
			}
			if again := splitTokens(strings.Join(elems, ", ")); !reflect.DeepEqual(again, elems) {
				t.Fatalf("splitTokens(%q) = %q, but its joined output splits to %q", line, elems, again)
			}
		}

		raw := make([][]byte, len(lines))
		for i, l := range lines {
			raw[i] = []byte(l)
		}
		// The library asks only for real tokens; an empty one would
		// match RFC 7230's empty list elements, which mean nothing.
		got := headerHasToken(raw, token)
		if want := naiveHasToken(lines, token); got != want && token != "" {
			t.Fatalf("headerHasToken(%q, %q) = %v, naive = %v", lines, token, got, want)
		}
		if got && strings.Contains(token, ",") {
			t.Fatalf("token %q with a comma matched %q", token, lines)
		}
		if tok := strings.Trim(token, " \t"); tok != "" && !strings.Contains(tok, ",") {
			list := [][]byte{[]byte("x-before, " + asciiUpper(tok) + "\t, x-after")}
			if !headerHasToken(list, tok) {
				t.Fatalf("headerHasToken(%q, %q) = false", list, tok)
			}
		}

		// The same lines as request headers. Hertz keeps only header
		// values it can hold (no CR or LF, trimmed), so the expectation
		// is built from what it stored.
		ctx := app.NewContext(0)
		for _, l := range lines {
			ctx.Request.Header.Add("Sec-WebSocket-Protocol", l)
		}
		var want []string
		for _, v := range ctx.Request.Header.PeekAll("Sec-Websocket-Protocol") {
			want = append(want, splitTokens(string(v))...)
		}
		offered := Subprotocols(ctx)
		if !reflect.DeepEqual(offered, want) {
			t.Fatalf("Subprotocols = %q, want %q", offered, want)
		}
		server := []string{"x-none", strings.TrimSpace(token)}
		u := &HertzUpgrader{Subprotocols: server}
		selected := u.selectSubprotocol(ctx)
		wantSel := ""
	pick:
		for _, s := range server {
			for _, c := range offered {
				if s == c {
					wantSel = s
					break pick
				}
			}
		}
		if selected != wantSel {
			t.Fatalf("selected %q from offer %q and server list %q, want %q", selected, offered, server, wantSel)
		}
	})
}
