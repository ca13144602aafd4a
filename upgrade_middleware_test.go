package websocket_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
)

// TestUpgradeMiddlewareAfterNext checks what middleware that runs after
// ctx.Next() does to an upgrade. Hertz writes the response after the whole
// chain, and on netpoll the library renders it itself once the connection
// has left netpoll: either way, a header added after Upgrade is in the 101,
// a Set-Cookie set before it too, and a middleware that replaces the 101
// with an error gets its error sent and no WebSocket handler runs.
func TestUpgradeMiddlewareAfterNext(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		var calls atomic.Int32
		var upgrader websocket.HertzUpgrader
		handler := func(c *websocket.Conn) {
			calls.Add(1)
			echoHandler(c)
		}
		addr := rwStartServer(t, tc, nil, func(h *server.Hertz) {
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

		rc := rwDial(t, addr)
		rc.write(rwRequest("GET", addr, "/ws", rwUpgradeLines()))
		resp := rc.readResponse()
		if resp.status != 101 {
			t.Fatalf("status %d, want 101", resp.status)
		}
		for name, want := range map[string]string{
			"X-After-Upgrade":      "seen",
			"Set-Cookie":           "session=abc",
			"Sec-WebSocket-Accept": rwSampleAccept,
		} {
			if got := resp.header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("101 header %s = %q, want [%q]", name, got, want)
			}
		}
		rc.echo("after the middleware")

		for _, tt := range []struct {
			query  string
			status int
			body   string
		}{
			{"reset", 401, "denied after upgrade"},
			{"status", 403, ""},
		} {
			denied := rwDial(t, addr)
			denied.write(rwRequest("GET", addr, "/ws?deny="+tt.query, rwUpgradeLines()))
			resp = denied.readResponse()
			if resp.status != tt.status || string(resp.body) != tt.body {
				t.Fatalf("deny=%s: status %d body %q, want %d %q", tt.query, resp.status, resp.body, tt.status, tt.body)
			}
			denied.expectClosed()
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("handler ran %d times, want 1 (not for the denied requests)", got)
		}
	})
}
