//go:build !linux

package websocket

import (
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// adoptEvents serves a descriptor handed over by netpoll to an
// EventHandler. There is no poller on this platform: the connection gets a
// goroutine of its own, which calls the same callbacks.
func adoptEvents(fd int, _, _ net.Addr, pending, response []byte, cfg connConfig, live *liveConns, runner eventRunner, timeout time.Duration, opened func()) {
	conn, err := transport.AdoptDescriptor(fd)
	if err != nil {
		opened()
		hlog.SystemLogger().Errorf("websocket: adopting a connection from netpoll: %v", err)
		return
	}
	if !sendResponse(conn, response, timeout) {
		opened()
		return
	}
	t := transport.NewSocket(conn, pending, cfg.readBufferSize, transport.ServerWriteBufferSize)
	c := newConn(t, frame.RoleServer, cfg, conn.LocalAddr(), conn.RemoteAddr())
	serve(c, live, func(c *Conn) { runner.readMessages(c, opened) })
}
