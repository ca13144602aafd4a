package redishub

import (
	"math/rand"
	"time"
)

// backoff is the wait between attempts to reach Redis: it doubles after
// each failure in a row up to max, and each wait is drawn between half and
// all of the current step so that instances that lost Redis together do
// not come back in step. One goroutine owns each backoff.
type backoff struct {
	min, max, step time.Duration
	rnd            *rand.Rand
}

func newBackoff(min, max time.Duration) *backoff {
	return &backoff{min: min, max: max, step: min, rnd: rand.New(rand.NewSource(time.Now().UnixNano()))}
}

// next returns the wait after one more failure.
func (b *backoff) next() time.Duration {
	d := b.step/2 + time.Duration(b.rnd.Int63n(int64(b.step/2)+1))
	if b.step *= 2; b.step > b.max {
		b.step = b.max
	}
	return d
}

// reset starts again from min after a success.
func (b *backoff) reset() { b.step = b.min }

// sleep waits d or until stop is closed, and reports whether d passed.
func sleep(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}
