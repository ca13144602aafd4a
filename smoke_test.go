package websocket_test

import (
	"testing"

	gorilla "github.com/gorilla/websocket"
	"github.com/hertzws/websocket"
)

func TestSmokeEcho(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tc transportCase) {
		u := &websocket.HertzUpgrader{}
		url := startHandler(t, tc, engineSettings{}, u, echoHandler)
		c := dialGorilla(t, url, nil)
		for _, msg := range []string{"hello", "", "world"} {
			if err := c.WriteMessage(gorilla.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			mt, got, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if mt != gorilla.TextMessage || string(got) != msg {
				t.Fatalf("got %d %q", mt, got)
			}
		}
	})
}
