package browsertest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// handshake records the WebSocket opening handshake the browser saw.
type handshake struct {
	mu       sync.Mutex
	offered  string // Sec-WebSocket-Extensions of the request
	status   int64
	accepted string // Sec-WebSocket-Extensions of the response
	seen     bool
}

// watchHandshakes records the handshakes of tab's WebSockets, through the
// DevTools network events.
func watchHandshakes(t *testing.T, tab context.Context) *handshake {
	t.Helper()
	h := new(handshake)
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("network.enable: %v", err)
	}
	err := chromedp.Listen(tab, func(ev any) {
		switch e := ev.(type) {
		case *network.EventWebSocketWillSendHandshakeRequest:
			h.mu.Lock()
			h.offered = header(e.Request.Headers, "Sec-WebSocket-Extensions")
			h.mu.Unlock()
		case *network.EventWebSocketHandshakeResponseReceived:
			h.mu.Lock()
			h.status = e.Response.Status
			h.accepted = header(e.Response.Headers, "Sec-WebSocket-Extensions")
			h.seen = true
			h.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return h
}

func (h *handshake) get() handshake {
	h.mu.Lock()
	defer h.mu.Unlock()
	return handshake{offered: h.offered, status: h.status, accepted: h.accepted, seen: h.seen}
}

// header finds a header by name, ignoring case, as DevTools reports
// headers with the case they were sent in.
func header(headers network.Headers, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

func TestEchoPage(t *testing.T) {
	srv := startExample(t, "echo")
	tab := newBrowser(t)
	hs := watchHandshakes(t, tab)

	step(t, tab, "open the page", chromedp.Navigate(srv.url+"/"))
	waitFor(t, tab, "the socket to open", `document.querySelector("#state").textContent === "Open"`)
	if title := eval[string](t, tab, `document.title`); title != "WebSocket echo · Hertz" {
		t.Errorf("title = %q", title)
	}

	// The browser offers permessage-deflate with client_max_window_bits;
	// the echo server accepts it with its defaults, which need no
	// parameter in the answer (RFC 7692 §7.1.2.2: a server that does not
	// limit the client's window leaves client_max_window_bits out).
	got := hs.get()
	if !got.seen || got.status != 101 {
		t.Fatalf("handshake: seen %v, status %d", got.seen, got.status)
	}
	checkDeflateHandshake(t, tab, got.offered, got.accepted)

	messages := []string{strings.Repeat("compress me ", 40), "hello, hertz", "héllo wörld ✓ 🚀"}
	echoOnPage(t, tab, messages)
	srv.waitOutput(t, `recv text "hello, hertz"`)
	screenshot(t, tab, "echo")

	closeOnPage(t, tab)
	screenshot(t, tab, "echo-closed")

	// And open again with the button.
	step(t, tab, "reopen", chromedp.Click(chromedp.CSS("#toggle")))
	waitFor(t, tab, "the socket to reopen", `document.querySelector("#state").textContent === "Open"`)
}

// checkDeflateHandshake checks that the browser offered permessage-deflate
// (as Chromium does), the response accepted it, and the echo page shows
// what the response said.
func checkDeflateHandshake(t *testing.T, tab context.Context, offered, accepted string) {
	t.Helper()
	if offered != "permessage-deflate; client_max_window_bits" {
		t.Errorf("browser offered %q", offered)
	}
	if accepted != "permessage-deflate" {
		t.Errorf("server accepted %q, want %q", accepted, "permessage-deflate")
	}
	if ext := textOf(t, tab, "#extensions"); ext != accepted {
		t.Errorf("page shows extensions %q, the response header says %q", ext, accepted)
	}
}

// echoOnPage types each message into the echo page and waits for its
// echo, then checks that the page received no other.
func echoOnPage(t *testing.T, tab context.Context, messages []string) {
	t.Helper()
	for i, msg := range messages {
		step(t, tab, "type a message", chromedp.SendKeys(chromedp.CSS("#message"), msg+kb.Enter))
		waitFor(t, tab, "echo "+string(rune('1'+i)),
			`[...document.querySelectorAll("#log li.received .text")].some(e => e.textContent === `+jsString(msg)+`)`)
	}
	if n := eval[int](t, tab, `document.querySelectorAll("#log li.received").length`); n != len(messages) {
		t.Errorf("%d echoes on the page, want %d", n, len(messages))
	}
}

// closeOnPage closes the echo page's socket with the application code
// 4000: the server's close handler answers with the same code, and the
// page shows a clean close.
func closeOnPage(t *testing.T, tab context.Context) {
	t.Helper()
	step(t, tab, "close with 4000",
		chromedp.SetValue(chromedp.CSS("#close-code"), "4000"),
		chromedp.Click(chromedp.CSS("#toggle")),
	)
	waitFor(t, tab, "the socket to close", `document.querySelector("#state").textContent === "Closed"`)
	if last := textOf(t, tab, "#last-close"); last != "code 4000 (application-defined), clean" {
		t.Errorf("last close shows %q", last)
	}
}
