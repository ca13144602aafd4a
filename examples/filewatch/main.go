// Command filewatch shows a text file in the browser and pushes its new
// contents to the page whenever the file changes.
//
//	go run ./examples/filewatch                      # watches a new file in the temp directory
//	go run ./examples/filewatch -file notes.txt      # then edit notes.txt and watch the page
//	go run ./examples/filewatch -addr :9000 -poll 1s
//
// Each connection has a goroutine that looks at the file's size and
// modification time every -poll and sends the whole file when either
// changed; the handler's own goroutine keeps reading the connection, which
// answers pings and the close handshake.
package main

import (
	"context"
	_ "embed"
	"flag"
	"os"
	"path/filepath"
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
	addr = flag.String("addr", "localhost:8080", "address to listen on (host:port)")
	file = flag.String("file", "", "file to watch (default: a new file in the temp directory)")
	poll = flag.Duration("poll", 250*time.Millisecond, "how often to look at the file")
)

var upgrader = websocket.HertzUpgrader{EnableCompression: true}

func main() {
	flag.Parse()
	path := *file
	if path == "" {
		path = filepath.Join(os.TempDir(), "filewatch-example.txt")
		if err := os.WriteFile(path, []byte("Edit this file and watch the page change.\n"), 0o644); err != nil {
			hlog.Fatalf("filewatch: %v", err)
		}
	}
	path, err := filepath.Abs(path)
	if err != nil {
		hlog.Fatalf("filewatch: %v", err)
	}
	w := watcher{path: path, every: *poll}

	h := server.Default(server.WithHostPorts(*addr), websocket.WithHandshakeReadTimeout(0)) // drop clients slow to send their request
	h.NoHijackConnPool = true
	h.OnShutdown = append(h.OnShutdown, upgrader.Shutdown)

	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		ctx.Data(consts.StatusOK, "text/html; charset=utf-8", homePage)
	})
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		err := upgrader.Upgrade(ctx, w.serve)
		if err != nil {
			hlog.Warnf("filewatch: upgrade: %v", err)
		}
	})

	hlog.Infof("filewatch: watching %s; open http://%s/ in a browser", path, *addr)
	h.Spin()
}
