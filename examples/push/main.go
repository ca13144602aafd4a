// Command push holds many idle subscribers and pushes a tick to all of
// them every second, through the hub, with the event-driven mode
// (HertzUpgrader.UpgradeEvents): a subscriber that is waiting for the next
// tick holds no goroutine and no buffer on the server.
//
//	go run ./examples/push                    # then open http://localhost:8080/
//	go run ./examples/push -addr :9000 -every 200ms
//
// GET /stats reports the subscribers and the server's goroutines, so you
// can watch the second number stay flat while the first grows.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"runtime"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
)

//go:embed home.html
var homePage []byte

var (
	addr  = flag.String("addr", "localhost:8080", "address to listen on (host:port)")
	every = flag.Duration("every", time.Second, "time between ticks")
)

// tick is the message every subscriber gets.
type tick struct {
	Seq  uint64 `json:"seq"`
	Time string `json:"time"`
}

func main() {
	flag.Parse()
	h := server.Default(server.WithHostPorts(*addr), websocket.WithHandshakeReadTimeout(0))
	h.NoHijackConnPool = true
	routes(h, *every)
	hlog.Infof("push: open http://%s/ in a browser; stats on /stats", *addr)
	h.Spin()
}

// routes serves the page, /ws and /stats on h, and starts the ticker,
// which stops when h shuts down.
func routes(h *server.Hertz, interval time.Duration) {
	// KeepAlive finds subscribers that vanished without closing: nothing
	// reads an idle connection, so only a ping can tell.
	upgrader := &websocket.HertzUpgrader{KeepAlive: 30 * time.Second}
	subscribers := hub.New(hub.Options{Policy: hub.DropOldest})
	feed := subscribers.EventHandler(hub.Events{
		Joined: func(c *hub.Client) { _ = c.Join("ticks") },
	})
	h.OnShutdown = append(h.OnShutdown, upgrader.Shutdown, func(context.Context) { _ = subscribers.Close() })

	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		ctx.Data(consts.StatusOK, "text/html; charset=utf-8", homePage)
	})
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		if err := upgrader.UpgradeEvents(ctx, feed); err != nil {
			hlog.Warnf("push: upgrade: %v", err)
		}
	})
	h.GET("/stats", func(_ context.Context, ctx *app.RequestContext) {
		ctx.JSON(consts.StatusOK, map[string]int{
			"subscribers": len(subscribers.Members("ticks")),
			"goroutines":  runtime.NumGoroutine(),
		})
	})
	go publish(subscribers, interval)
}

// publish sends a tick to every subscriber every interval.
func publish(h *hub.Hub, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var seq uint64
	for now := range t.C {
		seq++
		msg, _ := json.Marshal(tick{Seq: seq, Time: now.UTC().Format(time.RFC3339Nano)})
		if err := h.Broadcast("ticks", websocket.TextMessage, msg); err != nil {
			return // the hub is closed
		}
	}
}
