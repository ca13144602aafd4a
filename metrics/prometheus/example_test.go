package prometheus_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hertzws/websocket"
	wsmetrics "github.com/hertzws/websocket/metrics/prometheus"
)

// Count a server's WebSocket connections and messages, and serve them at
// /metrics.
func ExampleNewObserver() {
	reg := prometheus.NewRegistry()
	observer, err := wsmetrics.NewObserver(reg, wsmetrics.Options{})
	if err != nil {
		log.Fatal(err)
	}
	upgrader := websocket.HertzUpgrader{Observer: observer}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true
	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			for {
				mt, msg, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if err := conn.WriteMessage(mt, msg); err != nil {
					return
				}
			}
		})
	})
	h.GET("/metrics", adaptor.HertzHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	go func() { _ = h.Run() }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	}()

	client, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := client.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	if _, _, err := client.ReadMessage(); err != nil {
		log.Fatal(err)
	}
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = client.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
	_, _, _ = client.ReadMessage()
	client.Close()

	// What a scrape of /metrics would show, once the server's connection
	// has ended.
	var lines []string
	for i := 0; i < 100; i++ {
		lines = exposed(reg, "websocket_connections_", "websocket_messages_total{direction=\"in\"")
		if len(lines) > 0 && strings.Contains(strings.Join(lines, "\n"), "closed_total") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Println(strings.Join(lines, "\n"))

	// Output:
	// websocket_connections_closed_total{code="1000"} 1
	// websocket_connections_open 0
	// websocket_connections_opened_total 1
	// websocket_messages_total{direction="in",type="binary"} 0
	// websocket_messages_total{direction="in",type="text"} 1
}

// exposed returns the sample lines of reg's exposition that start with one
// of prefixes.
func exposed(reg *prometheus.Registry, prefixes ...string) []string {
	var out []string
	for _, line := range strings.Split(expositionOf(reg), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}
