package websocket_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// rwHandshakeServer is a Hertz server with several upgrade routes and a plain
// HTTP route, counting the WebSocket handlers that ran on each.
type rwHandshakeServer struct {
	addr string

	calls     atomic.Int32 // handler runs on /ws
	denyCalls atomic.Int32 // handler runs on /ws-deny
	errCalls  atomic.Int32 // handler runs on /ws-err

	mu        sync.Mutex
	errStatus []int   // statuses passed to the Error callback of /ws-err
	errReason []error // reasons passed to the Error callback of /ws-err
}

func (s *rwHandshakeServer) handlerCalls() int32 {
	return s.calls.Load() + s.denyCalls.Load() + s.errCalls.Load()
}

// rwErrorBody is what the Error callback of /ws-err writes.
func rwErrorBody(status int) string { return fmt.Sprintf("custom error %d", status) }

// rwStartHandshakeServer serves:
//   - /ws (GET and POST): default HertzUpgrader, echo;
//   - /ws-deny: a CheckOrigin that refuses everything;
//   - /ws-err (GET and POST): an Error callback that records its arguments
//     and writes rwErrorBody;
//   - /ping: "pong".
func rwStartHandshakeServer(t *testing.T, tc wstest.Transport, extra ...config.Option) *rwHandshakeServer {
	s := &rwHandshakeServer{}
	counted := func(n *atomic.Int32) websocket.HertzHandler {
		return func(c *websocket.Conn) {
			n.Add(1)
			wstest.Echo(c)
		}
	}
	route := func(u *websocket.HertzUpgrader, h websocket.HertzHandler) app.HandlerFunc {
		return func(_ context.Context, ctx *app.RequestContext) { _ = u.Upgrade(ctx, h) }
	}
	def := &websocket.HertzUpgrader{}
	deny := &websocket.HertzUpgrader{CheckOrigin: func(*app.RequestContext) bool { return false }}
	withErr := &websocket.HertzUpgrader{Error: func(ctx *app.RequestContext, status int, reason error) {
		s.mu.Lock()
		s.errStatus = append(s.errStatus, status)
		s.errReason = append(s.errReason, reason)
		s.mu.Unlock()
		ctx.Data(status, "text/plain; charset=utf-8", []byte(rwErrorBody(status)))
	}}
	s.addr = wstest.StartServer(t, tc, wstest.EngineSettings{}, extra, func(h *server.Hertz) {
		h.GET("/ws", route(def, counted(&s.calls)))
		h.POST("/ws", route(def, counted(&s.calls)))
		h.GET("/ws-deny", route(deny, counted(&s.denyCalls)))
		h.GET("/ws-err", route(withErr, counted(&s.errCalls)))
		h.POST("/ws-err", route(withErr, counted(&s.errCalls)))
		h.GET("/ping", func(_ context.Context, ctx *app.RequestContext) { ctx.String(200, "pong") })
	})
	return s
}

// rwLines returns the valid upgrade header lines without the headers
// named in del, followed by add.
func rwLines(del []string, add ...string) []string {
	var lines []string
	for _, l := range wstest.UpgradeLines() {
		name := l[:strings.IndexByte(l, ':')]
		keep := true
		for _, d := range del {
			if strings.EqualFold(name, d) {
				keep = false
			}
		}
		if keep {
			lines = append(lines, l)
		}
	}
	return append(lines, add...)
}

func rwB64(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

// expectStillHTTP checks that the connection was not hijacked: it still
// serves an ordinary HTTP request.
func expectStillHTTP(t testing.TB, rc *wstest.RawConn) {
	t.Helper()
	rc.Write(wstest.Request("GET", rc.Addr, "/ping", nil))
	resp := rc.ReadResponse()
	if resp.Status != 200 || string(resp.Body) != "pong" {
		t.Fatalf("GET /ping on the same connection: status %d body %q", resp.Status, resp.Body)
	}
}

func TestHandshakeRequests(t *testing.T) {
	key := []string{"Sec-WebSocket-Key"}
	tests := []struct {
		name       string
		method     string // GET when empty
		path       string // /ws when empty
		lines      func(addr string) []string
		wantStatus int
		wantHeader map[string]string
	}{
		{name: "POST", method: "POST",
			lines:      func(string) []string { return rwLines(nil, "Content-Length: 0") },
			wantStatus: 405},
		{name: "Connection keep-alive only",
			lines:      func(string) []string { return rwLines([]string{"Connection"}, "Connection: keep-alive") },
			wantStatus: 400},
		{name: "no Connection header",
			lines:      func(string) []string { return rwLines([]string{"Connection"}) },
			wantStatus: 400},
		{name: "Upgrade h2c",
			lines:      func(string) []string { return rwLines([]string{"Upgrade"}, "Upgrade: h2c") },
			wantStatus: 400},
		{name: "no Upgrade header",
			lines:      func(string) []string { return rwLines([]string{"Upgrade"}) },
			wantStatus: 400},
		{name: "Connection token in a list",
			lines:      func(string) []string { return rwLines([]string{"Connection"}, "Connection: keep-alive, Upgrade") },
			wantStatus: 101},
		{name: "tokens in other cases",
			lines: func(string) []string {
				return rwLines([]string{"Connection", "Upgrade"}, "connection: UPGRADE", "upgrade: WebSocket")
			},
			wantStatus: 101},
		{name: "Connection split across two lines",
			lines: func(string) []string {
				return rwLines([]string{"Connection"}, "Connection: keep-alive", "Connection: Upgrade")
			},
			wantStatus: 101},
		{name: "version 8",
			lines:      func(string) []string { return rwLines([]string{"Sec-WebSocket-Version"}, "Sec-WebSocket-Version: 8") },
			wantStatus: 426, wantHeader: map[string]string{"Sec-WebSocket-Version": "13"}},
		{name: "version missing",
			lines:      func(string) []string { return rwLines([]string{"Sec-WebSocket-Version"}) },
			wantStatus: 426, wantHeader: map[string]string{"Sec-WebSocket-Version": "13"}},
		{name: "key missing",
			lines:      func(string) []string { return rwLines(key) },
			wantStatus: 400},
		{name: "key not base64",
			lines:      func(string) []string { return rwLines(key, "Sec-WebSocket-Key: !!!!not*base64!!!!!!!!==") },
			wantStatus: 400},
		{name: "key of 15 bytes",
			lines:      func(string) []string { return rwLines(key, "Sec-WebSocket-Key: "+rwB64(15)) },
			wantStatus: 400},
		{name: "key of 17 bytes",
			lines:      func(string) []string { return rwLines(key, "Sec-WebSocket-Key: "+rwB64(17)) },
			wantStatus: 400},
		{name: "key of 16 bytes",
			lines:      func(string) []string { return rwLines(key, "Sec-WebSocket-Key: "+rwB64(16)) },
			wantStatus: 101},
		{name: "Origin of another host",
			lines:      func(string) []string { return rwLines(nil, "Origin: http://example.com") },
			wantStatus: 403},
		{name: "Origin of another port",
			lines:      func(addr string) []string { return rwLines(nil, "Origin: http://127.0.0.1:1") },
			wantStatus: 403},
		{name: "Origin of the same host",
			lines:      func(addr string) []string { return rwLines(nil, "Origin: http://"+addr) },
			wantStatus: 101},
		{name: "custom CheckOrigin refuses", path: "/ws-deny",
			lines:      func(string) []string { return rwLines(nil) },
			wantStatus: 403},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartHandshakeServer(t, tc)
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				method, path := tt.method, tt.path
				if method == "" {
					method = "GET"
				}
				if path == "" {
					path = "/ws"
				}
				before := s.handlerCalls()
				rc := wstest.DialRaw(t, s.addr)
				rc.Write(wstest.Request(method, s.addr, path, tt.lines(s.addr)))
				resp := rc.ReadResponse()
				if resp.Status != tt.wantStatus {
					t.Fatalf("status %d, want %d (body %q)", resp.Status, tt.wantStatus, resp.Body)
				}
				for k, v := range tt.wantHeader {
					if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
						t.Errorf("header %s = %q, want [%q]", k, got, v)
					}
				}
				if tt.wantStatus == 101 {
					if got := resp.Header.Get("Sec-WebSocket-Accept"); got != rwAcceptFor(tt.lines(s.addr)) {
						t.Errorf("Sec-WebSocket-Accept %q", got)
					}
					rc.Echo("handler runs")
					if got := s.handlerCalls(); got != before+1 {
						t.Fatalf("handler ran %d times, want 1", got-before)
					}
					return
				}
				if len(resp.Body) == 0 {
					t.Errorf("error response without a body")
				}
				// Not hijacked: the connection is still an HTTP connection.
				expectStillHTTP(t, rc)
				if got := s.handlerCalls(); got != before {
					t.Fatalf("handler ran %d times after a refused handshake", got-before)
				}
			})
		}
	})
}

// rwAcceptFor returns the Sec-WebSocket-Accept expected for the key among the
// request lines.
func rwAcceptFor(lines []string) string {
	for _, l := range lines {
		if strings.HasPrefix(strings.ToLower(l), "sec-websocket-key:") {
			k := strings.TrimSpace(l[len("sec-websocket-key:"):])
			if k == wstest.SampleKey {
				return wstest.SampleAccept
			}
			return wstest.AcceptKey(k)
		}
	}
	return ""
}

func TestHandshakeErrorCallback(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		lines      []string
		wantStatus int
		wantHeader map[string]string
	}{
		{"method", "POST", rwLines(nil, "Content-Length: 0"), 405, nil},
		{"no upgrade token", "GET", rwLines([]string{"Connection"}, "Connection: keep-alive"), 400, nil},
		{"no websocket token", "GET", rwLines([]string{"Upgrade"}, "Upgrade: h2c"), 400, nil},
		{"version", "GET", rwLines([]string{"Sec-WebSocket-Version"}, "Sec-WebSocket-Version: 8"), 426,
			map[string]string{"Sec-WebSocket-Version": "13"}},
		{"bad key", "GET", rwLines([]string{"Sec-WebSocket-Key"}, "Sec-WebSocket-Key: "+rwB64(15)), 400, nil},
		{"origin", "GET", rwLines(nil, "Origin: http://evil.example"), 403, nil},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartHandshakeServer(t, tc)
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				s.mu.Lock()
				s.errStatus, s.errReason = nil, nil
				s.mu.Unlock()
				rc := wstest.DialRaw(t, s.addr)
				rc.Write(wstest.Request(tt.method, s.addr, "/ws-err", tt.lines))
				resp := rc.ReadResponse()
				if resp.Status != tt.wantStatus {
					t.Fatalf("status %d, want %d", resp.Status, tt.wantStatus)
				}
				if string(resp.Body) != rwErrorBody(tt.wantStatus) {
					t.Fatalf("body %q, want the Error callback's %q", resp.Body, rwErrorBody(tt.wantStatus))
				}
				for k, v := range tt.wantHeader {
					if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
						t.Errorf("header %s = %q, want [%q]", k, got, v)
					}
				}
				s.mu.Lock()
				statuses, reasons := s.errStatus, s.errReason
				s.mu.Unlock()
				if len(statuses) != 1 || statuses[0] != tt.wantStatus {
					t.Fatalf("Error callback got statuses %v, want [%d]", statuses, tt.wantStatus)
				}
				if reasons[0] == nil {
					t.Fatal("Error callback got a nil reason")
				}
				var he websocket.HandshakeError
				if !errors.As(reasons[0], &he) || he.Status != tt.wantStatus {
					t.Fatalf("reason %#v is not a HandshakeError with status %d", reasons[0], tt.wantStatus)
				}
				if reasons[0].Error() == "" {
					t.Fatal("reason with an empty message")
				}
				expectStillHTTP(t, rc)
				if got := s.errCalls.Load(); got != 0 {
					t.Fatalf("handler ran %d times", got)
				}
			})
		}
	})
}

// TestHandshakeSuccess checks the 101 response to the sample request of
// RFC 6455 §1.3, header by header.
func TestHandshakeSuccess(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartHandshakeServer(t, tc)
		rc := wstest.DialRaw(t, s.addr)
		rc.Write(wstest.Request("GET", s.addr, "/ws", wstest.UpgradeLines()))
		resp := rc.ReadResponse()
		if resp.Status != 101 {
			t.Fatalf("status %d, want 101", resp.Status)
		}
		want := map[string]string{
			"Sec-WebSocket-Accept": wstest.SampleAccept,
			"Upgrade":              "websocket",
			"Connection":           "Upgrade",
		}
		for k, v := range want {
			if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("header %s = %q, want [%q]", k, got, v)
			}
		}
		for _, k := range []string{"Content-Length", "Content-Type", "Transfer-Encoding", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"} {
			if got := resp.Header.Values(k); len(got) != 0 {
				t.Errorf("101 response carries %s: %q", k, got)
			}
		}
		rc.Echo("after the handshake")
		if got := s.calls.Load(); got != 1 {
			t.Fatalf("handler ran %d times, want 1", got)
		}
	})
}

// TestHandshakeDeadlinesCleared checks that the HTTP server's read timeout
// and the upgrader's HandshakeTimeout stop applying once the connection is
// upgraded: a WebSocket idle for longer than both still reads and writes.
func TestHandshakeDeadlinesCleared(t *testing.T) {
	const readTimeout = 200 * time.Millisecond
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{HandshakeTimeout: 100 * time.Millisecond}
		var calls atomic.Int32
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, []config.Option{server.WithReadTimeout(readTimeout)}, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				_ = u.Upgrade(ctx, func(c *websocket.Conn) {
					calls.Add(1)
					wstest.Echo(c)
				})
			})
		})
		rc := wstest.DialRaw(t, addr)
		rc.Handshake("/ws")
		for i := 0; i < 2; i++ {
			time.Sleep(2*readTimeout + 100*time.Millisecond)
			rc.Echo(fmt.Sprintf("still alive %d", i))
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("handler ran %d times, want 1", got)
		}
	})
}
