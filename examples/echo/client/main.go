// Command client talks to the echo example server: it sends the time once a
// second, prints every echo, and on Ctrl-C closes the connection cleanly
// with close code 1000.
//
//	go run ./examples/echo                # in one terminal
//	go run ./examples/echo/client         # in another
//	go run ./examples/echo/client -url ws://localhost:9000/echo
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/hertzws/websocket"
)

var url = flag.String("url", "ws://localhost:8080/echo", "WebSocket URL of the echo server")

func main() {
	flag.Parse()
	log.SetFlags(0)

	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)

	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, EnableCompression: true}
	conn, resp, err := dialer.Dial(*url, nil)
	if err != nil {
		if resp != nil {
			log.Fatalf("dial %s: %v (HTTP %s)", *url, err, resp.Status)
		}
		log.Fatalf("dial %s: %v", *url, err)
	}
	defer conn.Close()
	log.Printf("connected to %s (extensions: %q)", *url, resp.Header.Get("Sec-WebSocket-Extensions"))

	// One goroutine reads; it ends when the connection closes.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					log.Print("closed by the close handshake")
				} else {
					log.Printf("read: %v", err)
				}
				return
			}
			log.Printf("recv: %s", msg)
		}
	}()

	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case t := <-ticker.C:
			if err := conn.WriteMessage(websocket.TextMessage, []byte(t.Format(time.RFC3339))); err != nil {
				log.Printf("write: %v", err)
				return
			}
		case <-interrupt:
			// Start the close handshake and wait (a bounded time) for the
			// server's close to come back through the reader.
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
			if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
				log.Printf("close: %v", err)
				return
			}
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
			return
		}
	}
}
