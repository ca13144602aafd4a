package hubtest

import (
	"runtime"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
)

// Fanout is the setup of a fan-out benchmark: one publisher, Subscribers
// clients in one room, spread evenly over the servers of Hubs.
type Fanout struct {
	Subscribers int
	// Hubs are the instances; the publisher broadcasts on the first.
	Hubs []*hub.Hub
	// Serve starts the server of Hubs[i], with gate holding its upgraded
	// connections until the benchmark has measured them.
	Serve func(i int, gate <-chan struct{}) *Server
	// Ready, when not nil, runs once every subscriber is registered, before
	// the clock starts (to wait for a broker's subscriptions).
	Ready func()
	// Message is the payload broadcast; Window is how many broadcasts may
	// be in flight at once, counted over all subscribers together (one
	// subscriber may lag further: the hubs' QueueSize must allow for it,
	// as the benchmark fails on any message lost).
	Message []byte
	Window  int
}

// fanoutRoom is the room of every subscriber.
const fanoutRoom = "fanout"

// Run connects the subscribers (Dialer clients, in a process of their
// own), measures the server's memory, then broadcasts b.N messages and
// reports deliveries per second (messages received by all subscribers
// together), messages per second, and the server's memory per connection:
// "B/conn" for an upgraded connection (Hertz's connection and buffers, the
// websocket.Conn, the handler goroutine) and "hub-B/conn" for what
// registering it adds (the hub's client, its queue, its writer goroutine).
func (f *Fanout) Run(b *testing.B) {
	RaiseFileLimit(b, uint64(f.Subscribers+4096)) // the clients are in another process
	gate := make(chan struct{})
	servers := make([]*Server, len(f.Hubs))
	for i := range f.Hubs {
		servers[i] = f.Serve(i, gate)
	}
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.URL
	}
	before := liveBytes()
	sub := startSubscribers(b, f.Subscribers, fanoutRoom, urls)
	perServer := f.Subscribers / len(servers)
	for _, s := range servers {
		s.WaitUpgraded(b, perServer)
	}
	conns := liveBytes()
	close(gate)
	for _, s := range servers {
		s.WaitReady(b, perServer)
	}
	registered := liveBytes()
	if f.Ready != nil {
		f.Ready()
	}

	n := int64(f.Subscribers)
	pub := f.Hubs[0]
	rounds := &sub.rounds
	b.SetBytes(int64(len(f.Message)) * n)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		// Keep at most Window broadcasts ahead of the slowest subscriber
		// as a whole, so the queues never overflow.
		if i >= f.Window {
			WaitCounter(b, rounds, int64(i-f.Window+1), time.Minute)
		}
		if err := pub.Broadcast(fanoutRoom, websocket.BinaryMessage, f.Message); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for rounds.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			for i, h := range f.Hubs {
				b.Logf("hub %d: %+v", i, h.Stats())
			}
			b.Fatalf("the subscribers got %d of %d messages each", rounds.Load(), b.N)
		}
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	for i, h := range f.Hubs {
		if st := h.Stats(); st.DroppedNewest+st.DroppedOldest+st.DroppedOnClose+st.Discarded+st.WriteErrors != 0 {
			b.Fatalf("hub %d lost messages: %+v", i, st)
		}
	}
	if got := rounds.Load(); got != int64(b.N) {
		b.Fatalf("subscribers got %d messages each, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)*float64(n)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(conns-before)/float64(n), "B/conn")
	b.ReportMetric(float64(registered-conns)/float64(n), "hub-B/conn")
}

// liveBytes returns the heap in use and the goroutine stacks after a
// collection.
func liveBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}
