package redishub_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/hub/internal/hubtest"
	"github.com/hertzws/websocket/hub/redishub"
)

// One publisher on instance a, ten thousand subscribers in one room, half
// on a and half on instance b, which gets every message through Redis.
// Run with: go test -run '^$' -bench Fanout -benchtime 200x ./
func BenchmarkFanout10kTwoInstances(b *testing.B) {
	rs := startRedis(b)
	var hubs []*hub.Hub
	var brokers []*redishub.Broker
	for _, name := range []string{"a", "b"} {
		br := redishub.New(rs.Client(), redishub.Options{OnError: func(err error) { b.Log(err) }})
		h := hub.New(hub.Options{Broker: br, InstanceID: name, QueueSize: 256})
		b.Cleanup(func() { _ = h.Close() })
		hubs = append(hubs, h)
		brokers = append(brokers, br)
	}
	f := &hubtest.Fanout{
		Subscribers: 10000,
		Hubs:        hubs,
		Serve: func(i int, gate <-chan struct{}) *hubtest.Server {
			return hubtest.ServeHub(b, hubtest.Transports[0], hubs[i], hubtest.ServerOptions{Gate: gate})
		},
		Ready: func() {
			for _, br := range brokers {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := br.Synced(ctx)
				cancel()
				if err != nil {
					b.Fatalf("broker not subscribed: %v", err)
				}
			}
		},
		Message: bytes.Repeat([]byte("x"), 64),
		Window:  32,
	}
	b.Cleanup(func() {
		for i, br := range brokers {
			b.Logf("broker %d: %+v", i, br.Stats())
		}
	})
	f.Run(b)
	for i, br := range brokers {
		if st := br.Stats(); st.PublishFailed+st.PublishDropped != 0 {
			b.Fatalf("broker %d lost messages: %+v", i, st)
		}
	}
}
