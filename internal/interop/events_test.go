package interop_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// eventsEchoServer serves the event-driven mode, echoing every message,
// and reports how each connection ended.
func eventsEchoServer(t *testing.T, tr wstest.Transport) (string, <-chan error) {
	ended := make(chan error, 16)
	url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{EnableCompression: true}, websocket.EventFuncs{
		Message: func(c *websocket.Conn, mt int, p []byte) { _ = c.WriteMessage(mt, p) },
		Close:   func(_ *websocket.Conn, err error) { ended <- err },
	})
	return url, ended
}

// TestEventsInteropGorilla drives the event-driven mode with
// gorilla/websocket: text, binary, a large and a fragmented message, with
// and without compression, then a close handshake from each side.
func TestEventsInteropGorilla(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		url, ended := eventsEchoServer(t, tr)
		for _, compress := range []bool{false, true} {
			d := gorilla.Dialer{EnableCompression: compress}
			c, resp := dialGorillaWith(t, d, url, nil)
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != compress {
				t.Fatalf("compression negotiated: %v, want %v", got, compress)
			}
			_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
			msgs := []struct {
				mt   int
				data []byte
			}{
				{gorilla.TextMessage, []byte("héllo")},
				{gorilla.BinaryMessage, wstest.RandomBytes(100, 1)},
				{gorilla.BinaryMessage, wstest.RandomBytes(3<<20, 2)},
				{gorilla.TextMessage, wstest.JSONText(5000, 3)},
			}
			for _, m := range msgs {
				if err := c.WriteMessage(m.mt, m.data); err != nil {
					t.Fatal(err)
				}
				mt, p, err := c.ReadMessage()
				if err != nil || mt != m.mt || !bytes.Equal(p, m.data) {
					t.Fatalf("echo of %d bytes: type %d, %d bytes, %v", len(m.data), mt, len(p), err)
				}
			}
			// A fragmented message, through gorilla's NextWriter with a
			// small buffer.
			w, err := c.NextWriter(gorilla.TextMessage)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 10; i++ {
				_, _ = w.Write(bytes.Repeat([]byte("fragment "), 1000))
			}
			_ = w.Close()
			if _, p, err := c.ReadMessage(); err != nil || len(p) != 90000 {
				t.Fatalf("fragmented echo: %d bytes, %v", len(p), err)
			}
			// The client closes: the server answers and OnClose gets 1000.
			_ = c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "done"), time.Now().Add(time.Second))
			if _, _, err := c.ReadMessage(); !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
				t.Fatalf("gorilla read after its close: %v", err)
			}
			var ce *websocket.CloseError
			if err := wstest.Receive(t, ended, "OnClose"); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "done" {
				t.Fatalf("OnClose got %v", err)
			}
			c.Close()
		}
	})
}

// TestEventsInteropCoder drives the event-driven mode with
// coder/websocket, and closes from the server with a code coder reports.
func TestEventsInteropCoder(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		conns := make(chan *websocket.Conn, 1)
		url := wstest.StartEvents(t, tr, wstest.EngineSettings{}, &websocket.HertzUpgrader{EnableCompression: true}, websocket.EventFuncs{
			Open:    func(c *websocket.Conn) { conns <- c },
			Message: func(c *websocket.Conn, mt int, p []byte) { _ = c.WriteMessage(mt, p) },
		})
		ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
		defer cancel()
		c, _, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		c.SetReadLimit(8 << 20)
		server := wstest.Receive(t, conns, "OnOpen")
		for i, data := range [][]byte{[]byte("a"), wstest.RandomText(70000, 4), wstest.RandomText(2<<20, 5)} {
			if err := c.Write(ctx, coder.MessageText, data); err != nil {
				t.Fatal(err)
			}
			mt, p, err := c.Read(ctx)
			if err != nil || mt != coder.MessageText || !bytes.Equal(p, data) {
				t.Fatalf("echo %d: %v, %d bytes, %v", i, mt, len(p), err)
			}
		}
		// The server closes with 4001; coder reports the code.
		if err := server.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Read(ctx)
		if coder.CloseStatus(err) != 4001 {
			t.Fatalf("coder read after the server's close: %v", err)
		}
	})
}
