//go:build windows

package transport

import (
	"net"
	"syscall"
)

// rawConnOf returns nil on Windows: reads block in conn.Read with a
// buffer taken.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// readReady is never called on Windows, where rawConnOf returns nil.
func (t *Socket) readReady(uintptr) bool { return true }

// tryReadInto is never called on Windows, where rawConnOf returns nil.
func (t *Socket) tryReadInto(uintptr) bool { return true }
