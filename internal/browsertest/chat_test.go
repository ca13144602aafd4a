package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chatSays reports, as a JavaScript expression, whether the chat log shows
// a message from from with text.
func chatSays(from, text string) string {
	return `[...document.querySelectorAll("#log li.message")].some(li =>
		li.querySelector(".from").textContent === ` + jsString(from) + ` &&
		li.querySelector(".text").textContent === ` + jsString(text) + `)`
}

// chatMembers is a JavaScript expression for the member list, joined by
// commas.
const chatMembers = `[...document.querySelectorAll("#members li")].map(li => li.textContent).join(",")`

func TestChatTwoTabs(t *testing.T) {
	srv := startExample(t, "chat")
	browser := newBrowser(t)
	alice := browser
	bob := newTab(t, browser)
	carol := newTab(t, browser)

	open := func(tab context.Context, room, name string) {
		t.Helper()
		step(t, tab, "open the page as "+name, chromedp.Navigate(srv.url+"/?room="+room+"&name="+name))
		waitFor(t, tab, name+"'s socket to open", `document.querySelector("#state").textContent === "Open"`)
	}
	open(alice, "gophers", "alice")
	open(bob, "gophers", "bob")
	open(carol, "elsewhere", "carol")

	// The hub tells the room who is in it.
	waitFor(t, alice, "bob in alice's member list", chatMembers+` === "alice,bob"`)
	waitFor(t, bob, "both in bob's member list", chatMembers+` === "alice,bob"`)
	if got := eval[string](t, carol, chatMembers); got != "carol" {
		t.Errorf("carol's room lists %q", got)
	}
	if ext := textOf(t, alice, "#extensions"); ext != "permessage-deflate" {
		t.Errorf("alice's page shows extensions %q", ext)
	}

	say := func(tab context.Context, text string) {
		t.Helper()
		step(t, tab, "say "+text, chromedp.SendKeys(chromedp.CSS("#message"), text+kb.Enter))
	}
	say(alice, "hi bob, this is alice")
	waitFor(t, bob, "alice's message in bob's tab", chatSays("alice", "hi bob, this is alice"))
	waitFor(t, alice, "alice's message in her own tab", chatSays("alice", "hi bob, this is alice"))
	say(bob, "hello alice — ça va ?")
	waitFor(t, alice, "bob's reply in alice's tab", chatSays("bob", "hello alice — ça va ?"))

	// Rooms are separate. The hub handles posts in order and each client's
	// queue is first in, first out, so once carol sees her own later
	// message, anything of the other room would have arrived before it.
	say(carol, "anyone here?")
	waitFor(t, carol, "carol's own message", chatSays("carol", "anyone here?"))
	if n := eval[int](t, carol, `document.querySelectorAll("#log li.message").length`); n != 1 {
		t.Errorf("carol's room shows %d messages, want only her own", n)
	}

	screenshot(t, alice, "chat-alice")
	screenshot(t, bob, "chat-bob")

	// Bob goes to another page (the chat page leaves the room on pagehide,
	// also when the browser keeps it cached); alice is told and her member
	// list shrinks.
	step(t, bob, "bob goes to another page", chromedp.Navigate("about:blank"))
	waitFor(t, alice, "bob's leave notice", `[...document.querySelectorAll("#log li.notice")].some(li => li.textContent.endsWith("bob left"))`)
	waitFor(t, alice, "alice alone", chatMembers+` === "alice"`)
}

// TestChatAcrossServers runs two chat servers sharing a Redis (-redis): a
// tab on each server joins the same room, both see both in the member
// list, and each sees the other's message.
func TestChatAcrossServers(t *testing.T) {
	redisAddr := startRedis(t)
	one := startExample(t, "chat", "-redis", redisAddr)
	two := startExample(t, "chat", "-redis", redisAddr)
	browser := newBrowser(t)
	alice := browser
	bob := newTab(t, browser)

	step(t, alice, "alice opens server one", chromedp.Navigate(one.url+"/?room=shared&name=alice"))
	waitFor(t, alice, "alice's socket to open", `document.querySelector("#state").textContent === "Open"`)
	waitFor(t, alice, "alice in her member list", chatMembers+` === "alice"`)
	step(t, bob, "bob opens server two", chromedp.Navigate(two.url+"/?room=shared&name=bob"))
	waitFor(t, bob, "bob's socket to open", `document.querySelector("#state").textContent === "Open"`)

	// Bob's join goes through Redis to alice's server.
	waitFor(t, alice, "bob, on the other server, in alice's member list", chatMembers+` === "alice,bob"`)
	waitFor(t, bob, "both in bob's member list", chatMembers+` === "alice,bob"`)

	step(t, alice, "alice says hello", chromedp.SendKeys(chromedp.CSS("#message"), "hello from server one"+kb.Enter))
	waitFor(t, bob, "alice's message on server two", chatSays("alice", "hello from server one"))
	step(t, bob, "bob answers", chromedp.SendKeys(chromedp.CSS("#message"), "and back from server two"+kb.Enter))
	waitFor(t, alice, "bob's answer on server one", chatSays("bob", "and back from server two"))
	waitFor(t, bob, "bob's answer in his own tab", chatSays("bob", "and back from server two"))
	// Each message arrives once, though both servers subscribe to the
	// room. Messages from one server reach a tab in the order that server
	// sent them, so once alice's last word is in both tabs, a second copy
	// of anything before it would be there too.
	step(t, alice, "alice says goodbye", chromedp.SendKeys(chromedp.CSS("#message"), "bye"+kb.Enter))
	for _, tab := range []context.Context{alice, bob} {
		waitFor(t, tab, "alice's goodbye", chatSays("alice", "bye"))
		if n := eval[int](t, tab, `document.querySelectorAll("#log li.message").length`); n != 3 {
			t.Errorf("a tab shows %d messages, want 3", n)
		}
	}
	screenshot(t, bob, "chat-across-servers")
}
