package websocket

import (
	"sync"
	"time"
)

// writeLock is the lock of a Conn's write side (msgLock and frameLock): a
// waiter can give up when the Conn closes or a deadline passes, and a
// released lock goes to the goroutine that has waited longest, so that one
// writer that keeps taking it cannot starve the others.
//
// It costs 32 bytes in the Conn; a channel of capacity one, which does the
// same, costs a pointer in the Conn and 96 bytes beside it. A goroutine
// that has to wait makes a channel for its own wait only.
type writeLock struct {
	mu         sync.Mutex
	held       bool
	head, tail *lockWaiter // the waiters, oldest first
}

// lockWaiter is a goroutine waiting for a writeLock.
type lockWaiter struct {
	granted chan struct{} // receives a token when the lock is handed over
	next    *lockWaiter
}

// tryLock takes the lock if it is free.
func (l *writeLock) tryLock() bool {
	l.mu.Lock()
	free := !l.held
	l.held = true
	l.mu.Unlock()
	return free
}

// lock takes the lock, waiting for it until done is closed or expired
// fires (either may be nil, which never happens). It reports whether it
// took the lock and, if it did not, which of the two ended the wait.
func (l *writeLock) lock(done <-chan struct{}, expired <-chan time.Time) (taken, timedOut bool) {
	l.mu.Lock()
	if !l.held {
		l.held = true
		l.mu.Unlock()
		return true, false
	}
	w := &lockWaiter{granted: make(chan struct{}, 1)}
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
	l.mu.Unlock()

	select {
	case <-w.granted:
		return true, false
	case <-done:
	case <-expired:
		timedOut = true
	}
	l.mu.Lock()
	removed := l.remove(w)
	l.mu.Unlock()
	if !removed {
		// The lock was handed over as the wait ended: pass it on.
		<-w.granted
		l.unlock()
	}
	return false, timedOut
}

// remove takes w out of the queue, reporting false if it is not there
// (the lock was handed to it). The caller holds mu.
func (l *writeLock) remove(w *lockWaiter) bool {
	var prev *lockWaiter
	for x := l.head; x != nil; prev, x = x, x.next {
		if x != w {
			continue
		}
		if prev == nil {
			l.head = x.next
		} else {
			prev.next = x.next
		}
		if l.tail == x {
			l.tail = prev
		}
		return true
	}
	return false
}

// unlock releases the lock, handing it to the oldest waiter if there is
// one.
func (l *writeLock) unlock() {
	l.mu.Lock()
	if w := l.head; w != nil {
		l.head = w.next
		if l.head == nil {
			l.tail = nil
		}
		w.next = nil
		w.granted <- struct{}{} // capacity one: never blocks
	} else {
		l.held = false
	}
	l.mu.Unlock()
}
