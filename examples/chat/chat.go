package main

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/redis/go-redis/v9"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
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

type chat struct {
	rooms *hub.Hub
	who   presence
}

// serve runs one tab: it joins the room, tells the room, forwards the
// tab's messages until the connection ends, and tells the room it left.
func (ch *chat) serve(conn *websocket.Conn, room, name string) {
	c, err := ch.rooms.Register(conn, "", name) // names need not be unique: the hub picks the ID
	if err != nil {
		return
	}
	if err := c.Join(room); err != nil {
		_ = c.Close()
		return
	}
	ch.announce("join", room, name, +1)
	err = c.Run(func(_ *hub.Client, mt int, msg []byte) error {
		text := strings.TrimSpace(string(msg))
		if mt != websocket.TextMessage || text == "" {
			return nil
		}
		return ch.send(room, event{Kind: "message", Room: room, From: name, Text: text})
	})
	switch {
	case errors.Is(err, hub.ErrSlowConsumer):
		hlog.Warnf("chat: dropped %s from #%s: too slow", name, room)
	case websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
		hlog.Warnf("chat: %s in #%s: %v", name, room, err)
	}
	ch.announce("leave", room, name, -1)
}

// announce tells the room that name joined or left, with the members now.
func (ch *chat) announce(kind, room, name string, delta int) {
	members, err := ch.who.change(ch.rooms, room, name, delta)
	if err != nil {
		hlog.Warnf("chat: presence: %v", err)
	}
	hlog.Infof("chat: %s %s #%s (%d here)", name, kind, room, len(members))
	if err := ch.send(room, event{Kind: kind, Room: room, From: name, Members: members}); err != nil {
		hlog.Errorf("chat: %v", err)
	}
}

// send broadcasts e to the room, on every chat server sharing it.
func (ch *chat) send(room string, e event) error {
	e.Time = time.Now().UTC()
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return ch.rooms.Broadcast(room, websocket.TextMessage, data)
}

// presence keeps who is in each room.
type presence interface {
	// change records that name joined (+1) or left (-1) room and
	// returns the room's members, sorted.
	change(rooms *hub.Hub, room, name string, delta int) ([]string, error)
}

// localPresence is the hub's own member list: right for one server.
type localPresence struct{}

func (localPresence) change(rooms *hub.Hub, room, _ string, _ int) ([]string, error) {
	var names []string
	for _, c := range rooms.Members(room) {
		names = append(names, c.Meta().(string))
	}
	sort.Strings(names)
	return names, nil
}

// redisPresence counts each room's names in a Redis hash shared by all
// chat servers. A server that crashes leaves its tabs counted; a real
// service would key the counts by server and expire them.
type redisPresence struct{ rdb *redis.Client }

func (p *redisPresence) change(_ *hub.Hub, room, name string, delta int) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	key := "chat:members:" + room
	n, err := p.rdb.HIncrBy(ctx, key, name, int64(delta)).Result()
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		p.rdb.HDel(ctx, key, name)
	}
	counts, err := p.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	var names []string
	for name, count := range counts {
		if count != "0" && !strings.HasPrefix(count, "-") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
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
