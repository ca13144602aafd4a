package main

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/hertzws/websocket"
	wshub "github.com/hertzws/websocket/hub"
)

// startHertzEvents serves this library's event-driven mode
// (HertzUpgrader.UpgradeEvents): on netpoll an idle connection holds no
// goroutine; on the standard transport the mode falls back to a goroutine
// per connection. /echo writes every message back from
// OnBorrowedMessage, the fastest loop of this mode (the library reads into
// a lent buffer; there is no stream loop), or, under -echo message, from
// OnMessage, with a buffer per message as ReadMessage has. /broadcast fans out as hertzws does:
// through the library's hub package under -broadcast hub (the default), or
// through the harness's shared hub under -broadcast loop.
func startHertzEvents(addr, transport string, errc chan<- error) error {
	upgrader := websocket.HertzUpgrader{ReadLimit: readLimit}
	h := newHertz(addr, transport)

	write := func(c *websocket.Conn, mt int, msg []byte) { _ = c.WriteMessage(mt, msg) }
	echo := websocket.EventFuncs{BorrowedMessage: write}
	if echoFlag == "message" {
		echo = websocket.EventFuncs{Message: write}
	}
	h.GET("/echo", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.UpgradeEvents(ctx, echo)
	})

	var broadcast websocket.EventHandler = loopBroadcastEvents()
	if broadcastMode("hertzws") == "hub" {
		rooms := wshub.New(wshub.Options{})
		broadcast = rooms.EventHandler(wshub.Events{
			Message: func(_ *wshub.Client, mt int, msg []byte) error {
				return rooms.BroadcastAll(mt, msg)
			},
		})
	}
	h.GET("/broadcast", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.UpgradeEvents(ctx, broadcast)
	})
	runHertz(h, errc)
	return nil
}

// loopBroadcastEvents is /broadcast through the harness's shared hub: a
// PreparedMessage written to every connection in turn from the sender's
// OnMessage.
func loopBroadcastEvents() websocket.EventFuncs {
	peers := newHub[*websocket.Conn]()
	return websocket.EventFuncs{
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
}
