package websocket

import (
	"sync"
	"sync/atomic"
	"time"
)

// The timeouts every Conn has by default (MessageTimeout, WriteTimeout)
// need the time on the data path, and reading the clock costs more than a
// small write on some machines (55 ns for time.Now on the virtual machines
// this package is measured on, against ~95 ns for a whole 1 KiB
// WriteMessage). Those timeouts are long, so they read a coarse clock: one
// value that a timer refreshes every clockTick while any Conn uses it,
// read with one atomic load. A deadline computed from it is at most
// clockTick early.

// clockTick is the coarse clock's resolution.
const clockTick = 20 * time.Millisecond

var clock coarseClock

// coarseClock is the time in Unix nanoseconds, refreshed every clockTick
// while it has users.
type coarseClock struct {
	now atomic.Int64

	mu      sync.Mutex
	users   int
	timer   *time.Timer
	running bool
}

// acquire adds a user; the clock runs while it has one.
func (cc *coarseClock) acquire() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.users++
	if cc.running {
		return
	}
	cc.now.Store(time.Now().UnixNano())
	cc.running = true
	if cc.timer == nil {
		cc.timer = time.AfterFunc(clockTick, cc.tick)
	} else {
		cc.timer.Reset(clockTick)
	}
}

// release removes a user; the clock stops with the last one.
func (cc *coarseClock) release() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.users--
	if cc.users == 0 && cc.running {
		cc.running = false
		cc.timer.Stop()
	}
}

func (cc *coarseClock) tick() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if !cc.running {
		return
	}
	cc.now.Store(time.Now().UnixNano())
	cc.timer.Reset(clockTick)
}

// coarseNow returns the coarse time in Unix nanoseconds. Only a Conn that
// acquired the clock may call it.
func coarseNow() int64 { return clock.now.Load() }
