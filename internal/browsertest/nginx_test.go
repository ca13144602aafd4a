package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// nginxWebSocketBlock is the location block README.md recommends for
// running behind nginx with TLS terminated there ({{upstream}} is the
// application's plain-HTTP address). TestNginxSnippetInReadme checks that
// the README shows it as written here.
//
// Host: the default origin check (websocket.CheckSameOrigin) compares the
// browser's Origin, scheme://host[:port], with the Host header of the
// request the application receives. $http_host is the Host the browser
// sent, port included; $host has no port, which matches only while nginx
// listens on the scheme's default port (443 for https), and without the
// directive nginx sends the upstream's address.
const nginxWebSocketBlock = `proxy_pass http://{{upstream}};
proxy_http_version 1.1;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection $connection_upgrade;
proxy_set_header Host $http_host;
proxy_read_timeout 120s;
`

// nginxBlockWith is nginxWebSocketBlock with its Host line replaced by
// hostLine ("" removes it).
func nginxBlockWith(t *testing.T, hostLine string) string {
	t.Helper()
	const line = "proxy_set_header Host $http_host;\n"
	if !strings.Contains(nginxWebSocketBlock, line) {
		t.Fatalf("nginxWebSocketBlock has no %q", line)
	}
	if hostLine != "" {
		hostLine += "\n"
	}
	return strings.Replace(nginxWebSocketBlock, line, hostLine, 1)
}

// withoutLines is block without the given lines, each of which it must
// have.
func withoutLines(t *testing.T, block string, lines ...string) string {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(block, l+"\n") {
			t.Fatalf("the block has no line %q", l)
		}
		block = strings.Replace(block, l+"\n", "", 1)
	}
	return block
}

// fileName turns a site's name into part of a file name: letters and
// digits, the rest runs of '-'.
func fileName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// newTLSBrowser is newBrowser for pages served with cert: Chromium accepts
// that certificate, found by its public key, and no other.
func newTLSBrowser(t *testing.T, cert testCert) context.Context {
	t.Helper()
	return newBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", cert.spki))
}

// frameErrors collects the WebSocket errors DevTools reports for a tab,
// such as a handshake answered with something other than 101.
type frameErrors struct {
	mu   sync.Mutex
	msgs []string
}

func watchFrameErrors(t *testing.T, tab context.Context) *frameErrors {
	t.Helper()
	f := new(frameErrors)
	err := chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*network.EventWebSocketFrameError); ok {
			f.mu.Lock()
			f.msgs = append(f.msgs, e.ErrorMessage)
			f.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return f
}

// wait reports whether an error containing want arrives within 5 s.
func (f *frameErrors) wait(want string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(f.String(), want) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func (f *frameErrors) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.msgs, "; ")
}

// TestNginxEcho puts nginx, terminating TLS, in front of the echo example
// and opens the page over https:// through it: the socket is wss:// to
// nginx and plain ws:// from nginx to Hertz. With the recommended block
// messages echo and permessage-deflate is negotiated end to end; with the
// Host header not forwarded as the browser sent it, the origin check
// refuses the handshake with 403; and with a short proxy_read_timeout
// nginx drops an idle connection without a close frame.
func TestNginxEcho(t *testing.T) {
	srv := startExample(t, "echo")
	cert := newTestCert(t, t.TempDir())
	sites := []*nginxSite{
		{name: "recommended ($http_host)", upstream: srv.addr, proxyBlock: nginxWebSocketBlock},
		{name: "$host:$server_port", upstream: srv.addr, proxyBlock: nginxBlockWith(t, "proxy_set_header Host $host:$server_port;")},
		{name: "$host (no port)", upstream: srv.addr, proxyBlock: nginxBlockWith(t, "proxy_set_header Host $host;")},
		{name: "Host not set", upstream: srv.addr, proxyBlock: nginxBlockWith(t, "")},
		// Without the three lines that make nginx pass the upgrade on,
		// it speaks HTTP/1.0 to Hertz, with "Connection: close" and no
		// Upgrade; with HTTP/1.1 alone it still drops both headers.
		{name: "no upgrade lines", upstream: srv.addr, proxyBlock: withoutLines(t, nginxWebSocketBlock,
			"proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $connection_upgrade;")},
		{name: "HTTP/1.1 without upgrade headers", upstream: srv.addr, proxyBlock: withoutLines(t, nginxWebSocketBlock,
			"proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $connection_upgrade;")},
		{name: "2 s read timeout", upstream: srv.addr,
			proxyBlock: strings.Replace(nginxWebSocketBlock, "proxy_read_timeout 120s;", "proxy_read_timeout 2s;", 1)},
	}
	px := startNginx(t, cert, sites...)
	browser := newTLSBrowser(t, cert)

	open := func(t *testing.T, site string) (context.Context, *handshake, *frameErrors) {
		t.Helper()
		tab := newTab(t, browser)
		hs := watchHandshakes(t, tab)
		fe := watchFrameErrors(t, tab)
		step(t, tab, "open "+px.sites[site].url()+"/", chromedp.Navigate(px.sites[site].url()+"/"))
		return tab, hs, fe
	}

	accepted := func(t *testing.T, site string) context.Context {
		t.Helper()
		tab, hs, fe := open(t, site)
		waitFor(t, tab, "the socket to open through nginx", `document.querySelector("#state").textContent === "Open"`)
		if u := textOf(t, tab, "#url"); u != "wss://"+px.sites[site].listen+"/echo" {
			t.Errorf("the page connects to %q, want wss:// to nginx", u)
		}
		got := hs.get()
		if !got.seen || got.status != 101 {
			t.Fatalf("handshake through nginx: seen %v, status %d; errors: %s", got.seen, got.status, fe)
		}
		// nginx passes Sec-WebSocket-Extensions both ways untouched, and
		// the upgraded connection as bytes: the compression is the
		// browser's and Hertz's, through the proxy.
		checkDeflateHandshake(t, tab, got.offered, got.accepted)
		t.Logf("handshake through nginx: %d, Sec-WebSocket-Extensions: %q, page shows %q", got.status, got.accepted, textOf(t, tab, "#extensions"))
		return tab
	}

	refused := func(t *testing.T, site string, status int) {
		t.Helper()
		tab, hs, fe := open(t, site)
		waitFor(t, tab, "the page to give up", `document.querySelector("#state").textContent === "Closed"`)
		last := textOf(t, tab, "#last-close")
		if last != "code 1006 (abnormal closure), not clean" {
			t.Errorf("last close shows %q", last)
		}
		if n := eval[int](t, tab, `document.querySelectorAll("#log li.received").length`); n != 0 {
			t.Errorf("%d messages received on a refused socket", n)
		}
		// Chromium reports a refused handshake as a WebSocket error, not
		// as a handshake response.
		got := hs.get()
		if got.seen && got.status != int64(status) {
			t.Errorf("the browser saw status %d, want %d", got.status, status)
		}
		if want := fmt.Sprintf("Unexpected response code: %d", status); !fe.wait(want) {
			t.Errorf("DevTools reports %q, want an error with %q", fe, want)
		}
		// The answer came from Hertz, passed on by nginx: both statuses
		// are in nginx's log.
		line := px.waitAccessLog(t, px.sites[site].port()+` "GET /echo `, fmt.Sprintf("status=%d upstream=%d", status, status))
		t.Logf("browser: handshake response seen %v, status %d; DevTools error %q; page: %q; nginx: %s", got.seen, got.status, fe, last, line)
		screenshot(t, tab, "nginx-echo-refused-"+fileName(site))
	}

	t.Run("recommended block: echo and compression", func(t *testing.T) {
		tab := accepted(t, "recommended ($http_host)")
		messages := []string{strings.Repeat("through nginx ", 40), "hello over wss", "héllo wörld ✓ 🚀"}
		echoOnPage(t, tab, messages)
		srv.waitOutput(t, `recv text "hello over wss"`)
		screenshot(t, tab, "nginx-echo")

		// A close code from the page reaches Hertz through nginx and its
		// answer comes back.
		closeOnPage(t, tab)
		line := px.waitAccessLog(t, `"GET /echo `, "status=101 upstream=101")
		t.Logf("nginx: %s", line)
	})

	t.Run("Host from $host:$server_port is accepted", func(t *testing.T) {
		accepted(t, "$host:$server_port")
	})

	// $host is the Host without its port: the Origin has the port nginx
	// listens on, which is not 443 here, so the origin check refuses it.
	t.Run("Host from $host without the port is refused", func(t *testing.T) {
		refused(t, "$host (no port)", 403)
	})

	// Without proxy_set_header Host, nginx sends the upstream's address
	// (127.0.0.1 and the echo server's port).
	t.Run("Host not forwarded is refused", func(t *testing.T) {
		refused(t, "Host not set", 403)
	})

	t.Run("without the upgrade lines the handshake fails with 400", func(t *testing.T) {
		refused(t, "no upgrade lines", 400)
		srv.waitOutput(t, "the opening handshake must be HTTP/1.1")
	})
	t.Run("with HTTP/1.1 but no upgrade headers the handshake fails with 400", func(t *testing.T) {
		refused(t, "HTTP/1.1 without upgrade headers", 400)
		srv.waitOutput(t, "'upgrade' token not found in 'Connection' header")
	})

	// The echo example sends no pings (no KeepAlive): an idle socket is
	// closed by nginx once proxy_read_timeout passes, with no close frame.
	t.Run("idle past proxy_read_timeout", func(t *testing.T) {
		tab := accepted(t, "2 s read timeout")
		waitFor(t, tab, "nginx to drop the idle socket", `document.querySelector("#state").textContent === "Closed"`)
		if last := textOf(t, tab, "#last-close"); last != "code 1006 (abnormal closure), not clean" {
			t.Errorf("last close shows %q", last)
		}
		t.Logf("after proxy_read_timeout 2s: %s", textOf(t, tab, "#last-close"))
		px.waitAccessLog(t, px.sites["2 s read timeout"].port()+` "GET /echo `, "status=101")
		if e, _ := os.ReadFile(filepath.Join(px.dir, "error.log")); !strings.Contains(string(e), "upstream timed out") {
			t.Errorf("nginx's error log has no \"upstream timed out\":\n%s", e)
		}
	})

	// Last, as it stops the echo server: SIGTERM runs upgrader.Shutdown,
	// and the page's socket gets close 1001 (Going Away), cleanly,
	// through nginx.
	t.Run("graceful shutdown", func(t *testing.T) {
		tab := accepted(t, "recommended ($http_host)")
		watchSocketClose(t, tab)
		if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM to echo: %v", err)
		}
		ev := socketClosed(t, tab, "the close event")
		if ev.Code != 1001 || !ev.WasClean {
			t.Errorf("socket closed with %+v, want code 1001, clean", ev)
		}
		t.Logf("echo shutdown through nginx: close event code %d, reason %q, wasClean %v", ev.Code, ev.Reason, ev.WasClean)
	})
}

// TestNginxChat runs two chat tabs through nginx, then stops the chat
// server with SIGTERM: Hertz's graceful shutdown runs upgrader.Shutdown,
// and both tabs get close 1001 (Going Away), cleanly, through nginx.
func TestNginxChat(t *testing.T) {
	srv := startExample(t, "chat")
	cert := newTestCert(t, t.TempDir())
	site := &nginxSite{name: "chat", upstream: srv.addr, proxyBlock: nginxWebSocketBlock}
	startNginx(t, cert, site)
	browser := newTLSBrowser(t, cert)
	alice := browser
	bob := newTab(t, browser)
	hs := watchHandshakes(t, alice)

	open := func(tab context.Context, name string) {
		t.Helper()
		step(t, tab, "open the page as "+name, chromedp.Navigate(site.url()+"/?room=proxied&name="+name))
		waitFor(t, tab, name+"'s socket to open through nginx", `document.querySelector("#state").textContent === "Open"`)
		// Record how the page's socket closes (socket is the page's
		// top-level variable).
		watchSocketClose(t, tab)
	}
	open(alice, "alice")
	open(bob, "bob")

	got := hs.get()
	if !got.seen || got.status != 101 || got.accepted != "permessage-deflate" {
		t.Errorf("alice's handshake through nginx: seen %v, status %d, Sec-WebSocket-Extensions %q", got.seen, got.status, got.accepted)
	}
	if ext := textOf(t, alice, "#extensions"); ext != "permessage-deflate" {
		t.Errorf("alice's page shows extensions %q", ext)
	}

	waitFor(t, alice, "bob in alice's member list", chatMembers+` === "alice,bob"`)
	waitFor(t, bob, "both in bob's member list", chatMembers+` === "alice,bob"`)
	step(t, alice, "alice speaks", chromedp.SendKeys(chromedp.CSS("#message"), "hi bob, via nginx"+kb.Enter))
	waitFor(t, bob, "alice's message in bob's tab", chatSays("alice", "hi bob, via nginx"))
	step(t, bob, "bob answers", chromedp.SendKeys(chromedp.CSS("#message"), "hi alice, wss all the way"+kb.Enter))
	waitFor(t, alice, "bob's answer in alice's tab", chatSays("bob", "hi alice, wss all the way"))
	screenshot(t, alice, "nginx-chat-alice")

	// SIGTERM: Hertz shuts down gracefully and runs its OnShutdown hooks,
	// upgrader.Shutdown among them, which sends 1001 to every connection.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to chat: %v", err)
	}
	for _, tab := range []struct {
		name string
		ctx  context.Context
	}{{"alice", alice}, {"bob", bob}} {
		ev := socketClosed(t, tab.ctx, tab.name+"'s close event")
		if ev.Code != 1001 || !ev.WasClean {
			t.Errorf("%s's socket closed with %+v, want code 1001, clean", tab.name, ev)
		}
		waitFor(t, tab.ctx, tab.name+"'s page to show the close", `document.querySelector("#state").textContent === "Closed"`)
		t.Logf("%s: close event code %d, reason %q, wasClean %v; page: %q", tab.name, ev.Code, ev.Reason, ev.WasClean,
			strings.Join(strings.Fields(textOf(t, tab.ctx, "#status")), " "))
	}
	screenshot(t, bob, "nginx-chat-shutdown")
}

// TestNginxSnippetInReadme checks that README.md shows the location block
// these tests run, so that the documented configuration is the tested one.
func TestNginxSnippetInReadme(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := indent(strings.ReplaceAll(nginxWebSocketBlock, "{{upstream}}", "127.0.0.1:8080"), "        ")
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not show the tested nginx block, indented by 8 spaces:\n%s", want)
	}
}
