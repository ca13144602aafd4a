package redishub

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/hertzws/websocket/hub"
)

// Broker is a hub.Broker on Redis pub/sub. Each topic is a Redis channel
// (Options.Prefix + topic); the broker keeps one subscription connection,
// subscribed to the topics its hub asks for, and publishes through the
// client's connection pool. It reconnects by itself, with back-off, and
// never makes the hub wait for Redis.
//
// Redis pub/sub delivers each message at most once to each subscriber and
// keeps nothing for subscribers that are away: messages published while an
// instance is cut off from Redis do not reach it later.
type Broker struct {
	rdb         redis.UniversalClient
	opts        Options
	prefix      string
	ctx         context.Context // canceled by Close
	cancel      context.CancelFunc
	stopping    chan struct{} // closed by Close
	outbox      chan outgoing
	subWake     chan struct{} // capacity 1: the subscriptions need syncing
	wg          sync.WaitGroup
	deliver     func(topic string, payload []byte)
	closeOnce   sync.Once
	closedState atomic.Bool

	mu sync.Mutex
	// started says Start was called.
	started bool
	// desired holds the channels the hub wants.
	desired map[string]struct{}
	// session is the subscription connection in use, nil between
	// connections; requested holds what was asked of it so far, and
	// confirmed what Redis confirmed.
	session   *redis.PubSub
	requested map[string]struct{}
	confirmed map[string]struct{}
	connected bool
	// changed is closed, and replaced, when connected or confirmed
	// changes, to wake Synced.
	changed chan struct{}

	// activity counts messages received on the session, for the health
	// check; pinged says a PING is unanswered.
	activity atomic.Uint64
	pinged   bool // health check goroutine only

	published      atomic.Uint64
	publishFailed  atomic.Uint64
	publishDropped atomic.Uint64
	received       atomic.Uint64
	sessions       atomic.Uint64
}

// outgoing is a message waiting in the outbox.
type outgoing struct {
	channel string
	payload []byte
}

var _ hub.Broker = (*Broker)(nil)

// New returns a broker that uses rdb, which stays the caller's: Close does
// not close it. Pass the broker in hub.Options.Broker; the hub starts and
// closes it.
func New(rdb redis.UniversalClient, opts Options) *Broker {
	ctx, cancel := context.WithCancel(context.Background())
	return &Broker{
		rdb:       rdb,
		opts:      opts,
		prefix:    opts.prefix(),
		ctx:       ctx,
		cancel:    cancel,
		stopping:  make(chan struct{}),
		outbox:    make(chan outgoing, opts.outboxSize()),
		subWake:   make(chan struct{}, 1),
		desired:   make(map[string]struct{}),
		requested: make(map[string]struct{}),
		confirmed: make(map[string]struct{}),
		changed:   make(chan struct{}),
	}
}

// Start implements hub.Broker: it starts the goroutines that subscribe,
// receive and publish. It panics if called twice.
func (b *Broker) Start(deliver func(topic string, payload []byte)) {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		panic("redishub: Broker started twice; use one Broker per hub")
	}
	b.started = true
	b.deliver = deliver
	b.mu.Unlock()
	b.wg.Add(3)
	go b.receiveLoop()
	go b.subscriptionLoop()
	go b.publishLoop()
}

// Subscribe implements hub.Broker.
func (b *Broker) Subscribe(topic string) {
	b.mu.Lock()
	b.desired[b.prefix+topic] = struct{}{}
	b.mu.Unlock()
	b.wakeSubscriptions()
}

// Unsubscribe implements hub.Broker.
func (b *Broker) Unsubscribe(topic string) {
	b.mu.Lock()
	delete(b.desired, b.prefix+topic)
	b.mu.Unlock()
	b.wakeSubscriptions()
}

// Publish implements hub.Broker: it queues the message in the outbox and
// returns at once.
func (b *Broker) Publish(topic string, payload []byte) {
	if b.closedState.Load() {
		b.publishDropped.Add(1)
		return
	}
	select {
	case b.outbox <- outgoing{channel: b.prefix + topic, payload: payload}:
	default:
		b.publishDropped.Add(1)
	}
}

// Close implements hub.Broker: it publishes what the outbox holds (one
// attempt), closes the subscription connection and waits for the broker's
// goroutines. It does not close the Redis client.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.closedState.Store(true)
		close(b.stopping)
		b.mu.Lock()
		if b.session != nil {
			// Wakes the receiver blocked reading it.
			_ = b.session.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
		b.cancel()
	})
	return nil
}

// Synced waits until the subscription connection is up and Redis has
// confirmed every topic the hub asked for so far, or ctx ends. From then
// on, messages other instances publish on those topics reach this one. A
// readiness probe can use it.
func (b *Broker) Synced(ctx context.Context) error {
	for {
		b.mu.Lock()
		ok := b.connected
		for ch := range b.desired {
			if _, in := b.confirmed[ch]; !in {
				ok = false
				break
			}
		}
		changed := b.changed
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats counts what a Broker did since New.
type Stats struct {
	// Connected says the subscription connection is up now.
	Connected bool
	// Sessions counts subscription connections that came up: 1 plus the
	// number of reconnections.
	Sessions uint64
	// Published counts messages Redis accepted; PublishFailed those in
	// batches it did not; PublishDropped those dropped without trying,
	// because the outbox was full or Redis had just failed.
	Published      uint64
	PublishFailed  uint64
	PublishDropped uint64
	// Received counts messages that arrived on subscribed channels,
	// including this instance's own, which the hub skips.
	Received uint64
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	connected := b.connected
	b.mu.Unlock()
	return Stats{
		Connected:      connected,
		Sessions:       b.sessions.Load(),
		Published:      b.published.Load(),
		PublishFailed:  b.publishFailed.Load(),
		PublishDropped: b.publishDropped.Load(),
		Received:       b.received.Load(),
	}
}

// notifyLocked wakes Synced; the caller holds b.mu.
func (b *Broker) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *Broker) wakeSubscriptions() {
	select {
	case b.subWake <- struct{}{}:
	default:
	}
}

func (b *Broker) report(err error) {
	if err != nil && b.opts.OnError != nil {
		b.opts.OnError(err)
	}
}
