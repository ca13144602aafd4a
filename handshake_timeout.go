package websocket

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/network"

	"github.com/hertzws/websocket/internal/transport"
)

// WithHandshakeReadTimeout returns a Hertz server option that drops a
// connection whose first request has not arrived in full within d of the
// connection being accepted. Zero or less means DefaultHandshakeTimeout
// (10 s). Pass it to server.New or server.Default:
//
//	h := server.Default(server.WithHostPorts(":8080"), websocket.WithHandshakeReadTimeout(0))
//
// Without it, Hertz (v0.10) lets a client that connects and sends nothing,
// sends half a request, or sends one byte now and then (slowloris) hold its
// connection for ever: the standard transport sets no read deadline before
// the first request, and netpoll's ReadTimeout starts again with every read
// and never runs while the client has sent nothing at all. With it, such a
// client gets Hertz's error response for a failed read (408 on the standard
// transport, 400 on netpoll) or, if it sent nothing, is disconnected.
//
// The deadline covers the first request on a connection: its headers and
// the body Hertz reads before calling handlers, so pick d with the slowest
// upload you accept on a fresh connection in mind. It is lifted once the
// request is read: Hertz's ReadTimeout and IdleTimeout govern later requests
// on a keep-alive connection, and an upgraded WebSocket has no read
// deadline. The option chains to an OnConnect hook set by an earlier option
// (such as server.WithOnConnect); a later one replaces it.
func WithHandshakeReadTimeout(d time.Duration) config.Option {
	d = handshakeTimeoutOrDefault(d)
	return config.Option{F: func(o *config.Options) {
		next := o.OnConnect
		o.OnConnect = func(ctx context.Context, conn network.Conn) context.Context {
			if next != nil {
				ctx = next(ctx, conn)
			}
			transport.BoundFirstRequest(conn, d)
			return ctx
		}
	}}
}

// HandshakeReadTimeout is the former name of WithHandshakeReadTimeout.
//
// Deprecated: use WithHandshakeReadTimeout, named as Hertz names its
// options.
func HandshakeReadTimeout(d time.Duration) config.Option { return WithHandshakeReadTimeout(d) }
