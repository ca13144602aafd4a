package websocket

import (
	"context"
	"encoding/binary"
	"sync"
	"time"
)

// Ping sends a ping and waits for the peer's pong to it, returning the
// round-trip time: from just before the ping is written to when the
// goroutine reading the connection receives the pong. It is a health check
// and a latency probe (RFC 6455 §5.5.2, §5.5.3: a peer must answer a ping
// with a pong carrying the same payload).
//
// Pongs arrive through reads, so another goroutine must be reading the
// connection (a ReadMessage loop, or an EventHandler connection) while
// Ping waits; without one, Ping waits until ctx ends. Ping may be called
// from any goroutine, several at once: each ping carries its own 8-byte
// payload and is matched with its own pong. The pong handler still sees
// every pong.
//
// If ctx ends while Ping waits for the pong, Ping returns ctx.Err() and
// the connection stays usable; a late pong is ignored. If ctx ends while
// the ping waits to be written (a peer that does not read), the connection
// is closed, as with WriteMessageContext. A ctx deadline bounds the write.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p := c.pingWaiters()
	id, answered := p.add()
	defer p.remove(id)
	var payload [pingPayloadSize]byte
	binary.BigEndian.PutUint64(payload[:], id)
	deadline, _ := ctx.Deadline()

	b, err := c.bind(ctx)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := b.release(c.WriteControl(PingMessage, payload[:], deadline)); err != nil {
		return 0, err
	}
	select {
	case at := <-answered:
		rtt := at.Sub(start)
		c.observePingRTT(rtt)
		return rtt, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.doneChan():
		return 0, ErrConnClosed
	}
}

// pingPayloadSize is the size of the payload of Ping's pings: a number
// that no other ping of the connection carries.
const pingPayloadSize = 8

// pings holds the numbered pings sent and not yet seen answered: Ping's,
// and keepalive's when an Observer wants their round trips.
type pings struct {
	mu      sync.Mutex
	last    uint64
	waiting map[uint64]pingSent
	// keepAlive is the number of keepalive's ping awaiting its pong, 0
	// for none: a keepalive ping replaces the one before.
	keepAlive uint64
}

// pingSent is a ping awaiting its pong: Ping's, whose caller waits on
// answered, or keepalive's (answered nil), whose round trip from sent goes
// to the Observer.
type pingSent struct {
	sent     time.Time
	answered chan time.Time
}

// pingWaiters returns the Conn's pings, made on first use so that a Conn
// that never calls Ping holds none.
func (c *Conn) pingWaiters() *pings {
	if p := c.pings.Load(); p != nil {
		return p
	}
	c.pings.CompareAndSwap(nil, &pings{waiting: make(map[uint64]pingSent)})
	return c.pings.Load()
}

// add registers a new ping and returns its number and the channel its
// pong's arrival time is sent on.
func (p *pings) add() (uint64, chan time.Time) {
	answered := make(chan time.Time, 1)
	p.mu.Lock()
	p.last++
	id := p.last
	p.waiting[id] = pingSent{answered: answered}
	p.mu.Unlock()
	return id, answered
}

// addKeepAlive registers keepalive's next ping, sent now, in place of the
// one before, and returns its payload.
func (p *pings) addKeepAlive() [pingPayloadSize]byte {
	p.mu.Lock()
	delete(p.waiting, p.keepAlive)
	p.last++
	p.keepAlive = p.last
	p.waiting[p.last] = pingSent{sent: time.Now()}
	var payload [pingPayloadSize]byte
	binary.BigEndian.PutUint64(payload[:], p.last)
	p.mu.Unlock()
	return payload
}

// remove forgets a ping, answered or not.
func (p *pings) remove(id uint64) {
	p.mu.Lock()
	delete(p.waiting, id)
	p.mu.Unlock()
}

// pongReceived passes a pong's arrival to the Ping waiting for it, if its
// payload is one of Ping's. The reading goroutine calls it for every pong.
func (c *Conn) pongReceived(payload []byte) {
	p := c.pings.Load()
	if p == nil || len(payload) != pingPayloadSize {
		return
	}
	id := binary.BigEndian.Uint64(payload)
	p.mu.Lock()
	ping, ok := p.waiting[id]
	delete(p.waiting, id)
	p.mu.Unlock()
	switch {
	case !ok:
	case ping.answered != nil:
		ping.answered <- time.Now() // buffered, and sent at most once
	default:
		c.observePingRTT(time.Since(ping.sent))
	}
}
