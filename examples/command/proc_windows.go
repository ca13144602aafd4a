package main

import "os/exec"

// ownProcessGroup does nothing on Windows, which has no process groups to
// signal.
func ownProcessGroup(*exec.Cmd) {}

// terminate ends the program: Windows cannot deliver SIGTERM.
func terminate(cmd *exec.Cmd) error { return cmd.Process.Kill() }

// kill ends the program.
func kill(cmd *exec.Cmd) error { return cmd.Process.Kill() }
