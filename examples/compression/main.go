// Command compression compares permessage-deflate settings (RFC 7692):
// context takeover, window bits and the size threshold. For each setting
// the server sends the same feed of 200 JSON messages, the client echoes
// them, and the server counts the bytes both directions took on the wire.
//
//	go run ./examples/compression            # prints the table, then serves http://localhost:8080/
//	go run ./examples/compression -addr :9000 -selftest=false
//
// At start-up the example runs the feed through this library's own Dialer
// and prints the bytes saved for every setting; the page at / runs it
// through the browser's WebSocket and shows the same table, with the
// extension the browser and the server agreed on.
//
// Bytes are counted by a wrapper around the TCP listener, which is why the
// example runs Hertz on its standard transport.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"net"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/hertzws/websocket"
)

//go:embed home.html
var homePage []byte

var (
	addr     = flag.String("addr", "localhost:8080", "address to listen on (host:port)")
	selftest = flag.Bool("selftest", true, "measure every setting with the Go client at start-up and print the table")
)

func main() {
	flag.Parse()

	tcp, err := net.Listen("tcp", *addr)
	if err != nil {
		hlog.Fatalf("compression: %v", err)
	}
	ln := &countingListener{Listener: tcp}

	h := server.New(server.WithListener(ln), server.WithTransport(standard.NewTransporter), websocket.WithHandshakeReadTimeout(0))
	h.NoHijackConnPool = true
	for _, m := range modes {
		h.OnShutdown = append(h.OnShutdown, m.upgrader.Shutdown)
	}

	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		ctx.Data(consts.StatusOK, "text/html; charset=utf-8", homePage)
	})
	h.GET("/modes.json", func(_ context.Context, ctx *app.RequestContext) {
		ctx.JSON(consts.StatusOK, modes)
	})
	h.GET("/ws/:mode", func(_ context.Context, ctx *app.RequestContext) {
		m := modeByName(ctx.Param("mode"))
		if m == nil {
			ctx.String(consts.StatusNotFound, "no such mode")
			return
		}
		var extension string
		err := m.upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			measure(conn, ln, m, extension)
		})
		if err != nil {
			hlog.Warnf("compression: upgrade: %v", err)
			return
		}
		// Upgrade has written the 101 headers into ctx.Response; the
		// handler above runs later, on this same goroutine, once this
		// function and the middleware have returned.
		extension = string(ctx.Response.Header.Peek("Sec-WebSocket-Extensions"))
	})

	if *selftest {
		go func() {
			fmt.Printf("The feed through Dialer{EnableCompression: true}, for every setting:\n\n%s\n", tableHeader)
			for _, m := range modes {
				r, err := dialAndEcho("ws://" + tcp.Addr().String() + "/ws/" + m.Name)
				if err != nil {
					fmt.Printf("%-20s error: %v\n", m.Name, err)
					continue
				}
				fmt.Println(r.String())
			}
			fmt.Println()
		}()
	}

	hlog.Infof("compression: open http://%s/ in a browser", tcp.Addr())
	h.Spin()
}
