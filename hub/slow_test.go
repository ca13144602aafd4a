package hub_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/hub/internal/hubtest"
)

// The slow-consumer tests make a client that stops reading block the
// server's writes to it quickly: the server's accepted sockets get a small
// send buffer and the client a small receive buffer, so a few messages fill
// the kernel's share and the rest waits in the hub's queue.
const (
	slowSocketBuffer = 4096
	slowMessageSize  = 4 << 10
	slowQueueSize    = 8
)

// numbered returns message i of a stream: its number in six digits, then
// padding up to size bytes.
func numbered(i, size int) []byte {
	b := bytes.Repeat([]byte{'.'}, size)
	copy(b, fmt.Sprintf("%06d", i))
	return b
}

// numbers parses what numbered wrote at the start of each message.
func numbers(t *testing.T, msgs []string) []int {
	t.Helper()
	out := make([]int, len(msgs))
	for i, m := range msgs {
		n, err := strconv.Atoi(m[:6])
		if err != nil {
			t.Fatalf("message %d is not numbered: %q", i, m)
		}
		out[i] = n
	}
	return out
}

// checkRun fails unless got is from, from+1, ..., from+len(got)-1.
func checkRun(t *testing.T, what string, got []int, from int) {
	t.Helper()
	for i, n := range got {
		if n != from+i {
			t.Fatalf("%s: message %d is number %d, want %d (all: %v)", what, i, n, from+i, got)
		}
	}
}

// slowSetup is a hub with a room "r" of two readers and one client, "slow",
// that does not read until Resume.
type slowSetup struct {
	h          *hub.Hub
	fast       []*hubtest.Client
	slow       *hubtest.Client
	slowClient *hub.Client
	ended      chan error   // Run's result for "slow"
	fastRead   atomic.Int64 // messages read by all fast readers together
}

func newSlowSetup(t *testing.T, tr hubtest.Transport, opts hub.Options, fast int) *slowSetup {
	t.Helper()
	s := &slowSetup{h: hub.New(opts), ended: make(chan error, 1)}
	t.Cleanup(func() { _ = s.h.Close() })
	srv := hubtest.ServeHub(t, tr, s.h, hubtest.ServerOptions{
		SendBuffer: slowSocketBuffer,
		OnEnd: func(c *hub.Client, err error) {
			if c.ID() == "slow" {
				s.ended <- err
			}
		},
	})
	keep := hubtest.DialOptions{KeepBytes: 6, ReadBufferSize: 1024, Counter: &s.fastRead}
	for i := 0; i < fast; i++ {
		s.fast = append(s.fast, hubtest.Dial(t, srv.Member("fast"+strconv.Itoa(i), "r"), keep))
	}
	s.slow = hubtest.Dial(t, srv.Member("slow", "r"), hubtest.DialOptions{
		KeepBytes: 6, Paused: true, ReceiveBuffer: slowSocketBuffer,
	})
	srv.WaitReady(t, fast+1)
	s.slowClient, _ = s.h.Client("slow")
	return s
}

// publish broadcasts messages from..from+n-1 to room "r" in lockstep with
// the fast readers: each message must have reached all of them before the
// next is sent, so the slow client, whose queue fills and overflows, would
// stall the whole stream if it held anyone else up.
func (s *slowSetup) publish(t *testing.T, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := s.h.Broadcast("r", websocket.BinaryMessage, numbered(i, slowMessageSize)); err != nil {
			t.Fatal(err)
		}
		hubtest.WaitCounter(t, &s.fastRead, int64((i+1)*len(s.fast)), 10*time.Second)
	}
}

// fastGotAll waits for every fast reader to read messages 0..n-1 in order.
func (s *slowSetup) fastGotAll(t *testing.T, n int) {
	t.Helper()
	for i, c := range s.fast {
		checkRun(t, "fast reader "+strconv.Itoa(i), numbers(t, c.WaitCount(t, n, 30*time.Second)), 0)
	}
}

// Each policy is applied to the client that stopped reading, and counted,
// while the others get every message.
func TestSlowConsumerPolicies(t *testing.T) {
	const n = 100 // far more than the socket buffers and the queue hold
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		for _, p := range []hub.Policy{hub.DropNewest, hub.DropOldest, hub.CloseTryAgainLater, hub.ClosePolicyViolation} {
			p := p
			t.Run(p.String(), func(t *testing.T) {
				hubtest.NoLeaks(t, hubGoroutines...)
				s := newSlowSetup(t, tr, hub.Options{QueueSize: slowQueueSize, Policy: p, CloseTimeout: 10 * time.Second}, 2)
				s.publish(t, 0, n)
				s.fastGotAll(t, n)
				st := s.h.Stats()
				cs := s.slowClient.Stats()
				t.Logf("hub %+v; slow client %+v", st, cs)
				switch p {
				case hub.DropNewest, hub.DropOldest:
					checkDropPolicy(t, s, p, n, st, cs)
				default:
					checkClosePolicy(t, s, p, n, st)
				}
			})
		}
	})
}

func checkDropPolicy(t *testing.T, s *slowSetup, p hub.Policy, n int, st hub.Stats, cs hub.ClientStats) {
	t.Helper()
	dropped := st.DroppedNewest
	other := st.DroppedOldest
	if p == hub.DropOldest {
		dropped, other = other, dropped
	}
	if dropped == 0 || other != 0 || st.SlowClosed != 0 || st.DroppedOnClose != 0 {
		t.Fatalf("policy %v: stats %+v, want only %v drops", p, st, p)
	}
	if cs.Dropped != dropped || cs.Queued != slowQueueSize {
		t.Fatalf("slow client %+v, want %d dropped and a full queue of %d", cs, dropped, slowQueueSize)
	}
	kept := n - int(dropped)
	s.slow.Resume()
	got := numbers(t, s.slow.WaitCount(t, kept, 30*time.Second))
	if p == hub.DropNewest {
		// The queue kept its oldest messages: a prefix of the stream.
		checkRun(t, "slow reader", got, 0)
	} else {
		// What reached the socket, then the newest queue's worth.
		tail := got[len(got)-slowQueueSize:]
		checkRun(t, "slow reader's last queue", tail, n-slowQueueSize)
		checkRun(t, "slow reader's first messages", got[:len(got)-slowQueueSize], 0)
	}
	// Nothing else was on its way: the next message is the next one.
	s.publish(t, n, 1)
	got = numbers(t, s.slow.WaitCount(t, kept+1, 5*time.Second))
	if len(got) != kept+1 || got[kept] != n {
		t.Fatalf("after the backlog the slow reader got %v, want only %d", got[kept:], n)
	}
	// The hub counts a message delivered when its write returns, which
	// may be just after the client has read it.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cs = s.slowClient.Stats(); cs.Delivered == uint64(kept+1) && cs.Queued == 0 {
			return
		}
	}
	t.Fatalf("slow client %+v after catching up, want %d delivered", cs, kept+1)
}

func checkClosePolicy(t *testing.T, s *slowSetup, p hub.Policy, n int, st hub.Stats) {
	t.Helper()
	code := websocket.CloseTryAgainLater
	if p == hub.ClosePolicyViolation {
		code = websocket.ClosePolicyViolation
	}
	if st.SlowClosed != 1 || st.DroppedOnClose != 1 || st.Discarded != slowQueueSize || st.DroppedNewest+st.DroppedOldest != 0 {
		t.Fatalf("stats %+v, want 1 client closed, 1 message overflowing and %d discarded", st, slowQueueSize)
	}
	select {
	case <-s.slowClient.Done():
	default:
		t.Fatal("the slow client is still in the hub")
	}
	if !errors.Is(s.slowClient.Err(), hub.ErrSlowConsumer) {
		t.Fatalf("slow client ended with %v, want ErrSlowConsumer", s.slowClient.Err())
	}
	if m := s.h.Members("r"); len(m) != len(s.fast) {
		t.Fatalf("room has %d members, want the %d fast ones", len(m), len(s.fast))
	}
	// Reading again, the client gets what was already on its way, then
	// the close frame with the policy's code.
	s.slow.Resume()
	err := s.slow.WaitEnd(t, 10*time.Second)
	if !websocket.IsCloseError(err, code) {
		t.Fatalf("slow reader ended with %v, want close %d", err, code)
	}
	got := numbers(t, s.slow.Messages())
	checkRun(t, "slow reader", got, 0)
	if len(got) >= n {
		t.Fatalf("slow reader got all %d messages; the policy never applied", n)
	}
	if err := recv(t, s.ended); !errors.Is(err, hub.ErrSlowConsumer) {
		t.Fatalf("Run returned %v, want ErrSlowConsumer", err)
	}
}

// A client that never reads again is dropped CloseTimeout after its queue
// overflowed, though its close frame cannot be written: its writer does
// not stay blocked.
func TestSlowConsumerNeverReading(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		s := newSlowSetup(t, tr, hub.Options{QueueSize: slowQueueSize, CloseTimeout: 100 * time.Millisecond}, 1)
		s.publish(t, 0, 100)
		if err := recv(t, s.ended); !errors.Is(err, hub.ErrSlowConsumer) {
			t.Fatalf("Run returned %v, want ErrSlowConsumer", err)
		}
		s.fastGotAll(t, 100)
		s.slow.Resume()
		err := s.slow.WaitEnd(t, 10*time.Second)
		if websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
			t.Fatalf("slow reader got a close frame it could not have been sent: %v", err)
		}
		if st := s.h.Stats(); st.SlowClosed != 1 {
			t.Fatalf("stats %+v, want 1 slow client closed", st)
		}
	})
}

// One client that never reads does not hold up a thousand others: the
// stream goes to all of them in lockstep while the stuck client's backlog
// in the hub stays within its one queue, and only its messages are dropped.
func TestSlowConsumerDoesNotDelayThousandOthers(t *testing.T) {
	const (
		readers = 1000
		n       = 60
		size    = 1 << 10
	)
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		// No write timeout: the stuck client must stay stuck to the end.
		opts := hub.Options{QueueSize: slowQueueSize, Policy: hub.DropNewest, WriteTimeout: -1}
		s := newSlowSetup(t, tr, opts, readers)
		start := time.Now()
		for i := 0; i < n; i++ {
			if err := s.h.Broadcast("r", websocket.BinaryMessage, numbered(i, size)); err != nil {
				t.Fatal(err)
			}
			hubtest.WaitCounter(t, &s.fastRead, int64((i+1)*readers), 10*time.Second)
			if cs := s.slowClient.Stats(); cs.Queued > slowQueueSize {
				t.Fatalf("the stuck client holds %d messages, more than its queue", cs.Queued)
			}
		}
		t.Logf("%d messages reached %d readers each in %v", n, readers, time.Since(start))
		cs := s.slowClient.Stats()
		st := s.h.Stats()
		t.Logf("hub %+v; stuck client %+v", st, cs)
		if cs.Dropped == 0 || cs.Queued != slowQueueSize {
			t.Fatalf("stuck client %+v: want a full queue and drops", cs)
		}
		if accounted := cs.Delivered + uint64(cs.Queued) + cs.Dropped; accounted != n-1 && accounted != n {
			t.Fatalf("stuck client accounts for %d of %d messages (one may be in its blocked write)", accounted, n)
		}
		if st.DroppedNewest != cs.Dropped || st.Delivered != uint64(readers*n)+cs.Delivered {
			t.Fatalf("hub %+v: every reader but the stuck one must get every message", st)
		}
		for i, c := range s.fast {
			if got := numbers(t, c.Messages()); len(got) != n {
				t.Fatalf("reader %d got %d messages", i, len(got))
			} else {
				checkRun(t, "reader "+strconv.Itoa(i), got, 0)
			}
		}
		s.slow.Resume()
		checkRun(t, "stuck reader", numbers(t, s.slow.WaitCount(t, n-int(cs.Dropped), 30*time.Second)), 0)
	})
}

// Under a drop policy a client that never reads is ended by the write
// timeout, and counted.
func TestWriteTimeoutEndsStuckClient(t *testing.T) {
	hubtest.ForEachTransport(t, func(t *testing.T, tr hubtest.Transport) {
		hubtest.NoLeaks(t, hubGoroutines...)
		opts := hub.Options{QueueSize: slowQueueSize, Policy: hub.DropNewest, WriteTimeout: 200 * time.Millisecond}
		s := newSlowSetup(t, tr, opts, 1)
		s.publish(t, 0, 50)
		err := recv(t, s.ended)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Run returned %v, want a write timeout", err)
		}
		if st := s.h.Stats(); st.WriteErrors != 1 || st.Clients != 1 {
			t.Fatalf("stats %+v, want 1 write error and the reader left", st)
		}
	})
}
