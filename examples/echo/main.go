// Command echo is a WebSocket echo server on Hertz with a small browser
// page to talk to it.
//
//	go run ./examples/echo            # then open http://localhost:8080/
//	go run ./examples/echo -addr :9000
//
// The page is served at / and the WebSocket endpoint at /echo. Every text
// or binary message a client sends comes back unchanged.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/hertzws/websocket"
)

//go:embed home.html
var homePage []byte

var addr = flag.String("addr", "localhost:8080", "address to listen on (host:port)")

// The upgrader accepts same-origin browsers and non-browser clients and
// limits messages to 32 MiB (the zero value's defaults), and negotiates
// permessage-deflate with the clients that offer it, browsers included.
var upgrader = websocket.HertzUpgrader{EnableCompression: true}

// echo upgrades the request and sends every message back to its sender.
func echo(_ context.Context, ctx *app.RequestContext) {
	// The handler below may read ctx while it runs (Upgrade keeps the
	// RequestContext this request's own until the handler returns); a
	// copy is what a goroutine outliving the handler would need.
	userAgent := string(ctx.UserAgent())

	err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
		peer := conn.RemoteAddr()
		hlog.Infof("echo: %v connected (%s)", peer, userAgent)
		for {
			mt, msg, err := conn.ReadMessage()
			if err != nil {
				if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
					hlog.Warnf("echo: %v read: %v", peer, err)
				} else {
					hlog.Infof("echo: %v disconnected: %v", peer, err)
				}
				return
			}
			hlog.Infof("echo: %v recv %s", peer, describe(mt, msg))
			if err := conn.WriteMessage(mt, msg); err != nil {
				hlog.Warnf("echo: %v write: %v", peer, err)
				return
			}
		}
		// Returning closes the connection.
	})
	if err != nil {
		// Upgrade has already answered the request with an HTTP error.
		hlog.Warnf("echo: upgrade from %v: %v", ctx.RemoteAddr(), err)
	}
}

// describe renders a message for the log, shortening long text.
func describe(mt int, msg []byte) string {
	if mt == websocket.BinaryMessage {
		return fmt.Sprintf("binary message (%d bytes)", len(msg))
	}
	const maxRunes = 80
	text := []rune(string(msg))
	if len(text) > maxRunes {
		return fmt.Sprintf("text %q… (%d bytes)", string(text[:maxRunes]), len(msg))
	}
	return fmt.Sprintf("text %q", string(text))
}

func home(_ context.Context, ctx *app.RequestContext) {
	ctx.Data(consts.StatusOK, "text/html; charset=utf-8", homePage)
}

func main() {
	flag.Parse()

	h := server.Default(server.WithHostPorts(*addr), websocket.WithHandshakeReadTimeout(0)) // drop clients slow to send their request
	// Hertz takes the wrapper of a hijacked connection from a sync.Pool and
	// puts it back when the hijack handler returns, so a reference kept by
	// a stray goroutine could reach the next client's socket (hertz issue
	// #121). This library never hands that wrapper out, but turning the
	// pool off gives every upgraded connection its own wrapper, which makes
	// such a mistake elsewhere harmless; it costs one small allocation per
	// connection.
	h.NoHijackConnPool = true
	// On SIGTERM or Ctrl-C, Hertz shuts down gracefully and runs this hook:
	// every connected client gets close 1001 (Going Away) before the
	// process exits.
	h.OnShutdown = append(h.OnShutdown, upgrader.Shutdown)

	h.GET("/", home)
	h.GET("/echo", echo)

	hlog.Infof("echo: open http://%s/ in a browser", *addr)
	h.Spin()
}
