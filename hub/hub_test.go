package hub_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/hub/internal/hubtest"
)

func init() { hubtest.Quiet() }

// hubGoroutines are the functions whose goroutines must be gone when a
// test's hub and connections are.
var hubGoroutines = []string{"hub.(*Client).writeLoop", "hub.(*Client).Run"}

// waitFor polls cond until it holds or a second passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 1s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recv takes the next value from ch, failing the test if none comes within
// 5 seconds.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received within 5s")
		var zero T
		return zero
	}
}

// waitClients waits until the hub has n clients.
func waitClients(t *testing.T, h *hub.Hub, n int) {
	t.Helper()
	waitFor(t, "hub has the expected clients", func() bool { return h.Len() == n })
}

// A message to a room reaches exactly its members, once, and a marker sent
// to everyone afterwards shows nothing else is on its way.
func TestBroadcastReachesRoomMembersOnly(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		h := hub.New(hub.Options{})
		t.Cleanup(func() { _ = h.Close() })
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{})

		alice := hubtest.Dial(t, srv.Member("alice", "go", "rust"), hubtest.DialOptions{})
		bob := hubtest.Dial(t, srv.Member("bob", "go"), hubtest.DialOptions{})
		carol := hubtest.Dial(t, srv.Member("carol", "rust"), hubtest.DialOptions{})
		dave := hubtest.Dial(t, srv.Member("dave"), hubtest.DialOptions{})
		srv.WaitReady(t, 4)

		alice.Say(t, "go\nhello gophers")
		carol.Say(t, "rust\nhello crabs")
		bob.Say(t, "@carol\njust for carol")
		dave.Say(t, "*\nto all")

		want := map[string][]string{
			"alice": {"hello gophers", "hello crabs", "to all"},
			"bob":   {"hello gophers", "to all"},
			"carol": {"hello crabs", "just for carol", "to all"},
			"dave":  {"to all"},
		}
		clients := map[string]*hubtest.Client{"alice": alice, "bob": bob, "carol": carol, "dave": dave}
		total := 0
		for name, msgs := range want {
			// The senders are different connections, so the order across
			// them is the order the server happened to handle them in.
			if got := clients[name].WaitCount(t, len(msgs), 5*time.Second); !sameSet(got, msgs) {
				t.Errorf("%s got %q, want %q in any order", name, got, msgs)
			}
			total += len(msgs)
		}
		// A last message behind everything else: each queue is in order,
		// so a stray copy of an earlier message would come before it.
		if err := h.BroadcastAll(websocket.TextMessage, []byte("last")); err != nil {
			t.Fatal(err)
		}
		for name, msgs := range want {
			got := clients[name].WaitCount(t, len(msgs)+1, 5*time.Second)
			if len(got) != len(msgs)+1 || got[len(got)-1] != "last" {
				t.Errorf("%s got %q, want %d messages then \"last\"", name, got, len(msgs))
			}
		}
		if st := h.Stats(); st.Delivered != uint64(total+4) {
			t.Errorf("hub delivered %d messages, want %d", st.Delivered, total+4)
		}
	})
}

// sameSet reports whether a and b hold the same strings the same number of
// times.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, s := range a {
		n[s]++
	}
	for _, s := range b {
		n[s]--
	}
	for _, v := range n {
		if v != 0 {
			return false
		}
	}
	return true
}

// Broadcasts from one goroutine reach each member in the order they were
// made, and Send to an unknown ID without a broker is an error.
func TestBroadcastOrderAndUnknownClient(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		h := hub.New(hub.Options{QueueSize: 512})
		t.Cleanup(func() { _ = h.Close() })
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{})
		a := hubtest.Dial(t, srv.Member("a", "r"), hubtest.DialOptions{})
		b := hubtest.Dial(t, srv.Member("b", "r"), hubtest.DialOptions{})
		srv.WaitReady(t, 2)

		var want []string
		for i := 0; i < 300; i++ {
			msg := string(rune('A'+i%26)) + time.Duration(i).String()
			want = append(want, msg)
			if err := h.Broadcast("r", websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []*hubtest.Client{a, b} {
			if got := c.WaitCount(t, len(want), 5*time.Second); !reflect.DeepEqual(got, want) {
				t.Fatalf("messages out of order or changed:\n got %q\nwant %q", got[:10], want[:10])
			}
		}
		if err := h.Send("nobody", websocket.TextMessage, []byte("x")); !errors.Is(err, hub.ErrUnknownClient) {
			t.Fatalf("Send to an unknown ID: %v, want ErrUnknownClient", err)
		}
		if st := h.Stats(); st.Delivered != 600 || st.DroppedNewest+st.DroppedOldest+st.DroppedOnClose != 0 {
			t.Fatalf("stats %+v, want 600 delivered and nothing dropped", st)
		}
	})
}

// Only text in UTF-8 and binary messages are accepted.
func TestBadMessagesRefused(t *testing.T) {
	h := hub.New(hub.Options{})
	defer h.Close()
	cases := []struct {
		name string
		mt   int
		data []byte
	}{
		{"invalid UTF-8 text", websocket.TextMessage, []byte{0xff, 'a'}},
		{"close", websocket.CloseMessage, nil},
		{"ping", websocket.PingMessage, nil},
		{"unknown type", 0, []byte("x")},
	}
	for _, tc := range cases {
		if err := h.Broadcast("r", tc.mt, tc.data); !errors.Is(err, hub.ErrBadMessage) {
			t.Errorf("%s: Broadcast returned %v, want ErrBadMessage", tc.name, err)
		}
		if err := h.BroadcastAll(tc.mt, tc.data); !errors.Is(err, hub.ErrBadMessage) {
			t.Errorf("%s: BroadcastAll returned %v, want ErrBadMessage", tc.name, err)
		}
	}
	if err := h.Broadcast("r", websocket.BinaryMessage, []byte{0xff}); err != nil {
		t.Errorf("binary message refused: %v", err)
	}
}

// Joining and leaving change what a client receives and what the hub
// lists; a room with no member left disappears.
func TestJoinLeaveAndListings(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		h := hub.New(hub.Options{})
		t.Cleanup(func() { _ = h.Close() })
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{})
		x := hubtest.Dial(t, srv.Member("x", "a", "b"), hubtest.DialOptions{})
		hubtest.Dial(t, srv.Member("y", "b"), hubtest.DialOptions{})
		srv.WaitReady(t, 2)

		if got := h.Rooms(); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Fatalf("Rooms() = %q", got)
		}
		ids := func(cs []*hub.Client) (out []string) {
			for _, c := range cs {
				out = append(out, c.ID())
			}
			return out
		}
		if got := ids(h.Members("b")); !reflect.DeepEqual(got, []string{"x", "y"}) {
			t.Fatalf("Members(b) = %q", got)
		}
		cx, ok := h.Client("x")
		if !ok {
			t.Fatal("Client(x) not found")
		}
		if got := cx.Rooms(); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Fatalf("x.Rooms() = %q", got)
		}

		cx.Leave("a")
		if got := h.Rooms(); !reflect.DeepEqual(got, []string{"b"}) {
			t.Fatalf("after x left a, Rooms() = %q", got)
		}
		mustBroadcast(t, h, "a", "to a")
		if err := cx.Join("c"); err != nil {
			t.Fatal(err)
		}
		mustBroadcast(t, h, "c", "to c")
		if err := cx.Send(websocket.TextMessage, []byte("direct")); err != nil {
			t.Fatal(err)
		}
		if got := x.WaitCount(t, 2, 5*time.Second); !reflect.DeepEqual(got, []string{"to c", "direct"}) {
			t.Fatalf("x got %q", got)
		}
	})
}

func mustBroadcast(t *testing.T, h *hub.Hub, room, msg string) {
	t.Helper()
	if err := h.Broadcast(room, websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// A client whose peer goes away leaves the hub and its rooms, its writer
// stops, and Run reports why.
func TestClientRemovedWhenConnectionEnds(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		h := hub.New(hub.Options{})
		t.Cleanup(func() { _ = h.Close() })
		ended := make(chan error, 2)
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{OnEnd: func(_ *hub.Client, err error) { ended <- err }})

		polite := hubtest.Dial(t, srv.Member("polite", "r"), hubtest.DialOptions{})
		rude := hubtest.Dial(t, srv.Member("rude", "r"), hubtest.DialOptions{})
		srv.WaitReady(t, 2)
		cp, _ := h.Client("polite")

		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
		if err := polite.Conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		err := recv(t, ended)
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("Run returned %v, want the peer's close 1000", err)
		}
		select {
		case <-cp.Done():
		default:
			t.Fatal("Done not closed after Run returned")
		}
		if !errors.Is(cp.Err(), err) {
			t.Fatalf("Err() = %v, want %v", cp.Err(), err)
		}

		rude.Conn.NetConn().Close() // no close frame
		err = recv(t, ended)
		if !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
			t.Fatalf("Run returned %v, want 1006", err)
		}
		waitClients(t, h, 0)
		if rooms := h.Rooms(); len(rooms) != 0 {
			t.Fatalf("rooms left after every client ended: %q", rooms)
		}
		if err := cp.Join("again"); err == nil {
			t.Fatal("Join succeeded on a client that ended")
		}
		if rooms := h.Rooms(); len(rooms) != 0 {
			t.Fatalf("Join of an ended client created rooms %q", rooms)
		}
	})
}

// A second client with a taken ID is refused; the first keeps working.
func TestDuplicateIDRefused(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		h := hub.New(hub.Options{})
		t.Cleanup(func() { _ = h.Close() })
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{})
		first := hubtest.Dial(t, srv.Member("same", "r"), hubtest.DialOptions{})
		srv.WaitReady(t, 1)
		second := hubtest.Dial(t, srv.Member("same", "r"), hubtest.DialOptions{})
		if err := second.WaitEnd(t, 5*time.Second); err == nil {
			t.Fatal("second client with the same ID was not closed")
		}
		mustBroadcast(t, h, "r", "still here")
		if got := first.WaitCount(t, 1, 5*time.Second); got[0] != "still here" {
			t.Fatalf("first client got %q", got)
		}
		if h.Len() != 1 {
			t.Fatalf("hub has %d clients, want 1", h.Len())
		}
	})
}

// IDs the hub chooses are unique and start with the instance ID.
func TestChosenIDs(t *testing.T) {
	h := hub.New(hub.Options{InstanceID: "node-1"})
	t.Cleanup(func() { _ = h.Close() })
	srv := hubtest.ServeHub(t, hubtest.Transports[0], h, hubtest.ServerOptions{})
	for i := 0; i < 3; i++ {
		hubtest.Dial(t, srv.Member("", "r"), hubtest.DialOptions{})
	}
	srv.WaitReady(t, 3)
	seen := map[string]bool{}
	for _, c := range h.Members("r") {
		if seen[c.ID()] || len(c.ID()) <= len("node-1-") || c.ID()[:len("node-1-")] != "node-1-" {
			t.Fatalf("chosen ID %q repeated or not prefixed by the instance ID", c.ID())
		}
		seen[c.ID()] = true
	}
}

// CloseWith sends what is queued, then the close frame; the peer's answer
// ends Run with ErrClientClosed.
func TestCloseWithSendsQueueThenClose(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		h := hub.New(hub.Options{})
		t.Cleanup(func() { _ = h.Close() })
		ended := make(chan error, 1)
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{
			OnMessage: func(_ *hub.Hub, c *hub.Client, _ int, data []byte) error {
				for _, s := range []string{"one", "two", "three"} {
					if err := c.Send(websocket.TextMessage, []byte(s)); err != nil {
						return err
					}
				}
				c.CloseWith(4001, string(data))
				return nil
			},
			OnEnd: func(_ *hub.Client, err error) { ended <- err },
		})
		c := hubtest.Dial(t, srv.Member("k"), hubtest.DialOptions{})
		srv.WaitReady(t, 1)
		c.Say(t, "kicked")
		err := c.WaitEnd(t, 5*time.Second)
		if got := c.Messages(); !reflect.DeepEqual(got, []string{"one", "two", "three"}) {
			t.Fatalf("client got %q before the close", got)
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "kicked" {
			t.Fatalf("client read error %v, want close 4001 \"kicked\"", err)
		}
		if err := recv(t, ended); !errors.Is(err, hub.ErrClientClosed) {
			t.Fatalf("Run returned %v, want ErrClientClosed", err)
		}
		waitClients(t, h, 0)
	})
}

// Close sends 1001 to every client, ends their Run with ErrHubClosed, and
// refuses new clients.
func TestHubCloseGoingAway(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		h := hub.New(hub.Options{})
		ended := make(chan error, 2)
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{OnEnd: func(_ *hub.Client, err error) { ended <- err }})
		a := hubtest.Dial(t, srv.Member("a", "r"), hubtest.DialOptions{})
		b := hubtest.Dial(t, srv.Member("b"), hubtest.DialOptions{})
		srv.WaitReady(t, 2)
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*hubtest.Client{a, b} {
			if err := c.WaitEnd(t, 5*time.Second); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Fatalf("client read error %v, want close 1001", err)
			}
		}
		for i := 0; i < 2; i++ {
			if err := recv(t, ended); !errors.Is(err, hub.ErrHubClosed) {
				t.Fatalf("Run returned %v, want ErrHubClosed", err)
			}
		}
		late := hubtest.Dial(t, srv.Member("late"), hubtest.DialOptions{})
		if err := late.WaitEnd(t, 5*time.Second); err == nil {
			t.Fatal("a client registered after Close")
		}
		if err := h.Close(); !errors.Is(err, hub.ErrHubClosed) {
			t.Fatalf("second Close returned %v", err)
		}
	})
}

// One broadcast reaches connections with and without permessage-deflate in
// the form each negotiated: the same message, compressed on the wire only
// for those that asked.
func TestBroadcastPerCompressionMode(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		h := hub.New(hub.Options{})
		t.Cleanup(func() { _ = h.Close() })
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{Upgrader: &websocket.HertzUpgrader{EnableCompression: true}})
		var plainBytes, deflateBytes atomic.Int64
		plain := hubtest.Dial(t, srv.Member("plain", "r"), hubtest.DialOptions{WireBytes: &plainBytes})
		deflate := hubtest.Dial(t, srv.Member("deflate", "r"), hubtest.DialOptions{Compression: true, WireBytes: &deflateBytes})
		srv.WaitReady(t, 2)
		before := [2]int64{plainBytes.Load(), deflateBytes.Load()}

		var want []string
		for i := 0; i < 20; i++ {
			msg := strings.Repeat(fmt.Sprintf(`{"seq":%d,"user":"gopher","text":"hello, room"}`, i), 150)
			want = append(want, msg)
			mustBroadcast(t, h, "r", msg)
		}
		for _, c := range []*hubtest.Client{plain, deflate} {
			if got := c.WaitCount(t, len(want), 5*time.Second); !reflect.DeepEqual(got, want) {
				t.Fatal("a client got different messages")
			}
		}
		p, d := plainBytes.Load()-before[0], deflateBytes.Load()-before[1]
		t.Logf("on the wire: %d bytes plain, %d bytes deflated", p, d)
		if p < int64(len(want)*len(want[0])) || d*10 > p {
			t.Fatalf("wire bytes: plain %d, deflate %d; want the deflated stream under a tenth", p, d)
		}
	})
}

// Clients joining, leaving, sending and disconnecting on many goroutines
// at once, under the race detector: every client ends removed, every
// writer stops, and no room is left behind.
func TestConcurrentUse(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		h := hub.New(hub.Options{Policy: hub.DropOldest})
		t.Cleanup(func() { _ = h.Close() })
		srv := hubtest.ServeHub(t, tr, h, hubtest.ServerOptions{})
		const clients, rounds = 20, 30
		var cs []*hubtest.Client
		for i := 0; i < clients; i++ {
			cs = append(cs, hubtest.Dial(t, srv.Member(fmt.Sprintf("c%d", i), "common"), hubtest.DialOptions{KeepBytes: 8}))
		}
		srv.WaitReady(t, clients)
		done := make(chan struct{})
		for i := 0; i < clients; i++ {
			go func(i int) {
				defer func() { done <- struct{}{} }()
				c, ok := h.Client(fmt.Sprintf("c%d", i))
				if !ok {
					return
				}
				for r := 0; r < rounds; r++ {
					room := fmt.Sprintf("r%d", r%4)
					_ = c.Join(room)
					_ = h.Broadcast(room, websocket.TextMessage, []byte("room"))
					_ = h.Broadcast("common", websocket.BinaryMessage, []byte{byte(r)})
					_ = h.Send(fmt.Sprintf("c%d", (i+1)%clients), websocket.TextMessage, []byte("next"))
					c.Leave(room)
					_ = h.Members(room)
					_ = h.Rooms()
					_ = h.Stats()
				}
			}(i)
		}
		// Half the clients hang up while the others are busy.
		for i := 0; i < clients; i += 2 {
			cs[i].Conn.Close()
		}
		for i := 0; i < clients; i++ {
			recv(t, done)
		}
		waitClients(t, h, clients/2)
		if rooms := h.Rooms(); !reflect.DeepEqual(rooms, []string{"common"}) {
			t.Fatalf("rooms left: %q", rooms)
		}
		for i := 1; i < clients; i += 2 {
			cs[i].Conn.Close()
		}
		waitClients(t, h, 0)
		if rooms := h.Rooms(); len(rooms) != 0 {
			t.Fatalf("rooms left after everyone left: %q", rooms)
		}
	})
}
