package interop_test

import (
	"net/http"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// dialGorilla opens a client connection with gorilla/websocket, the
// third-party peer that judges the server, and closes it when the test
// ends.
func dialGorilla(t testing.TB, url string, header http.Header) *gorilla.Conn {
	t.Helper()
	c, _ := dialGorillaWith(t, gorilla.Dialer{}, url, header)
	return c
}

// dialGorillaWith dials with a gorilla Dialer of the test's (a 5 s
// handshake timeout when it sets none) and returns the handshake response
// as well.
func dialGorillaWith(t testing.TB, d gorilla.Dialer, url string, header http.Header) (*gorilla.Conn, *http.Response) {
	t.Helper()
	if d.HandshakeTimeout == 0 {
		d.HandshakeTimeout = 5 * time.Second
	}
	c, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp
}
