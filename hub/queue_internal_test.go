package hub

import (
	"testing"

	"github.com/hertzws/websocket"
)

// The queue applies each policy exactly when it is full, keeps FIFO order,
// and refuses pushes once closing.
func TestSendQueuePolicies(t *testing.T) {
	msgs := make([]*websocket.PreparedMessage, 6)
	for i := range msgs {
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte{byte('a' + i)})
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = pm
	}
	index := func(pm *websocket.PreparedMessage) int {
		for i, m := range msgs {
			if m == pm {
				return i
			}
		}
		return -1
	}
	cases := []struct {
		policy    Policy
		results   []pushResult // of pushing msgs[0..5] into a queue of 3
		remaining []int        // what pop then yields
		closing   *closeRequest
	}{
		{DropNewest, []pushResult{pushQueued, pushQueued, pushQueued, pushDroppedNewest, pushDroppedNewest, pushDroppedNewest}, []int{0, 1, 2}, nil},
		{DropOldest, []pushResult{pushQueued, pushQueued, pushQueued, pushDroppedOldest, pushDroppedOldest, pushDroppedOldest}, []int{3, 4, 5}, nil},
		{CloseTryAgainLater, []pushResult{pushQueued, pushQueued, pushQueued, pushOverflowClose, pushRefused, pushRefused}, nil,
			&closeRequest{code: websocket.CloseTryAgainLater, text: "slow consumer", discard: true}},
		{ClosePolicyViolation, []pushResult{pushQueued, pushQueued, pushQueued, pushOverflowClose, pushRefused, pushRefused}, nil,
			&closeRequest{code: websocket.ClosePolicyViolation, text: "slow consumer", discard: true}},
	}
	for _, tc := range cases {
		t.Run(tc.policy.String(), func(t *testing.T) {
			q := newSendQueue(3)
			for i, pm := range msgs {
				res, discarded, _ := q.push(pm, tc.policy)
				if res != tc.results[i] {
					t.Fatalf("push %d: %v, want %v", i, res, tc.results[i])
				}
				if res == pushOverflowClose && discarded != 3 {
					t.Fatalf("overflow discarded %d, want the 3 queued", discarded)
				}
			}
			var got []int
			for i := 0; i < 10; i++ {
				pm, req := popOne(q)
				if pm == nil {
					if (req == nil) != (tc.closing == nil) || (req != nil && *req != *tc.closing) {
						t.Fatalf("close request %+v, want %+v", req, tc.closing)
					}
					break
				}
				got = append(got, index(pm))
			}
			if len(got) != len(tc.remaining) {
				t.Fatalf("popped %v, want %v", got, tc.remaining)
			}
			for i := range got {
				if got[i] != tc.remaining[i] {
					t.Fatalf("popped %v, want %v", got, tc.remaining)
				}
			}
		})
	}
}

// A close request without discard lets the queued messages out first.
func TestSendQueueSealKeepsQueued(t *testing.T) {
	q := newSendQueue(4)
	pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, []byte("x"))
	q.push(pm, DropNewest)
	q.push(pm, DropNewest)
	req := &closeRequest{code: 4000}
	if sealed, n, _ := q.seal(req); !sealed || n != 0 {
		t.Fatalf("seal: %v, %d", sealed, n)
	}
	if sealed, _, _ := q.seal(&closeRequest{code: 4001}); sealed {
		t.Fatal("a second seal replaced the first")
	}
	for i := 0; i < 2; i++ {
		if m, r := popOne(q); m != pm || r != nil {
			t.Fatalf("pop %d: %v %v, want the queued message", i, m, r)
		}
	}
	if m, r := popOne(q); m != nil || r != req {
		t.Fatalf("after the queue: %v %v, want the close request", m, r)
	}
	if res, _, _ := q.push(pm, DropNewest); res != pushRefused {
		t.Fatalf("push after seal: %v", res)
	}
	if n, _ := q.abandon(); n != 0 {
		t.Fatalf("abandon found %d messages", n)
	}
}

// The ring starts small and grows up to the queue size, keeping order
// across the wrap.
func TestSendQueueGrows(t *testing.T) {
	q := newSendQueue(10)
	if len(q.buf) != initialQueueSlots {
		t.Fatalf("a new queue has %d slots, want %d", len(q.buf), initialQueueSlots)
	}
	msgs := make([]*websocket.PreparedMessage, 12)
	for i := range msgs {
		msgs[i], _ = websocket.NewPreparedMessage(websocket.BinaryMessage, []byte{byte(i)})
	}
	// Wrap the ring before it grows: push 3, pop 2, then fill past 4.
	for _, pm := range msgs[:3] {
		q.push(pm, DropNewest)
	}
	popOne(q)
	popOne(q)
	for _, pm := range msgs[3:] {
		q.push(pm, DropNewest)
	}
	if len(q.buf) != 10 || q.n != 10 {
		t.Fatalf("ring of %d slots holding %d, want 10 and 10", len(q.buf), q.n)
	}
	for i := 2; i < 12; i++ {
		if pm, _ := popOne(q); pm != msgs[i] {
			t.Fatalf("pop returned message out of order at %d", i)
		}
	}
	if q := newSendQueue(2); len(q.buf) != 2 {
		t.Fatalf("a queue of 2 has %d slots", len(q.buf))
	}
}

// popOne pops at most one message, as the writer did before it batched.
func popOne(q *sendQueue) (*websocket.PreparedMessage, *closeRequest) {
	batch, req := q.pop(make([]*websocket.PreparedMessage, 0, 1))
	if len(batch) == 0 {
		return nil, req
	}
	return batch[0], req
}

// TestQueueWriterRunsOnlyWithWork checks who starts the writer: whoever
// gives an idle queue work, once, until the writer finds it empty.
func TestQueueWriterRunsOnlyWithWork(t *testing.T) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	q := newSendQueue(8)
	if _, _, start := q.push(pm, DropNewest); !start {
		t.Fatal("the first push did not ask for a writer")
	}
	if _, _, start := q.push(pm, DropNewest); start {
		t.Fatal("a push asked for a second writer")
	}
	if m, r := popOne(q); m != pm || r != nil {
		t.Fatal("the writer did not get the first message")
	}
	if m, r := popOne(q); m != pm || r != nil {
		t.Fatal("the writer did not get the second message")
	}
	if m, r := popOne(q); m != nil || r != nil {
		t.Fatal("an empty queue gave the writer work")
	}
	// The writer has left: the next push starts one again.
	if _, _, start := q.push(pm, DropNewest); !start {
		t.Fatal("a push to an idle queue did not ask for a writer")
	}
	popOne(q)
	popOne(q)
	if _, _, start := q.seal(&closeRequest{code: 1000}); !start {
		t.Fatal("sealing an idle queue did not ask for a writer to send the close")
	}
	if _, start := q.abandon(); start {
		t.Fatal("abandon asked for a second writer")
	}
	if m, r := popOne(q); m != nil || r == nil {
		t.Fatal("the writer did not get the close request")
	}
}
