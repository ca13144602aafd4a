package websocket_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestWritePreparedMessages sends batches of prepared messages (small ones
// that share a system call, and ones large enough to go out on their own)
// and checks that a client receives each message once, whole and in
// order, with and without compression, on both transports.
func TestWritePreparedMessages(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, compress := range []bool{false, true} {
			compress := compress
			t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
				sizes := []int{0, 1, 100, 3000, 5000, 64 << 10, 10, 20}
				var msgs [][]byte
				var pms []*websocket.PreparedMessage
				for i := 0; i < 5; i++ { // five rounds of the same shape
					for j, n := range sizes {
						msg := wstest.RandomText(n, int64(100*i+j))
						pm, err := websocket.NewPreparedMessage(websocket.TextMessage, msg)
						if err != nil {
							t.Fatal(err)
						}
						msgs, pms = append(msgs, msg), append(pms, pm)
					}
				}
				written := make(chan error, 1)
				u := &websocket.HertzUpgrader{EnableCompression: compress}
				url := "ws://" + wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
					h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
						_ = u.Upgrade(ctx, func(c *websocket.Conn) {
							err := c.WritePreparedMessages(pms[:len(sizes)])
							for i := len(sizes); err == nil && i < len(pms); i += len(sizes) {
								err = c.WritePreparedMessages(pms[i : i+len(sizes)])
							}
							if err == nil {
								err = c.WritePreparedMessages(nil)
							}
							written <- err
							_, _, _ = c.ReadMessage()
						})
					})
				}) + "/ws"
				client, _ := wstest.Dial(t, &websocket.Dialer{EnableCompression: compress}, url, nil)
				_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
				for i, want := range msgs {
					mt, got, err := client.ReadMessage()
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					if mt != websocket.TextMessage || !bytes.Equal(got, want) {
						t.Fatalf("message %d: type %d, %d bytes, want %d bytes", i, mt, len(got), len(want))
					}
				}
				if err := <-written; err != nil {
					t.Fatalf("WritePreparedMessages: %v", err)
				}
			})
		}
	})
}
