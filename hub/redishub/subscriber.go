package redishub

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribeBatch bounds the channels named in one SUBSCRIBE or UNSUBSCRIBE
// command, so that ten thousand clients joining do not make one huge one.
const subscribeBatch = 1000

// errNoPong ends a session whose connection stopped answering.
var errNoPong = errors.New("redishub: no answer to PING on the subscription connection")

// receiveLoop owns the subscription connection. Each session is one
// redis.PubSub: it is opened, subscribed to the desired channels by
// subscriptionLoop, and read here until it fails; then, after a back-off,
// a new session starts. A fresh PubSub per session means one place decides
// when to reconnect, and a connection that stopped answering can be
// replaced.
func (b *Broker) receiveLoop() {
	defer b.wg.Done()
	min, max := b.opts.backoffBounds()
	wait := newBackoff(min, max)
	for {
		ps := b.rdb.Subscribe(b.ctx) // connects on first use
		b.mu.Lock()
		if b.closedState.Load() {
			b.mu.Unlock()
			_ = ps.Close()
			return
		}
		b.session = ps
		b.requested = make(map[string]struct{})
		b.mu.Unlock()
		b.wakeSubscriptions()

		err := b.receive(ps, wait)

		b.mu.Lock()
		b.session = nil
		b.confirmed = make(map[string]struct{})
		if b.connected {
			b.connected = false
		}
		b.notifyLocked()
		b.mu.Unlock()
		_ = ps.Close()
		if b.closedState.Load() {
			return
		}
		b.report(err)
		if !sleep(wait.next(), b.stopping) {
			return
		}
	}
}

// receive reads one session until it fails.
func (b *Broker) receive(ps *redis.PubSub, wait *backoff) error {
	for {
		msg, err := ps.Receive(b.ctx)
		if err != nil {
			return fmt.Errorf("redishub: subscription: %w", err)
		}
		b.activity.Add(1)
		switch m := msg.(type) {
		case *redis.Subscription:
			b.mu.Lock()
			if !b.connected {
				b.connected = true
				b.sessions.Add(1)
				wait.reset()
			}
			switch m.Kind {
			case "subscribe":
				b.confirmed[m.Channel] = struct{}{}
			case "unsubscribe":
				delete(b.confirmed, m.Channel)
			}
			b.notifyLocked()
			b.mu.Unlock()
		case *redis.Message:
			if !strings.HasPrefix(m.Channel, b.prefix) {
				continue
			}
			b.received.Add(1)
			b.deliver(m.Channel[len(b.prefix):], []byte(m.Payload))
		}
	}
}

// subscriptionLoop sends the session the SUBSCRIBE and UNSUBSCRIBE commands
// that bring it to the desired channels, whenever they change or a new
// session starts, and runs the health check.
func (b *Broker) subscriptionLoop() {
	defer b.wg.Done()
	tick := time.NewTicker(b.opts.healthCheck())
	defer tick.Stop()
	var lastActivity uint64
	for {
		select {
		case <-b.stopping:
			return
		case <-b.subWake:
			b.syncSubscriptions()
		case <-tick.C:
			lastActivity = b.checkHealth(lastActivity)
		}
	}
}

// syncSubscriptions sends the current session what it is missing.
func (b *Broker) syncSubscriptions() {
	b.mu.Lock()
	ps := b.session
	if ps == nil {
		b.mu.Unlock()
		return // the next session starts with a sync
	}
	var add, drop []string
	for ch := range b.desired {
		if _, ok := b.requested[ch]; !ok {
			add = append(add, ch)
			b.requested[ch] = struct{}{}
		}
	}
	for ch := range b.requested {
		if _, ok := b.desired[ch]; !ok {
			drop = append(drop, ch)
			delete(b.requested, ch)
		}
	}
	b.mu.Unlock()
	err := inBatches(add, func(chs []string) error { return ps.Subscribe(b.ctx, chs...) })
	if err == nil {
		err = inBatches(drop, func(chs []string) error { return ps.Unsubscribe(b.ctx, chs...) })
	}
	if err != nil {
		// The session cannot be trusted to hold what was asked: end it,
		// and the next one subscribes to everything afresh.
		b.report(fmt.Errorf("redishub: subscribe: %w", err))
		_ = ps.Close()
	}
}

// inBatches calls f with chs cut into slices of at most subscribeBatch
// (never with an empty one: go-redis reads an empty UNSUBSCRIBE as "all").
func inBatches(chs []string, f func([]string) error) error {
	for len(chs) > 0 {
		n := len(chs)
		if n > subscribeBatch {
			n = subscribeBatch
		}
		if err := f(chs[:n]); err != nil {
			return err
		}
		chs = chs[n:]
	}
	return nil
}

// checkHealth pings a session that was silent for a whole interval, and
// ends one that stayed silent after a ping. It returns the activity count
// to compare with at the next check.
func (b *Broker) checkHealth(last uint64) uint64 {
	now := b.activity.Load()
	b.mu.Lock()
	ps := b.session
	b.mu.Unlock()
	switch {
	case ps == nil || now != last:
		b.pinged = false
	case b.pinged:
		b.report(errNoPong)
		_ = ps.Close()
		b.pinged = false
	default:
		if err := ps.Ping(b.ctx); err != nil {
			b.report(err)
			_ = ps.Close()
		} else {
			b.pinged = true
		}
	}
	return now
}
