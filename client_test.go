package websocket_test

// Tests of the client side: Dialer (ws and wss, proxies, URLs, cookies,
// handshake failures, masking, allocations) and ClientUpgrader on Hertz's
// own HTTP client. The peer is our Hertz server on both transports, or a
// raw TCP server written in the test when the server must misbehave.
// Helpers are prefixed ct.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/client"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/network/standard"
	"github.com/cloudwego/hertz/pkg/protocol"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// ctGuard bounds every wait, so that a hung peer fails a test instead of
// blocking it. It never judges speed.
const ctGuard = 20 * time.Second

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// ctPayload returns n bytes: ASCII text for a text message, pseudo-random
// bytes (which do not compress) for a binary one.
func ctPayload(n int, text bool, seed int64) []byte {
	b := make([]byte, n)
	if text {
		const alphabet = "the quick brown fox jumps over the lazy dog 0123456789\n"
		r := rand.New(rand.NewSource(seed))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		return b
	}
	_, _ = rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// ctWords returns about n bytes of text made of a few hundred words: it
// compresses well but not to nothing, so that context takeover shows in
// the size of a repeated message.
func ctWords(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	words := make([]string, 300)
	for i := range words {
		w := make([]byte, 3+r.Intn(7))
		for j := range w {
			w[j] = byte('a' + r.Intn(26))
		}
		words[i] = string(w)
	}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.Intn(len(words))])
		b.WriteByte(' ')
	}
	return b.Bytes()[:n]
}

// ctCountConn counts the bytes written to a connection.
type ctCountConn struct {
	net.Conn
	written *atomic.Int64
}

func (c *ctCountConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// ctCountingDial returns a NetDialContext that counts what the client
// writes.
func ctCountingDial(written *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &ctCountConn{Conn: c, written: written}, nil
	}
}

// ctIPv6Loopback reports whether [::1] can be listened on.
func ctIPv6Loopback() bool {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// ---------------------------------------------------------------------------
// 1. Dialer against our Hertz server
// ---------------------------------------------------------------------------

func TestClientDialerEcho(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20, 16 << 20}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nil, wstest.Echo)
		c, resp := wstest.Dial(t, &websocket.Dialer{}, wsURL, nil)
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if b, _ := io.ReadAll(resp.Body); len(b) != 0 {
			t.Fatalf("101 response body %q", b)
		}
		for _, n := range sizes {
			if n == 16<<20 && testing.Short() {
				t.Logf("16 MiB echo skipped with -short")
				continue
			}
			wstest.CheckEcho(t, c, websocket.TextMessage, ctPayload(n, true, int64(n)))
			wstest.CheckEcho(t, c, websocket.BinaryMessage, ctPayload(n, false, int64(n)))
		}
	})
}

// TestClientDialerSmallBuffers uses the smallest buffers a Dialer allows:
// a 125-byte control frame and 14-byte headers must still be read whole.
func TestClientDialerSmallBuffers(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		pinged := make(chan error, 1)
		u := &websocket.HertzUpgrader{}
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			pinged <- c.WriteControl(websocket.PingMessage, bytes.Repeat([]byte("p"), 125), time.Now().Add(time.Second))
			wstest.Echo(c)
		})
		pongs := make(chan string, 1)
		d := &websocket.Dialer{ReadBufferSize: 1, WriteBufferSize: 1}
		c, _ := wstest.Dial(t, d, wsURL, nil)
		if err := wstest.Receive(t, pinged, "server ping"); err != nil {
			t.Fatal(err)
		}
		ping := c.PingHandler()
		c.SetPingHandler(func(s string) error {
			pongs <- s
			return ping(s)
		})
		for _, n := range []int{0, 1, 2, 125, 126, 70000} {
			wstest.CheckEcho(t, c, websocket.BinaryMessage, ctPayload(n, false, 9))
		}
		if got := wstest.Receive(t, pongs, "ping"); len(got) != 125 {
			t.Fatalf("ping payload of %d bytes", len(got))
		}
		w, err := c.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("hello, world")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(); err != nil || string(got) != "hello, world" {
			t.Fatalf("got %q, %v", got, err)
		}
		if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, strings.Repeat("r", 123)), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, 4000) {
			t.Fatalf("got %v, want close 4000", err)
		}
	})
}

// TestClientDialerFragmented streams messages through NextWriter in pieces
// smaller and larger than the write buffer; the server echoes them as it
// reads them.
func TestClientDialerFragmented(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nil, wstest.Echo)
		c, _ := wstest.Dial(t, &websocket.Dialer{WriteBufferSize: 512}, wsURL, nil)
		for _, total := range []int{0, 1, 511, 512, 513, 10000, 300000} {
			for _, piece := range []int{1, 100, 512, 4000} {
				if total > 20000 && piece < 100 {
					continue
				}
				piece := piece
				msg := ctPayload(total, true, int64(total+piece))
				werr := make(chan error, 1)
				go func() {
					w, err := c.NextWriter(websocket.TextMessage)
					if err != nil {
						werr <- err
						return
					}
					for rest := msg; len(rest) > 0; {
						n := piece
						if n > len(rest) {
							n = len(rest)
						}
						if _, err := w.Write(rest[:n]); err != nil {
							werr <- err
							return
						}
						rest = rest[n:]
					}
					werr <- w.Close()
				}()
				mt, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("total %d piece %d: %v", total, piece, err)
				}
				if err := wstest.Receive(t, werr, "writer"); err != nil {
					t.Fatalf("total %d piece %d: write: %v", total, piece, err)
				}
				if mt != websocket.TextMessage || !bytes.Equal(got, msg) {
					t.Fatalf("total %d piece %d: got %d bytes type %d", total, piece, len(got), mt)
				}
			}
		}
	})
}

// TestClientDialerConcurrentWriters has several goroutines write on one
// client Conn at once: every message must come back whole and, per writer,
// in order. Streaming writers share a mutex, since NextWriter closes a
// writer still open (as gorilla's does).
func TestClientDialerConcurrentWriters(t *testing.T) {
	const writers, perWriter = 8, 60
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nil, wstest.Echo)
		c, _ := wstest.Dial(t, &websocket.Dialer{}, wsURL, nil)
		var streaming sync.Mutex
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := 0; w < writers; w++ {
			w := w
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					body := fmt.Sprintf("%d:%d:", w, i)
					pad := strings.Repeat(string(rune('a'+w)), (i*997)%5000)
					var err error
					if i%3 == 0 {
						var nw io.WriteCloser
						streaming.Lock()
						if nw, err = c.NextWriter(websocket.TextMessage); err == nil {
							_, _ = io.WriteString(nw, body)
							_, _ = io.WriteString(nw, pad)
							err = nw.Close()
						}
						streaming.Unlock()
					} else {
						err = c.WriteMessage(websocket.TextMessage, []byte(body+pad))
					}
					if err != nil {
						errs <- err
						return
					}
					if i%10 == 0 {
						if err := c.WriteControl(websocket.PingMessage, []byte(body), time.Time{}); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		next := make([]int, writers)
		for n := 0; n < writers*perWriter; n++ {
			_ = c.SetReadDeadline(time.Now().Add(ctGuard))
			_, p, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("after %d messages: %v", n, err)
			}
			parts := strings.SplitN(string(p), ":", 3)
			if len(parts) != 3 {
				t.Fatalf("garbled message %.40q", p)
			}
			w, _ := strconv.Atoi(parts[0])
			i, _ := strconv.Atoi(parts[1])
			if w < 0 || w >= writers || i != next[w] {
				t.Fatalf("message %d:%d out of order (want %d)", w, i, next[w])
			}
			if parts[2] != strings.Repeat(string(rune('a'+w)), (i*997)%5000) {
				t.Fatalf("message %d:%d has a corrupted body", w, i)
			}
			next[w]++
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// TestClientDialerPingPong sends pings both ways with the default handlers
// answering them.
func TestClientDialerPingPong(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		serverPongs := make(chan string, 4)
		clientPongs := make(chan string, 4)
		clientPings := make(chan string, 4)
		u := &websocket.HertzUpgrader{}
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			c.SetPongHandler(func(s string) error {
				serverPongs <- s
				return nil
			})
			if err := c.WriteControl(websocket.PingMessage, []byte("from server"), time.Now().Add(time.Second)); err != nil {
				return
			}
			wstest.Echo(c)
		})
		c, _ := wstest.Dial(t, &websocket.Dialer{}, wsURL, nil)
		c.SetPongHandler(func(s string) error {
			clientPongs <- s
			return nil
		})
		defaultPing := c.PingHandler()
		c.SetPingHandler(func(s string) error {
			clientPings <- s
			return defaultPing(s) // the default answers with a pong
		})

		// Client to server: the server's default ping handler answers
		// before it echoes the message that follows.
		if err := c.WriteControl(websocket.PingMessage, []byte("from client"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("one"))
		if got := wstest.Receive(t, clientPongs, "pong from the server"); got != "from client" {
			t.Fatalf("client got pong %q", got)
		}
		if got := wstest.Receive(t, clientPings, "ping from the server"); got != "from server" {
			t.Fatalf("client got ping %q", got)
		}
		// The client's pong went out while it read "one"; the server
		// handles it when it reads the next message.
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("two"))
		if got := wstest.Receive(t, serverPongs, "pong from the client"); got != "from server" {
			t.Fatalf("server got pong %q", got)
		}
		// Empty and maximal payloads.
		for _, p := range [][]byte{nil, bytes.Repeat([]byte{'x'}, 125)} {
			if err := c.WriteControl(websocket.PingMessage, p, time.Time{}); err != nil {
				t.Fatal(err)
			}
			wstest.CheckEcho(t, c, websocket.BinaryMessage, []byte{1, 2, 3})
			if got := wstest.Receive(t, clientPongs, "pong"); got != string(p) {
				t.Fatalf("pong %q, want %q", got, p)
			}
		}
		if err := c.WriteControl(websocket.PingMessage, make([]byte, 126), time.Time{}); err == nil {
			t.Fatal("a 126-byte ping was accepted")
		}
	})
}

// TestClientDialerCloseFromClient: the client starts the close handshake,
// the server echoes the code, the client's read returns that CloseError.
func TestClientDialerCloseFromClient(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		serverErr := make(chan error, 1)
		u := &websocket.HertzUpgrader{}
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					serverErr <- err
					return
				}
			}
		})
		c, _ := wstest.Dial(t, &websocket.Dialer{}, wsURL, nil)
		if err := c.WriteMessage(websocket.TextMessage, []byte("last words")); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("too late")); err != websocket.ErrCloseSent {
			t.Fatalf("write after close: %v, want ErrCloseSent", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(ctGuard))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
			t.Fatalf("client read: %v, want the echoed close 1000", err)
		}
		got := wstest.Receive(t, serverErr, "server read error")
		if !errors.As(got, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "bye" {
			t.Fatalf("server read: %v, want close 1000 \"bye\"", got)
		}
		// The error is permanent.
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("second read: %v", err)
		}
	})
}

// TestClientDialerCloseFromServer: the server starts the close handshake;
// the client's default close handler answers with the same code.
func TestClientDialerCloseFromServer(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		serverErr := make(chan error, 1)
		u := &websocket.HertzUpgrader{}
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			if err := c.WriteMessage(websocket.TextMessage, []byte("before close")); err != nil {
				serverErr <- err
				return
			}
			if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "going away"), time.Now().Add(time.Second)); err != nil {
				serverErr <- err
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(ctGuard))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					serverErr <- err
					return
				}
			}
		})
		c, _ := wstest.Dial(t, &websocket.Dialer{}, wsURL, nil)
		_ = c.SetReadDeadline(time.Now().Add(ctGuard))
		if _, p, err := c.ReadMessage(); err != nil || string(p) != "before close" {
			t.Fatalf("first message %q, %v", p, err)
		}
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || ce.Text != "going away" {
			t.Fatalf("client read: %v, want close 1001 \"going away\"", err)
		}
		got := wstest.Receive(t, serverErr, "server read error")
		if !websocket.IsCloseError(got, websocket.CloseGoingAway) {
			t.Fatalf("server read: %v, want the client's echo of 1001", got)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("x")); err != websocket.ErrCloseSent {
			t.Fatalf("write after the close handshake: %v, want ErrCloseSent", err)
		}
	})
}

// TestClientDialerCompression negotiates permessage-deflate from the
// client in every combination, checks the agreed parameters, and measures
// the bytes the client writes: compressed messages are smaller on the
// wire, and with context takeover a repeated message costs almost
// nothing, while without it a repeat costs as much as the first.
func TestClientDialerCompression(t *testing.T) {
	cases := []struct {
		name         string
		client       bool
		clientOpts   websocket.CompressionOptions
		server       bool
		serverOpts   websocket.CompressionOptions
		wantExt      string // "" when not negotiated
		wantTakeover bool   // client's own context takeover
	}{
		{name: "off", wantExt: ""},
		{name: "client-only", client: true, wantExt: ""},
		{name: "server-only", server: true, wantExt: ""},
		{name: "takeover", client: true, server: true, wantExt: "permessage-deflate", wantTakeover: true},
		{
			name: "client-asks-no-takeover", client: true, server: true,
			clientOpts:   websocket.CompressionOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true},
			wantExt:      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			wantTakeover: false,
		},
		{
			name: "server-asks-no-takeover", client: true, server: true,
			serverOpts:   websocket.CompressionOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true},
			wantExt:      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			wantTakeover: false,
		},
		{
			name: "window-bits", client: true, server: true,
			clientOpts:   websocket.CompressionOptions{ServerMaxWindowBits: 10, ClientMaxWindowBits: 9},
			wantExt:      "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
			wantTakeover: true,
		},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, cs := range cases {
			cs := cs
			t.Run(cs.name, func(t *testing.T) {
				u := &websocket.HertzUpgrader{EnableCompression: cs.server, Compression: cs.serverOpts}
				wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, wstest.Echo)
				var written atomic.Int64
				d := &websocket.Dialer{
					EnableCompression: cs.client,
					Compression:       cs.clientOpts,
					NetDialContext:    ctCountingDial(&written),
				}
				c, resp := wstest.Dial(t, d, wsURL, nil)
				ext := resp.Header.Get("Sec-WebSocket-Extensions")
				if ext != cs.wantExt {
					t.Fatalf("Sec-WebSocket-Extensions %q, want %q", ext, cs.wantExt)
				}
				compressed := cs.wantExt != ""

				// The same 20 KB message twice: what the second costs
				// shows context takeover (the window is at least 512
				// bytes, so window-bits still finds repeats).
				msg := ctWords(20000, 1)
				var cost [2]int64
				for i := range cost {
					before := written.Load()
					wstest.CheckEcho(t, c, websocket.TextMessage, msg)
					cost[i] = written.Load() - before
				}
				t.Logf("wire bytes for a 20000-byte message: first %d, repeat %d", cost[0], cost[1])
				switch {
				case !compressed:
					if cost[0] < int64(len(msg)) || cost[1] < int64(len(msg)) {
						t.Fatalf("uncompressed message written in %d/%d bytes", cost[0], cost[1])
					}
				case cs.wantTakeover && cs.clientOpts.ClientMaxWindowBits == 0:
					if cost[0] > int64(len(msg))*3/4 || cost[1] > cost[0]/4 {
						t.Fatalf("with context takeover: first %d, repeat %d bytes", cost[0], cost[1])
					}
				case cs.wantTakeover:
					if cost[0] > int64(len(msg))*3/4 || cost[1] > cost[0] {
						t.Fatalf("with a small window: first %d, repeat %d bytes", cost[0], cost[1])
					}
				default:
					if cost[0] > int64(len(msg))*3/4 || cost[1] < cost[0]*9/10 {
						t.Fatalf("without context takeover: first %d, repeat %d bytes", cost[0], cost[1])
					}
				}

				// Other shapes, all echoed intact.
				for _, n := range []int{0, 1, 127, 128, 5000, 70000, 1 << 20} {
					wstest.CheckEcho(t, c, websocket.TextMessage, ctWords(n, int64(n)))
					wstest.CheckEcho(t, c, websocket.BinaryMessage, ctPayload(n, false, int64(n)))
				}
				w, err := c.NextWriter(websocket.TextMessage)
				if err != nil {
					t.Fatal(err)
				}
				want := ctWords(100000, 3)
				go func() {
					for rest := want; len(rest) > 0; {
						n := 777
						if n > len(rest) {
							n = len(rest)
						}
						_, _ = w.Write(rest[:n])
						rest = rest[n:]
					}
					_ = w.Close()
				}()
				if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("streamed message: %d bytes, %v", len(got), err)
				}
				c.EnableWriteCompression(false)
				before := written.Load()
				wstest.CheckEcho(t, c, websocket.TextMessage, msg)
				if cost := written.Load() - before; cost < int64(len(msg)) {
					t.Fatalf("EnableWriteCompression(false): message written in %d bytes", cost)
				}
			})
		}
	})
}

// TestClientDialerReadLimit: a message from the server beyond
// Dialer.ReadLimit fails the client's read with ErrReadLimit, and the
// server reads close code 1009.
func TestClientDialerReadLimit(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, compress := range []bool{false, true} {
			compress := compress
			t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
				serverErr := make(chan error, 1)
				u := &websocket.HertzUpgrader{EnableCompression: compress}
				wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
					_ = c.WriteMessage(websocket.BinaryMessage, make([]byte, 1000))
					_ = c.WriteMessage(websocket.BinaryMessage, make([]byte, 1001))
					_ = c.SetReadDeadline(time.Now().Add(ctGuard))
					for {
						if _, _, err := c.ReadMessage(); err != nil {
							serverErr <- err
							return
						}
					}
				})
				d := &websocket.Dialer{ReadLimit: 1000, EnableCompression: compress}
				c, resp := wstest.Dial(t, d, wsURL, nil)
				if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != compress {
					t.Fatalf("compression negotiated: %v", got)
				}
				if _, p, err := c.ReadMessage(); err != nil || len(p) != 1000 {
					t.Fatalf("message at the limit: %d bytes, %v", len(p), err)
				}
				if _, _, err := c.ReadMessage(); !errors.Is(err, websocket.ErrReadLimit) {
					t.Fatalf("message over the limit: %v, want ErrReadLimit", err)
				}
				if err := wstest.Receive(t, serverErr, "server error"); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
					t.Fatalf("server read %v, want close 1009", err)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 2. TLS
// ---------------------------------------------------------------------------

func TestClientDialerTLS(t *testing.T) {
	cert, pool := wstest.SelfSigned(t)

	t.Run("echo", func(t *testing.T) {
		for _, compress := range []bool{false, true} {
			wsURL := wstest.StartTLSHandler(t, cert, &websocket.HertzUpgrader{EnableCompression: compress}, wstest.Echo)
			d := &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}, EnableCompression: compress}
			c, resp := wstest.Dial(t, d, wsURL, nil)
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != compress {
				t.Fatalf("compression negotiated: %v", got)
			}
			for _, n := range []int{0, 10, 125, 70000, 1 << 20} {
				wstest.CheckEcho(t, c, websocket.TextMessage, ctWords(n, int64(n)))
				wstest.CheckEcho(t, c, websocket.BinaryMessage, ctPayload(n, false, int64(n)))
			}
			if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("close: %v", err)
			}
		}
	})

	t.Run("no-origin-by-default", func(t *testing.T) {
		origins := make(chan string, 1)
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		addr := wstest.Serve(t, "127.0.0.1:0", []config.Option{server.WithTransport(standard.NewTransporter), server.WithTLS(cfg)}, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				origins <- string(ctx.Request.Header.Peek("Origin"))
				_ = (&websocket.HertzUpgrader{}).Upgrade(ctx, wstest.Echo)
			})
		})
		c, _ := wstest.Dial(t, &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}, "wss://"+addr+"/ws", nil)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("hi"))
		// As gorilla's Dialer: no Origin unless the caller sets one.
		if got := wstest.Receive(t, origins, "origin"); got != "" {
			t.Fatalf("Origin %q, want none", got)
		}
	})

	t.Run("wrong-ca", func(t *testing.T) {
		wsURL := wstest.StartTLSHandler(t, cert, &websocket.HertzUpgrader{}, wstest.Echo)
		_, otherPool := wstest.SelfSigned(t)
		for _, cfg := range []*tls.Config{{RootCAs: otherPool}, nil} {
			d := &websocket.Dialer{TLSClientConfig: cfg, HandshakeTimeout: 5 * time.Second}
			c, resp, err := d.Dial(wsURL, nil)
			if err == nil {
				c.Close()
				t.Fatal("dial with an untrusted certificate succeeded")
			}
			if resp != nil {
				t.Fatalf("response %d with a failed TLS handshake", resp.StatusCode)
			}
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Fatalf("error %v (%T), want x509.UnknownAuthorityError", err, err)
			}
		}
	})

	t.Run("server-name", func(t *testing.T) {
		wsURL := wstest.StartTLSHandler(t, cert, &websocket.HertzUpgrader{}, wstest.Echo)
		// The certificate names localhost, not this host name.
		d := &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "not-in-cert.test"}, HandshakeTimeout: 5 * time.Second}
		if c, _, err := d.Dial(wsURL, nil); err == nil {
			c.Close()
			t.Fatal("dial with a mismatched ServerName succeeded")
		}
		d.TLSClientConfig.ServerName = "localhost"
		c, _ := wstest.Dial(t, d, wsURL, nil)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("named"))
	})

	t.Run("netdialtlscontext", func(t *testing.T) {
		wsURL := wstest.StartTLSHandler(t, cert, &websocket.HertzUpgrader{}, wstest.Echo)
		var called atomic.Int32
		d := &websocket.Dialer{NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			called.Add(1)
			td := &tls.Dialer{Config: &tls.Config{RootCAs: pool}}
			return td.DialContext(ctx, network, addr)
		}}
		c, _ := wstest.Dial(t, d, wsURL, nil)
		wstest.CheckEcho(t, c, websocket.BinaryMessage, []byte{0, 1, 2})
		if called.Load() != 1 {
			t.Fatalf("NetDialTLSContext called %d times", called.Load())
		}
	})

}

// ---------------------------------------------------------------------------
// 3. HTTP CONNECT proxy
// ---------------------------------------------------------------------------

// ctConnect is one CONNECT request the proxy received.
type ctConnect struct {
	target string // the request's authority
	auth   string // its Proxy-Authorization header
}

// ctProxy is an HTTP proxy that serves CONNECT only: it hijacks the client
// connection, dials the target and splices the two.
type ctProxy struct {
	url *url.URL // the proxy's address, without user information

	user, password string              // required credentials; none when user is ""
	route          func(string) string // maps a CONNECT target to the address dialled; nil dials it as is

	mu       sync.Mutex
	connects []ctConnect
	conns    []net.Conn
	wg       sync.WaitGroup
}

func ctStartProxy(t testing.TB, user, password string, route func(string) string) *ctProxy {
	t.Helper()
	p := &ctProxy{user: user, password: password, route: route}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		srv.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	p.url, _ = url.Parse(srv.URL)
	return p
}

// withUser returns the proxy URL carrying user:password.
func (p *ctProxy) withUser(user, password string) *url.URL {
	u := *p.url
	u.User = url.UserPassword(user, password)
	return &u
}

func (p *ctProxy) seen() []ctConnect {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ctConnect(nil), p.connects...)
}

func (p *ctProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *ctProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.connects = append(p.connects, ctConnect{target: r.Host, auth: r.Header.Get("Proxy-Authorization")})
	p.mu.Unlock()
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if p.user != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.password))
		if r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="ct"`)
			http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
	}
	addr := r.Host
	if p.route != nil {
		addr = p.route(addr)
	}
	target, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.track(target)
	hj, ok := w.(http.Hijacker)
	if !ok {
		target.Close()
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	clientConn, brw, err := hj.Hijack()
	if err != nil {
		target.Close()
		return
	}
	p.track(clientConn)
	if _, err := clientConn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		clientConn.Close()
		target.Close()
		return
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		// Bytes the server buffered past the request come first.
		_, _ = io.Copy(target, brw.Reader)
		if tc, ok := target.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	go func() {
		defer p.wg.Done()
		_, _ = io.Copy(clientConn, target)
		clientConn.Close()
	}()
}

func TestClientDialerProxy(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nil, wstest.Echo)
		target := strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws://"), "/ws")

		t.Run("auth", func(t *testing.T) {
			p := ctStartProxy(t, "alice", "s3cr:et", nil)
			d := &websocket.Dialer{Proxy: http.ProxyURL(p.withUser("alice", "s3cr:et"))}
			c, _ := wstest.Dial(t, d, wsURL, nil)
			for _, n := range []int{0, 100, 100000} {
				wstest.CheckEcho(t, c, websocket.BinaryMessage, ctPayload(n, false, 5))
			}
			seen := p.seen()
			if len(seen) != 1 || seen[0].target != target {
				t.Fatalf("proxy saw %+v, want one CONNECT to %s", seen, target)
			}
			if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr:et")); seen[0].auth != want {
				t.Fatalf("Proxy-Authorization %q, want %q", seen[0].auth, want)
			}
		})

		t.Run("wrong-password", func(t *testing.T) {
			p := ctStartProxy(t, "alice", "right", nil)
			for _, u := range []*url.URL{p.withUser("alice", "wrong"), p.url} {
				d := &websocket.Dialer{Proxy: http.ProxyURL(u), HandshakeTimeout: 5 * time.Second}
				c, _, err := d.Dial(wsURL, nil)
				if err == nil {
					c.Close()
					t.Fatalf("dial through %v with bad credentials succeeded", u)
				}
				if !strings.Contains(err.Error(), "407") {
					t.Fatalf("error %q does not mention 407", err)
				}
			}
			if seen := p.seen(); len(seen) != 2 || seen[1].auth != "" {
				t.Fatalf("proxy saw %+v", seen)
			}
		})

		t.Run("no-auth", func(t *testing.T) {
			p := ctStartProxy(t, "", "", nil)
			d := &websocket.Dialer{Proxy: http.ProxyURL(p.url)}
			c, _ := wstest.Dial(t, d, wsURL, nil)
			wstest.CheckEcho(t, c, websocket.TextMessage, []byte("via proxy"))
			if seen := p.seen(); len(seen) != 1 || seen[0].auth != "" {
				t.Fatalf("proxy saw %+v, want one CONNECT without credentials", seen)
			}
		})

		t.Run("proxy-error", func(t *testing.T) {
			d := &websocket.Dialer{Proxy: func(*http.Request) (*url.URL, error) {
				return nil, errors.New("no proxy for you")
			}}
			if _, _, err := d.Dial(wsURL, nil); err == nil || !strings.Contains(err.Error(), "no proxy for you") {
				t.Fatalf("error %v", err)
			}
			d.Proxy = http.ProxyURL(&url.URL{Scheme: "socks4", Host: "127.0.0.1:1"})
			if _, _, err := d.Dial(wsURL, nil); err == nil || !strings.Contains(err.Error(), "unsupported proxy scheme socks4") {
				t.Fatalf("error %v, want an unsupported proxy scheme", err)
			}
			// A SOCKS5 proxy that is not there: the dial error.
			d.Proxy = http.ProxyURL(&url.URL{Scheme: "socks5", Host: "127.0.0.1:1"})
			if _, _, err := d.Dial(wsURL, nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("error %v, want connection refused", err)
			}
		})
	})

	t.Run("wss-through-proxy", func(t *testing.T) {
		cert, pool := wstest.SelfSigned(t)
		wsURL := wstest.StartTLSHandler(t, cert, &websocket.HertzUpgrader{}, wstest.Echo)
		p := ctStartProxy(t, "bob", "pw", nil)
		d := &websocket.Dialer{Proxy: http.ProxyURL(p.withUser("bob", "pw")), TLSClientConfig: &tls.Config{RootCAs: pool}}
		c, _ := wstest.Dial(t, d, wsURL, nil)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("tls in a tunnel"))
		if seen := p.seen(); len(seen) != 1 || !strings.HasPrefix(wsURL, "wss://"+seen[0].target+"/") {
			t.Fatalf("proxy saw %+v", seen)
		}
	})
}

// TestClientDialerProxyFromEnvironment sets HTTP_PROXY and uses
// http.ProxyFromEnvironment. Go never proxies requests to localhost or a
// loopback address (net/http's ProxyFromEnvironment, through
// golang.org/x/net/http/httpproxy), so a dial to 127.0.0.1 must go
// straight to the server and the proxy must see nothing: the environment
// is honoured without breaking local use. A host name that is not local
// must go through the proxy, but ProxyFromEnvironment reads the
// environment once per process, so that half runs only when this test is
// the first to ask (it checks what ProxyFromEnvironment answers first).
// Once read, the process keeps this test's (closed) proxy for non-local
// hosts; no other test of the package dials one through the environment.
func TestClientDialerProxyFromEnvironment(t *testing.T) {
	wsURL := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, wstest.Echo)
	target := strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws://"), "/ws")
	_, port, _ := net.SplitHostPort(target)
	p := ctStartProxy(t, "", "", func(string) string { return target })
	for _, name := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(name, p.url.String())
	}
	for _, name := range []string{"NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(name, "")
	}

	d := &websocket.Dialer{Proxy: http.ProxyFromEnvironment}
	c, _ := wstest.Dial(t, d, wsURL, nil)
	wstest.CheckEcho(t, c, websocket.TextMessage, []byte("direct"))
	if seen := p.seen(); len(seen) != 0 {
		t.Fatalf("a loopback dial went through the proxy: %+v", seen)
	}

	remote := "ws://ws-client-test.example:" + port + "/ws"
	probe, _ := ctHTTPURL(remote)
	if got, err := http.ProxyFromEnvironment(&http.Request{URL: probe}); err != nil || got == nil || got.Host != p.url.Host {
		t.Logf("ProxyFromEnvironment answered %v, %v: the environment was read before this test set it; the proxied half is skipped", got, err)
		return
	}
	c2, _ := wstest.Dial(t, d, remote, nil)
	wstest.CheckEcho(t, c2, websocket.TextMessage, []byte("through the environment's proxy"))
	if seen := p.seen(); len(seen) != 1 || seen[0].target != "ws-client-test.example:"+port {
		t.Fatalf("proxy saw %+v", seen)
	}
}

// ctHTTPURL parses a ws URL as the http URL ProxyFromEnvironment expects.
func ctHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	return u, nil
}

// ---------------------------------------------------------------------------
// 4. URLs and request headers
// ---------------------------------------------------------------------------

// ctSeen is what a capturing handler copied from the request before
// Upgrade.
type ctSeen struct {
	host, origin, protocol, cookie string
}

// ctCaptureServer serves echoHandler at /ws with upgrader u on addr, sends
// the request's Host, Origin, Sec-WebSocket-Protocol and Cookie headers on
// the returned channel (copied before Upgrade: the RequestContext is
// recycled), and returns the address it listens on.
func ctCaptureServer(t testing.TB, addr string, opts []config.Option, u *websocket.HertzUpgrader, setup func(ctx *app.RequestContext)) (string, <-chan ctSeen) {
	t.Helper()
	seen := make(chan ctSeen, 16)
	bound := wstest.Serve(t, addr, opts, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			seen <- ctSeen{
				host:     string(ctx.Request.Host()),
				origin:   string(ctx.Request.Header.Peek("Origin")),
				protocol: string(ctx.Request.Header.Peek("Sec-WebSocket-Protocol")),
				cookie:   string(ctx.Request.Header.Peek("Cookie")),
			}
			if setup != nil {
				setup(ctx)
			}
			_ = u.Upgrade(ctx, wstest.Echo)
		})
	})
	return bound, seen
}

var errCtStop = errors.New("ct: stop dialling here")

func TestClientDialerURLs(t *testing.T) {
	t.Run("default-ports", func(t *testing.T) {
		cases := []struct{ wsURL, addr string }{
			{"ws://example.test/", "example.test:80"},
			{"wss://example.test/", "example.test:443"},
			{"ws://example.test", "example.test:80"},
			{"ws://example.test:8080/x?y=z", "example.test:8080"},
			{"wss://example.test:8443/", "example.test:8443"},
			{"ws://[::1]/", "[::1]:80"},
			{"wss://[::1]/", "[::1]:443"},
			{"ws://[::1]:9000/", "[::1]:9000"},
			{"ws://127.0.0.1/", "127.0.0.1:80"},
			{"WS://EXAMPLE.test/", "EXAMPLE.test:80"},
		}
		for _, cs := range cases {
			var got string
			d := &websocket.Dialer{NetDialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
				if network != "tcp" {
					t.Errorf("network %q", network)
				}
				got = addr
				return nil, errCtStop
			}}
			_, resp, err := d.Dial(cs.wsURL, nil)
			if !errors.Is(err, errCtStop) || resp != nil {
				t.Fatalf("%s: error %v, response %v", cs.wsURL, err, resp)
			}
			if got != cs.addr {
				t.Fatalf("%s: dialled %q, want %q", cs.wsURL, got, cs.addr)
			}
		}
		// NetDial is used when NetDialContext is not set.
		var got string
		d := &websocket.Dialer{NetDial: func(_, addr string) (net.Conn, error) {
			got = addr
			return nil, errCtStop
		}}
		if _, _, err := d.Dial("wss://example.test/", nil); !errors.Is(err, errCtStop) || got != "example.test:443" {
			t.Fatalf("NetDial: %v, %q", err, got)
		}
		// A proxy URL's port defaults the same way.
		for _, cs := range []struct{ proxy, addr string }{
			{"http://proxy.test", "proxy.test:80"},
			{"https://proxy.test", "proxy.test:443"},
			{"http://proxy.test:3128", "proxy.test:3128"},
		} {
			pu, _ := url.Parse(cs.proxy)
			d := &websocket.Dialer{
				Proxy: http.ProxyURL(pu),
				NetDialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
					got = addr
					return nil, errCtStop
				},
			}
			if _, _, err := d.Dial("ws://example.test/", nil); !errors.Is(err, errCtStop) || got != cs.addr {
				t.Fatalf("proxy %s: %v, dialled %q, want %q", cs.proxy, err, got, cs.addr)
			}
		}
	})

	t.Run("ipv4", func(t *testing.T) {
		addr, seen := ctCaptureServer(t, "127.0.0.1:0", nil, &websocket.HertzUpgrader{}, nil)
		c, _ := wstest.Dial(t, &websocket.Dialer{}, "ws://"+addr+"/ws", nil)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("v4"))
		s := wstest.Receive(t, seen, "request")
		if s.host != addr || s.origin != "" {
			t.Fatalf("Host %q, Origin %q; want %q and none", s.host, s.origin, addr)
		}
	})

	t.Run("ipv6", func(t *testing.T) {
		if !ctIPv6Loopback() {
			t.Skip("no IPv6 loopback")
		}
		for _, tc := range wstest.Transports {
			addr, seen := ctCaptureServer(t, "[::1]:0", tc.Options, &websocket.HertzUpgrader{}, nil)
			if !strings.HasPrefix(addr, "[::1]:") {
				t.Fatalf("listening on %s", addr)
			}
			c, _ := wstest.Dial(t, &websocket.Dialer{}, "ws://"+addr+"/ws", nil)
			wstest.CheckEcho(t, c, websocket.TextMessage, []byte("v6"))
			s := wstest.Receive(t, seen, "request")
			if s.host != addr || s.origin != "" {
				t.Fatalf("%s: Host %q, Origin %q; want %q and none", tc.Name, s.host, s.origin, addr)
			}
			if ra := c.RemoteAddr().String(); ra != addr {
				t.Fatalf("RemoteAddr %s", ra)
			}
		}
	})

	t.Run("header-overrides", func(t *testing.T) {
		u := &websocket.HertzUpgrader{
			CheckOrigin:  func(*app.RequestContext) bool { return true },
			Subprotocols: []string{"chat", "superchat"},
		}
		addr, seen := ctCaptureServer(t, "127.0.0.1:0", nil, u, nil)
		h := http.Header{}
		h.Set("Origin", "https://app.example")
		h.Set("Host", "virtual.example:1234")
		h.Set("X-Custom", "kept")
		c, _ := wstest.Dial(t, &websocket.Dialer{}, "ws://"+addr+"/ws", h)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("override"))
		s := wstest.Receive(t, seen, "request")
		if s.host != "virtual.example:1234" || s.origin != "https://app.example" {
			t.Fatalf("Host %q, Origin %q", s.host, s.origin)
		}

		// Subprotocols given as a header count as offered.
		h = http.Header{}
		h.Set("Sec-WebSocket-Protocol", "superchat, chat")
		c, resp := wstest.Dial(t, &websocket.Dialer{}, "ws://"+addr+"/ws", h)
		if c.Subprotocol() != "chat" || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
			t.Fatalf("subprotocol %q", c.Subprotocol())
		}
		if s := wstest.Receive(t, seen, "request"); s.protocol != "superchat, chat" {
			t.Fatalf("Sec-WebSocket-Protocol %q", s.protocol)
		}
		c, _ = wstest.Dial(t, &websocket.Dialer{Subprotocols: []string{"other", "superchat"}}, "ws://"+addr+"/ws", nil)
		if c.Subprotocol() != "superchat" {
			t.Fatalf("subprotocol %q", c.Subprotocol())
		}
		wstest.Receive(t, seen, "request")

		// The same-origin check of a default upgrader accepts a request
		// without Origin and refuses a foreign one.
		addr2, _ := ctCaptureServer(t, "127.0.0.1:0", nil, &websocket.HertzUpgrader{}, nil)
		wstest.Dial(t, &websocket.Dialer{}, "ws://"+addr2+"/ws", nil)
		h = http.Header{}
		h.Set("Origin", "http://evil.example")
		_, resp, err := (&websocket.Dialer{}).Dial("ws://"+addr2+"/ws", h)
		if err != websocket.ErrBadHandshake || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign origin: %v, %v", err, resp)
		}
	})

	t.Run("duplicate-headers", func(t *testing.T) {
		noDial := func(context.Context, string, string) (net.Conn, error) {
			t.Error("dialled despite a bad request header")
			return nil, errCtStop
		}
		for _, name := range []string{"Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"} {
			for _, h := range []http.Header{
				{http.CanonicalHeaderKey(name): {"x"}},
				{name: {"x"}},                  // as written, not canonical
				{strings.ToLower(name): {"x"}}, // lower case
			} {
				d := &websocket.Dialer{NetDialContext: noDial}
				_, _, err := d.Dial("ws://example.test/", h)
				if err == nil || !strings.Contains(err.Error(), "duplicate") {
					t.Fatalf("header %v: error %v", h, err)
				}
			}
		}
		d := &websocket.Dialer{NetDialContext: noDial, Subprotocols: []string{"a"}}
		h := http.Header{}
		h.Set("Sec-WebSocket-Protocol", "b")
		if _, _, err := d.Dial("ws://example.test/", h); err == nil || !strings.Contains(err.Error(), "duplicate") {
			t.Fatalf("Sec-WebSocket-Protocol with Subprotocols: %v", err)
		}
	})

	t.Run("bad-urls", func(t *testing.T) {
		d := &websocket.Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
			t.Error("dialled a bad URL")
			return nil, errCtStop
		}}
		for _, u := range []string{
			"http://example.test/",
			"https://example.test/",
			"ftp://example.test/",
			"example.test/ws",
			"ws://user@example.test/",
			"ws://user:pass@example.test/",
			"wss://:pass@example.test/",
			"ws:///path",
			"ws://",
			"ws://exa mple.test/",
			"ws://[::1/",
			"://example.test",
		} {
			c, resp, err := d.Dial(u, nil)
			if err == nil || c != nil || resp != nil {
				t.Fatalf("%q: conn %v, resp %v, err %v", u, c, resp, err)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// 5. Handshake failures against a raw server
// ---------------------------------------------------------------------------

// ctRawListener is a TCP listener on 127.0.0.1 whose connections the test
// drives by hand.
type ctRawListener struct {
	t    testing.TB
	ln   *net.TCPListener
	addr string
}

func ctListen(t testing.TB) *ctRawListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &ctRawListener{t: t, ln: ln.(*net.TCPListener), addr: ln.Addr().String()}
}

// ctRawPeer is the server end of one connection, with the handshake
// request it received.
type ctRawPeer struct {
	t   testing.TB
	c   net.Conn
	br  *bufio.Reader
	req *http.Request
}

// accept takes the next connection and reads its request.
func (l *ctRawListener) accept() *ctRawPeer {
	l.t.Helper()
	_ = l.ln.SetDeadline(time.Now().Add(ctGuard))
	c, err := l.ln.Accept()
	if err != nil {
		l.t.Fatalf("accept: %v", err)
	}
	l.t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(ctGuard))
	p := &ctRawPeer{t: l.t, c: c, br: bufio.NewReader(c)}
	if p.req, err = http.ReadRequest(p.br); err != nil {
		l.t.Fatalf("read request: %v", err)
	}
	return p
}

func (p *ctRawPeer) write(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.c, s); err != nil {
		p.t.Fatalf("raw server write: %v", err)
	}
}

// accept101 is the valid response to the peer's request, plus extra
// header lines (each ending in CRLF).
func (p *ctRawPeer) accept101(extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + wstest.AcceptKey(p.req.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"
}

// expectEOF checks that the client closes the connection without sending
// anything more: the read ends with EOF (or a reset, when the client closed
// with unread bytes), not a timeout.
func (p *ctRawPeer) expectEOF() {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, p.br)
	if err == nil {
		err = io.EOF // io.Copy reports EOF as nil
	}
	if n != 0 || !wstest.IsClosed(err) {
		p.t.Fatalf("raw server read %d more bytes, then %v; want EOF", n, err)
	}
}

// ctDialResult is what a DialContext call returned.
type ctDialResult struct {
	c    *websocket.Conn
	resp *http.Response
	err  error
	took time.Duration
}

func ctDialAsync(ctx context.Context, d *websocket.Dialer, wsURL string, h http.Header) <-chan ctDialResult {
	ch := make(chan ctDialResult, 1)
	go func() {
		start := time.Now()
		c, resp, err := d.DialContext(ctx, wsURL, h)
		ch <- ctDialResult{c, resp, err, time.Since(start)}
	}()
	return ch
}

func TestClientDialerHandshakeFailures(t *testing.T) {
	type check func(t *testing.T, r ctDialResult)
	badHandshake := func(reason string) check {
		return func(t *testing.T, r ctDialResult) {
			if !errors.Is(r.err, websocket.ErrBadHandshake) {
				t.Fatalf("error %v, want ErrBadHandshake", r.err)
			}
			if !strings.Contains(r.err.Error(), reason) {
				t.Fatalf("error %q does not say %q", r.err, reason)
			}
			if r.resp == nil || r.resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("response %v, want the 101", r.resp)
			}
		}
	}
	body5000 := ctPayload(5000, true, 50)
	cases := []struct {
		name    string
		dialer  websocket.Dialer
		respond func(p *ctRawPeer) string
		cancel  bool // cancel the context once the request is in
		check   check
	}{
		{
			name:    "wrong-accept",
			respond: func(p *ctRawPeer) string { return strings.Replace(p.accept101(""), "Accept: ", "Accept: x", 1) },
			check:   badHandshake("Sec-WebSocket-Accept"),
		},
		{
			name: "accept-of-another-key",
			respond: func(p *ctRawPeer) string {
				return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + wstest.SampleAccept + "\r\n\r\n"
			},
			check: badHandshake("Sec-WebSocket-Accept"),
		},
		{
			name: "two-accepts",
			respond: func(p *ctRawPeer) string {
				a := wstest.AcceptKey(p.req.Header.Get("Sec-WebSocket-Key"))
				return p.accept101("Sec-WebSocket-Accept: " + a + "\r\n")
			},
			check: badHandshake("Sec-WebSocket-Accept"),
		},
		{
			name: "200-with-body",
			respond: func(p *ctRawPeer) string {
				return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n" + string(body5000)
			},
			check: func(t *testing.T, r ctDialResult) {
				if r.err != websocket.ErrBadHandshake {
					t.Fatalf("error %v, want exactly ErrBadHandshake", r.err)
				}
				if r.resp == nil || r.resp.StatusCode != http.StatusOK || r.resp.Header.Get("Content-Type") != "text/plain" {
					t.Fatalf("response %+v", r.resp)
				}
				b, err := io.ReadAll(r.resp.Body)
				if err != nil || !bytes.Equal(b, body5000[:1024]) {
					t.Fatalf("body: %d bytes, %v; want the first 1024", len(b), err)
				}
			},
		},
		{
			name: "401-short-body",
			respond: func(p *ctRawPeer) string {
				return "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 5\r\n\r\nnope!"
			},
			check: func(t *testing.T, r ctDialResult) {
				if r.err != websocket.ErrBadHandshake || r.resp == nil || r.resp.StatusCode != 401 {
					t.Fatalf("%v, %v", r.err, r.resp)
				}
				if b, _ := io.ReadAll(r.resp.Body); string(b) != "nope!" || r.resp.Header.Get("WWW-Authenticate") != "Basic" {
					t.Fatalf("body %q", b)
				}
			},
		},
		{
			name: "redirect",
			respond: func(p *ctRawPeer) string {
				return "HTTP/1.1 302 Found\r\nLocation: ws://elsewhere.test/\r\nContent-Length: 0\r\n\r\n"
			},
			check: func(t *testing.T, r ctDialResult) {
				if r.err != websocket.ErrBadHandshake || r.resp == nil || r.resp.StatusCode != 302 || r.resp.Header.Get("Location") != "ws://elsewhere.test/" {
					t.Fatalf("%v, %+v", r.err, r.resp)
				}
			},
		},
		{
			name: "missing-upgrade",
			respond: func(p *ctRawPeer) string {
				return strings.Replace(p.accept101(""), "Upgrade: websocket\r\n", "", 1)
			},
			check: badHandshake("Upgrade"),
		},
		{
			name: "wrong-upgrade",
			respond: func(p *ctRawPeer) string {
				return strings.Replace(p.accept101(""), "Upgrade: websocket\r\n", "Upgrade: h2c\r\n", 1)
			},
			check: badHandshake("Upgrade"),
		},
		{
			name: "missing-connection",
			respond: func(p *ctRawPeer) string {
				return strings.Replace(p.accept101(""), "Connection: Upgrade\r\n", "", 1)
			},
			check: badHandshake("Connection"),
		},
		{
			name:    "subprotocol-not-offered",
			respond: func(p *ctRawPeer) string { return p.accept101("Sec-WebSocket-Protocol: chat\r\n") },
			check:   badHandshake("subprotocol"),
		},
		{
			name:    "other-subprotocol",
			dialer:  websocket.Dialer{Subprotocols: []string{"a", "b"}},
			respond: func(p *ctRawPeer) string { return p.accept101("Sec-WebSocket-Protocol: c\r\n") },
			check:   badHandshake("subprotocol"),
		},
		{
			name:    "extension-not-offered",
			respond: func(p *ctRawPeer) string { return p.accept101("Sec-WebSocket-Extensions: permessage-deflate\r\n") },
			check:   badHandshake("permessage-deflate"),
		},
		{
			name:    "unknown-extension",
			dialer:  websocket.Dialer{EnableCompression: true},
			respond: func(p *ctRawPeer) string { return p.accept101("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n") },
			check:   badHandshake("x-webkit-deflate-frame"),
		},
		{
			name:   "deflate-bad-window",
			dialer: websocket.Dialer{EnableCompression: true},
			respond: func(p *ctRawPeer) string {
				return p.accept101("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n")
			},
			check: badHandshake("server_max_window_bits"),
		},
		{
			name:   "deflate-unknown-param",
			dialer: websocket.Dialer{EnableCompression: true},
			respond: func(p *ctRawPeer) string {
				return p.accept101("Sec-WebSocket-Extensions: permessage-deflate; foo=bar\r\n")
			},
			check: badHandshake("foo"),
		},
		{
			name: "deflate-client-bits-not-offered-value",
			dialer: websocket.Dialer{EnableCompression: true, Compression: websocket.CompressionOptions{
				ClientMaxWindowBits: 10,
			}},
			respond: func(p *ctRawPeer) string {
				return p.accept101("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n")
			},
			check: badHandshake("client_max_window_bits"),
		},
		{
			name: "deflate-missing-server-no-takeover",
			dialer: websocket.Dialer{EnableCompression: true, Compression: websocket.CompressionOptions{
				ServerNoContextTakeover: true,
			}},
			respond: func(p *ctRawPeer) string { return p.accept101("Sec-WebSocket-Extensions: permessage-deflate\r\n") },
			check:   badHandshake("server_no_context_takeover"),
		},
		{
			name:   "deflate-twice",
			dialer: websocket.Dialer{EnableCompression: true},
			respond: func(p *ctRawPeer) string {
				return p.accept101("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n")
			},
			check: badHandshake("permessage-deflate"),
		},
		{
			name:    "malformed-extensions",
			dialer:  websocket.Dialer{EnableCompression: true},
			respond: func(p *ctRawPeer) string { return p.accept101("Sec-WebSocket-Extensions: ;;;\r\n") },
			check:   badHandshake("Extensions"),
		},
		{
			name:    "not-http",
			respond: func(p *ctRawPeer) string { return "SSH-2.0-OpenSSH_9.6\r\n" },
			check: func(t *testing.T, r ctDialResult) {
				if r.err == nil || r.resp != nil {
					t.Fatalf("%v, %v", r.err, r.resp)
				}
			},
		},
		{
			name:    "timeout",
			dialer:  websocket.Dialer{HandshakeTimeout: 200 * time.Millisecond},
			respond: func(p *ctRawPeer) string { return "" },
			check: func(t *testing.T, r ctDialResult) {
				// No response arrived: the error is the context's, which
				// is also a net.Error whose Timeout() is true.
				var ne net.Error
				if !errors.Is(r.err, context.DeadlineExceeded) || !errors.As(r.err, &ne) || !ne.Timeout() || r.resp != nil {
					t.Fatalf("error %v (%T), response %v; want context.DeadlineExceeded", r.err, r.err, r.resp)
				}
				if r.took < 200*time.Millisecond || r.took > 5*time.Second {
					t.Fatalf("timed out after %v", r.took)
				}
			},
		},
		{
			name:    "timeout-in-headers",
			dialer:  websocket.Dialer{HandshakeTimeout: 200 * time.Millisecond},
			respond: func(p *ctRawPeer) string { return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs" },
			check: func(t *testing.T, r ctDialResult) {
				if !errors.Is(r.err, context.DeadlineExceeded) || r.resp != nil {
					t.Fatalf("error %v (%T), response %v; want context.DeadlineExceeded", r.err, r.err, r.resp)
				}
			},
		},
		{
			name:    "cancelled",
			respond: func(p *ctRawPeer) string { return "" },
			cancel:  true,
			check: func(t *testing.T, r ctDialResult) {
				if !errors.Is(r.err, context.Canceled) || r.resp != nil {
					t.Fatalf("error %v (%T), response %v; want context.Canceled", r.err, r.err, r.resp)
				}
			},
		},
	}
	for _, cs := range cases {
		cs := cs
		t.Run(cs.name, func(t *testing.T) {
			l := ctListen(t)
			baseline := wstest.Goroutines()
			ctx, cancel := context.WithTimeout(context.Background(), ctGuard)
			defer cancel()
			d := cs.dialer
			results := ctDialAsync(ctx, &d, "ws://"+l.addr+"/ws", nil)
			p := l.accept()
			if s := cs.respond(p); s != "" {
				p.write(s)
			}
			if cs.cancel {
				cancel()
			}
			r := wstest.Receive(t, results, "dial")
			if r.c != nil {
				r.c.Close()
				t.Fatal("dial succeeded")
			}
			cs.check(t, r)
			p.expectEOF()
			wstest.WaitGoroutines(t, baseline, 0)
		})
	}

	t.Run("cancelled-before-dial", func(t *testing.T) {
		l := ctListen(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, resp, err := (&websocket.Dialer{}).DialContext(ctx, "ws://"+l.addr+"/ws", nil)
		if !errors.Is(err, context.Canceled) || resp != nil {
			t.Fatalf("error %v (%T), response %v; want context.Canceled", err, err, resp)
		}
	})

	t.Run("connection-refused", func(t *testing.T) {
		l := ctListen(t)
		addr := l.addr
		l.ln.Close()
		_, resp, err := (&websocket.Dialer{}).Dial("ws://"+addr+"/ws", nil)
		if err == nil || resp != nil || errors.Is(err, websocket.ErrBadHandshake) {
			t.Fatalf("error %v, response %v", err, resp)
		}
	})
}

// TestClientDialerServerRefuses checks the errors our own server's refusals
// produce.
func TestClientDialerServerRefuses(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				_ = (&websocket.HertzUpgrader{}).Upgrade(ctx, wstest.Echo)
			})
			h.GET("/plain", func(_ context.Context, ctx *app.RequestContext) {
				ctx.String(http.StatusOK, "just HTTP")
			})
		})
		for _, cs := range []struct {
			path   string
			status int
			body   string
		}{
			{"/nowhere", http.StatusNotFound, ""},
			{"/plain", http.StatusOK, "just HTTP"},
		} {
			_, resp, err := (&websocket.Dialer{}).Dial("ws://"+addr+cs.path, nil)
			if err != websocket.ErrBadHandshake || resp == nil || resp.StatusCode != cs.status {
				t.Fatalf("%s: %v, %v", cs.path, err, resp)
			}
			if b, _ := io.ReadAll(resp.Body); cs.body != "" && string(b) != cs.body {
				t.Fatalf("%s: body %q", cs.path, b)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// 6. Masking
// ---------------------------------------------------------------------------

// readFrame reads one frame the client sent and returns its header and
// unmasked payload.
func (p *ctRawPeer) readFrame() (frame.Header, []byte) {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := wstest.ReadFrame(p.br, 1<<24)
	if err != nil {
		p.t.Fatalf("read frame: %v", err)
	}
	return f.Header, f.Payload
}

// ctRawUpgrade dials the raw listener with d and completes the handshake
// with a valid 101.
func ctRawUpgrade(t *testing.T, d *websocket.Dialer) (*websocket.Conn, *ctRawPeer) {
	t.Helper()
	l := ctListen(t)
	results := ctDialAsync(context.Background(), d, "ws://"+l.addr+"/ws", nil)
	p := l.accept()
	p.write(p.accept101(""))
	r := wstest.Receive(t, results, "dial")
	if r.err != nil {
		t.Fatalf("dial: %v", r.err)
	}
	t.Cleanup(func() { r.c.Close() })
	return r.c, p
}

func TestClientDialerMasking(t *testing.T) {
	c, p := ctRawUpgrade(t, &websocket.Dialer{WriteBufferSize: 64})

	// Every frame is masked, each with its own key.
	keys := map[[4]byte]bool{}
	const messages = 16
	for i := 0; i < messages; i++ {
		msg := []byte(fmt.Sprintf("message %d %s", i, strings.Repeat("x", i*50)))
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		h, payload := p.readFrame()
		if !h.Masked || !h.Fin || h.Opcode != frame.OpText || h.Rsv != 0 {
			t.Fatalf("frame %d: header %+v", i, h)
		}
		if !bytes.Equal(payload, msg) {
			t.Fatalf("frame %d: unmasked payload %q", i, payload)
		}
		keys[h.Mask] = true
	}
	if len(keys) < messages-1 {
		t.Fatalf("%d distinct masking keys in %d frames", len(keys), messages)
	}

	// Control frames are masked too.
	if err := c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if h, payload := p.readFrame(); !h.Masked || h.Opcode != frame.OpPing || string(payload) != "ping" {
		t.Fatalf("ping frame %+v %q", h, payload)
	}

	// NextWriter emits a frame each time the 64-byte buffer fills.
	w, err := c.NextWriter(websocket.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	msg := ctPayload(200, false, 6)
	for i := 0; i < len(msg); i += 10 {
		if _, err := w.Write(msg[i : i+10]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []byte
	var ops []frame.Opcode
	for {
		h, payload := p.readFrame()
		if !h.Masked {
			t.Fatalf("unmasked fragment %+v", h)
		}
		keys[h.Mask] = true
		ops = append(ops, h.Opcode)
		got = append(got, payload...)
		if h.Fin {
			break
		}
	}
	want := []frame.Opcode{frame.OpBinary, frame.OpContinuation, frame.OpContinuation, frame.OpContinuation}
	if fmt.Sprint(ops) != fmt.Sprint(want) || !bytes.Equal(got, msg) {
		t.Fatalf("fragments %v (%d bytes), want %v", ops, len(got), want)
	}

	// Unmasked frames from the server are fine ...
	p.write(string(wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("from server"))))
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "from server" {
		t.Fatalf("read %q, %v", m, err)
	}
	// ... a masked one fails the connection with 1002.
	p.write(string(wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("masked"))))
	_, _, err = c.ReadMessage()
	var pe *websocket.ProtocolError
	if !errors.As(err, &pe) || pe.Code != websocket.CloseProtocolError {
		t.Fatalf("read: %v (%T), want a *ProtocolError with code 1002", err, err)
	}
	h, payload := p.readFrame()
	if !h.Masked || h.Opcode != frame.OpClose {
		t.Fatalf("expected a masked close frame, got %+v", h)
	}
	if code, _, err := frame.ParseClosePayload(payload); err != nil || code != frame.CloseProtocolError {
		t.Fatalf("close payload %q: code %d, %v", payload, code, err)
	}
	p.expectEOF()
	if _, _, err2 := c.ReadMessage(); !errors.As(err2, &pe) {
		t.Fatalf("second read: %v, want the same error", err2)
	}
}

// TestClientDialerServerFramesAfter101 has the raw server send a frame in
// the same write as its 101: the client must not lose the bytes its
// handshake reader buffered.
func TestClientDialerServerFramesAfter101(t *testing.T) {
	l := ctListen(t)
	results := ctDialAsync(context.Background(), &websocket.Dialer{}, "ws://"+l.addr+"/ws", nil)
	p := l.accept()
	first := wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("hello early"))
	ping := wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpPing}, []byte("early ping"))
	p.write(p.accept101("") + string(first) + string(ping))
	r := wstest.Receive(t, results, "dial")
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.c.Close()
	if _, m, err := r.c.ReadMessage(); err != nil || string(m) != "hello early" {
		t.Fatalf("read %q, %v", m, err)
	}
	go func() { _, _, _ = r.c.ReadMessage() }()
	if h, payload := p.readFrame(); h.Opcode != frame.OpPong || string(payload) != "early ping" {
		t.Fatalf("got %+v %q, want the pong", h, payload)
	}
}

// ---------------------------------------------------------------------------
// 7. Cookies
// ---------------------------------------------------------------------------

func TestClientDialerCookies(t *testing.T) {
	u := &websocket.HertzUpgrader{}
	addr, seen := ctCaptureServer(t, "127.0.0.1:0", nil, u, func(ctx *app.RequestContext) {
		ctx.Response.Header.Set("Set-Cookie", "fresh=from-101; Path=/")
	})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	httpURL, _ := url.Parse("http://" + addr + "/")
	jar.SetCookies(httpURL, []*http.Cookie{{Name: "session", Value: "abc123", Path: "/"}})

	d := &websocket.Dialer{Jar: jar}
	c, resp := wstest.Dial(t, d, "ws://"+addr+"/ws", nil)
	wstest.CheckEcho(t, c, websocket.TextMessage, []byte("cookies"))
	if s := wstest.Receive(t, seen, "request"); s.cookie != "session=abc123" {
		t.Fatalf("Cookie %q, want session=abc123", s.cookie)
	}
	if sc := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "fresh=from-101") {
		t.Fatalf("Set-Cookie %q", sc)
	}
	var names []string
	for _, ck := range jar.Cookies(httpURL) {
		names = append(names, ck.Name+"="+ck.Value)
	}
	if got := strings.Join(names, "; "); !strings.Contains(got, "fresh=from-101") || !strings.Contains(got, "session=abc123") {
		t.Fatalf("jar holds %q", got)
	}

	// The next dial sends both, plus a Cookie the caller adds.
	h := http.Header{}
	h.Set("Cookie", "manual=1")
	wstest.Dial(t, d, "ws://"+addr+"/ws", h)
	s := wstest.Receive(t, seen, "request")
	for _, want := range []string{"session=abc123", "fresh=from-101", "manual=1"} {
		if !strings.Contains(s.cookie, want) {
			t.Fatalf("Cookie %q lacks %s", s.cookie, want)
		}
	}

	// Without a Jar, cookies are neither sent nor stored.
	wstest.Dial(t, &websocket.Dialer{}, "ws://"+addr+"/ws", nil)
	if s := wstest.Receive(t, seen, "request"); s.cookie != "" {
		t.Fatalf("Cookie %q without a jar", s.cookie)
	}

	// A refused handshake's Set-Cookie is stored too (as browsers do).
	l := ctListen(t)
	results := ctDialAsync(context.Background(), d, "ws://"+l.addr+"/ws", nil)
	p := l.accept()
	p.write("HTTP/1.1 403 Forbidden\r\nSet-Cookie: refused=1; Path=/\r\nContent-Length: 0\r\n\r\n")
	if r := wstest.Receive(t, results, "dial"); r.err != websocket.ErrBadHandshake {
		t.Fatalf("dial: %v", r.err)
	}
	rawURL, _ := url.Parse("http://" + l.addr + "/")
	found := false
	for _, ck := range jar.Cookies(rawURL) {
		found = found || ck.Name == "refused"
	}
	if !found {
		t.Fatal("Set-Cookie of a refused handshake not stored")
	}
}

// ---------------------------------------------------------------------------
// 8. ClientUpgrader on Hertz's HTTP client
// ---------------------------------------------------------------------------

// Hertz's client needs no special option for the upgrade: for a response
// with status 101 and a Connection header equal to "Upgrade" (compared
// whole, case-insensitively: "Connection: keep-alive, Upgrade" does not
// count), pkg/protocol/http1/client.go stops treating the connection as
// HTTP, does not return it to its pool, and sets the response's body
// stream to an upgradeConn whose Hijack hands the connection over;
// protocol.Response.Hijack calls it. WithResponseBodyStream is not needed
// (a 101 has no body to read). Two things to know, both handled by
// ClientUpgrader.UpgradeResponse and tested below:
//
//   - upgradeConn has a finalizer that closes the connection once the
//     response's body stream becomes unreachable, which happens as soon as
//     the caller releases or resets the response (protocol.ReleaseResponse,
//     the usual defer);
//   - the client's read and write timeouts (WithClientReadTimeout,
//     WithWriteTimeout) are left set on the connection it hands over.

// ctHertzClients are Hertz's two client network stacks.
var ctHertzClients = []struct {
	name string
	opts []config.ClientOption
}{
	{name: "netpoll-dialer"},
	{name: "standard-dialer", opts: []config.ClientOption{client.WithDialer(standard.NewDialer())}},
}

// ctHertzUpgrade makes the handshake request with Hertz's client. prepare,
// when not nil, edits the request after PrepareRequest.
func ctHertzUpgrade(t testing.TB, cli *client.Client, u *websocket.ClientUpgrader, httpURL string, prepare func(*protocol.Request)) (*websocket.Conn, *protocol.Response, error) {
	t.Helper()
	req, resp := protocol.AcquireRequest(), protocol.AcquireResponse()
	defer protocol.ReleaseRequest(req)
	req.SetRequestURI(httpURL)
	req.SetMethod(http.MethodGet)
	u.PrepareRequest(req)
	if prepare != nil {
		prepare(req)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ctGuard)
	defer cancel()
	if err := cli.Do(ctx, req, resp); err != nil {
		t.Fatalf("Do: %v", err)
	}
	c, err := u.UpgradeResponse(req, resp)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func ctNewHertzClient(t testing.TB, opts ...config.ClientOption) *client.Client {
	t.Helper()
	cli, err := client.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

func TestClientUpgraderHertz(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, hc := range ctHertzClients {
			hc := hc
			t.Run(hc.name, func(t *testing.T) {
				for _, compress := range []bool{false, true} {
					u := &websocket.HertzUpgrader{EnableCompression: compress, Subprotocols: []string{"chat"}}
					wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, wstest.Echo)
					httpURL := "http://" + strings.TrimPrefix(wsURL, "ws://")
					cli := ctNewHertzClient(t, hc.opts...)
					cu := &websocket.ClientUpgrader{EnableCompression: compress, Subprotocols: []string{"other", "chat"}}
					c, resp, err := ctHertzUpgrade(t, cli, cu, httpURL, nil)
					if err != nil {
						t.Fatalf("compress=%v: %v", compress, err)
					}
					ext := string(resp.Header.Peek("Sec-WebSocket-Extensions"))
					if (ext != "") != compress || (compress && !strings.HasPrefix(ext, "permessage-deflate")) {
						t.Fatalf("compress=%v: Sec-WebSocket-Extensions %q", compress, ext)
					}
					if c.Subprotocol() != "chat" {
						t.Fatalf("subprotocol %q", c.Subprotocol())
					}
					// Release the response, as callers do, and collect
					// garbage: the connection must survive.
					protocol.ReleaseResponse(resp)
					for i := 0; i < 3; i++ {
						runtime.GC()
						time.Sleep(5 * time.Millisecond)
					}
					msg := ctWords(50000, 2)
					for i := 0; i < 2; i++ {
						wstest.CheckEcho(t, c, websocket.TextMessage, msg)
					}
					for _, n := range []int{0, 1, 125, 126, 65536, 1 << 20} {
						wstest.CheckEcho(t, c, websocket.BinaryMessage, ctPayload(n, false, int64(n)))
					}
					if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)); err != nil {
						t.Fatal(err)
					}
					if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
						t.Fatalf("close: %v", err)
					}
				}
			})
		}
	})
}

// TestClientUpgraderHertzTimeouts: the Hertz client's read and write
// timeouts bound the HTTP exchange, not the WebSocket that follows.
func TestClientUpgraderHertzTimeouts(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nil, wstest.Echo)
		httpURL := "http://" + strings.TrimPrefix(wsURL, "ws://")
		for _, hc := range ctHertzClients {
			opts := append([]config.ClientOption{
				client.WithClientReadTimeout(200 * time.Millisecond),
				client.WithWriteTimeout(200 * time.Millisecond),
			}, hc.opts...)
			cli := ctNewHertzClient(t, opts...)
			c, _, err := ctHertzUpgrade(t, cli, &websocket.ClientUpgrader{}, httpURL, nil)
			if err != nil {
				t.Fatalf("%s: %v", hc.name, err)
			}
			time.Sleep(500 * time.Millisecond)
			wstest.CheckEcho(t, c, websocket.TextMessage, []byte(hc.name+" after the client's timeouts"))
			// Reading idle past them, too.
			done := make(chan error, 1)
			go func() {
				_, _, err := c.ReadMessage()
				done <- err
			}()
			time.Sleep(500 * time.Millisecond)
			if err := c.WriteMessage(websocket.TextMessage, []byte("late")); err != nil {
				t.Fatalf("%s: write: %v", hc.name, err)
			}
			if err := wstest.Receive(t, done, "read"); err != nil {
				t.Fatalf("%s: idle read: %v", hc.name, err)
			}
		}
	})
}

func TestClientUpgraderHertzRefused(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nil, wstest.Echo)
		httpURL := "http://" + strings.TrimPrefix(wsURL, "ws://")
		cli := ctNewHertzClient(t)
		for _, cs := range []struct {
			name    string
			status  int
			prepare func(*protocol.Request)
		}{
			{"426", http.StatusUpgradeRequired, func(req *protocol.Request) { req.Header.Set("Sec-WebSocket-Version", "8") }},
			{"400", http.StatusBadRequest, func(req *protocol.Request) { req.Header.Del("Upgrade") }},
			{"403", http.StatusForbidden, func(req *protocol.Request) { req.Header.Set("Origin", "http://evil.example") }},
		} {
			c, resp, err := ctHertzUpgrade(t, cli, &websocket.ClientUpgrader{}, httpURL, cs.prepare)
			if c != nil || !errors.Is(err, websocket.ErrBadHandshake) {
				t.Fatalf("%s: conn %v, error %v", cs.name, c, err)
			}
			if resp.StatusCode() != cs.status {
				t.Fatalf("%s: status %d", cs.name, resp.StatusCode())
			}
		}
		// The client is still usable: the refused exchanges were plain HTTP.
		c, _, err := ctHertzUpgrade(t, cli, &websocket.ClientUpgrader{}, httpURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("after refusals"))
	})

	t.Run("raw", func(t *testing.T) {
		cases := []struct {
			name    string
			upgrade websocket.ClientUpgrader
			respond func(p *ctRawPeer) string
			reason  string
		}{
			{"wrong-accept", websocket.ClientUpgrader{}, func(p *ctRawPeer) string {
				return strings.Replace(p.accept101(""), "Accept: ", "Accept: x", 1)
			}, "Sec-WebSocket-Accept"},
			{"extension-not-offered", websocket.ClientUpgrader{}, func(p *ctRawPeer) string {
				return p.accept101("Sec-WebSocket-Extensions: permessage-deflate\r\n")
			}, "permessage-deflate"},
			{"subprotocol-not-offered", websocket.ClientUpgrader{}, func(p *ctRawPeer) string {
				return p.accept101("Sec-WebSocket-Protocol: chat\r\n")
			}, "subprotocol"},
			{"deflate-bad-params", websocket.ClientUpgrader{EnableCompression: true}, func(p *ctRawPeer) string {
				return p.accept101("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n")
			}, "server_max_window_bits"},
			// Valid for RFC 6455, but Hertz hands the connection over only
			// when Connection is exactly "Upgrade".
			{"connection-list", websocket.ClientUpgrader{}, func(p *ctRawPeer) string {
				return strings.Replace(p.accept101(""), "Connection: Upgrade", "Connection: keep-alive, Upgrade", 1)
			}, "Hertz"},
		}
		for _, cs := range cases {
			cs := cs
			t.Run(cs.name, func(t *testing.T) {
				l := ctListen(t)
				cli := ctNewHertzClient(t)
				type result struct {
					c   *websocket.Conn
					err error
				}
				results := make(chan result, 1)
				go func() {
					req, resp := protocol.AcquireRequest(), protocol.AcquireResponse()
					req.SetRequestURI("http://" + l.addr + "/ws")
					req.SetMethod(http.MethodGet)
					cs.upgrade.PrepareRequest(req)
					if err := cli.Do(context.Background(), req, resp); err != nil {
						results <- result{nil, err}
						return
					}
					c, err := cs.upgrade.UpgradeResponse(req, resp)
					results <- result{c, err}
				}()
				p := l.accept()
				if p.req.Header.Get("Sec-WebSocket-Key") == "" || p.req.Header.Get("Upgrade") != "websocket" {
					t.Fatalf("request headers %v", p.req.Header)
				}
				p.write(cs.respond(p))
				r := wstest.Receive(t, results, "upgrade")
				if r.c != nil {
					r.c.Close()
					t.Fatal("upgrade succeeded")
				}
				if !errors.Is(r.err, websocket.ErrBadHandshake) || !strings.Contains(r.err.Error(), cs.reason) {
					t.Fatalf("error %v, want ErrBadHandshake mentioning %q", r.err, cs.reason)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 9. Allocations in steady state
// ---------------------------------------------------------------------------

// TestClientDialerSteadyStateAllocs measures the client's allocations per
// 1 KiB message, uncompressed: WriteMessage, and NextReader plus Read into
// a caller's buffer. testing.AllocsPerRun counts the allocations of the
// whole process, so the peer is a raw server that does not allocate (a
// Hertz server in the same process would be counted too): it discards what
// the client writes into a fixed buffer, and sends frames encoded before
// the measurement.
func TestClientDialerSteadyStateAllocs(t *testing.T) {
	const runs = 200
	c, p := ctRawUpgrade(t, &websocket.Dialer{})
	msg := ctPayload(1024, false, 1)

	// Warm up, then measure writes while the peer discards.
	for i := 0; i < 10; i++ {
		if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.c.SetReadDeadline(time.Time{})
	discarded := make(chan int64, 1)
	go func() {
		buf := make([]byte, 64<<10)
		var n int64
		for {
			m, err := p.br.Read(buf)
			n += int64(m)
			if err != nil {
				discarded <- n
				return
			}
		}
	}()
	writeAllocs := testing.AllocsPerRun(runs, func() {
		if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
	})

	// Reads: runs+1 frames (AllocsPerRun warms up with one call), sent
	// from a buffer built beforehand.
	one := wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpBinary}, msg)
	frames := bytes.Repeat(one, runs+1)
	sent := make(chan error, 1)
	go func() {
		_, err := p.c.Write(frames)
		sent <- err
	}()
	buf := make([]byte, 4096)
	readAllocs := testing.AllocsPerRun(runs, func() {
		mt, r, err := c.NextReader()
		if err != nil || mt != websocket.BinaryMessage {
			t.Fatalf("NextReader: %d, %v", mt, err)
		}
		total := 0
		for {
			n, err := r.Read(buf[total:])
			total += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if total != len(msg) || !bytes.Equal(buf[:total], msg) {
			t.Fatalf("read %d bytes", total)
		}
	})
	if err := wstest.Receive(t, sent, "raw writes"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := wstest.Receive(t, discarded, "discard"); n != int64(10+runs+1)*int64(len(one)+4) {
		// Each client frame is the server frame's size plus a 4-byte key.
		t.Fatalf("peer received %d bytes", n)
	}

	t.Logf("allocations per 1 KiB message: WriteMessage %.2f, NextReader+Read %.2f", writeAllocs, readAllocs)
	if limit := allocSlack(); writeAllocs > limit || readAllocs > limit {
		t.Fatalf("WriteMessage %.2f, NextReader+Read %.2f allocations per message; want %.0f", writeAllocs, readAllocs, limit)
	}
}
