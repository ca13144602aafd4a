package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/common/adaptor"
	"github.com/gorilla/websocket"
)

// gorillaUpgrader uses gorilla's defaults: 4 KiB buffers (the hijacked
// bufio buffers are reused when they are large enough), no compression,
// same-origin check (the load generator sends no Origin header).
var gorillaUpgrader = websocket.Upgrader{}

// gorillaEcho is gorilla's idiomatic echo: ReadMessage/WriteMessage (a
// server's WriteMessage of an uncompressed message takes gorilla's fast
// path: one frame, header and payload in one write), or with -echo stream
// NextReader/NextWriter.
func gorillaEcho(w http.ResponseWriter, r *http.Request) {
	conn, err := gorillaUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(readLimit)
	if echoMode("gorilla") == "stream" {
		gorillaEchoStream(conn)
		return
	}
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if !gorillaValidText(conn, mt, msg) {
			return
		}
		if err := conn.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

// gorillaValidText checks a text message for UTF-8, which gorilla leaves
// to the application (RFC 6455 §8.1), and fails the connection with 1007
// when it is not.
func gorillaValidText(conn *websocket.Conn, mt int, msg []byte) bool {
	if mt != websocket.TextMessage || utf8.Valid(msg) {
		return true
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
	return false
}

// gorillaEchoStream is the NextReader/NextWriter echo of gorilla's own
// examples/autobahn server, through a 32 KiB buffer from copyBuffers.
func gorillaEchoStream(conn *websocket.Conn) {
	for {
		mt, r, err := conn.NextReader()
		if err != nil {
			return
		}
		if mt == websocket.TextMessage {
			// A text message must be checked whole before it is echoed.
			msg, err := io.ReadAll(r)
			if err != nil || !gorillaValidText(conn, mt, msg) || conn.WriteMessage(mt, msg) != nil {
				return
			}
			continue
		}
		w, err := conn.NextWriter(mt)
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

var gorillaPeers = newHub[*websocket.Conn]()

// gorillaBroadcast fans every message out as a PreparedMessage; the hub's
// lock keeps each connection to one writer at a time, as gorilla requires.
func gorillaBroadcast(w http.ResponseWriter, r *http.Request) {
	conn, err := gorillaUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(readLimit)
	gorillaPeers.add(conn)
	defer gorillaPeers.remove(conn)
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		pm, err := websocket.NewPreparedMessage(mt, msg)
		if err != nil {
			return
		}
		gorillaPeers.broadcast(func(c *websocket.Conn) error { return c.WritePreparedMessage(pm) })
	}
}

func startGorillaNetHTTP(addr string, errc chan<- error) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", gorillaEcho)
	mux.HandleFunc("/broadcast", gorillaBroadcast)
	mux.HandleFunc("/debug/stats", serveStats)
	return runNetHTTP(addr, mux, errc)
}

// startGorillaAdaptor serves the very same net/http handlers on Hertz
// (netpoll transport) through adaptor.HertzHandler, whose
// http.ResponseWriter implements http.Hijacker; HertzHandler waits until
// the hijacked connection is closed before it returns.
func startGorillaAdaptor(addr string, errc chan<- error) error {
	h := newHertz(addr, "netpoll")
	h.GET("/echo", adaptor.HertzHandler(http.HandlerFunc(gorillaEcho)))
	h.GET("/broadcast", adaptor.HertzHandler(http.HandlerFunc(gorillaBroadcast)))
	runHertz(h, errc)
	return nil
}

func serveStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(statsJSON())
}

// runNetHTTP serves handler with a plain net/http server, as the
// gorilla-nethttp, gws and coder servers do.
func runNetHTTP(addr string, handler http.Handler, errc chan<- error) error {
	srv := &http.Server{Addr: addr, Handler: handler, BaseContext: func(_ net.Listener) context.Context { return context.Background() }}
	go func() { errc <- srv.ListenAndServe() }()
	return nil
}
