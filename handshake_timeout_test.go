package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// testHandshakeTimeout is the WithHandshakeReadTimeout of the servers below:
// short, so that the tests are quick, and long against loopback latency.
const testHandshakeTimeout = 300 * time.Millisecond

// startTimeoutServer serves echo on /ws and "pong" on /ping behind
// WithHandshakeReadTimeout(testHandshakeTimeout).
func startTimeoutServer(t *testing.T, tc wstest.Transport) string {
	u := &websocket.HertzUpgrader{}
	return wstest.StartServer(t, tc, wstest.EngineSettings{}, []config.Option{websocket.WithHandshakeReadTimeout(testHandshakeTimeout)}, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) { _ = u.Upgrade(ctx, wstest.Echo) })
		h.GET("/ping", func(_ context.Context, ctx *app.RequestContext) { ctx.String(200, "pong") })
	})
}

// A client that does not deliver its first request within the handshake
// timeout is dropped, whatever it sent, on both transports. The server
// answers with Hertz's error for a failed read, which differs by
// transport, or with nothing when nothing was sent.
func TestHandshakeReadTimeoutDropsSlowClients(t *testing.T) {
	rows := []struct {
		name    string
		send    []byte
		trickle bool // after send, one more byte every 50 ms
		// status per transport; 0 means the connection is closed without
		// a response.
		netpoll, standard int
	}{
		{name: "nothing sent", netpoll: 0, standard: http.StatusRequestTimeout},
		{name: "half a request line", send: []byte("GET /ws HT"), netpoll: 400, standard: http.StatusRequestTimeout},
		{name: "headers without the blank line", send: []byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"), netpoll: 400, standard: http.StatusRequestTimeout},
		{name: "header line without a colon", send: []byte("GET /ws HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"), netpoll: 400, standard: http.StatusRequestTimeout},
		{name: "slowloris: one header byte every 50 ms", send: []byte("GET /ws HTTP/1.1\r\nHost: x\r\nX-Slow: "), trickle: true, netpoll: 400, standard: http.StatusRequestTimeout},
		{name: "body shorter than Content-Length", send: []byte("GET /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"), netpoll: 400, standard: http.StatusRequestTimeout},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		addr := startTimeoutServer(t, tc)
		for _, r := range rows {
			r := r
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				want := r.netpoll
				if tc.Name == "standard" {
					want = r.standard
				}
				rc := wstest.DialRaw(t, addr)
				start := time.Now()
				if len(r.send) > 0 {
					rc.Write(r.send)
				}
				stop := make(chan struct{})
				defer close(stop)
				if r.trickle {
					go func() {
						for i := 0; i < 200; i++ {
							select {
							case <-stop:
								return
							case <-time.After(50 * time.Millisecond):
							}
							if rc.TryWrite([]byte("a")) != nil {
								return
							}
						}
					}()
				}
				got := rc.ReadUntilClosed()
				elapsed := time.Since(start)
				if elapsed < testHandshakeTimeout-50*time.Millisecond {
					t.Fatalf("dropped after %v, before the %v timeout (read %q)", elapsed, testHandshakeTimeout, got)
				}
				if elapsed > testHandshakeTimeout+time.Second {
					t.Fatalf("dropped only after %v with a %v timeout", elapsed, testHandshakeTimeout)
				}
				if want == 0 {
					if len(got) != 0 {
						t.Fatalf("server sent %q, want nothing", got)
					}
					return
				}
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
				if err != nil {
					t.Fatalf("server sent %q: %v", got, err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d (%q)", resp.StatusCode, want, got)
				}
			})
		}
	})
}

// The handshake timeout bounds the first request only: a client whose
// request arrives in pieces within the timeout is upgraded, its WebSocket
// then stays open while idle for longer than the timeout, and a keep-alive
// HTTP connection serves a second request after it.
func TestHandshakeReadTimeoutSparesPromptClients(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		addr := startTimeoutServer(t, tc)
		t.Run("request in pieces, then idle WebSocket", func(t *testing.T) {
			rc := wstest.DialRaw(t, addr)
			req := wstest.Request("GET", addr, "/ws", wstest.UpgradeLines())
			third := len(req) / 3
			for _, part := range [][]byte{req[:third], req[third : 2*third], req[2*third:]} {
				rc.Write(part)
				time.Sleep(testHandshakeTimeout / 6)
			}
			resp := rc.ReadResponse()
			if resp.Status != 101 {
				t.Fatalf("status %d, want 101", resp.Status)
			}
			time.Sleep(2 * testHandshakeTimeout)
			rc.Echo("still open after an idle spell")
		})
		t.Run("keep-alive HTTP connection", func(t *testing.T) {
			rc := wstest.DialRaw(t, addr)
			expectStillHTTP(t, rc)
			time.Sleep(2 * testHandshakeTimeout)
			expectStillHTTP(t, rc)
		})
	})
}
