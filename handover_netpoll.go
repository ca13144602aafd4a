//go:build !windows

package websocket

import (
	"net"
	"os"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network"
	hnetpoll "github.com/cloudwego/hertz/pkg/network/netpoll"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"
	"github.com/cloudwego/netpoll"

	"github.com/hertzws/websocket/frame"
)

// A WebSocket upgraded on Hertz's netpoll transport leaves netpoll before
// the 101 response is sent, and lives on a net.Conn of its own, read and
// written by a socketTransport on Go's runtime poller.
//
// Why: Hertz ends a connection when its hijack handler returns, so on
// netpoll a WebSocket would keep the goroutine that served the HTTP
// request, parked under Hertz's deep call stack (8 KiB of stack), together
// with the request's RequestContext and netpoll's input and output buffers
// (about 6 KiB), for as long as the connection is open. Detached, an idle
// connection costs its handler's goroutine, started with a shallow stack,
// and a few hundred bytes of structures: no buffer is held while it waits.
// Wakeups also go straight from the runtime poller to the reading
// goroutine, without netpoll's hand-off between goroutines.
//
// How, without losing a byte: Upgrade tells Hertz to write no response.
// The hijack handler, still on netpoll's serving goroutine, renders the
// 101 as Hertz would have (middleware has run by then), takes the bytes
// already buffered beyond the request, and detaches the connection, which
// unregisters it from netpoll's poller once the handler returns and leaves
// its descriptor open. netpoll then runs the connection's close callbacks;
// ours takes what else was buffered and starts the WebSocket's goroutine,
// which adopts the descriptor and only then sends the 101. RFC 6455 §4.1
// forbids a client to send frames before it has the 101, so by the time
// one can, netpoll no longer reads the socket.

// netpollConn is what the handover needs of a netpoll connection.
type netpollConn interface {
	Fd() int
	Detach() error
	AddCloseCallback(netpoll.CloseCallback) error
}

// netpollHandover returns raw's netpoll connection when raw can leave
// netpoll, or nil (other transports, or a netpoll without Detach).
func netpollHandover(raw network.Conn) netpollConn {
	hc, ok := raw.(*hnetpoll.Conn)
	if !ok {
		return nil
	}
	np, _ := hc.Conn.(netpollConn)
	return np
}

// handOver runs as the hijack handler on netpoll's serving goroutine.
func handOver(ctx *app.RequestContext, raw network.Conn, np netpollConn, cfg connConfig, live *liveConns, handler HertzHandler, timeout time.Duration) {
	ctx.Response.HijackWriter(nil)
	var response bytesWriter
	if err := resp.Write(&ctx.Response, &response); err != nil {
		hlog.SystemLogger().Errorf("websocket: rendering the handshake response for %v: %v", raw.RemoteAddr(), err)
		return
	}
	if ctx.Response.StatusCode() != consts.StatusSwitchingProtocols {
		// Middleware replaced the 101 after Upgrade: send its answer, as
		// Hertz would have, and do not speak WebSocket.
		_ = raw.SetWriteTimeout(timeout)
		if _, err := raw.WriteBinary(response.b); err == nil {
			_ = raw.Flush()
		}
		return
	}
	pending := takeBuffered(raw, nil)
	// The handler runs after Hertz has finished serving the request:
	// keep its RequestContext out of Hertz's pool until the handler returns.
	keepRequestContext(ctx, raw)
	_ = np.AddCloseCallback(func(c netpoll.Connection) error {
		// netpoll calls this once the handler has returned and the
		// descriptor is out of its poller, on the goroutine that ran
		// Hertz's Serve, after it returned.
		pending = takeBuffered(c.Reader(), pending)
		go serveSocket(ctx, np.Fd(), pending, response.b, cfg, live, handler, timeout)
		return nil
	})
	if err := np.Detach(); err != nil {
		hlog.SystemLogger().Errorf("websocket: detaching %v from netpoll: %v", raw.RemoteAddr(), err)
	}
}

// serveSocket adopts the descriptor of a detached connection, sends the
// handshake response and serves the WebSocket. ctx, kept by
// keepRequestContext, is emptied when the handler has returned.
func serveSocket(ctx *app.RequestContext, fd int, pending, response []byte, cfg connConfig, live *liveConns, handler HertzHandler, timeout time.Duration) {
	defer releaseRequestContext(ctx)
	f := os.NewFile(uintptr(fd), "websocket")
	conn, err := net.FileConn(f) // a duplicate descriptor on the runtime poller
	_ = f.Close()
	if err != nil {
		hlog.SystemLogger().Errorf("websocket: adopting a connection from netpoll: %v", err)
		return
	}
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(response); err != nil {
		_ = conn.Close()
		return
	}
	_ = conn.SetWriteDeadline(time.Time{})
	t := newSocketTransport(conn, pending, cfg.readBufferSize, serverWriteBufferSize)
	serve(newConn(t, frame.RoleServer, cfg, conn.LocalAddr(), conn.RemoteAddr()), live, handler)
}

// bufferedReader is the part of a netpoll or Hertz reader takeBuffered
// needs.
type bufferedReader interface {
	Len() int
	Peek(n int) ([]byte, error)
	Skip(n int) error
	Release() error
}

// takeBuffered appends the bytes r has buffered to dst and consumes them.
func takeBuffered(r bufferedReader, dst []byte) []byte {
	if n := r.Len(); n > 0 {
		if b, err := r.Peek(n); err == nil {
			dst = append(dst, b...)
			_ = r.Skip(len(b))
		}
	}
	_ = r.Release()
	return dst
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
