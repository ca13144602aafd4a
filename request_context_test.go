package websocket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// requestView is what a handler read from its RequestContext.
type requestView struct {
	Query, Param, Header, Cookie, Value, Body, Remote string
}

func expectedView(id string) requestView {
	return requestView{
		Query:  "q-" + id,
		Param:  "room-" + id,
		Header: "Bearer token-" + id,
		Cookie: "session-" + id,
		Value:  "mw-" + id,
		Body:   "body-" + id,
	}
}

// readView reads what a handler sees through ctx.
func readView(ctx *app.RequestContext) requestView {
	v, _ := ctx.Get("value")
	s, _ := v.(string)
	return requestView{
		Query:  ctx.Query("id"),
		Param:  ctx.Param("room"),
		Header: string(ctx.GetHeader("Authorization")),
		Cookie: string(ctx.Cookie("session")),
		Value:  s,
		Body:   string(ctx.Request.Body()),
		Remote: ctx.RemoteAddr().String(),
	}
}

// TestRequestContextValidInHandler upgrades N connections whose handlers
// read their RequestContext after a delay, while plain HTTP requests with
// other values go through the same server and recycle Hertz's contexts.
// Every handler must read its own request, on both transports and under
// every hijack setting (hertz-contrib's examples read ctx in the handler).
func TestRequestContextValidInHandler(t *testing.T) {
	const handlers = 20
	for _, tc := range wstest.Transports {
		for _, es := range wstest.AllEngineSettings {
			tc, es := tc, es
			t.Run(tc.Name+"/"+es.String(), func(t *testing.T) {
				var u websocket.HertzUpgrader
				var httpRequests atomic.Int64
				addr := wstest.StartServer(t, tc, es, nil, func(h *server.Hertz) {
					mw := func(c context.Context, ctx *app.RequestContext) {
						ctx.Set("value", "mw-"+string(ctx.GetHeader("X-Id")))
						ctx.Next(c)
					}
					h.GET("/ws/:room", mw, func(_ context.Context, ctx *app.RequestContext) {
						_ = u.Upgrade(ctx, func(c *websocket.Conn) {
							// Let the concurrent HTTP requests reuse
							// whatever contexts Hertz has in its pool:
							// wait until some have been served.
							awaitRequests(&httpRequests, 20)
							first := readView(ctx)
							awaitRequests(&httpRequests, 10)
							if second := readView(ctx); second != first {
								first.Query = fmt.Sprintf("changed under the handler: %+v then %+v", first, second)
							}
							b, _ := json.Marshal(first)
							_ = c.WriteMessage(websocket.TextMessage, b)
							_, _, _ = c.ReadMessage() // until the client closes
						})
					})
					h.POST("/http/:room", mw, func(_ context.Context, ctx *app.RequestContext) {
						ctx.SetBodyString(string(ctx.Request.Body()))
					})
				})

				// Plain HTTP traffic with its own values until the
				// handlers have answered.
				stop := make(chan struct{})
				var traffic sync.WaitGroup
				for i := 0; i < 4; i++ {
					i := i
					traffic.Add(1)
					go func() {
						defer traffic.Done()
						httpTraffic(t, addr, fmt.Sprintf("http%d", i), stop, &httpRequests)
					}()
				}

				views := make([]requestView, handlers)
				locals := make([]string, handlers)
				var wg sync.WaitGroup
				for i := 0; i < handlers; i++ {
					i := i
					wg.Add(1)
					go func() {
						defer wg.Done()
						views[i], locals[i] = upgradeWithBody(t, addr, fmt.Sprintf("ws%d", i))
					}()
				}
				wg.Wait()
				close(stop)
				traffic.Wait()

				if httpRequests.Load() == 0 {
					t.Fatal("no plain HTTP request went through during the handlers' delay")
				}
				for i, got := range views {
					want := expectedView(fmt.Sprintf("ws%d", i))
					want.Remote = locals[i]
					if got != want {
						t.Errorf("handler %d read %+v, want %+v", i, got, want)
					}
				}
			})
		}
	}
}

// awaitRequests waits until count has grown by n, or for 2 s at most: a
// handler's delay while plain requests go through. (The handler cannot
// fail the test; the test checks afterwards that requests went through.)
func awaitRequests(count *atomic.Int64, n int64) {
	want := count.Load() + n
	deadline := time.Now().Add(2 * time.Second)
	for count.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// upgradeWithBody sends a handshake for id carrying a body, a cookie, a
// bearer token and a header the middleware turns into a ctx value, and
// returns what the handler reported and the client's own address.
func upgradeWithBody(t *testing.T, addr, id string) (requestView, string) {
	t.Helper()
	// Runs on its own goroutine: errors go to t.Error, not t.Fatal, so
	// the raw client's try* methods are used.
	rc, err := wstest.TryDialRaw(t, addr)
	if err != nil {
		t.Error(err)
		return requestView{}, ""
	}
	defer rc.NetConn.Close()
	want := expectedView(id)
	lines := append(wstest.UpgradeLines(),
		"Authorization: "+want.Header,
		"Cookie: session="+want.Cookie,
		"X-Id: "+id,
		fmt.Sprintf("Content-Length: %d", len(want.Body)))
	req := append(wstest.Request("GET", addr, "/ws/"+want.Param+"?id="+want.Query, lines), want.Body...)
	if err := rc.TryWrite(req); err != nil {
		t.Error(err)
		return requestView{}, ""
	}
	if resp, err := rc.TryReadResponse(); err != nil || resp.Status != 101 {
		t.Errorf("%s: handshake answered %+v, %v", id, resp, err)
		return requestView{}, ""
	}
	// A frame right after the 101, as a client may send it, lands in the
	// buffer Hertz read the request (and its body) into.
	if err := rc.TryWrite(wstest.Masked(true, frame.OpText, []byte("hello"))); err != nil {
		t.Error(err)
		return requestView{}, ""
	}
	f, err := rc.TryReadFrame()
	if err != nil || f.Header.Opcode != frame.OpText || !f.Header.Fin {
		t.Errorf("%s: reading the handler's report: %+v, %v", id, f.Header, err)
		return requestView{}, ""
	}
	var v requestView
	if err := json.Unmarshal(f.Payload, &v); err != nil {
		t.Errorf("%s: %v in %q", id, err, f.Payload)
	}
	return v, rc.NetConn.LocalAddr().String()
}

// httpTraffic sends keep-alive POST requests with values of its own and
// checks each answer echoes its own body, until stop is closed.
func httpTraffic(t *testing.T, addr, id string, stop <-chan struct{}, count *atomic.Int64) {
	client := &http.Client{Timeout: 5 * time.Second}
	// An idle keep-alive connection would hold the server's shutdown for
	// its whole exit wait.
	defer client.CloseIdleConnections()
	for i := 0; i < 100000; i++ {
		select {
		case <-stop:
			return
		default:
		}
		want := expectedView(fmt.Sprintf("%s-%d", id, i))
		req, _ := http.NewRequest("POST", "http://"+addr+"/http/"+want.Param+"?id="+want.Query, strings.NewReader(want.Body))
		req.Header.Set("Authorization", want.Header)
		req.Header.Set("Cookie", "session="+want.Cookie)
		req.Header.Set("X-Id", id)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("HTTP request: %v", err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want.Body {
			t.Errorf("HTTP request got %q, want %q", body, want.Body)
		}
		count.Add(1)
	}
}
