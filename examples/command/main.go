// Command command runs a program for each browser that connects, streams
// the program's stdout and stderr to the page and the page's input to the
// program's stdin.
//
//	go run ./examples/command                    # runs cat; open http://localhost:8080/
//	go run ./examples/command -- sh -c 'while read -r l; do echo "you said: $l"; done'
//	go run ./examples/command -addr :9000 -- bc -q
//
// When the WebSocket closes, the program's stdin is closed; a program that
// has not exited after the grace period gets SIGTERM, and SIGKILL one grace
// period later (the whole process group, so its children go too). When the
// program exits first, the page is told its exit status and the server
// closes the WebSocket with code 1000.
//
// The server listens on localhost only by default: whoever can open the
// page can run the program.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/hertzws/websocket"
)

//go:embed home.html
var homePage []byte

var (
	addr  = flag.String("addr", "localhost:8080", "address to listen on (host:port)")
	grace = flag.Duration("grace", 2*time.Second, "how long a program may take to exit after its stdin closes, and after SIGTERM")
)

// upgrader keeps the default origin check: only pages from this server
// may start programs.
var upgrader = websocket.HertzUpgrader{EnableCompression: true}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] [--] [program [args...]]\n\nThe program defaults to cat.\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		argv = []string{"cat"}
	}

	h := server.Default(server.WithHostPorts(*addr), websocket.WithHandshakeReadTimeout(0)) // drop clients slow to send their request
	h.NoHijackConnPool = true
	h.OnShutdown = append(h.OnShutdown, upgrader.Shutdown)

	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		ctx.Data(consts.StatusOK, "text/html; charset=utf-8", homePage)
	})
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			run(conn, argv, *grace)
		})
		if err != nil {
			hlog.Warnf("command: upgrade: %v", err)
		}
	})

	hlog.Infof("command: running %q for every page; open http://%s/ in a browser", argv, *addr)
	h.Spin()
}
