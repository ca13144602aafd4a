package hub_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/internal/wstest"
)

// countWriters counts the goroutines running a client's writer.
func countWriters() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "hub.(*Client).writeLoop")
}

// TestEventHandler serves a room through Hub.EventHandler: every member
// gets every broadcast in order, and idle members hold no writer (and, on
// netpoll, no goroutine at all).
func TestEventHandler(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		h := hub.New(hub.Options{})
		defer h.Close()
		left := make(chan error, 64)
		handler := h.EventHandler(hub.Events{
			Joined: func(c *hub.Client) { _ = c.Join("room") },
			Message: func(c *hub.Client, mt int, data []byte) error {
				if string(data) == "quit" {
					return errors.New("asked to quit")
				}
				return h.Broadcast("room", mt, data)
			},
			Left: func(_ *hub.Client, err error) { left <- err },
		})
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, nil, handler)
		const n = 40
		members := make([]*websocket.Conn, n)
		for i := range members {
			members[i], _ = wstest.Dial(t, nil, url, nil)
		}
		wstest.WaitFor(t, 5*time.Second, "every member to join", func() bool { return len(h.Members("room")) == n })
		base := runtime.NumGoroutine()
		const rounds = 20
		for r := 0; r < rounds; r++ {
			if err := members[r%n].WriteMessage(websocket.TextMessage, []byte(fmt.Sprint(r))); err != nil {
				t.Fatal(err)
			}
		}
		for i, m := range members {
			_ = m.SetReadDeadline(time.Now().Add(wstest.Guard))
			for r := 0; r < rounds; r++ {
				_, p, err := m.ReadMessage()
				if err != nil {
					t.Fatalf("member %d: %v", i, err)
				}
				// One sender per round, each waiting for nothing: only
				// the rounds of one sender are ordered, and senders
				// differ, so check the set below by count.
				_ = p
			}
		}
		wstest.WaitFor(t, 5*time.Second, "the writers to leave once the queues are empty", func() bool { return countWriters() == 0 })
		if tr.Name == "netpoll" {
			if g := runtime.NumGoroutine(); g > base+n/4 {
				t.Fatalf("%d goroutines for %d idle members (%d before the broadcasts)", g, n, base)
			}
		}
		// One sender's messages arrive in order at every member.
		for r := 0; r < 10; r++ {
			if err := members[0].WriteMessage(websocket.TextMessage, []byte(fmt.Sprint("ordered-", r))); err != nil {
				t.Fatal(err)
			}
		}
		for i, m := range members {
			for r := 0; r < 10; r++ {
				_, p, err := m.ReadMessage()
				if err != nil {
					t.Fatalf("member %d: %v", i, err)
				}
				if want := fmt.Sprint("ordered-", r); string(p) != want {
					t.Fatalf("member %d got %q, want %q", i, p, want)
				}
			}
		}
		// A Message error ends the client; Left gets the reason.
		if err := members[1].WriteMessage(websocket.TextMessage, []byte("quit")); err != nil {
			t.Fatal(err)
		}
		if err := wstest.Receive(t, left, "Left"); err == nil || err.Error() != "asked to quit" {
			t.Fatalf("Left got %v, want the Message error", err)
		}
		// A member that closes leaves with the peer's close.
		_ = members[2].WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		var ce *websocket.CloseError
		if err := wstest.Receive(t, left, "Left"); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
			t.Fatalf("Left got %v, want the client's 1000", err)
		}
		wstest.WaitFor(t, 5*time.Second, "the two to leave the room", func() bool { return len(h.Members("room")) == n-2 })
	})
}

// TestEventHandlerRefuses: an Open error closes the connection with 1008
// and the client never joins.
func TestEventHandlerRefuses(t *testing.T) {
	h := hub.New(hub.Options{})
	defer h.Close()
	handler := h.EventHandler(hub.Events{
		Open: func(*websocket.Conn) (string, any, error) { return "", nil, errors.New("not today") },
	})
	url := wstest.StartEvents(t, wstest.Transports[0], wstest.EngineSettings{}, nil, handler)
	c, _ := wstest.Dial(t, nil, url, nil)
	_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "not today" {
		t.Fatalf("got %v, want close 1008 \"not today\"", err)
	}
	if h.Len() != 0 {
		t.Fatalf("%d clients registered", h.Len())
	}
}
