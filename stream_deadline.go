package websocket

import (
	"sync"
	"time"
)

// streamDeadline is the read deadline of a NetConnOf stream, kept by the
// adapter rather than by the Conn: a Conn's read that times out fails for
// good, while a net.Conn's Read that times out may be tried again once the
// deadline has moved (net/http's server relies on it to stop its
// background read and go on reading the same connection).
//
// expired is closed once the deadline has passed; a waiting Read selects on
// it. While the deadline has not passed the channel stays the same, so a
// Read that is already waiting sees a deadline moved nearer or further; a
// passed deadline that is moved away gets a fresh channel. Each set bumps
// gen, so that a timer stopped too late cannot close the channel of a later
// deadline.
type streamDeadline struct {
	mu      sync.Mutex
	expired chan struct{}
	timer   *time.Timer
	gen     uint64
}

func newStreamDeadline() *streamDeadline {
	return &streamDeadline{expired: make(chan struct{})}
}

// set makes t the deadline; the zero time removes it.
func (d *streamDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropTimerLocked()
	passed := isClosed(d.expired)
	if t.IsZero() {
		if passed {
			d.expired = make(chan struct{})
		}
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		if !passed {
			close(d.expired)
		}
		return
	}
	if passed {
		d.expired = make(chan struct{})
	}
	gen := d.gen
	d.timer = time.AfterFunc(wait, func() { d.expire(gen) })
}

// expire closes the channel of the deadline numbered gen, unless another
// has been set since.
func (d *streamDeadline) expire(gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gen == gen && !isClosed(d.expired) {
		close(d.expired)
	}
}

// wait returns the channel that is closed when the current deadline
// passes; it stays open while there is no deadline.
func (d *streamDeadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired
}

// stop drops the timer of a stream being closed.
func (d *streamDeadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropTimerLocked()
}

// dropTimerLocked stops the current deadline's timer, and numbers the
// next deadline so that a timer already firing expires nothing. The
// caller holds mu.
func (d *streamDeadline) dropTimerLocked() {
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
