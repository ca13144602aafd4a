package browsertest

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// compressionRow is one row of the compression page, as the page's data
// attributes and cells hold it.
type compressionRow struct {
	Mode             string `json:"mode"`
	Class            string `json:"class"`
	Extension        string `json:"extension"`        // the server's answer, from its report
	BrowserExtension string `json:"browserExtension"` // WebSocket.extensions in the page
	SentPayload      int    `json:"sentPayload,string"`
	SentWire         int    `json:"sentWire,string"`
	ReceivedPayload  int    `json:"receivedPayload,string"`
	ReceivedWire     int    `json:"receivedWire,string"`
}

const compressionRows = `[...document.querySelectorAll("#results tr")].map(tr => ({
	mode: tr.dataset.mode, class: tr.className,
	extension: tr.querySelector("td.ext").textContent.replaceAll(";\n", "; "),
	browserExtension: tr.dataset.browserExtension ?? "",
	sentPayload: tr.dataset.sentPayload ?? "0", sentWire: tr.dataset.sentWire ?? "0",
	receivedPayload: tr.dataset.receivedPayload ?? "0", receivedWire: tr.dataset.receivedWire ?? "0",
}))`

func TestCompressionPage(t *testing.T) {
	srv := startExample(t, "compression", "-selftest=false")
	tab := newBrowser(t)

	step(t, tab, "open the page", chromedp.Navigate(srv.url+"/"))
	waitFor(t, tab, "every setting measured", `document.body.dataset.done === "true"`)
	screenshot(t, tab, "compression")

	rows := eval[[]compressionRow](t, tab, compressionRows)
	byMode := map[string]compressionRow{}
	for _, r := range rows {
		byMode[r.Mode] = r
	}

	// The browser offers "permessage-deflate; client_max_window_bits";
	// these are the exact answers each setting gives it (RFC 7692 §7).
	wantExtension := map[string]string{
		"off":                 "none",
		"default":             "permessage-deflate",
		"no-context-takeover": "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		"small-windows":       "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
		"threshold-1k":        "permessage-deflate",
	}
	if len(rows) != len(wantExtension) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(wantExtension), rows)
	}
	for mode, want := range wantExtension {
		r, ok := byMode[mode]
		switch {
		case !ok:
			t.Errorf("no row for %s", mode)
		case r.Class != "done":
			t.Errorf("%s: row %q: %s", mode, r.Class, r.Extension)
		case r.Extension != want:
			t.Errorf("%s: server answered %q, want %q", mode, r.Extension, want)
		case r.BrowserExtension != strings.TrimPrefix(want, "none"):
			// The browser agrees: WebSocket.extensions is what it accepted.
			t.Errorf("%s: the browser reports %q, the server %q", mode, r.BrowserExtension, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every setting carried the same feed both ways (the server checks each
	// echo against what it sent).
	feed := byMode["off"].SentPayload
	for _, r := range rows {
		if r.SentPayload != feed || r.ReceivedPayload != feed {
			t.Errorf("%s: payload sent %d, echoed %d, want %d both ways", r.Mode, r.SentPayload, r.ReceivedPayload, feed)
		}
	}

	for _, r := range rows {
		t.Logf("%-19s server → browser %6d B on the wire (%.1f%% saved), browser → server %6d B (%.1f%% saved)", r.Mode,
			r.SentWire, 100*(1-float64(r.SentWire)/float64(r.SentPayload)),
			r.ReceivedWire, 100*(1-float64(r.ReceivedWire)/float64(r.ReceivedPayload)))
	}

	off, def := byMode["off"], byMode["default"]
	noCtx, small, thr := byMode["no-context-takeover"], byMode["small-windows"], byMode["threshold-1k"]
	checks := []struct {
		what string
		ok   bool
	}{
		// Without compression every byte goes out, plus frame headers.
		{"off sends more than the payload", off.SentWire > off.SentPayload},
		{"off receives more than the payload", off.ReceivedWire > off.ReceivedPayload},
		// With context takeover both compressors shrink the similar JSON
		// messages to well under half.
		{"default: the server's messages under half the payload", 2*def.SentWire < def.SentPayload},
		{"default: the browser's echoes under half the payload", 2*def.ReceivedWire < def.ReceivedPayload},
		// Each message alone compresses worse, in both directions: the
		// browser honoured client_no_context_takeover.
		{"no context takeover costs the server more", noCtx.SentWire > def.SentWire},
		{"no context takeover costs the browser more", noCtx.ReceivedWire > def.ReceivedWire},
		{"no context takeover still compresses", noCtx.SentWire < noCtx.SentPayload},
		// 512-byte windows still compress; a history that small misses
		// the repeats a 32 KiB window finds.
		{"small windows compress", 2*small.SentWire < small.SentPayload},
		{"small windows cost more than 32 KiB ones", small.SentWire > def.SentWire},
		// Small messages go out raw above the threshold; the browser's
		// echoes do not depend on it.
		{"threshold 1 KiB costs the server more", thr.SentWire > def.SentWire},
		{"threshold 1 KiB still compresses large messages", thr.SentWire < off.SentWire},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.what, rows)
		}
	}
	srv.waitOutput(t, "compression: small-windows for ")
}

func TestCompressionSelfTest(t *testing.T) {
	srv := startExample(t, "compression")
	// The Go client's table, printed at start-up: one row per setting, each
	// with the extension it agreed on.
	for _, row := range []string{
		"off                  -  ",
		"default              permessage-deflate  ",
		"no-context-takeover  permessage-deflate; server_no_context_takeover; client_no_context_takeover  ",
		"small-windows        permessage-deflate; server_max_window_bits=9; client_max_window_bits=9  ",
		"threshold-1k         permessage-deflate  ",
	} {
		srv.waitOutput(t, "\n"+row)
	}
	if out := srv.out.String(); strings.Contains(out, " error: ") {
		t.Errorf("the self-test reported an error:\n%s", out)
	}
}
