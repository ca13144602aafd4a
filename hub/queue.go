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
	// writing: a writer goroutine is on the queue. There is one only
	// while the queue has work (messages, or a close to send): whoever
	// gives the queue work when none runs starts one (see claimWriter),
	// and the writer leaves once the queue is empty, so an idle client
	// holds no goroutine.
	writing bool
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
	return &sendQueue{buf: make([]*websocket.PreparedMessage, slots), max: size}
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
// When start is set the caller must start a writer (go Client.writeLoop).
func (q *sendQueue) push(pm *websocket.PreparedMessage, p Policy) (res pushResult, discarded int, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing != nil {
		return pushRefused, 0, false
	}
	if q.n == len(q.buf) && !q.growLocked() {
		switch p {
		case DropNewest:
			return pushDroppedNewest, 0, false
		case DropOldest:
			q.buf[q.head] = nil
			q.head = (q.head + 1) % len(q.buf)
			q.n--
			res = pushDroppedOldest
		default:
			code, _ := p.closes()
			discarded = q.sealLocked(&closeRequest{code: code, text: "slow consumer", discard: true})
			return pushOverflowClose, discarded, q.claimWriterLocked()
		}
	}
	q.buf[(q.head+q.n)%len(q.buf)] = pm
	q.n++
	return res, 0, q.claimWriterLocked()
}

// claimWriterLocked is called once the queue has work: it reports whether
// no writer runs, in which case the caller starts one. The caller holds mu.
func (q *sendQueue) claimWriterLocked() bool {
	if q.writing {
		return false
	}
	q.writing = true
	return true
}

// pop takes the next thing the writer must do: the messages waiting, as
// many as batch has room for (appended to it), or, once the queue is
// closing and holds nothing more to send, the close request. When there is
// nothing to do it returns batch unchanged and a nil request, and the
// writer must leave: the next push starts another.
func (q *sendQueue) pop(batch []*websocket.PreparedMessage) ([]*websocket.PreparedMessage, *closeRequest) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		if q.closing == nil {
			q.writing = false
		}
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
// whether it did, how many queued messages it discarded, and whether the
// caller must start a writer to send the close.
func (q *sendQueue) seal(req *closeRequest) (sealed bool, discarded int, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing != nil {
		return false, 0, false
	}
	discarded = q.sealLocked(req)
	return true, discarded, q.claimWriterLocked()
}

func (q *sendQueue) sealLocked(req *closeRequest) (discarded int) {
	q.closing = req
	if req.discard {
		discarded = q.dropAllLocked()
	}
	return discarded
}

// abandon is for a client that will send nothing more: it closes the
// queue if it is not closing yet, and drops and counts whatever is still
// queued. start is set when no writer runs: the caller starts one, which
// finds the queue closing and ends the client's writing for good.
func (q *sendQueue) abandon() (dropped int, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing == nil {
		q.closing = &closeRequest{discard: true}
	}
	return q.dropAllLocked(), q.claimWriterLocked()
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
