//go:build windows

package websocket

import (
	"net"
	"syscall"
)

// rawConnOf returns nil on Windows: reads block in conn.Read with a
// buffer taken.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// readReady is never called on Windows, where rawConnOf returns nil.
func (t *socketTransport) readReady(uintptr) bool { return true }

// tryReadInto is never called on Windows, where rawConnOf returns nil.
func (t *socketTransport) tryReadInto(uintptr) bool { return true }
