package websocket

import (
	"errors"
	"math"
	"runtime/debug"
	"sync"
	"time"
)

// receiveAllowance is how far ReadMessage's buffer may run ahead of the
// bytes of a message that have arrived, and how much of a message each
// connection receives without drawing on the ReceiveBudget. A peer that
// announces a large message and sends little of it makes the server hold
// at most this much more than it sent.
const receiveAllowance = 32 << 10

// exactFactor bounds how far ahead of the received bytes ReadMessage
// trusts an announced size: once the bytes received are at least
// 1/exactFactor of the message, its buffer is allocated at its exact size.
// Until then the buffer doubles with what arrives, so a message's peak
// memory is its size plus at most 1/(exactFactor/2) of it.
const exactFactor = 16

// receiveBudget is a server-wide bound on the bytes ReadMessage's buffers
// hold for messages still being received (HertzUpgrader.ReceiveBudget).
// A message takes from it before its buffer grows past receiveAllowance
// and gives everything back when it is delivered or fails.
type receiveBudget struct {
	limit int64

	mu   sync.Mutex
	used int64
	// freed is closed, and replaced, when bytes are given back while a
	// connection waits.
	freed chan struct{}
}

// tryTake takes n bytes if the budget has them.
func (b *receiveBudget) tryTake(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// take takes n bytes, waiting until the budget has them, until done is
// closed (errBudgetCancelled) or until deadline (Unix nanoseconds, 0 for
// none) passes (errBudgetDeadline).
func (b *receiveBudget) take(n int64, done <-chan struct{}, deadline int64) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		freed := b.freed
		b.mu.Unlock()

		var expired <-chan time.Time
		if deadline != 0 {
			wait := time.Until(time.Unix(0, deadline))
			if wait <= 0 {
				return errBudgetDeadline
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			}
			expired = timer.C
		}
		select {
		case <-freed:
		case <-done:
			return errBudgetCancelled
		case <-expired:
			return errBudgetDeadline
		}
	}
}

// give returns n bytes and wakes the connections waiting for them.
func (b *receiveBudget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
	b.mu.Unlock()
}

// inUse returns the bytes taken.
func (b *receiveBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// receiveBudgetOnce makes an upgrader's budget on first use, from its
// ReceiveBudget field.
type receiveBudgetOnce struct {
	once   sync.Once
	budget *receiveBudget
}

// get returns the budget for the configured size: nil when it is
// negative (no budget), the default size when it is zero.
func (o *receiveBudgetOnce) get(configured int64) *receiveBudget {
	o.once.Do(func() {
		if configured < 0 {
			return
		}
		if configured == 0 {
			configured = defaultReceiveBudget()
		}
		o.budget = &receiveBudget{limit: configured}
	})
	return o.budget
}

// minReceiveBudget is the least default budget: four messages at the
// default read limit.
const minReceiveBudget = 4 * DefaultReadLimit

// defaultReceiveBudget sizes the budget when ReceiveBudget is zero: a
// quarter of the machine's memory, or half of the Go memory limit when
// one is set (GOMEMLIMIT or debug.SetMemoryLimit), whichever is less, and
// at least minReceiveBudget. Messages in flight then leave room for the
// garbage the collector has not yet reclaimed (up to the heap size again
// at GOGC=100) and for the rest of the program.
func defaultReceiveBudget() int64 {
	size := int64(1 << 30) // when the machine's memory is not known
	if total := physicalMemory(); total > 0 {
		size = total / 4
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 && limit/2 < size {
		size = limit / 2
	}
	if size < minReceiveBudget {
		size = minReceiveBudget
	}
	return size
}

var (
	// errBudgetDeadline: the message deadline passed while a message
	// waited for the budget; failRead reports it as ErrMessageTimeout.
	errBudgetDeadline = errors.New("websocket: message deadline passed waiting for the receive budget")
	// errBudgetCancelled: the Conn closed while a message waited.
	errBudgetCancelled = errors.New("websocket: connection closed waiting for the receive budget")
	// errBudgetExhausted: a message holding part of the budget needed
	// more than is left; failRead reports it as ErrReceiveBudget.
	errBudgetExhausted = errors.New("websocket: receive budget exhausted")
)
