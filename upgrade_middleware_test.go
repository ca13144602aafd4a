package websocket_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestUpgradeMiddlewareAfterNext checks what middleware that runs after
// ctx.Next() does to an upgrade. Hertz writes the response after the whole
// chain, and on netpoll the library renders it itself once the connection
// has left netpoll: either way, a header added after Upgrade is in the 101,
// a Set-Cookie set before it too, and a middleware that replaces the 101
// with an error gets its error sent and no WebSocket handler runs.
func TestUpgradeMiddlewareAfterNext(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		var calls atomic.Int32
		var upgrader websocket.HertzUpgrader
		handler := func(c *websocket.Conn) {
			calls.Add(1)
			wstest.Echo(c)
		}
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
			h.Use(func(c context.Context, ctx *app.RequestContext) {
				ctx.Next(c)
				ctx.Response.Header.Set("X-After-Upgrade", "seen")
				switch string(ctx.Query("deny")) {
				case "reset":
					ctx.Response.Reset()
					ctx.String(401, "denied after upgrade")
				case "status":
					ctx.SetStatusCode(403)
				}
			})
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				ctx.Response.Header.Set("Set-Cookie", "session=abc")
				_ = upgrader.Upgrade(ctx, handler)
			})
		})

		rc := wstest.DialRaw(t, addr)
		rc.Write(wstest.Request("GET", addr, "/ws", wstest.UpgradeLines()))
		resp := rc.ReadResponse()
		if resp.Status != 101 {
			t.Fatalf("status %d, want 101", resp.Status)
		}
		for name, want := range map[string]string{
			"X-After-Upgrade":      "seen",
			"Set-Cookie":           "session=abc",
			"Sec-WebSocket-Accept": wstest.SampleAccept,
		} {
			if got := resp.Header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("101 header %s = %q, want [%q]", name, got, want)
			}
		}
		rc.Echo("after the middleware")

		for _, tt := range []struct {
			query  string
			status int
			body   string
		}{
			{"reset", 401, "denied after upgrade"},
			{"status", 403, ""},
		} {
			denied := wstest.DialRaw(t, addr)
			denied.Write(wstest.Request("GET", addr, "/ws?deny="+tt.query, wstest.UpgradeLines()))
			resp = denied.ReadResponse()
			if resp.Status != tt.status || string(resp.Body) != tt.body {
				t.Fatalf("deny=%s: status %d body %q, want %d %q", tt.query, resp.Status, resp.Body, tt.status, tt.body)
			}
			denied.ExpectClosed()
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("handler ran %d times, want 1 (not for the denied requests)", got)
		}
	})
}
