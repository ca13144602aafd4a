package main

import (
	"context"
	"io"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"

	"github.com/hertzws/websocket"
	wshub "github.com/hertzws/websocket/hub"
)

// newHertz returns a Hertz server on addr with the /debug/stats route. It
// is shared by the hertzws-* and gorilla-adaptor servers. server.New, not
// server.Default: no recovery middleware on the request path of anyone.
func newHertz(addr, transport string) *server.Hertz {
	hlog.SetLevel(hlog.LevelError)
	opts := []config.Option{
		server.WithHostPorts(addr),
		server.WithDisablePrintRoute(true),
	}
	if transport == "standard" {
		opts = append(opts, server.WithTransport(standard.NewTransporter))
	}
	h := server.New(opts...)
	// As this library's documentation recommends (one small allocation
	// per upgrade); set for every Hertz-based server alike.
	h.NoHijackConnPool = true
	h.GET("/debug/stats", func(_ context.Context, ctx *app.RequestContext) {
		ctx.Data(200, "application/json", statsJSON())
	})
	return h
}

func runHertz(h *server.Hertz, errc chan<- error) {
	go func() { errc <- h.Run() }()
}

func startHertzWS(addr, transport string, errc chan<- error) error {
	upgrader := websocket.HertzUpgrader{ReadLimit: readLimit} // no compression: the zero value
	h := newHertz(addr, transport)

	echo := echoMessage
	switch echoMode("hertzws") {
	case "stream":
		echo = echoStream
	case "into":
		echo = echoInto
	case "owned":
		echo = echoOwned
	}
	h.GET("/echo", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, echo)
	})

	if broadcastMode("hertzws") == "hub" {
		rooms := wshub.New(wshub.Options{})
		h.GET("/broadcast", func(_ context.Context, ctx *app.RequestContext) {
			_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
				c, err := rooms.Register(conn, "", nil)
				if err != nil {
					return
				}
				_ = c.Run(func(_ *wshub.Client, mt int, msg []byte) error {
					return rooms.BroadcastAll(mt, msg)
				})
			})
		})
	} else {
		peers := newHub[*websocket.Conn]()
		h.GET("/broadcast", func(_ context.Context, ctx *app.RequestContext) {
			_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
				peers.add(conn)
				defer peers.remove(conn)
				for {
					mt, msg, err := conn.ReadMessage()
					if err != nil {
						return
					}
					pm, err := websocket.NewPreparedMessage(mt, msg)
					if err != nil {
						return
					}
					peers.broadcast(func(c *websocket.Conn) error { return c.WritePreparedMessage(pm) })
				}
			})
		})
	}
	runHertz(h, errc)
	return nil
}

// echoMessage is the ReadMessage/WriteMessage echo loop: ReadMessage
// allocates one buffer sized from the frame header, WriteMessage sends it
// as one frame with one flush. echoStream measured faster (see README).
func echoMessage(conn *websocket.Conn) {
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

// echoInto is the message loop with ReadMessageInto: each message is read
// into the buffer the previous one left, so once it has grown to the
// message size the loop allocates nothing.
func echoInto(conn *websocket.Conn) { echoReadInto(conn, false) }

// echoOwned is echoInto plus one copy of each message into memory of its
// own before it is written: the one allocation per message that gorilla's
// ReadMessage contract (the caller owns what it returns) cannot avoid. Its
// rate is the ceiling for any ReadMessage, to hold echoMessage against.
func echoOwned(conn *websocket.Conn) { echoReadInto(conn, true) }

// echoReadInto is echoInto, or echoOwned with owned.
func echoReadInto(conn *websocket.Conn, owned bool) {
	var buf []byte
	for {
		mt, msg, err := conn.ReadMessageInto(buf[:0])
		if err != nil {
			return
		}
		buf = msg
		if owned {
			msg = append([]byte(nil), msg...) // no clearing: append copies into fresh memory
		}
		if err := conn.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

// echoStream copies each message from NextReader to NextWriter with
// io.CopyBuffer, the same loop as the gorilla and coder servers. The
// library's writer implements io.ReaderFrom, so the copy goes through its
// own pooled 64 KiB buffer (the 32 KiB one from copyBuffers is not used):
// no allocation per message, one frame per message up to 64 KiB.
func echoStream(conn *websocket.Conn) {
	for {
		mt, r, err := conn.NextReader()
		if err != nil {
			return
		}
		w, err := conn.NextWriter(mt)
		if err != nil {
			return
		}
		buf := copyBuffers.Get().(*[]byte)
		_, err = io.CopyBuffer(w, r, *buf)
		copyBuffers.Put(buf)
		if err != nil {
			return
		}
		if err := w.Close(); err != nil {
			return
		}
	}
}
