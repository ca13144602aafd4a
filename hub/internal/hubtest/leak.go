package hubtest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// NoLeaks makes the test fail, when it ends, if goroutines whose stacks
// contain any of the given function names are still running 5 seconds
// after every other cleanup. Call it first so its check runs last.
func NoLeaks(t testing.TB, funcs ...string) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			left := Goroutines(funcs...)
			if left == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines left running:\n%s", left)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// Goroutines returns the stacks of running goroutines that contain any of
// funcs, or "" when there are none.
func Goroutines(funcs ...string) string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, f := range funcs {
			if strings.Contains(g, f) {
				left = append(left, g)
				break
			}
		}
	}
	return strings.Join(left, "\n\n")
}
