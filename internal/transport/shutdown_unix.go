//go:build !windows

package transport

import (
	"syscall"

	"github.com/cloudwego/hertz/pkg/network"
	hnetpoll "github.com/cloudwego/hertz/pkg/network/netpoll"
)

// Shutdown returns a function that shuts a netpoll socket down in both
// directions, or nil for other transports.
//
// netpoll defers closing the file descriptor of a connection whose serving
// goroutine is still running (the hijack handler is), so Close from another
// goroutine wakes blocked reads and writes but the peer would see no FIN
// until the handler returns. shutdown(2) sends it at once. The caller runs
// the function at most once and never after the hijack handler has
// returned, so the descriptor cannot have been reused by then.
func Shutdown(raw network.Conn) func() {
	nc, ok := raw.(*hnetpoll.Conn)
	if !ok {
		return nil
	}
	withFd, ok := nc.Conn.(interface{ Fd() int })
	if !ok {
		return nil
	}
	fd := withFd.Fd()
	return func() { _ = syscall.Shutdown(fd, syscall.SHUT_RDWR) }
}
