// Command chat is a multi-room chat server on Hertz: open the page in a few
// browser tabs, pick a room and a name, and talk.
//
//	go run ./examples/chat               # then open http://localhost:8080/
//	go run ./examples/chat -addr :9000
//
// One hub goroutine owns the rooms (hub.go). Each connection has a read
// pump, on the handler's goroutine, and a write pump that sends the room's
// broadcasts and pings (client.go). A broadcast is built once as a
// PreparedMessage and queued for every member of the room.
package main

import (
	"context"
	_ "embed"
	"flag"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/hertzws/websocket"
)

//go:embed home.html
var homePage []byte

var addr = flag.String("addr", "localhost:8080", "address to listen on (host:port)")

// upgrader accepts same-origin browsers (the default origin check) and
// compresses messages for the clients that offer permessage-deflate. A
// PreparedMessage is compressed once for all of them.
var upgrader = websocket.HertzUpgrader{EnableCompression: true}

func main() {
	flag.Parse()

	rooms := newHub()
	go rooms.run()

	h := server.Default(server.WithHostPorts(*addr))
	// See the package documentation: the library works either way, and
	// this keeps other hijacking code in the server from reusing wrappers.
	h.NoHijackConnPool = true
	// On Ctrl-C, every chat connection gets close 1001 (Going Away).
	h.OnShutdown = append(h.OnShutdown, upgrader.Shutdown)

	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		ctx.Data(consts.StatusOK, "text/html; charset=utf-8", homePage)
	})
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		// Copy the request data before Upgrade: Hertz recycles ctx
		// before the handler runs.
		c := &client{
			hub:  rooms,
			room: cleanRoom(ctx.Query("room")),
			name: cleanName(ctx.Query("name")),
			send: make(chan *websocket.PreparedMessage, sendQueue),
		}
		err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			c.conn = conn
			c.serve()
		})
		if err != nil {
			hlog.Warnf("chat: upgrade: %v", err)
		}
	})

	hlog.Infof("chat: open http://%s/ in a browser", *addr)
	h.Spin()
}
