package redishub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/hub/internal/hubtest"
	"github.com/hertzws/websocket/hub/redishub"
)

func init() { hubtest.Quiet() }

// leakCheck lists the goroutines of the hub and the broker.
var leakCheck = []string{"hub.(*Client).writeLoop", "hub.(*Client).Run", "redishub.(*Broker)"}

// instance is one server of a service: a hub with a Redis broker, served
// by Hertz on 127.0.0.1.
type instance struct {
	name string
	h    *hub.Hub
	b    *redishub.Broker
	srv  *hubtest.Server
}

func newInstance(t *testing.T, rs *redisServer, tr hubtest.Transport, name string) *instance {
	t.Helper()
	b := redishub.New(rs.Client(), redishub.Options{
		MinBackoff:  20 * time.Millisecond,
		MaxBackoff:  200 * time.Millisecond,
		HealthCheck: 200 * time.Millisecond,
	})
	in := &instance{name: name, b: b, h: hub.New(hub.Options{Broker: b, InstanceID: name, QueueSize: 1024})}
	t.Cleanup(func() { _ = in.h.Close() })
	in.srv = hubtest.ServeHub(t, tr, in.h, hubtest.ServerOptions{})
	return in
}

// synced waits until the instances' brokers have every subscription
// their hubs asked for.
func synced(t *testing.T, instances ...*instance) {
	t.Helper()
	for _, in := range instances {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := in.b.Synced(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: broker not subscribed after 10s: %v (stats %+v)", in.name, err, in.b.Stats())
		}
	}
}

// member is a client of one instance.
type member struct {
	name string
	in   *instance
	c    *hubtest.Client
}

// join dials n clients to in, named prefix0.., in rooms.
func join(t *testing.T, in *instance, prefix string, n int, rooms ...string) []*member {
	t.Helper()
	var ms []*member
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		ms = append(ms, &member{name: name, in: in, c: hubtest.Dial(t, in.srv.Member(name, rooms...), hubtest.DialOptions{})})
	}
	return ms
}

// expectExactly checks that m received each message of want exactly once,
// nothing else, and each sender's messages in the order sent. Messages
// are "sender:number".
func expectExactly(t *testing.T, m *member, want []string) {
	t.Helper()
	got := m.c.WaitCount(t, len(want), 10*time.Second)
	seen := map[string]int{}
	last := map[string]int{}
	for _, msg := range got {
		seen[msg]++
		var sender string
		var n int
		if i := strings.LastIndexByte(msg, ':'); i >= 0 {
			sender = msg[:i]
			fmt.Sscan(msg[i+1:], &n)
		}
		if prev, ok := last[sender]; ok && n <= prev {
			t.Errorf("%s: %q arrived after %s:%d", m.name, msg, sender, prev)
		}
		last[sender] = n
	}
	for _, w := range want {
		if seen[w] != 1 {
			t.Errorf("%s received %q %d times, want once", m.name, w, seen[w])
		}
		delete(seen, w)
	}
	for msg, n := range seen {
		t.Errorf("%s received %q (%d times), which was not for it", m.name, msg, n)
	}
}

// settle shows that nothing more is on its way to the members: each
// instance broadcasts a marker to everyone, and once a member has every
// marker it must have exactly n messages before them. Deliveries from one
// instance to one client keep their order, locally and through Redis, so
// a stray message from an instance would come before its marker.
func settle(t *testing.T, counts map[*member]int, instances ...*instance) {
	t.Helper()
	settles++
	var markers []string
	for _, in := range instances {
		marker := fmt.Sprintf("marker-%s:%d", in.name, settles)
		markers = append(markers, marker)
		if err := in.h.BroadcastAll(websocket.TextMessage, []byte(marker)); err != nil {
			t.Fatal(err)
		}
	}
	for m, n := range counts {
		var got []string
		waitFor(t, m.name+" gets every marker", func() bool {
			got = m.c.Messages()
			return containsAll(got, markers)
		})
		if len(got) != n+len(markers) {
			t.Fatalf("%s: got %d messages before the markers, want %d: %q", m.name, len(got)-len(markers), n, got[n:])
		}
		counts[m] = len(got)
	}
}

// settles numbers the markers of a test's settle calls.
var settles int

func containsAll(list, want []string) bool {
	have := map[string]bool{}
	for _, s := range list {
		have[s] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}

// Two instances, clients on each: every message a room member sends reaches
// every member of the room on both instances exactly once, nothing reaches
// anyone outside the room, and BroadcastAll and Send cross instances too.
func TestTwoInstancesDeliverExactlyOnce(t *testing.T) {
	hubtest.NoLeaks(t, leakCheck...)
	rs := startRedis(t)
	a := newInstance(t, rs, hubtest.Transports[0], "a")
	b := newInstance(t, rs, hubtest.Transports[1], "b")

	roomA := join(t, a, "ra", 3, "r")
	roomB := join(t, b, "rb", 3, "r")
	outA := join(t, a, "oa", 1, "other")
	outB := join(t, b, "ob", 1)
	a.srv.WaitReady(t, 4)
	b.srv.WaitReady(t, 4)
	synced(t, a, b)

	const perSender = 20
	room := append(append([]*member{}, roomA...), roomB...)
	var want []string
	for i := 0; i < perSender; i++ {
		for _, m := range room {
			msg := fmt.Sprintf("%s:%d", m.name, i)
			want = append(want, msg)
			m.c.Say(t, "r\n"+msg)
		}
	}
	for _, m := range room {
		expectExactly(t, m, want)
	}
	counts := map[*member]int{outA[0]: 0, outB[0]: 0}
	for _, m := range room {
		counts[m] = len(want)
	}
	settle(t, counts, a, b)

	// BroadcastAll from a client of a; Send from a client of b to one of a.
	outB[0].c.Say(t, "*\nall:1")
	roomB[2].c.Say(t, "@oa0\ndirect:1")
	for m, n := range counts {
		extra := []string{"all:1"}
		if m == outA[0] {
			extra = append(extra, "direct:1")
		}
		got := m.c.WaitCount(t, n+len(extra), 10*time.Second)
		if !sameStrings(got[n:], extra) {
			t.Errorf("%s got %q after the room traffic, want %q", m.name, got[n:], extra)
		}
		counts[m] += len(extra)
	}
	settle(t, counts, a, b)

	for _, in := range []*instance{a, b} {
		st, bs := in.h.Stats(), in.b.Stats()
		t.Logf("%s: hub %+v; broker %+v", in.name, st, bs)
		if st.Malformed != 0 || bs.PublishFailed+bs.PublishDropped != 0 {
			t.Errorf("%s: lost or malformed messages: hub %+v broker %+v", in.name, st, bs)
		}
	}
}

// sameStrings compares two lists as multisets.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, s := range a {
		n[s]++
	}
	for _, s := range b {
		if n[s]--; n[s] < 0 {
			return false
		}
	}
	return true
}

// Redis stopped mid-test: each instance keeps delivering to its own
// clients, messages for the other instance are dropped and counted; once
// Redis is back both brokers resubscribe and delivery across instances
// resumes, exactly once.
func TestRedisRestartLocalDeliveryContinuesThenCrossResumes(t *testing.T) {
	hubtest.NoLeaks(t, leakCheck...)
	rs := startRedis(t)
	a := newInstance(t, rs, hubtest.Transports[0], "a")
	b := newInstance(t, rs, hubtest.Transports[1], "b")
	ma := join(t, a, "a", 2, "r")
	mb := join(t, b, "b", 2, "r")
	a.srv.WaitReady(t, 2)
	b.srv.WaitReady(t, 2)
	synced(t, a, b)
	all := append(append([]*member{}, ma...), mb...)
	counts := map[*member]int{}

	// Phase 1: Redis up.
	ma[0].c.Say(t, "r\nbefore:1")
	for _, m := range all {
		expectExactly(t, m, []string{"before:1"})
		counts[m] = 1
	}

	// Phase 2: Redis down.
	rs.Stop()
	waitFor(t, "brokers see Redis down", func() bool { return !a.b.Stats().Connected && !b.b.Stats().Connected })
	failedBefore := a.b.Stats().PublishFailed + a.b.Stats().PublishDropped
	const down = 10
	for i := 0; i < down; i++ {
		ma[1].c.Say(t, fmt.Sprintf("r\nduring-a:%d", i))
		mb[1].c.Say(t, fmt.Sprintf("r\nduring-b:%d", i))
	}
	for _, m := range all {
		var want []string
		for i := 0; i < down; i++ {
			if m.in == a {
				want = append(want, fmt.Sprintf("during-a:%d", i))
			} else {
				want = append(want, fmt.Sprintf("during-b:%d", i))
			}
		}
		got := m.c.WaitCount(t, counts[m]+down, 10*time.Second)
		if !sameStrings(got[counts[m]:], want) {
			t.Fatalf("%s: while Redis was down got %q, want its own instance's %q", m.name, got[counts[m]:], want)
		}
		counts[m] += down
	}
	// Every message for the other instance has been given up on, so none
	// can surface after the restart.
	waitFor(t, "a's broker gives up the messages for b", func() bool {
		s := a.b.Stats()
		return s.PublishFailed+s.PublishDropped >= failedBefore+down
	})
	waitFor(t, "b's broker gives up the messages for a", func() bool {
		s := b.b.Stats()
		return s.PublishFailed+s.PublishDropped >= down
	})

	// Phase 3: Redis back.
	rs.Start()
	synced(t, a, b)
	for _, in := range []*instance{a, b} {
		if s := in.b.Stats(); s.Sessions < 2 {
			t.Fatalf("%s: broker stats %+v, want a second session", in.name, s)
		}
	}
	mb[0].c.Say(t, "r\nafter-b:1")
	ma[0].c.Say(t, "r\nafter-a:1")
	for _, m := range all {
		got := m.c.WaitCount(t, counts[m]+2, 10*time.Second)
		if !sameStrings(got[counts[m]:], []string{"after-a:1", "after-b:1"}) {
			t.Fatalf("%s: after the restart got %q", m.name, got[counts[m]:])
		}
		counts[m] += 2
	}
	settle(t, counts, a, b)
}

// A Redis that stops answering without closing its connections (a frozen
// process, a dead host) is found by the health check; when it answers
// again, delivery across instances resumes.
func TestSilentRedisFoundByHealthCheck(t *testing.T) {
	hubtest.NoLeaks(t, leakCheck...)
	rs := startRedis(t)
	a := newInstance(t, rs, hubtest.Transports[0], "a")
	b := newInstance(t, rs, hubtest.Transports[0], "b")
	ma := join(t, a, "a", 1, "r")
	mb := join(t, b, "b", 1, "r")
	a.srv.WaitReady(t, 1)
	b.srv.WaitReady(t, 1)
	synced(t, a, b)

	rs.Freeze()
	waitFor(t, "the brokers notice the silence", func() bool { return !a.b.Stats().Connected && !b.b.Stats().Connected })
	ma[0].c.Say(t, "r\nlocal:1")
	expectExactly(t, ma[0], []string{"local:1"})
	waitFor(t, "a's broker gives up the message", func() bool {
		s := a.b.Stats()
		return s.PublishFailed+s.PublishDropped >= 1
	})
	rs.Thaw()
	synced(t, a, b)
	ma[0].c.Say(t, "r\nacross:1")
	expectExactly(t, ma[0], []string{"local:1", "across:1"})
	expectExactly(t, mb[0], []string{"across:1"})
	// A PUBLISH that timed out may still sit in the frozen server's socket
	// buffer and run when it thaws: "local:1" may have reached b, once at
	// most.
	nb := 1
	if got := mb[0].c.Messages(); len(got) > 1 && got[1] == "local:1" {
		nb = 2
	}
	settle(t, map[*member]int{ma[0]: 2, mb[0]: nb}, a, b)
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
