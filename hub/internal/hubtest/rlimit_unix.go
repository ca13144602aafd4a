//go:build unix

package hubtest

import (
	"syscall"
	"testing"
)

// RaiseFileLimit raises the process's RLIMIT_NOFILE to at least n open
// files, the hard limit too when the process may (root), and fails tb if
// it cannot: a benchmark with ten thousand connections holds two file
// descriptors for each, one per end.
func RaiseFileLimit(tb testing.TB, n uint64) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		lim.Max = n
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("cannot raise RLIMIT_NOFILE to %d: %v (raise the hard limit, e.g. ulimit -Hn, or run as root)", n, err)
	}
}
