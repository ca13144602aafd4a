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
func handOver(ctx *app.RequestContext, raw network.Conn, np transport.Detachable, cfg connConfig, live *liveConns, handler HertzHandler, timeout time.Duration) {
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
	// keep its RequestContext out of Hertz's pool until the handler returns.
	keepRequestContext(ctx, raw)
	err := transport.HandOver(raw, np, func(conn net.Conn, pending []byte, err error) {
		defer releaseRequestContext(ctx)
		if err != nil {
			hlog.SystemLogger().Errorf("websocket: adopting a connection from netpoll: %v", err)
			return
		}
		serveAdopted(conn, pending, response.b, cfg, live, handler, timeout)
	})
	if err != nil {
		hlog.SystemLogger().Errorf("websocket: detaching %v from netpoll: %v", raw.RemoteAddr(), err)
	}
}

// serveAdopted sends the handshake response on a connection adopted from
// netpoll and serves the WebSocket on it.
func serveAdopted(conn net.Conn, pending, response []byte, cfg connConfig, live *liveConns, handler HertzHandler, timeout time.Duration) {
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(response); err != nil {
		_ = conn.Close()
		return
	}
	_ = conn.SetWriteDeadline(time.Time{})
	t := transport.NewSocket(conn, pending, cfg.readBufferSize, transport.ServerWriteBufferSize)
	serve(newConn(t, frame.RoleServer, cfg, conn.LocalAddr(), conn.RemoteAddr()), live, handler)
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
