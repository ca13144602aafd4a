package main

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/hertzws/websocket"
)

// startHertzEvents serves this library's event-driven mode
// (HertzUpgrader.UpgradeEvents): on netpoll an idle connection holds no
// goroutine. /echo writes every message back from OnMessage, which is the
// message loop of this mode (there is no stream loop: the library reads).
// /broadcast sends every message to every connection of the path, as the
// harness's loop hub does for the other servers.
func startHertzEvents(addr, transport string, errc chan<- error) error {
	upgrader := websocket.HertzUpgrader{ReadLimit: readLimit}
	h := newHertz(addr, transport)

	echo := websocket.EventFuncs{
		Message: func(c *websocket.Conn, mt int, msg []byte) { _ = c.WriteMessage(mt, msg) },
	}
	h.GET("/echo", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.UpgradeEvents(ctx, echo)
	})

	peers := newHub[*websocket.Conn]()
	broadcast := websocket.EventFuncs{
		Open:  peers.add,
		Close: func(c *websocket.Conn, _ error) { peers.remove(c) },
		Message: func(_ *websocket.Conn, mt int, msg []byte) {
			pm, err := websocket.NewPreparedMessage(mt, msg)
			if err != nil {
				return
			}
			peers.broadcast(func(c *websocket.Conn) error { return c.WritePreparedMessage(pm) })
		},
	}
	h.GET("/broadcast", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.UpgradeEvents(ctx, broadcast)
	})
	runHertz(h, errc)
	return nil
}
