package main

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/hub"
	"github.com/hertzws/websocket/internal/wstest"
)

// startChat serves the chat's routes on 127.0.0.1 and returns its
// host:port; the server is shut down when the test ends.
func startChat(t *testing.T) string {
	t.Helper()
	hlog.SetOutput(io.Discard)
	return wstest.Serve(t, "127.0.0.1:0", nil, func(h *server.Hertz) {
		h.NoHijackConnPool = true
		if err := routes(h, &chat{rooms: hub.New(hub.Options{QueueSize: 64}), who: localPresence{}}); err != nil {
			t.Fatal(err)
		}
	})
}

// metricValue returns the value of series (its name and labels as the
// exposition prints them) in the text /metrics served, or -1.
func metricValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if v, err := strconv.ParseFloat(rest, 64); err == nil {
				return v
			}
		}
	}
	return -1
}

func getMetrics(t *testing.T, addr string) string {
	t.Helper()
	client := http.Client{Timeout: wstest.Guard}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %s", err, resp.Status)
	}
	return string(body)
}

// TestMetrics runs the chat with two tabs in one room, a message from one
// to both, and a tab that leaves, and checks what /metrics says.
func TestMetrics(t *testing.T) {
	addr := startChat(t)
	d := websocket.Dialer{EnableCompression: true, NetDialContext: (&net.Dialer{Timeout: wstest.Guard}).DialContext}
	alice, _ := wstest.Dial(t, &d, "ws://"+addr+"/ws?room=gophers&name=alice", nil)
	// Each tab hears its own join, then bob's.
	readEvent(t, alice, "join")
	bob, _ := wstest.Dial(t, &d, "ws://"+addr+"/ws?room=gophers&name=bob", nil)
	readEvent(t, bob, "join")
	readEvent(t, alice, "join")

	if err := alice.WriteMessage(websocket.TextMessage, []byte("hello, bob")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*websocket.Conn{alice, bob} {
		if e := readEvent(t, c, "message"); e.Text != "hello, bob" || e.From != "alice" {
			t.Fatalf("got %+v", e)
		}
	}
	// The hub counts a message once it is written, which may be just
	// after the tab has it.
	var text string
	wstest.WaitFor(t, wstest.Guard, "the hub to count 5 messages", func() bool {
		text = getMetrics(t, addr)
		return metricValue(text, `websocket_hub_delivered_total`) == 5
	})
	for series, want := range map[string]float64{
		`websocket_connections_opened_total`:                     2,
		`websocket_connections_open`:                             2,
		`websocket_messages_total{direction="in",type="text"}`:   1,
		`websocket_messages_total{direction="in",type="binary"}`: 0,
		`websocket_messages_total{direction="out",type="text"}`:  5, // alice's join, bob's join twice, the message twice
		`websocket_payload_bytes_total{direction="in"}`:          float64(len("hello, bob")),
		`websocket_hub_clients`:                                  2,
		`websocket_hub_rooms`:                                    1,
		`websocket_hub_dropped_total{policy="close"}`:            0,
		`websocket_hub_policy_closes_total`:                      0,
		`websocket_ping_rtt_seconds_count`:                       0,
		// No series until the first event of its label.
		`websocket_handshake_failures_total{status="403"}`: -1,
		`websocket_connections_closed_total{code="1001"}`:  -1,
	} {
		if got := metricValue(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if metricValue(text, `websocket_wire_bytes_total{direction="out"}`) <= 0 {
		t.Errorf("no wire bytes out in:\n%s", text)
	}

	// A page from another site is refused; bob leaves as a tab does.
	if _, _, err := d.Dial("ws://"+addr+"/ws", http.Header{"Origin": {"https://elsewhere.example"}}); err == nil {
		t.Fatal("a handshake from another origin succeeded")
	}
	bye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
	if err := bob.WriteControl(websocket.CloseMessage, bye, time.Now().Add(wstest.Guard)); err != nil {
		t.Fatal(err)
	}
	readEvent(t, alice, "leave")
	wstest.WaitFor(t, wstest.Guard, "bob's connection to end", func() bool {
		text = getMetrics(t, addr)
		return metricValue(text, `websocket_connections_closed_total{code="1001"}`) == 1
	})
	t.Logf("/metrics:\n%s", text)
	for series, want := range map[string]float64{
		`websocket_handshake_failures_total{status="403"}`: 1,
		`websocket_connections_open`:                       1,
		`websocket_hub_clients`:                            1,
	} {
		if got := metricValue(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

// readEvent reads the page's next event and checks its kind.
func readEvent(t *testing.T, c *websocket.Conn, kind string) event {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
	var e event
	if err := c.ReadJSON(&e); err != nil {
		t.Fatalf("reading a %s event: %v", kind, err)
	}
	if e.Kind != kind {
		t.Fatalf("event %+v, want kind %q", e, kind)
	}
	return e
}
