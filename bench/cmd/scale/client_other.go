//go:build !linux

package main

import "syscall"

// portAtConnect does nothing where IP_BIND_ADDRESS_NO_PORT does not exist.
func portAtConnect(_, _ string, _ syscall.RawConn) error { return nil }
