package hub_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
)

// A chat room: every message a client sends goes to everyone in the room,
// the sender included. (The tests in this package silence Hertz's logs.)
func Example() {
	h := hub.New(hub.Options{})
	defer h.Close()

	var upgrader websocket.HertzUpgrader
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	srv.NoHijackConnPool = true
	joined := make(chan string, 2)
	srv.GET("/chat", func(_ context.Context, ctx *app.RequestContext) {
		user := ctx.Query("user") // copy request data before Upgrade
		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
			c, err := h.Register(conn, user, nil)
			if err != nil {
				return // the name is taken, or the hub is closed
			}
			_ = c.Join("lobby")
			joined <- user
			_ = c.Run(func(c *hub.Client, mt int, msg []byte) error {
				return h.Broadcast("lobby", mt, append([]byte(c.ID()+": "), msg...))
			})
		})
	})
	go func() { _ = srv.Run() }()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	dial := func(user string) *websocket.Conn {
		url := "ws://" + ln.Addr().String() + "/chat?user=" + user
		for i := 0; i < 100; i++ { // the server may still be starting
			if c, _, err := websocket.DefaultDialer.Dial(url, nil); err == nil {
				<-joined
				return c
			}
			time.Sleep(10 * time.Millisecond)
		}
		log.Fatal("cannot connect")
		return nil
	}
	ann, bob := dial("ann"), dial("bob")
	defer ann.Close()
	defer bob.Close()

	if err := ann.WriteMessage(websocket.TextMessage, []byte("hi, Bob")); err != nil {
		log.Fatal(err)
	}
	for _, c := range []*websocket.Conn{ann, bob} {
		_, msg, err := c.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// ann: hi, Bob
	// ann: hi, Bob
}

// A hub for a stream where only the latest values matter: a client that
// falls 256 messages behind loses the oldest ones instead of being
// disconnected, and every write must finish within 5 seconds.
func ExampleNew() {
	h := hub.New(hub.Options{
		QueueSize:    256,
		Policy:       hub.DropOldest,
		WriteTimeout: 5 * time.Second,
	})
	defer h.Close()

	// Broadcast does not wait for any connection; with no members yet the
	// message simply reaches no one.
	if err := h.Broadcast("prices", websocket.TextMessage, []byte(`{"EURUSD":1.0842}`)); err != nil {
		log.Fatal(err)
	}
	st := h.Stats()
	fmt.Println(st.Clients, st.Delivered, st.DroppedOldest)
	// Output: 0 0 0
}

// The chat room of the package example in the event-driven mode
// (HertzUpgrader.UpgradeEvents): no goroutine reads an idle member, and its
// writer runs only while it has messages queued.
func ExampleHub_EventHandler() {
	h := hub.New(hub.Options{})
	defer h.Close()

	joined := make(chan string, 2)
	lobby := h.EventHandler(hub.Events{
		Open: func(conn *websocket.Conn) (string, any, error) {
			// The request is still this connection's own during Open.
			return conn.Subprotocol(), nil, nil
		},
		Joined: func(c *hub.Client) {
			_ = c.Join("lobby")
			joined <- c.ID()
		},
		Message: func(c *hub.Client, mt int, msg []byte) error {
			return h.Broadcast("lobby", mt, append([]byte(c.ID()+": "), msg...))
		},
	})

	upgrader := websocket.HertzUpgrader{Subprotocols: []string{"ann", "bob"}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	srv.NoHijackConnPool = true
	srv.GET("/chat", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.UpgradeEvents(ctx, lobby)
	})
	go func() { _ = srv.Run() }()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	dial := func(user string) *websocket.Conn {
		d := websocket.Dialer{Subprotocols: []string{user}}
		for i := 0; i < 100; i++ { // the server may still be starting
			if c, _, err := d.Dial("ws://"+ln.Addr().String()+"/chat", nil); err == nil {
				<-joined
				return c
			}
			time.Sleep(10 * time.Millisecond)
		}
		log.Fatal("cannot connect")
		return nil
	}
	ann, bob := dial("ann"), dial("bob")
	defer ann.Close()
	defer bob.Close()

	if err := bob.WriteMessage(websocket.TextMessage, []byte("hello, Ann")); err != nil {
		log.Fatal(err)
	}
	for _, c := range []*websocket.Conn{ann, bob} {
		_, msg, err := c.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// bob: hello, Ann
	// bob: hello, Ann
}
