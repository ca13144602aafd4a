package interop_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cws "github.com/coder/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// The streams of websocket.NetConnOf against coder/websocket's NetConn,
// the implementation it is modelled on: bytes cross both ways, and a
// Close on either side reads as io.EOF on the other.

// echoStream copies what nc reads back to it until io.EOF, and returns
// io.Copy's error: nil when the stream ended with io.EOF.
func echoStream(nc net.Conn) error {
	_, err := io.Copy(nc, nc)
	return err
}

// checkStreamEcho writes data to nc in writes of varied sizes while it
// reads the echo back, and fails the test unless the echo is data.
func checkStreamEcho(t *testing.T, nc net.Conn, data []byte) {
	t.Helper()
	werr := make(chan error, 1)
	go func() {
		rest := data
		for size := 1; len(rest) > 0; size = size*5 + 3 {
			if size > 64<<10 {
				size = 1
			}
			if size > len(rest) {
				size = len(rest)
			}
			if _, err := nc.Write(rest[:size]); err != nil {
				werr <- err
				return
			}
			rest = rest[size:]
		}
		werr <- nil
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(nc, got); err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	if err := wstest.Receive(t, werr, "the writes"); err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the echo differs from the bytes sent")
	}
}

// TestNetConnOfCoderClient: a coder/websocket client's NetConn talks to a
// NetConnOf stream on our server, on both transports; a message of the
// wrong type gets close code 1003.
func TestNetConnOfCoderClient(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		serverEnd := make(chan error, 1)
		wsURL := wstest.StartHandler(t, tr, wstest.EngineSettings{NoHijackConnPool: true}, nil, func(c *websocket.Conn) {
			nc := websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage)
			serverEnd <- echoStream(nc)
			_ = nc.Close()
		})
		ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
		defer cancel()

		t.Run("echo", func(t *testing.T) {
			c, _, err := cws.Dial(ctx, wsURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			nc := cws.NetConn(ctx, c, cws.MessageBinary)
			checkStreamEcho(t, nc, wstest.RandomBytes(1<<20, 7))
			if err := nc.Close(); err != nil {
				t.Fatalf("coder's Close: %v", err)
			}
			if err := wstest.Receive(t, serverEnd, "the server's echo"); err != nil {
				t.Fatalf("the server's stream ended with %v, want io.EOF", err)
			}
		})
		t.Run("text refused", func(t *testing.T) {
			c, _, err := cws.Dial(ctx, wsURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if err := c.Write(ctx, cws.MessageText, []byte("text")); err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Read(ctx)
			if cws.CloseStatus(err) != cws.StatusUnsupportedData {
				t.Fatalf("coder read %v, want close 1003", err)
			}
			if err := wstest.Receive(t, serverEnd, "the server's echo"); websocket.CloseCode(err) != websocket.CloseUnsupportedData {
				t.Fatalf("the server's stream ended with %v, want code 1003", err)
			}
		})
	})
}

// TestNetConnOfCoderServer: our client's NetConnOf stream talks to a
// coder/websocket server's NetConn.
func TestNetConnOfCoderServer(t *testing.T) {
	serverEnd := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cws.Accept(w, r, nil)
		if err != nil {
			serverEnd <- err
			return
		}
		nc := cws.NetConn(context.Background(), c, cws.MessageBinary)
		serverEnd <- echoStream(nc)
		_ = nc.Close()
	}))
	defer srv.Close()

	c, _ := wstest.Dial(t, nil, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	nc := websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage)
	checkStreamEcho(t, nc, wstest.RandomBytes(1<<20, 8))
	if err := nc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := wstest.Receive(t, serverEnd, "coder's echo"); err != nil {
		t.Fatalf("coder's stream ended with %v, want io.EOF", err)
	}
}
