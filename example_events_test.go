package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
)

// chatRoom is an EventHandler: the library reads the connections and calls
// it, so an idle member costs no goroutine.
type chatRoom struct {
	closed chan string
}

func (r *chatRoom) OnOpen(c *websocket.Conn) {
	_ = c.WriteMessage(websocket.TextMessage, []byte("welcome"))
}

func (r *chatRoom) OnMessage(c *websocket.Conn, messageType int, data []byte) {
	// data is ours to keep. Writes are safe from callbacks and from any
	// other goroutine.
	_ = c.WriteMessage(messageType, append([]byte("echo: "), data...))
}

func (r *chatRoom) OnClose(c *websocket.Conn, err error) {
	r.closed <- fmt.Sprint("closed with code ", websocket.CloseCode(err))
}

// Serve connections with callbacks instead of a goroutine each: on
// netpoll, an idle connection then holds no goroutine and no buffer.
func ExampleHertzUpgrader_UpgradeEvents() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true

	room := &chatRoom{closed: make(chan string, 1)}
	var upgrader websocket.HertzUpgrader
	h.GET("/chat", func(_ context.Context, ctx *app.RequestContext) {
		// Like Upgrade, UpgradeEvents answers a bad handshake itself.
		_ = upgrader.UpgradeEvents(ctx, room)
	})
	go func() { _ = h.Run() }()

	client, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/chat", nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, _ := client.ReadMessage()
	fmt.Printf("%s\n", msg)
	_ = client.WriteMessage(websocket.TextMessage, []byte("hi"))
	_, msg, _ = client.ReadMessage()
	fmt.Printf("%s\n", msg)

	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = client.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
	fmt.Println(<-room.closed)
	client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// welcome
	// echo: hi
	// closed with code 1000
}

// Receive messages in a buffer the library lends: no allocation per
// message, for handlers that use each message within the call, as an echo,
// a parser or a forwarder does.
func ExampleEventFuncs_borrowedMessage() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithExitWaitTime(time.Second))
	h.NoHijackConnPool = true

	echo := websocket.EventFuncs{
		BorrowedMessage: func(c *websocket.Conn, messageType int, data []byte) {
			// data is valid until this function returns: WriteMessage
			// is done with it by then; keep a copy of anything needed
			// later.
			_ = c.WriteMessage(messageType, data)
		},
	}
	var upgrader websocket.HertzUpgrader
	h.GET("/echo", func(_ context.Context, ctx *app.RequestContext) {
		_ = upgrader.UpgradeEvents(ctx, echo)
	})
	go func() { _ = h.Run() }()

	client, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, text := range []string{"first", "second"} {
		_ = client.WriteMessage(websocket.TextMessage, []byte(text))
		_, msg, _ := client.ReadMessage()
		fmt.Printf("%s\n", msg)
	}
	client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)

	// Output:
	// first
	// second
}
