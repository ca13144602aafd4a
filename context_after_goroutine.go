package websocket

import (
	"context"
	"sync"
)

// afterContextGoroutine is context.AfterFunc for Go before 1.21: a
// goroutine waits for ctx to end or for stop. It is built on every
// version, so that its test runs on the toolchain at hand.
func afterContextGoroutine(ctx context.Context, f func()) (stop func() bool) {
	var once sync.Once
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			once.Do(f)
		case <-stopped:
		}
	}()
	return func() bool {
		ran := true
		once.Do(func() { ran = false })
		if !ran {
			close(stopped)
		}
		return !ran
	}
}
