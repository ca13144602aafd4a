package websocket

import (
	"sync"
	"testing"
	"time"
)

// waitQueued waits until n goroutines wait for l.
func waitQueued(t *testing.T, l *writeLock, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		queued := 0
		for w := l.head; w != nil; w = w.next {
			queued++
		}
		l.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWriteLockHandsOverOldestFirst(t *testing.T) {
	var l writeLock
	if !l.tryLock() {
		t.Fatal("a free lock was not taken")
	}
	if l.tryLock() {
		t.Fatal("a held lock was taken")
	}
	const n = 5
	order := make(chan int, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			if taken, _ := l.lock(nil, nil); !taken {
				t.Error("a wait without done or deadline gave up")
				return
			}
			order <- i
			l.unlock()
		}(i)
		waitQueued(t, &l, i+1)
	}
	l.unlock()
	for i := 0; i < n; i++ {
		if got := <-order; got != i {
			t.Fatalf("waiter %d got the lock in turn %d", got, i)
		}
	}
	if !l.tryLock() {
		t.Fatal("the lock was not free after the last waiter")
	}
}

func TestWriteLockWaitEnds(t *testing.T) {
	cases := []struct {
		name         string
		closeDone    bool
		wantTimedOut bool
	}{
		{"done", true, false},
		{"deadline", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var l writeLock
			l.tryLock()
			done := make(chan struct{})
			var expired <-chan time.Time
			if tc.closeDone {
				close(done)
			} else {
				expired = time.After(20 * time.Millisecond)
			}
			taken, timedOut := l.lock(done, expired)
			if taken || timedOut != tc.wantTimedOut {
				t.Fatalf("lock = %v, %v; want false, %v", taken, timedOut, tc.wantTimedOut)
			}
			l.mu.Lock()
			empty := l.head == nil && l.tail == nil
			l.mu.Unlock()
			if !empty {
				t.Fatal("a waiter that gave up stayed in the queue")
			}
			l.unlock()
			if !l.tryLock() {
				t.Fatal("the lock is not free once its holder released it")
			}
		})
	}
}

// TestWriteLockGivingUpPassesTheLockOn races waiters that give up with
// unlocks that hand them the lock: the lock must never be lost or held
// twice.
func TestWriteLockGivingUpPassesTheLockOn(t *testing.T) {
	var l writeLock
	var inside, max int
	var mu sync.Mutex
	enter := func() {
		mu.Lock()
		inside++
		if inside > max {
			max = inside
		}
		mu.Unlock()
	}
	leave := func() {
		mu.Lock()
		inside--
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				done := make(chan struct{})
				if (g+i)%3 == 0 {
					close(done)
				}
				if taken, _ := l.lock(done, nil); !taken {
					continue
				}
				enter()
				leave()
				l.unlock()
			}
		}(g)
	}
	wg.Wait()
	if max != 1 {
		t.Fatalf("%d goroutines held the lock at once", max)
	}
	if !l.tryLock() {
		t.Fatal("the lock was lost")
	}
}
