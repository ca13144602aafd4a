package redishub_test

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill the redis-server when the test process
// dies, even by a panic or a timeout that skips the test's cleanups.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
