package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where the browser is: $CHROMIUM, else Debian's
// /usr/bin/chromium.
func chromiumPath(t *testing.T) string {
	return programPath(t, "CHROMIUM", "/usr/bin/chromium", "chromium")
}

// programPath is the program named by the environment variable env, else
// Debian's path for it; the test fails when it is not there, naming the
// apt package that installs it.
func programPath(t *testing.T, env, debianPath, aptPackage string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		path = debianPath
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s not found (apt-get install %s, or set %s): %v", path, aptPackage, env, err)
	}
	return path
}

// newBrowser starts a headless Chromium for the test and returns the
// context of its first tab; extra options come after the usual ones. The
// browser stops when the test ends.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	log := new(lockedBuffer)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		// Nothing but 127.0.0.1 is reachable here: keep the browser from
		// trying anything else.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
		chromedp.CombinedOutput(log),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			t.Logf("--- chromium output:\n%s", log.String())
		}
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v\n%s", err, log.String())
	}
	return ctx
}

// newTab opens another tab in the browser of ctx.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// step runs actions on tab with a generous bound, failing the test with
// what was being done when they fail.
func step(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in tab and decodes its value.
func eval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true in tab, for at
// most 20 s; on timeout it reports the page's text.
func waitFor(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 25*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		body, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s (%s): %v\n--- page text:\n%s", what, expr, err, body)
	}
}

// textOf returns the text content of the first element matching the CSS
// selector.
func textOf(t *testing.T, tab context.Context, selector string) string {
	t.Helper()
	return eval[string](t, tab, fmt.Sprintf(`document.querySelector(%s).textContent`, jsString(selector)))
}

// jsString quotes s as a JavaScript string literal (a JSON string is one).
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// screenshot saves a PNG of tab's whole page as name.png in the test's
// temporary directory, and in $BROWSERTEST_SCREENSHOTS when that is set.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{t.TempDir()}
	if dir := os.Getenv("BROWSERTEST_SCREENSHOTS"); dir != "" {
		dirs = append(dirs, dir)
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatalf("save screenshot: %v", err)
		}
		t.Logf("screenshot: %s", path)
	}
}

// closeEvent is what a page's WebSocket close event said.
type closeEvent struct {
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	WasClean bool   `json:"wasClean"`
}

// watchSocketClose records the close event of the page's socket (the
// top-level variable of the echo and chat pages) for socketClosed.
func watchSocketClose(t *testing.T, tab context.Context) {
	t.Helper()
	step(t, tab, "watch the socket close", chromedp.Evaluate[chromedp.Void](
		`socket.addEventListener("close", e => { window.closeSeen = {code: e.code, reason: e.reason, wasClean: e.wasClean}; })`))
}

// socketClosed waits for the close event watchSocketClose records and
// returns it.
func socketClosed(t *testing.T, tab context.Context, what string) closeEvent {
	t.Helper()
	waitFor(t, tab, what, `window.closeSeen !== undefined`)
	return eval[closeEvent](t, tab, `window.closeSeen`)
}
