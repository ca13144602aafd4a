package browsertest

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestPushPage(t *testing.T) {
	srv := startExample(t, "push", "-every", "100ms")
	tab := newBrowser(t)

	step(t, tab, "open the page", chromedp.Navigate(srv.url+"/"))
	waitFor(t, tab, "the subscription", `document.querySelector("#state").textContent === "Subscribed"`)
	waitFor(t, tab, "three ticks", `Number(document.querySelector("#count").textContent) >= 3`)
	first, err := strconv.Atoi(textOf(t, tab, "#seq"))
	if err != nil {
		t.Fatalf("sequence number: %v", err)
	}
	// The ticks keep coming, in order: the list shows consecutive numbers.
	waitFor(t, tab, "three more ticks", `Number(document.querySelector("#seq").textContent) >= `+strconv.Itoa(first+3))
	consecutive := `(() => {
		const seqs = [...document.querySelectorAll("#log li")].map(li => Number(li.textContent.slice(1).split(" ")[0]));
		return seqs.length >= 3 && seqs.every((s, i) => i === 0 || seqs[i-1] === s + 1);
	})()`
	waitFor(t, tab, "consecutive ticks in the list", consecutive)
	screenshot(t, tab, "push")
}
