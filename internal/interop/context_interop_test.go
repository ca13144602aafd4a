package interop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestPingCloseHandshakeContextWithPeers runs Ping, CloseHandshake and a
// cancelled ReadMessageContext on the server against clients no one here
// wrote: gorilla's and coder's, each answering pings and close frames the
// way its own default handlers do.
func TestPingCloseHandshakeContextWithPeers(t *testing.T) {
	type serverResult struct {
		rtt      time.Duration
		pingErr  error
		closeErr error
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		// The handler pings while a goroutine of its own reads, says so,
		// and closes politely once the reader has seen the client's
		// answer.
		start := func(t *testing.T) (string, <-chan serverResult) {
			results := make(chan serverResult, 1)
			url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
				read := make(chan struct{})
				go func() {
					defer close(read)
					_, _, _ = c.ReadMessage() // sees the pong, then the client's message
				}()
				ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
				defer cancel()
				var r serverResult
				r.rtt, r.pingErr = c.Ping(ctx)
				// The client answers this with the message that ends the
				// reader: then CloseHandshake is the only reader.
				_ = c.WriteMessage(websocket.TextMessage, []byte("pinged"))
				<-read
				r.closeErr = c.CloseHandshake(websocket.CloseNormalClosure, "bye")
				results <- r
			})
			return url, results
		}
		check := func(t *testing.T, r serverResult) {
			t.Helper()
			if r.pingErr != nil || r.rtt <= 0 {
				t.Fatalf("Ping: %v, %v", r.rtt, r.pingErr)
			}
			if r.closeErr != nil {
				t.Fatalf("CloseHandshake: %v, want nil (the peer answered)", r.closeErr)
			}
		}

		t.Run("gorilla client", func(t *testing.T) {
			url, results := start(t)
			c := dialGorilla(t, url, nil)
			_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
			readErr := make(chan error, 1)
			go func() { // gorilla answers pings and the close as it reads
				for {
					_, p, err := c.ReadMessage()
					if err != nil {
						readErr <- err
						return
					}
					if string(p) == "pinged" {
						_ = c.WriteMessage(gorilla.TextMessage, []byte("done"))
					}
				}
			}()
			check(t, wstest.Receive(t, results, "the server's Ping and CloseHandshake"))
			if err := wstest.Receive(t, readErr, "gorilla's read"); !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
				t.Fatalf("gorilla read %v, want close 1000", err)
			}
		})

		t.Run("coder client", func(t *testing.T) {
			url, results := start(t)
			ctx, cancel := context.WithTimeout(context.Background(), wstest.Guard)
			defer cancel()
			c, _, err := coder.Dial(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			readErr := make(chan error, 1)
			go func() { // coder answers pings and the close as it reads
				for {
					_, p, err := c.Read(ctx)
					if err != nil {
						readErr <- err
						return
					}
					if string(p) == "pinged" {
						_ = c.Write(ctx, coder.MessageText, []byte("done"))
					}
				}
			}()
			check(t, wstest.Receive(t, results, "the server's Ping and CloseHandshake"))
			if err := wstest.Receive(t, readErr, "coder's read"); coder.CloseStatus(err) != coder.StatusNormalClosure {
				t.Fatalf("coder read %v, want close 1000", err)
			}
		})

		t.Run("cancelled read seen by gorilla as 1001", func(t *testing.T) {
			got := make(chan error, 1)
			url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, nil, func(c *websocket.Conn) {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				_, _, err := c.ReadMessageContext(ctx)
				got <- err
			})
			c := dialGorilla(t, url, nil)
			_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
			_, _, err := c.ReadMessage()
			if !gorilla.IsCloseError(err, gorilla.CloseGoingAway) {
				t.Fatalf("gorilla read %v, want close 1001", err)
			}
			if err := wstest.Receive(t, got, "the server's read"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("server read %v, want context.DeadlineExceeded", err)
			}
		})
	})
}
