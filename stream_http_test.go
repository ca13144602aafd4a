package websocket_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// httpOverStreamMux is the HTTP server of TestNetConnOfHTTP.
func httpOverStreamMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	})
	// /echo answers with the request body and its SHA-256.
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		w.Header().Set("X-Sha256", hex.EncodeToString(sum[:]))
		_, _ = w.Write(body)
	})
	// /background answers once net/http's background read, which it
	// starts while a handler runs with the request body read, waits in
	// the stream's Read. When the handler returns, the server stops that
	// read with a deadline in the past and goes on reading the
	// connection for the next request.
	mux.HandleFunc("/background", func(w http.ResponseWriter, r *http.Request) {
		blocked := wstest.AwaitBlocked("net/http.(*connReader).backgroundRead", wstest.Guard)
		w.Header().Set("X-Background-Read", strconv.FormatBool(blocked))
	})
	return mux
}

// TestNetConnOfHTTP: net/http over a WebSocket. The server serves the
// upgraded connection's stream with an http.Server (with read and write
// timeouts, so it sets deadlines), the client's http.Transport dials the
// stream; keep-alive requests, one with a 1 MiB body each way, and
// requests whose end makes the server abort its background read with a
// deadline in the past, all go over the one connection.
func TestNetConnOfHTTP(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		served := make(chan error, 1)
		var accepted, idle atomic.Int32
		wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
			srv := &http.Server{
				Handler:      httpOverStreamMux(),
				ReadTimeout:  wstest.Guard,
				WriteTimeout: wstest.Guard,
				IdleTimeout:  wstest.Guard,
				ConnState: func(_ net.Conn, st http.ConnState) {
					switch st {
					case http.StateNew:
						accepted.Add(1)
					case http.StateIdle:
						idle.Add(1)
					}
				},
			}
			nc := websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage)
			served <- srv.Serve(newConnListener(nc))
		})
		base := streamGoroutines(t, tr)

		c, _ := wstest.Dial(t, nil, wsURL, nil)
		var dials atomic.Int32
		transport := &http.Transport{
			DialContext: func(context.Context, string, string) (net.Conn, error) {
				if dials.Add(1) > 1 {
					return nil, errors.New("a second connection was dialled: keep-alive failed")
				}
				return websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage), nil
			},
		}
		defer transport.CloseIdleConnections()
		client := &http.Client{Transport: transport, Timeout: wstest.Guard}

		get := func(path string) *http.Response {
			t.Helper()
			resp, err := client.Get("http://tunnel.test" + path)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			return resp
		}
		// body reads a response's body and waits until the server has
		// gone idle. With the request body read, net/http's server
		// reads the connection in the background while the handler
		// runs; when the handler has returned, it stops that read with
		// a deadline in the past, and only then goes idle. The next
		// request must wait for that: its bytes would otherwise end the
		// background read, whether or not the deadline did.
		var responses int32
		body := func(resp *http.Response) string {
			t.Helper()
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d, body error %v", resp.Request.URL.Path, resp.StatusCode, err)
			}
			responses++
			wstest.WaitFor(t, wakeBound, "the server to stop its background read and go idle", func() bool {
				return idle.Load() == responses
			})
			return string(b)
		}
		echo := func(data []byte) {
			t.Helper()
			resp, err := client.Post("http://tunnel.test/echo", "application/octet-stream", bytes.NewReader(data))
			if err != nil {
				t.Fatalf("POST /echo of %d bytes: %v", len(data), err)
			}
			sum := sha256.Sum256(data)
			if got := body(resp); got != string(data) || resp.Header.Get("X-Sha256") != hex.EncodeToString(sum[:]) {
				t.Fatalf("POST /echo of %d bytes came back as %d bytes, digest %s", len(data), len(got), resp.Header.Get("X-Sha256"))
			}
		}
		background := func() {
			t.Helper()
			resp := get("/background")
			_ = body(resp)
			if resp.Header.Get("X-Background-Read") != "true" {
				t.Fatal("the server's background read never waited in the stream's Read")
			}
		}

		if got := body(get("/hello")); got != "hello" {
			t.Fatalf("GET /hello: %q", got)
		}
		echo(wstest.RandomBytes(1<<20, 4))
		background()
		if got := body(get("/hello")); got != "hello" {
			t.Fatalf("GET /hello after the aborted background read: %q", got)
		}
		echo([]byte("small"))
		background()
		background()
		echo(wstest.RandomBytes(100<<10, 5))

		if n := dials.Load(); n != 1 {
			t.Fatalf("%d dials, want 1", n)
		}
		if n := accepted.Load(); n != 1 {
			t.Fatalf("the server saw %d connections, want 1", n)
		}
		// The client closes its stream: the server's stream reads
		// io.EOF, net/http closes it, and Serve returns.
		transport.CloseIdleConnections()
		if err := wstest.Receive(t, served, "Serve to return"); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Serve returned %v, want net.ErrClosed from the listener", err)
		}
		wstest.WaitGoroutines(t, base, 0)
	})
}
