// Package redishub lets the hubs (package github.com/hertzws/websocket/hub)
// of several instances of a service share rooms through Redis pub/sub,
// with github.com/redis/go-redis/v9. A message broadcast on one instance
// reaches the room's members on every instance, once each.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	h := hub.New(hub.Options{
//		Broker: redishub.New(rdb, redishub.Options{Prefix: "chat:"}),
//	})
//	defer h.Close() // closes the broker too; rdb stays open
//
// The rest of the code uses the hub as in one process: Register, Join,
// Broadcast, BroadcastAll, Send.
//
// # How it works
//
// Each hub topic is a Redis channel named Options.Prefix + topic: one per
// room that has members on the instance, one per client ID registered on
// it, and one for BroadcastAll. The broker holds one subscription
// connection, subscribed to exactly those channels, so an instance
// receives only what concerns its own clients. It publishes through the
// client's pool in pipelined batches from an outbox that never makes the
// hub wait.
//
// The hub delivers its own messages to its own clients directly; the
// broker hands them back from Redis like any other, and the hub drops them
// by the instance ID in their envelope. Redis pub/sub delivers a message
// at most once per subscription, so every connection gets every message
// exactly once while Redis is up.
//
// A room's subscription starts when its first member joins on an
// instance and takes a round trip to confirm; messages published on other
// instances before then do not reach that member. Broker.Synced waits for
// the confirmations.
//
// # When Redis goes away
//
// Local delivery does not depend on Redis. When Redis cannot be reached,
// messages for other instances are dropped and counted (Stats), the
// subscription connection is re-established with exponential back-off and
// jitter (Options.MinBackoff, MaxBackoff) and subscribed again to every
// channel the hub needs, and cross-instance delivery resumes. What was
// published while an instance was cut off does not reach it: Redis
// pub/sub keeps nothing. A Redis that stops answering without closing the
// connection is found by a periodic PING (Options.HealthCheck).
package redishub
