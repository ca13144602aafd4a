package hub_test

import (
	"bytes"
	"testing"

	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/hub/internal/hubtest"
)

// One publisher, ten thousand subscribers in one room of one hub, on each
// transport. Run with: go test -run '^$' -bench Fanout -benchtime 200x ./hub/
func BenchmarkFanout10k(b *testing.B) {
	for _, tr := range hubtest.Transports {
		tr := tr
		b.Run(tr.Name, func(b *testing.B) {
			h := hub.New(hub.Options{QueueSize: 256})
			b.Cleanup(func() { _ = h.Close() })
			f := &hubtest.Fanout{
				Subscribers: 10000,
				Hubs:        []*hub.Hub{h},
				Serve: func(_ int, gate <-chan struct{}) *hubtest.Server {
					return hubtest.ServeHub(b, tr, h, hubtest.ServerOptions{Gate: gate})
				},
				Message: bytes.Repeat([]byte("x"), 64),
				Window:  32,
			}
			f.Run(b)
		})
	}
}
