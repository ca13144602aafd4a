package hub

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hertzws/websocket"
)

// Client is one connection registered with a Hub. Its methods are safe for
// concurrent use.
type Client struct {
	hub  *Hub
	id   string
	meta any
	conn *websocket.Conn
	q    *sendQueue

	// Guarded by hub.mu.
	rooms   map[string]struct{}
	removed bool

	endOnce sync.Once
	err     error         // why the client ended; written before done is closed
	done    chan struct{} // closed when the client leaves the hub

	writerDone      chan struct{} // closed when the writer goroutine returns
	closeFrameSent  atomic.Bool
	deadlineRenewed time.Time // writer only: when the write deadline was last pushed out

	delivered atomic.Uint64
	dropped   atomic.Uint64
}

// ClientStats counts what happened to one client's messages.
type ClientStats struct {
	// Queued is the number of messages waiting to be written.
	Queued int
	// Delivered counts messages written to the connection.
	Delivered uint64
	// Dropped counts messages the client did not get because its queue
	// was full or it closed with messages still queued.
	Dropped uint64
}

func newClient(h *Hub, conn *websocket.Conn, id string, meta any) *Client {
	return &Client{
		hub:        h,
		id:         id,
		meta:       meta,
		conn:       conn,
		q:          newSendQueue(h.queueSize),
		rooms:      make(map[string]struct{}),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// ID returns the client's ID, unique on its hub.
func (c *Client) ID() string { return c.id }

// Meta returns the value passed to Register.
func (c *Client) Meta() any { return c.meta }

// Conn returns the client's connection. Reading it is the application's
// job (or Run's); writes should go through the hub, whose queue keeps the
// order and applies the policy.
func (c *Client) Conn() *websocket.Conn { return c.conn }

// Join adds the client to rooms. It returns the reason the client ended if
// it has already left the hub.
func (c *Client) Join(rooms ...string) error { return c.hub.join(c, rooms) }

// Leave removes the client from rooms it is in.
func (c *Client) Leave(rooms ...string) {
	c.hub.mu.Lock()
	c.hub.leaveLocked(c, rooms)
	c.hub.mu.Unlock()
}

// Rooms returns, sorted, the rooms the client is in.
func (c *Client) Rooms() []string {
	c.hub.mu.RLock()
	list := c.roomListLocked()
	c.hub.mu.RUnlock()
	sort.Strings(list)
	return list
}

func (c *Client) roomListLocked() []string {
	list := make([]string, 0, len(c.rooms))
	for name := range c.rooms {
		list = append(list, name)
	}
	return list
}

// Send queues a message for this client alone.
func (c *Client) Send(messageType int, data []byte) error {
	pm, err := c.hub.prepare(messageType, data)
	if err != nil {
		return err
	}
	if c.push(pm) {
		c.finish(ErrSlowConsumer)
	}
	return nil
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{Queued: c.q.len(), Delivered: c.delivered.Load(), Dropped: c.dropped.Load()}
}

// Done is closed when the client has left the hub: its connection failed
// or was closed, a close policy ended it, or the hub closed.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client ended, or nil while it is registered:
// ErrSlowConsumer, ErrClientClosed, ErrHubClosed, or the error that ended
// the connection (a *websocket.CloseError when the peer closed it).
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// endReason is Err for a caller that knows the client has ended (it was
// removed from the hub, which happens after done is closed).
func (c *Client) endReason() error {
	<-c.done
	return c.err
}

// Run reads the client's connection until it ends, calling onMessage (if
// not nil) for every data message, on Run's goroutine. When onMessage
// returns an error, Run stops. Either way it then closes the client and
// returns the reason it ended (see Err).
//
// Run is the usual body of a Hertz WebSocket handler:
//
//	c, err := h.Register(conn, user, nil)
//	...
//	err = c.Run(func(c *hub.Client, mt int, msg []byte) error {
//		return h.Broadcast("lobby", mt, msg)
//	})
func (c *Client) Run(onMessage func(c *Client, messageType int, data []byte) error) error {
	for {
		mt, data, err := c.conn.ReadMessage()
		if err == nil && onMessage != nil {
			err = onMessage(c, mt, data)
		}
		if err != nil {
			c.finish(err)
			break
		}
	}
	c.stop()
	return c.err
}

// Close removes the client from the hub and closes its connection at once,
// without a close frame, and waits for its writer to stop. Messages still
// queued are dropped.
func (c *Client) Close() error {
	c.finish(ErrClientClosed)
	c.stop()
	return nil
}

// CloseWith removes the client from the hub, lets its writer send what is
// already queued, then a close frame with code and text (RFC 6455 §5.5.1).
// The peer's answer ends the read loop (Run returns); the connection is
// dropped if the answer does not come within websocket.CloseHandshakeTimeout.
func (c *Client) CloseWith(code int, text string) {
	sealed, _, start := c.q.seal(&closeRequest{code: code, text: text})
	if start {
		go c.writeLoop()
	}
	if sealed {
		c.finish(ErrClientClosed)
	}
}

// closeDiscarding ends the client with reason, throwing its queue away and
// sending a close frame with code ahead of it.
func (c *Client) closeDiscarding(code int, text string, reason error) {
	sealed, n, start := c.q.seal(&closeRequest{code: code, text: text, discard: true})
	if start {
		go c.writeLoop()
	}
	if sealed {
		c.countDiscarded(n)
		c.startCloseTimer()
	}
	c.finish(reason)
}

// stop ends the writer and the connection and waits for the writer.
func (c *Client) stop() {
	dropped, start := c.q.abandon()
	c.countDiscarded(dropped)
	if start {
		go c.writeLoop() // it finds the queue closing and ends the writing
	}
	_ = c.conn.Close()
	<-c.writerDone
}

// finish records why the client ended and takes it out of the hub; the
// first reason wins. It must not be called with hub locks held.
func (c *Client) finish(reason error) {
	c.endOnce.Do(func() {
		c.err = reason
		close(c.done)
		c.hub.remove(c)
	})
}

// push queues pm and applies the policy. It reports whether a close policy
// has just ended the client; the caller then calls finish once it holds no
// hub lock.
func (c *Client) push(pm *websocket.PreparedMessage) (ended bool) {
	res, discarded, start := c.q.push(pm, c.hub.opts.Policy)
	if start {
		go c.writeLoop()
	}
	st := &c.hub.stats
	switch res {
	case pushDroppedNewest:
		c.dropped.Add(1)
		st.droppedNewest.Add(1)
	case pushDroppedOldest:
		c.dropped.Add(1)
		st.droppedOldest.Add(1)
	case pushOverflowClose:
		c.dropped.Add(1)
		st.droppedOnClose.Add(1)
		c.countDiscarded(discarded)
		st.slowClosed.Add(1)
		c.startCloseTimer()
		return true
	}
	return false
}

func (c *Client) countDiscarded(n int) {
	if n > 0 {
		c.dropped.Add(uint64(n))
		c.hub.stats.discarded.Add(uint64(n))
	}
}

// startCloseTimer drops the connection if the writer has not sent its close
// frame within CloseTimeout: the writer may be stuck in a write to a peer
// that stopped reading, and closing the connection is what frees it.
func (c *Client) startCloseTimer() {
	time.AfterFunc(c.hub.closeTimeout, func() {
		if !c.closeFrameSent.Load() {
			_ = c.conn.Close()
		}
	})
}
