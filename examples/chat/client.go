package main

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket"
)

const (
	// writeWait bounds each write, so a peer that stopped reading cannot
	// hold the write pump.
	writeWait = 10 * time.Second

	// pongWait is how long the read pump waits for any frame, a pong
	// included, before it gives the peer up.
	pongWait = 60 * time.Second

	// pingPeriod is how often the write pump pings. It must be shorter
	// than pongWait, so that a live peer's pong always arrives in time.
	pingPeriod = pongWait * 9 / 10

	// maxMessageSize is the largest message a client may send. The read
	// limit answers a larger one with close code 1009 (Message Too Big).
	maxMessageSize = 4096

	// sendQueue is how many broadcasts may wait for a slow client before
	// the hub drops it.
	sendQueue = 64
)

// client is one browser tab in one room.
type client struct {
	hub  *hub
	conn *websocket.Conn
	room string
	name string
	// send carries the room's broadcasts to the write pump. Only the hub
	// sends on it and closes it.
	send chan *websocket.PreparedMessage
	// tooSlow is set by the hub before it closes send when it drops the
	// client; the write pump reads it after it sees send closed.
	tooSlow bool
}

// serve runs the connection: it joins the room, starts the write pump,
// runs the read pump on the handler's own goroutine and, when the read
// pump ends, leaves the room and waits for the write pump.
func (c *client) serve() {
	c.hub.join <- c
	written := make(chan struct{})
	go func() {
		defer close(written)
		c.writePump()
	}()
	c.readPump()
	c.hub.leave <- c
	<-written
}

// readPump forwards the client's messages to the hub. It is the
// connection's only reader, which is also what answers pings and
// processes pongs and the close handshake.
func (c *client) readPump() {
	c.conn.SetReadLimit(maxMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		// Pong handlers run on this goroutine, inside ReadMessage, so
		// moving the deadline here is safe.
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		mt, msg, err := c.conn.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				hlog.Warnf("chat: %s in %q: %v", c.name, c.room, err)
			}
			return
		}
		// Any message proves the peer is alive, like a pong does.
		_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
		if mt != websocket.TextMessage {
			continue
		}
		text := strings.TrimSpace(string(msg))
		if text == "" {
			continue
		}
		c.hub.broadcast <- post{from: c, text: text}
	}
}

// writePump sends the room's broadcasts and a ping every pingPeriod. The
// library allows writes from any goroutine; one pump per client keeps the
// hub from ever waiting on a socket.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer ticker.Stop()
	for {
		select {
		case pm, ok := <-c.send:
			if !ok {
				// The hub let go of us: the read pump has ended, or the
				// client was too slow and is told so. Its answer to the
				// close then ends the read pump.
				if c.tooSlow {
					msg := websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too slow")
					_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				}
				return
			}
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WritePreparedMessage(pm); err != nil {
				return
			}
		case <-ticker.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		}
	}
}

// cleanName turns what the page sent into a display name.
func cleanName(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) {
		return "guest"
	}
	if r := []rune(s); len(r) > 24 {
		s = string(r[:24])
	}
	return s
}

// cleanRoom turns what the page sent into a room name: lower case, at most
// 32 letters, digits, '-' or '_'.
func cleanRoom(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if b.Len() >= 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "lobby"
	}
	return b.String()
}
