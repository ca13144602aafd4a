// Command chat is a multi-room chat server on Hertz: open the page in a few
// browser tabs, pick a room and a name, and talk. With -redis, several
// chat servers share their rooms through Redis.
//
//	go run -C examples/chat .                                   # then open http://localhost:8080/
//	go run -C examples/chat . -addr :9001 -redis localhost:6379 # and another with -addr :9002
//
// It is a module of its own (its Redis client needs a newer Go than the
// library), hence -C, or cd examples/chat first.
//
// The rooms are a hub (github.com/hertzws/websocket/hub): each connection
// is registered, joins its room and runs its read loop; the hub queues each
// broadcast, built once as a PreparedMessage, for every member and writes it
// from the member's own goroutine. A member whose queue fills is closed
// with 1013 (Try Again Later).
//
// /metrics serves Prometheus metrics of the connections (from
// github.com/hertzws/websocket/metrics/prometheus's Observer) and of the
// hub.
package main

import (
	"context"
	_ "embed"
	"flag"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/adaptor"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/hub/redishub"
	wsmetrics "github.com/hertzws/websocket/metrics/prometheus"
)

//go:embed home.html
var homePage []byte

var (
	addr      = flag.String("addr", "localhost:8080", "address to listen on (host:port)")
	redisAddr = flag.String("redis", "", "Redis server (host:port) through which chat servers share rooms; empty: this server alone")
)

func main() {
	flag.Parse()

	opts := hub.Options{QueueSize: 64}
	var who presence = localPresence{}
	if *redisAddr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
		opts.Broker = redishub.New(rdb, redishub.Options{
			Prefix:  "chat:",
			OnError: func(err error) { hlog.Warnf("chat: %v", err) },
		})
		who = &redisPresence{rdb: rdb}
	}

	// WithHandshakeReadTimeout drops clients that are slow to send their
	// request (10 s).
	h := server.Default(server.WithHostPorts(*addr), websocket.WithHandshakeReadTimeout(0))
	h.NoHijackConnPool = true
	if err := routes(h, &chat{rooms: hub.New(opts), who: who}); err != nil {
		hlog.Fatalf("chat: %v", err)
	}

	hlog.Infof("chat: open http://%s/ in a browser; metrics at http://%s/metrics", *addr, *addr)
	h.Spin()
}

// routes registers the chat's pages on h: / serves the page, /ws upgrades,
// /metrics is for Prometheus.
func routes(h *server.Hertz, c *chat) error {
	// The metrics of the WebSocket connections and of the hub, in a
	// registry of their own. A service would add Go's runtime metrics
	// (collectors.NewGoCollector) and might serve /metrics on a port of
	// its own, away from the public.
	reg := prometheus.NewRegistry()
	observer, err := wsmetrics.NewObserver(reg, wsmetrics.Options{})
	if err != nil {
		return err
	}
	if err := wsmetrics.RegisterHub(reg, c.rooms, wsmetrics.Options{}); err != nil {
		return err
	}

	// The upgrader compresses for the browsers that offer
	// permessage-deflate, pings every 30 s to find tabs that vanished,
	// refuses messages over 4 KiB with close code 1009, and tells the
	// observer what happens.
	upgrader := &websocket.HertzUpgrader{EnableCompression: true, KeepAlive: 30 * time.Second, ReadLimit: 4096, Observer: observer}
	// On Ctrl-C every tab gets close 1001 (Going Away).
	h.OnShutdown = append(h.OnShutdown, upgrader.Shutdown)

	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		ctx.Data(consts.StatusOK, "text/html; charset=utf-8", homePage)
	})
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		// Copy the request data before Upgrade: Hertz recycles ctx
		// before the handler runs.
		room, name := cleanRoom(ctx.Query("room")), cleanName(ctx.Query("name"))
		if err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) { c.serve(conn, room, name) }); err != nil {
			hlog.Warnf("chat: upgrade: %v", err)
		}
	})
	h.GET("/metrics", adaptor.HertzHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	return nil
}
