package websocket

import (
	"context"
	"testing"
	"time"
)

// TestAfterContext checks both ways a cancelled call is woken (the one
// this toolchain builds in, and the goroutine used before Go 1.21)
// against context.AfterFunc's contract: f runs once the context ends,
// unless stop came first, and stop reports which happened.
func TestAfterContext(t *testing.T) {
	impls := map[string]func(context.Context, func()) func() bool{
		"afterContext":          afterContext,
		"afterContextGoroutine": afterContextGoroutine,
	}
	for name, after := range impls {
		after := after
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan struct{}, 2)
			stop := after(ctx, func() { ran <- struct{}{} })
			cancel()
			select {
			case <-ran:
			case <-time.After(5 * time.Second):
				t.Fatal("f did not run after the context ended")
			}
			if stop() {
				t.Fatal("stop reported that it stopped f, which had run")
			}

			ctx, cancel = context.WithCancel(context.Background())
			stop = after(ctx, func() { ran <- struct{}{} })
			if !stop() {
				t.Fatal("stop before the context ended reported that f had run")
			}
			cancel()
			select {
			case <-ran:
				t.Fatal("f ran after stop")
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}
