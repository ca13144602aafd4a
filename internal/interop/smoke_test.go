package interop_test

import (
	"testing"

	gorilla "github.com/gorilla/websocket"
	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

func TestSmokeEcho(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{}
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, wstest.Echo)
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
