package hub

import (
	"sync"
	"time"

	"github.com/hertzws/websocket"
)

// Events are the callbacks of the websocket.EventHandler that
// Hub.EventHandler returns, for connections served by
// HertzUpgrader.UpgradeEvents. Any of them may be nil.
type Events struct {
	// Open names the client of a new connection: its id ("" for a unique
	// one) and meta, as Register takes them. An error refuses the
	// connection, which is closed with code 1008 (Policy Violation) and
	// never joins the hub. Nil registers every connection with a unique
	// id.
	Open func(conn *websocket.Conn) (id string, meta any, err error)
	// Joined runs once the client is registered, before any message: the
	// place to Join rooms or greet it.
	Joined func(c *Client)
	// Message runs for each message of a client, in order, one at a time.
	// An error ends the client, as it ends Client.Run.
	Message func(c *Client, messageType int, data []byte) error
	// Left runs once the client has left the hub and its connection is
	// closed, with the reason (Client.Err).
	Left func(c *Client, err error)
}

// EventHandler returns a websocket.EventHandler that registers each
// connection with the hub, feeds its messages to e.Message and removes it
// when the connection ends: the event-driven counterpart of Register and
// Client.Run, where an idle client holds no goroutine at all (its writer
// runs only while it has messages queued).
//
//	h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
//		_ = upgrader.UpgradeEvents(ctx, handler) // handler := rooms.EventHandler(hub.Events{...})
//	})
func (h *Hub) EventHandler(e Events) websocket.EventHandler {
	return &eventAdapter{hub: h, events: e, clients: make(map[*websocket.Conn]*Client)}
}

// eventAdapter is the EventHandler of Hub.EventHandler.
type eventAdapter struct {
	hub    *Hub
	events Events

	mu      sync.Mutex
	clients map[*websocket.Conn]*Client
}

func (a *eventAdapter) OnOpen(conn *websocket.Conn) {
	var id string
	var meta any
	if a.events.Open != nil {
		var err error
		if id, meta, err = a.events.Open(conn); err != nil {
			a.refuse(conn, err.Error())
			return
		}
	}
	c, err := a.hub.Register(conn, id, meta)
	if err != nil {
		a.refuse(conn, err.Error())
		return
	}
	a.mu.Lock()
	a.clients[conn] = c
	a.mu.Unlock()
	if a.events.Joined != nil {
		a.events.Joined(c)
	}
}

func (a *eventAdapter) OnMessage(conn *websocket.Conn, messageType int, data []byte) {
	c := a.client(conn, false)
	if c == nil || a.events.Message == nil {
		return
	}
	if err := a.events.Message(c, messageType, data); err != nil {
		c.finish(err)
		_ = conn.Close() // OnClose follows
	}
}

func (a *eventAdapter) OnClose(conn *websocket.Conn, err error) {
	c := a.client(conn, true)
	if c == nil {
		return // refused in OnOpen
	}
	c.finish(err)
	c.stop()
	if a.events.Left != nil {
		a.events.Left(c, c.Err())
	}
}

// client returns conn's client, forgetting it when remove is set.
func (a *eventAdapter) client(conn *websocket.Conn, remove bool) *Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.clients[conn]
	if remove {
		delete(a.clients, conn)
	}
	return c
}

// refuse closes a connection that may not join the hub, with code 1008.
func (a *eventAdapter) refuse(conn *websocket.Conn, reason string) {
	msg := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, reason)
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(a.hub.closeTimeout))
	_ = conn.Close()
}
