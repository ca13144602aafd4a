package hubtest

import "testing"

// RaiseFileLimit does nothing on Windows, which has no RLIMIT_NOFILE.
func RaiseFileLimit(testing.TB, uint64) {}
