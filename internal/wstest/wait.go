package wstest

import (
	"testing"
	"time"
)

// Guard bounds the waits of Receive and the kit's other waits, so that a
// broken peer fails a test instead of hanging it. It never judges speed.
const Guard = 30 * time.Second

// Receive takes one value from ch, failing the test if none comes within
// Guard; what names the value in the failure.
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return ReceiveWithin(t, ch, Guard, what)
}

// ReceiveWithin takes one value from ch, failing the test if none comes
// within the given time.
func ReceiveWithin[T any](t testing.TB, ch <-chan T, within time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", within, what)
		panic("unreachable")
	}
}

// WaitFor polls cond until it holds, and fails the test if it still does
// not after within. It is for conditions that no event announces (a
// counter of the library's, the process's goroutines); where a channel or
// a callback can say it, wait on that instead.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
