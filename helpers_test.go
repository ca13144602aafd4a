package websocket_test

import (
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// dialGorilla opens a client connection with gorilla/websocket, the
// third-party peer that judges the server.
func dialGorilla(t testing.TB, url string, header map[string][]string) *gorilla.Conn {
	t.Helper()
	d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
