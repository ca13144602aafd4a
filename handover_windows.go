//go:build windows

package websocket

import (
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/network"
)

// netpollConn stands for a netpoll connection, which Windows does not have.
type netpollConn interface{ Fd() int }

// netpollHandover returns nil: on Windows Hertz runs on its standard
// transport, and connections stay on it.
func netpollHandover(network.Conn) netpollConn { return nil }

// handOver is never called on Windows.
func handOver(*app.RequestContext, network.Conn, netpollConn, connConfig, *liveConns, HertzHandler, time.Duration) {
}
