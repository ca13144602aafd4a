package websocket

import (
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// handOver runs as the hijack handler on netpoll's serving goroutine, for a
// connection that leaves netpoll before its 101 is sent (see
// internal/transport's HandOver for why and how). It renders the response
// Hertz would have written; when middleware replaced the 101 it sends that
// answer instead, as Hertz would have, and speaks no WebSocket.
func handOver(ctx *app.RequestContext, raw network.Conn, np transport.Detachable, cfg connConfig, live *liveConns, s session, timeout time.Duration) {
	ctx.Response.HijackWriter(nil)
	var response bytesWriter
	if err := resp.Write(&ctx.Response, &response); err != nil {
		hlog.SystemLogger().Errorf("websocket: rendering the handshake response for %v: %v", raw.RemoteAddr(), err)
		return
	}
	if ctx.Response.StatusCode() != consts.StatusSwitchingProtocols {
		_ = raw.SetWriteTimeout(timeout)
		if _, err := raw.WriteBinary(response.b); err == nil {
			_ = raw.Flush()
		}
		return
	}
	// The handler runs after Hertz has finished serving the request:
	// keep its RequestContext out of Hertz's pool until the handler returns
	// (or, for an EventHandler, until OnOpen returns).
	keepRequestContext(ctx, raw)
	local, remote := raw.LocalAddr(), raw.RemoteAddr()
	err := transport.HandOver(raw, np, func(fd int, pending []byte) {
		if s.events.h != nil {
			adoptEvents(fd, local, remote, pending, response.b, cfg, live, s.events, timeout, func() { releaseRequestContext(ctx) })
			return
		}
		defer releaseRequestContext(ctx)
		conn, err := transport.AdoptDescriptor(fd)
		if err != nil {
			hlog.SystemLogger().Errorf("websocket: adopting a connection from netpoll: %v", err)
			return
		}
		if !sendResponse(conn, response.b, timeout) {
			return
		}
		t := transport.NewSocket(conn, pending, cfg.readBufferSize, transport.ServerWriteBufferSize)
		serve(newConn(t, frame.RoleServer, cfg, conn.LocalAddr(), conn.RemoteAddr()), live, s.handler)
	})
	if err != nil {
		hlog.SystemLogger().Errorf("websocket: detaching %v from netpoll: %v", raw.RemoteAddr(), err)
	}
}

// sendResponse sends the handshake response on a connection adopted from
// netpoll, within timeout; on failure it closes the connection.
func sendResponse(conn net.Conn, response []byte, timeout time.Duration) bool {
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(response); err != nil {
		_ = conn.Close()
		return false
	}
	_ = conn.SetWriteDeadline(time.Time{})
	return true
}

// bytesWriter collects what Hertz's response writer produces.
type bytesWriter struct{ b []byte }

func (w *bytesWriter) Malloc(n int) ([]byte, error) {
	l := len(w.b)
	w.b = append(w.b, make([]byte, n)...)
	return w.b[l:], nil
}

func (w *bytesWriter) WriteBinary(b []byte) (int, error) {
	w.b = append(w.b, b...)
	return len(b), nil
}

func (w *bytesWriter) Flush() error { return nil }
