// Command autobahn is the echo server to run Autobahn|Testsuite's fuzzing
// client against: it serves a WebSocket endpoint on Hertz that sends every
// message back, streamed through NextReader/NextWriter, with
// permessage-deflate enabled (families 12 and 13) and a read limit above
// the 16 MiB messages of family 9.
//
//	go run ./examples/autobahn                         # ws://127.0.0.1:9001/
//	go run ./examples/autobahn -transport standard     # Go's net instead of netpoll
//
// See README.md for running the test suite against it.
package main

import (
	"context"
	"flag"
	"io"
	"log"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"

	"github.com/hertzws/websocket"
)

var (
	addr      = flag.String("addr", "127.0.0.1:9001", "address to listen on (host:port)")
	transport = flag.String("transport", "netpoll", "Hertz transport: netpoll or standard")
)

var upgrader = websocket.HertzUpgrader{
	EnableCompression: true,
	// Family 9 sends messages of up to 16 MiB.
	ReadLimit: 64 << 20,
	// The fuzzer sends no Origin, but allow any for browsers and tools
	// that do.
	CheckOrigin: func(*app.RequestContext) bool { return true },
}

// echo sends back every message with its type. NextReader and NextWriter
// stream the message, so a fragmented one is echoed frame by frame.
func echo(c *websocket.Conn) {
	for {
		mt, r, err := c.NextReader()
		if err != nil {
			return
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return
		}
		if _, err := io.Copy(w, r); err != nil {
			return
		}
		if err := w.Close(); err != nil {
			return
		}
	}
}

func main() {
	flag.Parse()
	opts := []config.Option{server.WithHostPorts(*addr)}
	switch *transport {
	case "netpoll":
	case "standard":
		opts = append(opts, server.WithTransport(standard.NewTransporter))
	default:
		log.Fatalf("unknown transport %q (want netpoll or standard)", *transport)
	}
	hlog.SetLevel(hlog.LevelWarn)
	h := server.New(opts...)
	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		// Upgrade answers a failed handshake itself.
		_ = upgrader.Upgrade(ctx, echo)
	})
	log.Printf("echo server for Autobahn|Testsuite on ws://%s/ (%s transport)", *addr, *transport)
	h.Spin()
}
