package wstest

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LeakWait is how long WaitGoroutines gives goroutines to end: connections
// are torn down asynchronously after a test's last call returns.
const LeakWait = 5 * time.Second

// GoroutineSet is a set of goroutines, by ID.
type GoroutineSet map[uint64]bool

// Goroutines returns the goroutines running now: the baseline of a leak
// check. Start the goroutines that live as long as the process (netpoll's
// pollers, Hertz's clock of the Date header), with a first connection,
// before taking it.
func Goroutines() GoroutineSet {
	set := GoroutineSet{}
	for _, g := range goroutineStacks() {
		set[g.id] = true
	}
	return set
}

// WaitGoroutines waits until at most slack goroutines run that are not in
// base (the caller's own goroutine aside), and fails the test, listing the
// newcomers' stacks, if that does not happen within LeakWait.
func WaitGoroutines(t testing.TB, base GoroutineSet, slack int) {
	t.Helper()
	deadline := time.Now().Add(LeakWait)
	for {
		extra := newGoroutines(base)
		if len(extra) <= slack {
			return
		}
		if time.Now().After(deadline) {
			var b bytes.Buffer
			for _, g := range extra {
				b.Write(g.stack)
				b.WriteString("\n\n")
			}
			t.Errorf("%d goroutines started during the test still run after %v (%d allowed):\n%s", len(extra), LeakWait, slack, b.Bytes())
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// CheckGoroutines takes the baseline now and, when the test ends, runs
// WaitGoroutines with slack. Call it before anything whose cleanup must
// run first (servers, connections): cleanups run last-registered first.
func CheckGoroutines(t testing.TB, slack int) {
	t.Helper()
	base := Goroutines()
	t.Cleanup(func() { WaitGoroutines(t, base, slack) })
}

// goroutine is one goroutine of a runtime.Stack dump.
type goroutine struct {
	id    uint64
	stack []byte
}

// newGoroutines returns the goroutines not in base, except the caller's.
func newGoroutines(base GoroutineSet) []goroutine {
	all := goroutineStacks()
	var extra []goroutine
	for i, g := range all {
		if i == 0 || base[g.id] { // the first is the caller's own
			continue
		}
		extra = append(extra, g)
	}
	return extra
}

// goroutineStacks returns every goroutine's stack, the caller's first.
func goroutineStacks() []goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []goroutine
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		// "goroutine 42 [chan receive]:"
		if !bytes.HasPrefix(block, []byte("goroutine ")) {
			continue
		}
		rest := block[len("goroutine "):]
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			continue
		}
		id, err := strconv.ParseUint(string(rest[:end]), 10, 64)
		if err != nil {
			continue
		}
		gs = append(gs, goroutine{id: id, stack: block})
	}
	return gs
}

// WaitBlocked waits until a goroutine other than the caller's is parked
// (in a channel operation, a lock, a sleep or I/O wait; neither running
// nor runnable nor in a system call) with fn in its stack, such as
// "hertzws/websocket.(*Conn).ReadMessage", and fails the test if none is
// within Guard. It is for a test that must act while a call is blocked,
// an event that nothing else announces.
func WaitBlocked(t testing.TB, fn string) {
	t.Helper()
	if !AwaitBlocked(fn, Guard) {
		t.Fatalf("no goroutine blocked in %s after %v", fn, Guard)
	}
}

// AwaitBlocked is WaitBlocked for goroutines that cannot fail the test (a
// handler's): it waits up to within and reports whether such a goroutine
// was found.
func AwaitBlocked(fn string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		for i, g := range goroutineStacks() {
			if i > 0 && g.parked() && bytes.Contains(g.stack, []byte(fn)) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// parked reports whether the goroutine waits for something: its state,
// "goroutine 7 [chan receive]:", is not running, runnable or a system
// call.
func (g goroutine) parked() bool {
	open := bytes.IndexByte(g.stack, '[')
	end := bytes.IndexByte(g.stack, ']')
	if open < 0 || end < open {
		return false
	}
	state := string(g.stack[open+1 : end])
	for _, busy := range []string{"running", "runnable", "syscall"} {
		if strings.HasPrefix(state, busy) {
			return false
		}
	}
	return true
}
