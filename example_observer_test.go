package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
)

// serverCounters is an Observer that keeps a few counters. Embedding
// NopObserver ignores the events it does not implement. Its methods are
// called by every connection at once, hence the atomics.
type serverCounters struct {
	websocket.NopObserver
	refused, opened, messagesIn, bytesIn atomic.Int64
	closed                               chan int
}

func (o *serverCounters) HandshakeFailed(int) { o.refused.Add(1) }
func (o *serverCounters) ConnOpened()         { o.opened.Add(1) }
func (o *serverCounters) ConnClosed(code int) { o.closed <- code }

func (o *serverCounters) MessageRead(_ int, payload, _ int64) {
	o.messagesIn.Add(1)
	o.bytesIn.Add(payload)
}

// Count connections and messages with an Observer; the metrics/prometheus
// module has one that exports them to Prometheus.
func ExampleObserver() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true

	counters := &serverCounters{closed: make(chan int, 1)}
	upgrader := websocket.HertzUpgrader{Observer: counters}
	h.GET("/echo", func(_ context.Context, ctx *app.RequestContext) {
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
	go func() { _ = h.Run() }()
	url := "ws://" + ln.Addr().String() + "/echo"

	// A browser page of another site is refused (403 Forbidden).
	if _, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://elsewhere.example"}}); err != nil {
		fmt.Println("refused:", resp.Status)
	}

	client, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, text := range []string{"hello", "world!"} {
		if err := client.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
			log.Fatal(err)
		}
		if _, _, err := client.ReadMessage(); err != nil {
			log.Fatal(err)
		}
	}
	bye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
	_ = client.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
	_, _, _ = client.ReadMessage() // the server's answer to the close
	client.Close()

	// ConnClosed runs when the server's connection ends.
	code := <-counters.closed
	fmt.Printf("refused %d, opened %d, closed with %d\n", counters.refused.Load(), counters.opened.Load(), code)
	fmt.Printf("%d messages in, %d bytes\n", counters.messagesIn.Load(), counters.bytesIn.Load())

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// refused: 403 Forbidden
	// refused 1, opened 1, closed with 1001
	// 2 messages in, 11 bytes
}
