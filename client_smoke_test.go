package websocket_test

import (
	"testing"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

func TestClientSmokeEcho(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, compress := range []bool{false, true} {
			u := &websocket.HertzUpgrader{EnableCompression: compress}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, wstest.Echo)
			d := websocket.Dialer{EnableCompression: compress}
			c, resp, err := d.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			t.Logf("compress=%v extensions=%q", compress, resp.Header.Get("Sec-WebSocket-Extensions"))
			for _, n := range []int{0, 5, 200, 70000, 3 << 20} {
				msg := make([]byte, n)
				for i := range msg {
					msg[i] = byte('a' + i%7)
				}
				if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
					t.Fatal(err)
				}
				mt, got, err := c.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				if mt != websocket.TextMessage || string(got) != string(msg) {
					t.Fatalf("size %d: got %d bytes type %d", n, len(got), mt)
				}
			}
		}
	})
}
