package websocket

import (
	"context"
	"sync"
	"time"
)

// liveConns is the set of connections an upgrader's handlers are serving,
// kept so that Shutdown can reach them. It is a list threaded through the
// Conns (liveNext, livePrev), so that a connection costs no map entry.
type liveConns struct {
	mu       sync.Mutex
	head     *Conn
	n        int
	draining bool
	// drained is closed when the set is empty once draining began.
	drained       chan struct{}
	drainedClosed bool
}

func (l *liveConns) add(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.draining {
		return false
	}
	c.livePrev, c.liveNext = nil, l.head
	if l.head != nil {
		l.head.livePrev = c
	}
	l.head = c
	l.n++
	return true
}

func (l *liveConns) remove(c *Conn) {
	l.mu.Lock()
	if c.livePrev != nil || l.head == c {
		if c.livePrev != nil {
			c.livePrev.liveNext = c.liveNext
		} else {
			l.head = c.liveNext
		}
		if c.liveNext != nil {
			c.liveNext.livePrev = c.livePrev
		}
		c.livePrev, c.liveNext = nil, nil
		l.n--
	}
	l.closeDrainedIfEmpty()
	l.mu.Unlock()
}

// drain refuses new connections from now on and returns a channel closed
// once no connection is left.
func (l *liveConns) drain() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.draining = true
	if l.drained == nil {
		l.drained = make(chan struct{})
	}
	l.closeDrainedIfEmpty()
	return l.drained
}

// closeDrainedIfEmpty closes drained when draining and no connection is
// left. The caller holds mu.
func (l *liveConns) closeDrainedIfEmpty() {
	if l.draining && l.n == 0 && !l.drainedClosed {
		l.drainedClosed = true
		close(l.drained)
	}
}

func (l *liveConns) isDraining() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.draining
}

func (l *liveConns) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *liveConns) snapshot() []*Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Conn, 0, l.n)
	for c := l.head; c != nil; c = c.liveNext {
		out = append(out, c)
	}
	return out
}

// Connections returns the number of WebSocket connections whose handlers
// are running.
func (u *HertzUpgrader) Connections() int { return u.live.count() }

// Shutdown ends every connection this upgrader serves, politely: each peer
// gets close code 1001 (Going Away, RFC 6455 §7.4.1), so that handlers
// reading the connection see a *CloseError once the peer answers and
// return. Shutdown waits for the handlers to return until ctx is done, then
// closes the connections that remain. New upgrades are refused with 503
// from the moment Shutdown starts.
//
// Its signature is that of Hertz's shutdown hooks, so that the engine's
// Shutdown drains WebSockets too:
//
//	h := server.Default()
//	h.OnShutdown = append(h.OnShutdown, upgrader.Shutdown)
func (u *HertzUpgrader) Shutdown(ctx context.Context) {
	drained := u.live.drain()

	msg := FormatCloseMessage(CloseGoingAway, "server shutting down")
	deadline := time.Now().Add(closeWriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var wg sync.WaitGroup
	for _, c := range u.live.snapshot() {
		wg.Add(1)
		go func(c *Conn) {
			defer wg.Done()
			_ = c.WriteControl(CloseMessage, msg, deadline)
		}(c)
	}
	wg.Wait()

	select {
	case <-drained:
	case <-ctx.Done():
		for _, c := range u.live.snapshot() {
			_ = c.Close()
		}
	}
}
