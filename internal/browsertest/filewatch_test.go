package browsertest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestFilewatchPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("first version\n")
	srv := startExample(t, "filewatch", "-file", path, "-poll", "50ms")
	tab := newBrowser(t)

	contentIs := func(want string) string {
		return `document.querySelector("#content").textContent === ` + jsString(want)
	}
	updatesAre := func(n string) string {
		return `document.querySelector("#updates").textContent === ` + jsString(n)
	}

	step(t, tab, "open the page", chromedp.Navigate(srv.url+"/"))
	waitFor(t, tab, "the first contents", contentIs("first version\n"))
	if got := textOf(t, tab, "#path"); got != path {
		t.Errorf("page shows path %q, want %q", got, path)
	}
	if got := textOf(t, tab, "#updates"); got != "1" {
		t.Errorf("updates = %s after opening, want 1", got)
	}

	// Each change arrives once: the poll sees a new size or modification
	// time and sends the whole file.
	second := "second version: a longer line, with ünïcödé\nand a second line\n"
	write(second)
	waitFor(t, tab, "the second contents", contentIs(second))
	waitFor(t, tab, "two updates", updatesAre("2"))
	if got, want := textOf(t, tab, "#size"), strconv.Itoa(len(second))+" B"; got != want {
		t.Errorf("size shows %q, want %q", got, want)
	}
	screenshot(t, tab, "filewatch")

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, "the file gone", contentIs("The file does not exist (yet). Create it and it shows up here."))
	waitFor(t, tab, "three updates", updatesAre("3"))

	write("back again\n")
	waitFor(t, tab, "the file back", contentIs("back again\n"))
	waitFor(t, tab, "four updates", updatesAre("4"))
	if state := textOf(t, tab, "#state"); state != "Watching" {
		t.Errorf("state shows %q", state)
	}
}
