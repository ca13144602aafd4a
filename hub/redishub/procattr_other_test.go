//go:build !linux

package redishub_test

import "os/exec"

// dieWithTest does nothing where there is no parent-death signal: there a
// test process that dies without running its cleanups leaves its
// redis-server behind.
func dieWithTest(*exec.Cmd) {}
