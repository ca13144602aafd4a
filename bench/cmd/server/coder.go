package main

import (
	"context"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/coder/websocket"
)

var coderAccept = &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled}

// coderEcho is coder's idiomatic echo with Read/Write, or with -echo
// stream Reader/Writer. The context is
// context.Background(): it has no Done channel, which is coder's cheapest
// path (a cancellable context is handed to its timeout goroutine on every
// read and write).
func coderEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, coderAccept)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(readLimit)
	ctx := context.Background()
	if echoMode("coder") == "stream" {
		coderEchoStream(ctx, c)
		return
	}
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if !coderValidText(c, typ, msg) {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

// coderValidText checks a text message for UTF-8, which coder leaves to
// the application (RFC 6455 §8.1), and fails the connection with 1007 when
// it is not.
func coderValidText(c *websocket.Conn, typ websocket.MessageType, msg []byte) bool {
	if typ != websocket.MessageText || utf8.Valid(msg) {
		return true
	}
	_ = c.Close(websocket.StatusInvalidFramePayloadData, "")
	return false
}

// coderEchoStream is the Reader/Writer echo of coder's own examples,
// through a 32 KiB buffer from copyBuffers.
func coderEchoStream(ctx context.Context, c *websocket.Conn) {
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText {
			// A text message must be checked whole before it is echoed.
			msg, err := io.ReadAll(r)
			if err != nil || !coderValidText(c, typ, msg) || c.Write(ctx, typ, msg) != nil {
				return
			}
			continue
		}
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return
		}
		buf := copyBuffers.Get().(*[]byte)
		_, err = io.CopyBuffer(w, r, *buf)
		copyBuffers.Put(buf)
		if err != nil {
			return
		}
		if err := w.Close(); err != nil {
			return
		}
	}
}

var coderPeers = newHub[*websocket.Conn]()

// coderBroadcast writes the message to every connection; coder has no
// prepared message, so each write frames it again.
func coderBroadcast(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, coderAccept)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(readLimit)
	coderPeers.add(c)
	defer coderPeers.remove(c)
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		coderPeers.broadcast(func(p *websocket.Conn) error { return p.Write(ctx, typ, msg) })
	}
}

func startCoder(addr string, errc chan<- error) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", coderEcho)
	mux.HandleFunc("/broadcast", coderBroadcast)
	mux.HandleFunc("/debug/stats", serveStats)
	return runNetHTTP(addr, mux, errc)
}
