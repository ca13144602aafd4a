package main

import (
	"net/http"

	"github.com/lxzan/gws"
)

// gwsEcho is gws's idiomatic echo: OnMessage writes the message back.
type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	_ = socket.WriteMessage(message.Opcode, message.Bytes())
}

var gwsPeers = newHub[*gws.Conn]()

// gwsBroadcast fans every message out with gws.Broadcaster, gws's
// counterpart of a prepared message: the frame is built once and queued on
// each connection's write queue (the writes are asynchronous).
type gwsBroadcast struct{ gws.BuiltinEventHandler }

func (gwsBroadcast) OnOpen(socket *gws.Conn)             { gwsPeers.add(socket) }
func (gwsBroadcast) OnClose(socket *gws.Conn, err error) { gwsPeers.remove(socket) }

func (gwsBroadcast) OnMessage(socket *gws.Conn, message *gws.Message) {
	// The message's buffer is recycled by Close; the broadcaster keeps the
	// payload until its last queued write, so it gets its own copy.
	payload := append([]byte(nil), message.Bytes()...)
	op := message.Opcode
	message.Close()
	b := gws.NewBroadcaster(op, payload)
	gwsPeers.broadcast(func(c *gws.Conn) error { return b.Broadcast(c) })
	_ = b.Close()
}

func startGWS(addr string, errc chan<- error) error {
	// gws checks text messages for UTF-8 only when asked (its default is
	// off); RFC 6455 §8.1 requires it, and the other servers do it (this
	// library always, gorilla and coder in the handlers here), so it is on.
	// Defaults otherwise: 4 KiB read buffer, no compression, messages
	// handled on the reading goroutine (ParallelEnabled false).
	opt := &gws.ServerOption{ReadMaxPayloadSize: readLimit, WriteMaxPayloadSize: readLimit, CheckUtf8Enabled: true}
	echo := gws.NewUpgrader(gwsEcho{}, opt)
	bcast := gws.NewUpgrader(gwsBroadcast{}, &gws.ServerOption{ReadMaxPayloadSize: readLimit, WriteMaxPayloadSize: readLimit, CheckUtf8Enabled: true})
	serve := func(u *gws.Upgrader) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			socket, err := u.Upgrade(w, r)
			if err != nil {
				return
			}
			// As gws documents: read in a goroutine of its own so that the
			// net/http handler returns and its request can be collected.
			go socket.ReadLoop()
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", serve(echo))
	mux.HandleFunc("/broadcast", serve(bcast))
	mux.HandleFunc("/debug/stats", serveStats)
	return runNetHTTP(addr, mux, errc)
}
