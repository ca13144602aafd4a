package prometheus_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/internal/wstest"
	wsmetrics "github.com/hertzws/websocket/metrics/prometheus"
)

// scrape fetches the exposition text at url.
func scrape(t *testing.T, url string) string {
	t.Helper()
	client := http.Client{Timeout: wstest.Guard}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body)
}

// sample returns the value of the series written as series (name and
// labels, as the exposition prints them) in text, and whether it is there.
func sample(text, series string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, series+" "), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// textMessage is a compressible text message of about 2 KiB.
func textMessage(i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog. ", i)), 36)
}

// TestScrape drives a hub server with a client, both observed, with
// permessage-deflate, and checks what /metrics (promhttp on the Hertz
// server) says about them.
func TestScrape(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		reg := prometheus.NewRegistry()
		server1, err := wsmetrics.NewObserver(reg, wsmetrics.Options{ConstLabels: prometheus.Labels{"side": "server"}})
		if err != nil {
			t.Fatal(err)
		}
		client1, err := wsmetrics.NewObserver(reg, wsmetrics.Options{ConstLabels: prometheus.Labels{"side": "client"}})
		if err != nil {
			t.Fatal(err)
		}
		rooms := hub.New(hub.Options{})
		if err := wsmetrics.RegisterHub(reg, rooms, wsmetrics.Options{}); err != nil {
			t.Fatal(err)
		}
		u := &websocket.HertzUpgrader{EnableCompression: true, Observer: server1}
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				_ = u.Upgrade(ctx, func(conn *websocket.Conn) {
					c, err := rooms.Register(conn, "", nil)
					if err != nil {
						return
					}
					if err := c.Join("lobby"); err != nil {
						_ = c.Close()
						return
					}
					_ = c.Run(func(_ *hub.Client, mt int, data []byte) error {
						return rooms.Broadcast("lobby", mt, data)
					})
				})
			})
			h.GET("/metrics", adaptor.HertzHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
		})
		url, metricsURL := "ws://"+addr+"/ws", "http://"+addr+"/metrics"

		d := websocket.Dialer{EnableCompression: true, Observer: client1}
		if _, _, err := d.Dial(url, http.Header{"Origin": {"http://elsewhere.example"}}); err == nil {
			t.Fatal("a handshake from another origin succeeded")
		}
		c, _ := wstest.Dial(t, &d, url, nil)
		sent := []struct {
			mt   int
			data []byte
		}{
			{websocket.TextMessage, textMessage(1)},
			{websocket.TextMessage, textMessage(2)},
			{websocket.BinaryMessage, wstest.CompressibleBinary(3000, 1)},
		}
		payload := 0
		for _, m := range sent {
			wstest.CheckEcho(t, c, m.mt, m.data)
			payload += len(m.data)
		}
		if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(wstest.Guard)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("read after the close: %v", err)
		}
		_ = c.Close()

		var text string
		wstest.WaitFor(t, wstest.Guard, "the server's connection to end", func() bool {
			text = scrape(t, metricsURL)
			v, _ := sample(text, `websocket_connections_closed_total{code="1000",side="server"}`)
			w, _ := sample(text, `websocket_hub_clients`)
			return v == 1 && w == 0
		})
		t.Logf("/metrics:\n%s", text)

		want := map[string]float64{
			`websocket_handshake_failures_total{side="server",status="403"}`:        1,
			`websocket_handshake_failures_total{side="client",status="403"}`:        1,
			`websocket_connections_opened_total{side="server"}`:                     1,
			`websocket_connections_opened_total{side="client"}`:                     1,
			`websocket_connections_open{side="server"}`:                             0,
			`websocket_connections_open{side="client"}`:                             0,
			`websocket_connections_closed_total{code="1000",side="server"}`:         1,
			`websocket_connections_closed_total{code="1000",side="client"}`:         1,
			`websocket_messages_total{direction="in",side="server",type="text"}`:    2,
			`websocket_messages_total{direction="in",side="server",type="binary"}`:  1,
			`websocket_messages_total{direction="out",side="server",type="text"}`:   2,
			`websocket_messages_total{direction="out",side="server",type="binary"}`: 1,
			`websocket_messages_total{direction="in",side="client",type="text"}`:    2,
			`websocket_messages_total{direction="out",side="client",type="binary"}`: 1,
			`websocket_payload_bytes_total{direction="in",side="server"}`:           float64(payload),
			`websocket_payload_bytes_total{direction="out",side="server"}`:          float64(payload),
			`websocket_payload_bytes_total{direction="in",side="client"}`:           float64(payload),
			`websocket_payload_bytes_total{direction="out",side="client"}`:          float64(payload),
			`websocket_hub_clients`:                                0,
			`websocket_hub_rooms`:                                  0,
			`websocket_hub_delivered_total`:                        3,
			`websocket_hub_dropped_total{policy="drop_newest"}`:    0,
			`websocket_hub_dropped_total{policy="close"}`:          0,
			`websocket_hub_policy_closes_total`:                    0,
			`websocket_hub_broker_messages_total{direction="out"}`: 0,
			`websocket_ping_rtt_seconds_count{side="server"}`:      0,
		}
		for series, v := range want {
			if got, ok := sample(text, series); !ok || got != v {
				t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
			}
		}
		// Compression: each side's wire bytes are the other's, and fewer
		// than the payload.
		for _, pair := range [][2]string{
			{`websocket_wire_bytes_total{direction="in",side="server"}`, `websocket_wire_bytes_total{direction="out",side="client"}`},
			{`websocket_wire_bytes_total{direction="out",side="server"}`, `websocket_wire_bytes_total{direction="in",side="client"}`},
		} {
			a, _ := sample(text, pair[0])
			b, _ := sample(text, pair[1])
			if a != b || a <= 0 || a >= float64(payload) {
				t.Errorf("%s = %v and %s = %v: want equal, above 0 and below the %d payload bytes", pair[0], a, pair[1], b, payload)
			}
		}
	})
}

// TestLabels checks the label values of close codes and statuses, and that
// unknown ones share one value.
func TestLabels(t *testing.T) {
	tests := []struct {
		name   string
		event  func(o *wsmetrics.Observer)
		series string
	}{
		{"RFC close code", func(o *wsmetrics.Observer) { o.ConnClosed(1011) }, `websocket_connections_closed_total{code="1011"}`},
		{"no status", func(o *wsmetrics.Observer) { o.ConnClosed(1005) }, `websocket_connections_closed_total{code="1005"}`},
		{"application close code listed", func(o *wsmetrics.Observer) { o.ConnClosed(4000) }, `websocket_connections_closed_total{code="4000"}`},
		{"application close code not listed", func(o *wsmetrics.Observer) { o.ConnClosed(4001) }, `websocket_connections_closed_total{code="other"}`},
		{"reserved close code", func(o *wsmetrics.Observer) { o.ConnClosed(1004) }, `websocket_connections_closed_total{code="other"}`},
		{"status", func(o *wsmetrics.Observer) { o.HandshakeFailed(426) }, `websocket_handshake_failures_total{status="426"}`},
		{"status out of range", func(o *wsmetrics.Observer) { o.HandshakeFailed(1000) }, `websocket_handshake_failures_total{status="other"}`},
		{"ping", func(o *wsmetrics.Observer) { o.PingRTT(3 * time.Millisecond) }, `websocket_ping_rtt_seconds_bucket{le="0.005"}`},
		{"unknown message type", func(o *wsmetrics.Observer) { o.MessageRead(7, 10, 5) }, `websocket_payload_bytes_total{direction="in"}`},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			o, err := wsmetrics.NewObserver(reg, wsmetrics.Options{CloseCodes: []int{4000}})
			if err != nil {
				t.Fatal(err)
			}
			tt.event(o)
			text := expositionOf(reg)
			if v, ok := sample(text, tt.series); !ok || v == 0 {
				t.Fatalf("%s missing or 0 in:\n%s", tt.series, text)
			}
		})
	}
}

// expositionOf renders reg as /metrics would.
func expositionOf(reg *prometheus.Registry) string {
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// TestRegisterTwice checks that a second Observer of the same names and
// labels is refused with the registry's error.
func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := wsmetrics.NewObserver(reg, wsmetrics.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := wsmetrics.NewObserver(reg, wsmetrics.Options{})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("second registration: %v, want an AlreadyRegisteredError", err)
	}
	if _, err := wsmetrics.NewObserver(reg, wsmetrics.Options{Namespace: "chat"}); err != nil {
		t.Fatalf("another namespace: %v", err)
	}
}
