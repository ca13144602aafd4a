package main

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket"
)

// event is what the page receives, as one JSON text message.
type event struct {
	Kind    string    `json:"kind"` // "message", "join" or "leave"
	Room    string    `json:"room"`
	From    string    `json:"from,omitempty"`
	Text    string    `json:"text,omitempty"`
	Time    time.Time `json:"time"`
	Members []string  `json:"members,omitempty"` // on join and leave: who is in the room now
}

// post is a message a client wants broadcast to its room.
type post struct {
	from *client
	text string
}

// hub owns the rooms. One goroutine (run) touches the rooms map, so it
// needs no lock: clients talk to it through the three channels.
type hub struct {
	join      chan *client
	leave     chan *client
	broadcast chan post

	rooms map[string]map[*client]struct{}
}

func newHub() *hub {
	return &hub{
		join:      make(chan *client),
		leave:     make(chan *client),
		broadcast: make(chan post),
		rooms:     make(map[string]map[*client]struct{}),
	}
}

// run serves the channels for the life of the process.
func (h *hub) run() {
	for {
		select {
		case c := <-h.join:
			members := h.rooms[c.room]
			if members == nil {
				members = make(map[*client]struct{})
				h.rooms[c.room] = members
			}
			members[c] = struct{}{}
			hlog.Infof("chat: %s joined #%s (%d here)", c.name, c.room, len(members))
			h.send(c.room, event{Kind: "join", Room: c.room, From: c.name, Members: h.names(c.room)})

		case c := <-h.leave:
			h.remove(c)

		case p := <-h.broadcast:
			if _, ok := h.rooms[p.from.room][p.from]; !ok {
				continue // it left (or was dropped) while the post was on its way
			}
			h.send(p.from.room, event{Kind: "message", Room: p.from.room, From: p.from.name, Text: p.text})
		}
	}
}

// remove takes c out of its room, closes its send channel (which ends its
// write pump) and tells the others. Removing a client twice is harmless:
// a slow client is dropped by send and leaves again when its read pump ends.
func (h *hub) remove(c *client) {
	members := h.rooms[c.room]
	if _, ok := members[c]; !ok {
		return
	}
	delete(members, c)
	close(c.send)
	hlog.Infof("chat: %s left #%s (%d here)", c.name, c.room, len(members))
	if len(members) == 0 {
		delete(h.rooms, c.room)
		return
	}
	h.send(c.room, event{Kind: "leave", Room: c.room, From: c.name, Members: h.names(c.room)})
}

// send broadcasts e to everyone in room. The message is framed (and
// compressed, for clients that negotiated permessage-deflate) once, by
// PreparedMessage, however many members the room has.
func (h *hub) send(room string, e event) {
	e.Time = time.Now().UTC()
	data, err := json.Marshal(e)
	if err != nil {
		hlog.Errorf("chat: encode event: %v", err)
		return
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		hlog.Errorf("chat: prepare message: %v", err)
		return
	}
	var slow []*client
	for c := range h.rooms[room] {
		select {
		case c.send <- pm:
		default:
			// Its queue is full: the client reads slower than the room
			// talks. Drop it rather than let it hold everyone up.
			slow = append(slow, c)
		}
	}
	for _, c := range slow {
		hlog.Warnf("chat: dropping %s from %q: too slow", c.name, room)
		c.tooSlow = true
		h.remove(c)
	}
}

// names lists the members of room, sorted.
func (h *hub) names(room string) []string {
	names := make([]string, 0, len(h.rooms[room]))
	for c := range h.rooms[room] {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}
