package redishub_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/hub/redishub"
)

// Every instance of a service builds its hub the same way; a broadcast on
// any of them reaches the room's members on all of them.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()

	broker := redishub.New(rdb, redishub.Options{
		Prefix:  "chat:", // every instance of this service uses the same
		OnError: func(err error) { log.Printf("redis: %v", err) },
	})
	h := hub.New(hub.Options{Broker: broker})
	defer h.Close() // closes the broker; rdb stays the caller's

	// A readiness probe can wait until the subscriptions are in place.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := broker.Synced(ctx); err != nil {
		log.Printf("not subscribed yet: %v", err)
	}

	// Register, Join and Run in the Hertz handlers as with an in-process
	// hub; Broadcast reaches every instance.
	_ = h.Broadcast("lobby", websocket.TextMessage, []byte("hello from this instance"))
}
