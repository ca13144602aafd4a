package redishub_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hertzws/websocket/hub/internal/hubtest"
	"github.com/hertzws/websocket/hub/redishub"
)

// Thousands of topics (a busy instance subscribes to one per client) are
// all confirmed, and a message on each arrives exactly once. go-redis
// before v9.21 lost RESP3 frames cut in the middle of their name
// (redis/go-redis#3839): with v9.17.3 this test fails, 1 to 3 of the
// 5,000 confirmations going missing.
func TestBrokerManyTopicsNoLoss(t *testing.T) {
	hubtest.NoLeaks(t, "redishub.(*Broker)")
	rs := startRedis(t)
	rdb := rs.Client()
	br := redishub.New(rdb, redishub.Options{Prefix: "p:"})
	var mu sync.Mutex
	got := map[string]int{}
	br.Start(func(topic string, payload []byte) {
		mu.Lock()
		got[topic+"="+string(payload)]++
		mu.Unlock()
	})
	defer br.Close()
	const n = 5000
	for i := 0; i < n; i++ {
		br.Subscribe(fmt.Sprintf("client:%d", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := br.Synced(ctx); err != nil {
		t.Fatalf("subscriptions not confirmed: %v (stats %+v)", err, br.Stats())
	}
	if chs, err := rdb.PubSubChannels(ctx, "p:*").Result(); err != nil || len(chs) != n {
		t.Fatalf("Redis lists %d channels (%v), want %d", len(chs), err, n)
	}

	// Publish straight to Redis, as another instance would.
	pipe := rdb.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Publish(ctx, fmt.Sprintf("p:client:%d", i), fmt.Sprintf("m%d", i))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		count := len(got)
		mu.Unlock()
		if count == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages delivered", count, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < n; i++ {
		if k := fmt.Sprintf("client:%d=m%d", i, i); got[k] != 1 {
			t.Fatalf("%s delivered %d times", k, got[k])
		}
	}
	if st := br.Stats(); st.Received != n || st.Sessions != 1 {
		t.Fatalf("stats %+v, want %d received in one session", st, n)
	}
}

// Unsubscribed topics stop arriving; the broker never sends an empty
// UNSUBSCRIBE (which Redis reads as "all").
func TestBrokerUnsubscribe(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.Client()
	br := redishub.New(rdb, redishub.Options{Prefix: "p:"})
	br.Subscribe("keep")
	br.Subscribe("drop")
	br.Start(func(string, []byte) {})
	defer br.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := br.Synced(ctx); err != nil {
		t.Fatal(err)
	}
	br.Unsubscribe("drop")
	deadline := time.Now().Add(10 * time.Second)
	for {
		chs, err := rdb.PubSubChannels(ctx, "p:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(chs) == 1 && chs[0] == "p:keep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis lists %q, want only p:keep", chs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
