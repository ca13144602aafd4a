package hub

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hertzws/websocket"
)

// Errors returned by the hub. Client.Err and Client.Run report the first
// three as the reason a client ended.
var (
	// ErrSlowConsumer ends a client whose queue overflowed under a close
	// policy (CloseTryAgainLater or ClosePolicyViolation).
	ErrSlowConsumer = errors.New("hub: slow consumer: send queue full")

	// ErrClientClosed ends a client closed by the application with
	// Client.Close or Client.CloseWith.
	ErrClientClosed = errors.New("hub: client closed")

	// ErrHubClosed ends the clients of a closed hub, and is returned by
	// methods called after Close.
	ErrHubClosed = errors.New("hub: hub closed")

	// ErrDuplicateID is returned by Register when the ID is already
	// registered on this hub.
	ErrDuplicateID = errors.New("hub: client ID already registered")

	// ErrUnknownClient is returned by Send when no client has the ID and
	// the hub has no broker to look further.
	ErrUnknownClient = errors.New("hub: no client with this ID")

	// ErrBadMessage is returned for a message type other than TextMessage
	// or BinaryMessage, and for text that is not valid UTF-8 (which every
	// peer would have to reject with close code 1007, RFC 6455 §8.1).
	ErrBadMessage = errors.New("hub: message must be binary, or text in UTF-8")
)

// Hub fans messages out to registered WebSocket connections, by room, to
// everyone, or to one connection. It is safe for concurrent use.
//
// Every message is prepared once (websocket.PreparedMessage), so it is
// framed, and compressed, once per way of sending it that the connections
// negotiated, however many connections receive it. Each connection has a
// bounded queue drained by a goroutine of its own: a connection that reads
// slowly delays nobody else, and Options.Policy decides what happens when
// its queue is full.
type Hub struct {
	opts         Options
	queueSize    int
	writeTimeout time.Duration
	closeTimeout time.Duration
	broker       Broker
	instanceID   string
	nextID       atomic.Uint64

	mu      sync.RWMutex // guards the fields below and every Client.rooms
	closed  bool
	clients map[string]*Client
	rooms   map[string]*room

	stats counters
}

// room is the set of local members of one room. Its own lock lets a
// broadcast to one room run while members join or leave others.
type room struct {
	mu      sync.RWMutex
	members map[*Client]struct{}
}

// New returns a hub configured by opts, and starts opts.Broker if set.
// It panics if opts.Policy is not one of the defined policies or
// opts.InstanceID is longer than 255 bytes.
func New(opts Options) *Hub {
	if !opts.Policy.valid() {
		panic("hub: invalid Policy " + opts.Policy.String())
	}
	if len(opts.InstanceID) > maxInstanceID {
		panic("hub: InstanceID longer than 255 bytes")
	}
	h := &Hub{
		opts:         opts,
		queueSize:    opts.queueSize(),
		writeTimeout: opts.writeTimeout(),
		closeTimeout: opts.closeTimeout(),
		broker:       opts.Broker,
		instanceID:   opts.InstanceID,
		clients:      make(map[string]*Client),
		rooms:        make(map[string]*room),
	}
	if h.instanceID == "" {
		h.instanceID = randomID()
	}
	if h.broker != nil {
		h.broker.Subscribe(topicAll)
		h.broker.Start(h.deliverRemote)
	}
	return h
}

// InstanceID returns the name of this hub among the instances sharing its
// broker.
func (h *Hub) InstanceID() string { return h.instanceID }

// Register adds conn to the hub under id and starts the goroutine that
// writes the client's queue to it. An empty id asks the hub to choose a
// unique one. meta is kept for the application (Client.Meta): a user name,
// a session, anything.
//
// The caller keeps reading the connection, usually with Client.Run, which
// also removes the client when the connection ends. A caller with a read
// loop of its own must call Client.Close when that loop ends, before the
// Hertz handler returns.
func (h *Hub) Register(conn *websocket.Conn, id string, meta any) (*Client, error) {
	if conn == nil {
		return nil, errors.New("hub: Register with a nil connection")
	}
	if id == "" {
		id = h.instanceID + "-" + strconv.FormatUint(h.nextID.Add(1), 36)
	}
	c := newClient(h, conn, id, meta)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrHubClosed
	}
	if _, taken := h.clients[id]; taken {
		h.mu.Unlock()
		return nil, ErrDuplicateID
	}
	h.clients[id] = c
	if h.broker != nil {
		h.broker.Subscribe(clientTopic(id))
	}
	h.mu.Unlock()
	return c, nil
}

// Client returns the client registered on this hub under id.
func (h *Hub) Client(id string) (*Client, bool) {
	h.mu.RLock()
	c, ok := h.clients[id]
	h.mu.RUnlock()
	return c, ok
}

// Len returns the number of clients registered on this hub.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// Rooms returns, sorted, the rooms that have members on this hub.
func (h *Hub) Rooms() []string {
	h.mu.RLock()
	names := make([]string, 0, len(h.rooms))
	for name := range h.rooms {
		names = append(names, name)
	}
	h.mu.RUnlock()
	sort.Strings(names)
	return names
}

// Members returns the clients of this hub that are in room, sorted by ID.
// Members on other instances are not listed.
func (h *Hub) Members(roomName string) []*Client {
	h.mu.RLock()
	r := h.rooms[roomName]
	var list []*Client
	if r != nil {
		list = make([]*Client, 0, len(r.members))
		for c := range r.members {
			list = append(list, c)
		}
	}
	h.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	return list
}

// Broadcast sends a message to every member of room, on this instance and,
// with a broker, on every other. messageType is websocket.TextMessage or
// websocket.BinaryMessage. The data is copied; Broadcast does not wait for
// any connection.
func (h *Hub) Broadcast(roomName string, messageType int, data []byte) error {
	pm, err := h.prepare(messageType, data)
	if err != nil {
		return err
	}
	h.deliverRoom(roomName, pm)
	h.publish(roomTopic(roomName), messageType, data)
	return nil
}

// BroadcastAll sends a message to every client of every instance.
func (h *Hub) BroadcastAll(messageType int, data []byte) error {
	pm, err := h.prepare(messageType, data)
	if err != nil {
		return err
	}
	h.deliverAll(pm)
	h.publish(topicAll, messageType, data)
	return nil
}

// Send sends a message to the client with the given ID. A client of this
// hub gets it directly; otherwise, with a broker, the instance holding the
// client delivers it, and without one Send returns ErrUnknownClient. IDs
// must therefore be unique across instances.
func (h *Hub) Send(id string, messageType int, data []byte) error {
	pm, err := h.prepare(messageType, data)
	if err != nil {
		return err
	}
	if h.deliverClient(id, pm) {
		return nil
	}
	if h.broker == nil {
		return ErrUnknownClient
	}
	h.publish(clientTopic(id), messageType, data)
	return nil
}

// Close closes every client with code 1001 (Going Away), discarding what
// they still had queued, closes the broker, and waits for the clients'
// writers to stop (about CloseTimeout at most). Register fails afterwards.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrHubClosed
	}
	h.closed = true
	clients := make([]*Client, 0, len(h.clients))
	for _, c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.closeDiscarding(websocket.CloseGoingAway, "server shutting down", ErrHubClosed)
	}
	var err error
	if h.broker != nil {
		err = h.broker.Close()
	}
	for _, c := range clients {
		<-c.writerDone
	}
	return err
}

// prepare checks a message and builds its shared, lazily framed form.
func (h *Hub) prepare(messageType int, data []byte) (*websocket.PreparedMessage, error) {
	switch messageType {
	case websocket.BinaryMessage:
	case websocket.TextMessage:
		if !utf8.Valid(data) {
			return nil, ErrBadMessage
		}
	default:
		return nil, ErrBadMessage
	}
	return websocket.NewPreparedMessage(messageType, data)
}

// deliverRoom queues pm for the local members of a room.
func (h *Hub) deliverRoom(roomName string, pm *websocket.PreparedMessage) {
	h.mu.RLock()
	r := h.rooms[roomName]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	var slow []*Client
	r.mu.RLock()
	for c := range r.members {
		if c.push(pm) {
			slow = append(slow, c)
		}
	}
	r.mu.RUnlock()
	h.endSlow(slow)
}

// deliverAll queues pm for every local client.
func (h *Hub) deliverAll(pm *websocket.PreparedMessage) {
	var slow []*Client
	h.mu.RLock()
	for _, c := range h.clients {
		if c.push(pm) {
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	h.endSlow(slow)
}

// deliverClient queues pm for the local client id and reports whether
// there is one.
func (h *Hub) deliverClient(id string, pm *websocket.PreparedMessage) bool {
	c, ok := h.Client(id)
	if !ok {
		return false
	}
	if c.push(pm) {
		h.endSlow([]*Client{c})
	}
	return true
}

// endSlow removes the clients a close policy just ended. It runs after the
// broadcast has released the locks that removal needs.
func (h *Hub) endSlow(slow []*Client) {
	for _, c := range slow {
		c.finish(ErrSlowConsumer)
	}
}

// join adds c to rooms, creating (and subscribing to) rooms that had no
// local member.
func (h *Hub) join(c *Client, names []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.removed {
		return c.endReason()
	}
	for _, name := range names {
		if _, in := c.rooms[name]; in {
			continue
		}
		r := h.rooms[name]
		if r == nil {
			r = &room{members: make(map[*Client]struct{})}
			h.rooms[name] = r
			if h.broker != nil {
				h.broker.Subscribe(roomTopic(name))
			}
		}
		r.mu.Lock()
		r.members[c] = struct{}{}
		r.mu.Unlock()
		c.rooms[name] = struct{}{}
	}
	return nil
}

// leave removes c from rooms; the caller holds h.mu.
func (h *Hub) leaveLocked(c *Client, names []string) {
	for _, name := range names {
		if _, in := c.rooms[name]; !in {
			continue
		}
		delete(c.rooms, name)
		r := h.rooms[name]
		r.mu.Lock()
		delete(r.members, c)
		empty := len(r.members) == 0
		r.mu.Unlock()
		if empty {
			delete(h.rooms, name)
			if h.broker != nil {
				h.broker.Unsubscribe(roomTopic(name))
			}
		}
	}
}

// remove takes c out of the hub for good.
func (h *Hub) remove(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.removed = true
	h.leaveLocked(c, c.roomListLocked())
	if h.clients[c.id] == c {
		delete(h.clients, c.id)
		if h.broker != nil {
			h.broker.Unsubscribe(clientTopic(c.id))
		}
	}
}

// randomID returns 16 hex digits from crypto/rand.
func randomID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on the systems Go supports; a clock
		// value still tells instances apart.
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	return hex.EncodeToString(b[:])
}
