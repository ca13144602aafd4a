package hub

import (
	"sync"

	"github.com/hertzws/websocket"
)

// sendQueue is one client's bounded FIFO of prepared messages. Broadcasting
// goroutines push; the client's writer pops. A push never waits: when the
// queue is full the client's Policy decides what gives way.
type sendQueue struct {
	mu      sync.Mutex
	buf     []*websocket.PreparedMessage // ring of len(buf) slots
	head, n int
	max     int // the queue's capacity; buf grows up to it
	// closing, once set, refuses every later push; the writer sends its
	// close frame (if it has a code) after whatever is still queued.
	closing *closeRequest
	// wake holds at most one pending signal that the writer has work.
	wake chan struct{}
}

// closeRequest is how a client's writer is told to stop.
type closeRequest struct {
	code    int    // close code to send; 0 sends no close frame
	text    string // close reason
	discard bool   // drop queued messages instead of sending them first
}

// pushResult is what happened to a pushed message.
type pushResult int

const (
	pushQueued        pushResult = iota // queued, nothing lost
	pushDroppedNewest                   // queue full: the pushed message was dropped
	pushDroppedOldest                   // queue full: the oldest message made room
	pushOverflowClose                   // queue full under a close policy: the queue is now closing
	pushRefused                         // the queue was already closing
)

// initialQueueSlots is the ring a queue starts with. Most connections keep
// up and never hold more than a message or two, so the ring grows, by
// doubling, only for those that fall behind.
const initialQueueSlots = 4

func newSendQueue(size int) *sendQueue {
	slots := initialQueueSlots
	if slots > size {
		slots = size
	}
	return &sendQueue{buf: make([]*websocket.PreparedMessage, slots), max: size, wake: make(chan struct{}, 1)}
}

// growLocked doubles the ring, up to max, keeping the queued messages in
// order; it reports whether there is room now.
func (q *sendQueue) growLocked() bool {
	if len(q.buf) >= q.max {
		return false
	}
	size := 2 * len(q.buf)
	if size > q.max {
		size = q.max
	}
	buf := make([]*websocket.PreparedMessage, size)
	for i := 0; i < q.n; i++ {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
	return true
}

// push adds pm under policy p. With pushOverflowClose, discarded is the
// number of queued messages thrown away with the one that did not fit.
func (q *sendQueue) push(pm *websocket.PreparedMessage, p Policy) (res pushResult, discarded int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing != nil {
		return pushRefused, 0
	}
	if q.n == len(q.buf) && !q.growLocked() {
		switch p {
		case DropNewest:
			return pushDroppedNewest, 0
		case DropOldest:
			q.buf[q.head] = nil
			q.head = (q.head + 1) % len(q.buf)
			q.n--
			res = pushDroppedOldest
		default:
			code, _ := p.closes()
			discarded = q.sealLocked(&closeRequest{code: code, text: "slow consumer", discard: true})
			return pushOverflowClose, discarded
		}
	}
	q.buf[(q.head+q.n)%len(q.buf)] = pm
	q.n++
	q.signal()
	return res, 0
}

// pop takes the next thing the writer must do: the messages waiting, as
// many as batch has room for (appended to it), or, once the queue is
// closing and holds nothing more to send, the close request. It returns
// batch unchanged and a nil request when there is nothing to do yet.
func (q *sendQueue) pop(batch []*websocket.PreparedMessage) ([]*websocket.PreparedMessage, *closeRequest) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return batch, q.closing
	}
	for q.n > 0 && len(batch) < cap(batch) {
		batch = append(batch, q.buf[q.head])
		q.buf[q.head] = nil // let the message be collected once every client sent it
		q.head = (q.head + 1) % len(q.buf)
		q.n--
	}
	return batch, nil
}

// seal closes the queue with req unless it is already closing, and returns
// whether it did and how many queued messages it discarded.
func (q *sendQueue) seal(req *closeRequest) (sealed bool, discarded int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing != nil {
		return false, 0
	}
	return true, q.sealLocked(req)
}

func (q *sendQueue) sealLocked(req *closeRequest) (discarded int) {
	q.closing = req
	if req.discard {
		discarded = q.dropAllLocked()
	}
	q.signal()
	return discarded
}

// abandon is for a writer that will send nothing more: it closes the queue
// if it is not closing yet, and drops and counts whatever is still queued.
func (q *sendQueue) abandon() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing == nil {
		q.closing = &closeRequest{discard: true}
	}
	return q.dropAllLocked()
}

func (q *sendQueue) dropAllLocked() int {
	n := q.n
	for ; q.n > 0; q.n-- {
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
	}
	q.head = 0
	return n
}

func (q *sendQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// signal wakes the writer; a signal already pending is enough.
func (q *sendQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
