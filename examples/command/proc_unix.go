//go:build !windows

package main

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the program in a process group of its own, so that
// the signals below reach the children it starts too (a shell pipeline, for
// example), not only the program itself.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the program's process group to exit.
func terminate(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }

// kill ends the program's process group.
func kill(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
