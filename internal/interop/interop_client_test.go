package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// The tests in this file judge our client, websocket.Dialer, against
// servers nobody here wrote: gorilla/websocket and coder/websocket on
// net/http, and Node's ws (testdata/node/server.mjs). Every server speaks
// the same small protocol on top of echoing each message with its type:
//
//	"ping:<payload>"        the server pings the client with <payload> and,
//	                        once the pong is back, sends "pong:<payload>"
//	                        (coder/websocket chooses its own ping payload)
//	"close:<code>:<reason>" the server starts the close handshake
//
// gorilla/websocket and ws also send a ping with the payload "mid-message"
// between the frames of every echo over 64 KiB.
//
// Everything listens on 127.0.0.1 and is shut down when its test ends.

// ciTimeout bounds every single read, write and handshake; it is a safety
// net against hangs, far above what any step needs.
const ciTimeout = 2 * time.Minute

// ciReadLimit is the read limit on both ends: above the 16 MiB messages.
const ciReadLimit = 64 << 20

// ciDial is one configuration of our Dialer.
type ciDial struct {
	name     string
	compress bool
	opts     websocket.CompressionOptions
}

var (
	ciPlain   = ciDial{name: "plain"}
	ciDeflate = ciDial{name: "deflate", compress: true}
	// ciDeflateAll compresses every message, even empty ones.
	ciDeflateAll    = ciDial{name: "deflate/Threshold=-1", compress: true, opts: websocket.CompressionOptions{Threshold: -1}}
	ciClientBits9   = ciDial{name: "deflate/ClientMaxWindowBits=9", compress: true, opts: websocket.CompressionOptions{ClientMaxWindowBits: 9, Threshold: -1}}
	ciServerBits10  = ciDial{name: "deflate/ServerMaxWindowBits=10", compress: true, opts: websocket.CompressionOptions{ServerMaxWindowBits: 10, Threshold: -1}}
	ciClientNoTake  = ciDial{name: "deflate/ClientNoContextTakeover", compress: true, opts: websocket.CompressionOptions{ClientNoContextTakeover: true, Threshold: -1}}
	ciServerNoTake  = ciDial{name: "deflate/ServerNoContextTakeover+Level=9", compress: true, opts: websocket.CompressionOptions{ServerNoContextTakeover: true, Level: 9}}
	ciOptionDialers = []ciDial{ciDeflateAll, ciClientBits9, ciServerBits10, ciClientNoTake, ciServerNoTake}
)

// ciServer is a running peer.
type ciServer struct {
	url string
	// pingPayload reports that a server ping carries the payload the
	// client asked for (coder/websocket picks its own).
	pingPayload bool
	// closeReason reports that the server echoes the reason of the
	// client's close frame, not just its code.
	closeReason bool
	// midPings reports that the server pings in the middle of every echo
	// over ciMidPingAbove bytes.
	midPings bool
}

// ciMidPingAbove is the size above which gorilla/websocket and ws put a
// ping with payload ciMidPing between the frames of an echo.
const (
	ciMidPingAbove = 64 << 10
	ciMidPing      = "mid-message"
)

// ciStart starts a peer that supports protocols, in its order of
// preference.
type ciStart func(t *testing.T, protocols []string) ciServer

// ciCase is one echo run: a server, a Dialer configuration, the
// Sec-WebSocket-Extensions value the server must answer with and the
// message sizes to echo.
type ciCase struct {
	name  string
	start ciStart
	dial  ciDial
	want  string
	sizes []int
}

// ciFullSizes are the payload lengths around every length encoding, up
// to 16 MiB (1 MiB with -short).
func ciFullSizes() []int {
	sizes := []int{0, 1, 125, 126, 65535, 65536, 1 << 20}
	if !testing.Short() {
		sizes = append(sizes, 16<<20)
	}
	return sizes
}

// ciMediumSizes leave out the 16 MiB messages.
var ciMediumSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20}

// ---- payloads ---------------------------------------------------------------

var ciWords = []string{
	"alpha", "beta", "gamma", "délta", "ε", "中文字", "emoji😀", `{"k":1}`, "quick",
	"brown", "fox", "jumps", "over", "lazy", "dog", "websocket", "deflate",
	"window", "Ünïcödé", "コード", "frame", "mask", "payload", "continuation",
}

// ciText returns size bytes of valid UTF-8 text, multi-byte runes
// included, that never starts like a command ("ping:", "close:").
func ciText(size int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, size)
	if size > 0 {
		b = append(b, '[')
	}
	for len(b) < size {
		var piece string
		switch r.Intn(10) {
		case 0:
			piece = strconv.Itoa(r.Intn(1 << 20))
		case 1:
			letters := make([]byte, 1+r.Intn(12))
			for i := range letters {
				letters[i] = byte('a' + r.Intn(26))
			}
			piece = string(letters)
		default:
			piece = ciWords[r.Intn(len(ciWords))]
		}
		piece += " "
		if len(b)+len(piece) > size {
			piece = strings.Repeat("x", size-len(b))
		}
		b = append(b, piece...)
	}
	return b
}

// ciBinary returns size bytes mixing noise, short words and copies of
// earlier bytes at distances up to 40000, which tempt a compressor to
// reach past a small window.
func ciBinary(size int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, size)
	for i := 0; i < size; {
		n := 4 + r.Intn(200)
		if n > size-i {
			n = size - i
		}
		switch k := r.Intn(4); {
		case k == 0 || i < 64:
			r.Read(b[i : i+n])
		case k == 1:
			w := ciWords[r.Intn(len(ciWords))]
			n = copy(b[i:], w)
		default:
			d := 1 + r.Intn(40000)
			if d > i {
				d = i
			}
			for j := 0; j < n; j++ {
				b[i+j] = b[i+j-d]
			}
		}
		i += n
	}
	return b
}

// ciPayloads caches the large payloads, which take seconds to build under
// the race detector.
var ciPayloads struct {
	sync.Mutex
	m map[[2]int][]byte
}

// ciPayload returns a message of the type and size; messages of 1 MiB and
// more are built once and shared, read-only.
func ciPayload(mt, size int, seed int64) []byte {
	build := func(seed int64) []byte {
		if mt == websocket.TextMessage {
			return ciText(size, seed)
		}
		return ciBinary(size, seed)
	}
	if size < 1<<20 {
		return build(seed)
	}
	ciPayloads.Lock()
	defer ciPayloads.Unlock()
	key := [2]int{mt, size}
	p, ok := ciPayloads.m[key]
	if !ok {
		if ciPayloads.m == nil {
			ciPayloads.m = make(map[[2]int][]byte)
		}
		p = build(int64(size + mt))
		ciPayloads.m[key] = p
	}
	return p
}

func ciTypeName(mt int) string {
	switch mt {
	case websocket.TextMessage:
		return "text"
	case websocket.BinaryMessage:
		return "binary"
	}
	return "type " + strconv.Itoa(mt)
}

// ---- our client ---------------------------------------------------------------

// ciCountingConn counts the bytes that cross the client's TCP connection.
type ciCountingConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c ciCountingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c ciCountingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// ciClient is a connection of our client with what its handlers saw.
// pings and pongs are only touched by the reading goroutine (handlers run
// inside ReadMessage).
type ciClient struct {
	*websocket.Conn
	resp          *http.Response
	read, written atomic.Int64
	pings, pongs  []string
}

func ciDialer(dc ciDial, cl *ciClient) *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout:  ciTimeout,
		WriteBufferSize:   512, // NextWriter sends a frame at least every 512 bytes
		EnableCompression: dc.compress,
		Compression:       dc.opts,
		ReadLimit:         ciReadLimit,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return ciCountingConn{Conn: c, read: &cl.read, written: &cl.written}, nil
		},
	}
}

// ciConnect dials url with our client and fails the test unless the
// handshake succeeds. The connection is closed when the test ends.
func ciConnect(t *testing.T, url string, dc ciDial, protocols []string, header http.Header) *ciClient {
	t.Helper()
	cl := &ciClient{}
	d := ciDialer(dc, cl)
	d.Subprotocols = protocols
	c, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s (%s): %v (HTTP status %d)", url, dc.name, err, status)
	}
	t.Cleanup(func() { c.Close() })
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d; want 101", resp.StatusCode)
	}
	cl.Conn, cl.resp = c, resp
	defaultPing := c.PingHandler()
	c.SetPingHandler(func(p string) error {
		cl.pings = append(cl.pings, p)
		return defaultPing(p)
	})
	c.SetPongHandler(func(p string) error {
		cl.pongs = append(cl.pongs, p)
		return nil
	})
	return cl
}

// extensions is the Sec-WebSocket-Extensions value of the handshake
// response, "" when there is none.
func (cl *ciClient) extensions() string {
	return strings.Join(cl.resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
}

func (cl *ciClient) send(t *testing.T, mt int, p []byte) {
	t.Helper()
	_ = cl.SetWriteDeadline(time.Now().Add(ciTimeout))
	if err := cl.WriteMessage(mt, p); err != nil {
		t.Fatalf("write %s message of %d bytes: %v", ciTypeName(mt), len(p), err)
	}
}

// next reads the next message with a deadline.
func (cl *ciClient) next(t *testing.T) (int, []byte) {
	t.Helper()
	_ = cl.SetReadDeadline(time.Now().Add(ciTimeout))
	mt, p, err := cl.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return mt, p
}

// expect reads the next message and checks its type and every byte.
func (cl *ciClient) expect(t *testing.T, mt int, want []byte, label string) {
	t.Helper()
	gotType, got := cl.next(t)
	if gotType != mt {
		t.Fatalf("%s: echo is %s, sent %s", label, ciTypeName(gotType), ciTypeName(mt))
	}
	if !bytes.Equal(got, want) {
		at := 0
		for at < len(got) && at < len(want) && got[at] == want[at] {
			at++
		}
		t.Fatalf("%s: echo differs from byte %d on (sent %d bytes, got %d)", label, at, len(want), len(got))
	}
}

// expectClose reads until the connection reports the server's close frame
// and checks its code and, unless anyReason, its reason.
func (cl *ciClient) expectClose(t *testing.T, code int, reason string, anyReason bool) {
	t.Helper()
	for i := 0; i < 10; i++ {
		_ = cl.SetReadDeadline(time.Now().Add(ciTimeout))
		mt, p, err := cl.ReadMessage()
		if err == nil {
			t.Errorf("got a %s message of %d bytes while waiting for close %d", ciTypeName(mt), len(p), code)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("read error %v (%T); want *websocket.CloseError with code %d", err, err, code)
		}
		if ce.Code != code {
			t.Fatalf("close code %d (%q); want %d", ce.Code, ce.Text, code)
		}
		if ce.Text != reason && !(anyReason && ce.Text == "") {
			t.Fatalf("close reason %q; want %q", ce.Text, reason)
		}
		if !websocket.IsCloseError(err, code) {
			t.Fatalf("IsCloseError(%v, %d) = false", err, code)
		}
		// The error is permanent.
		if _, _, err2 := cl.ReadMessage(); !websocket.IsCloseError(err2, code) {
			t.Fatalf("read after close: %v; want the close error again", err2)
		}
		return
	}
	t.Fatalf("no close %d after 10 messages", code)
}

// closeWith starts the close handshake from our side and checks the code
// the server echoes.
func (cl *ciClient) closeWith(t *testing.T, srv ciServer, code int, reason string) {
	t.Helper()
	if err := cl.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(ciTimeout)); err != nil {
		t.Fatalf("write close %d: %v", code, err)
	}
	// gorilla/websocket echoes the code alone; the others repeat the reason.
	cl.expectClose(t, code, reason, !srv.closeReason)
	if err := cl.WriteMessage(websocket.TextMessage, []byte("late")); err != websocket.ErrCloseSent {
		t.Errorf("write after close: %v; want ErrCloseSent", err)
	}
}

// ---- the scripts --------------------------------------------------------------

// ciRunCases runs each case as a subtest against a fresh server.
func ciRunCases(t *testing.T, cases []ciCase) {
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			srv := c.start(t, nil)
			ciEchoScript(t, srv, c.dial, c.want, c.sizes)
		})
	}
}

type ciChat struct {
	Seq  int    `json:"seq"`
	User string `json:"user"`
	Room string `json:"room"`
	Text string `json:"text"`
	Ts   int64  `json:"ts"`
}

// ciEchoScript runs the echo script on one connection: every size as text
// and binary, fragmented messages from NextWriter, 50 JSON messages back to
// back, pings both ways and the close handshake.
func ciEchoScript(t *testing.T, srv ciServer, dc ciDial, wantExt string, sizes []int) {
	cl := ciConnect(t, srv.url, dc, nil, nil)
	compressed := wantExt != ""
	if got := cl.extensions(); got != wantExt {
		t.Fatalf("Sec-WebSocket-Extensions = %q; want %q", got, wantExt)
	}
	seed := int64(1)

	ok := t.Run("sizes", func(t *testing.T) {
		cl.pings = nil
		wantPings := 0
		for _, size := range sizes {
			for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
				seed++
				p := ciPayload(mt, size, seed)
				read0, written0 := cl.read.Load(), cl.written.Load()
				cl.send(t, mt, p)
				cl.expect(t, mt, p, fmt.Sprintf("%s %d B", ciTypeName(mt), size))
				if srv.midPings && size > ciMidPingAbove {
					wantPings++
				}
				if len(cl.pings) != wantPings {
					t.Fatalf("after the %s %d B echo PingHandler saw %d pings; want %d", ciTypeName(mt), size, len(cl.pings), wantPings)
				}
				if mt != websocket.TextMessage || size != 1<<20 {
					continue
				}
				// Compression must really happen both ways when it was
				// agreed, and never when it was not.
				read, written := cl.read.Load()-read0, cl.written.Load()-written0
				t.Logf("1 MiB text echo: wrote %d, read %d bytes on the wire", written, read)
				if compressed && (read > int64(size)/2 || written > int64(size)/2) {
					t.Errorf("compression agreed but 1 MiB of text took %d bytes out, %d in; want under half", written, read)
				}
				if !compressed && (read < int64(size) || written < int64(size)) {
					t.Errorf("no compression agreed but 1 MiB of text took %d bytes out, %d in", written, read)
				}
			}
		}
		for _, p := range cl.pings {
			if p != ciMidPing {
				t.Fatalf("PingHandler saw %q; want only %q", p, ciMidPing)
			}
		}
	})
	if !ok {
		return
	}

	ok = t.Run("fragmented", func(t *testing.T) {
		chunks := []int{1, 2, 3, 100, 511, 512, 513, 4096, 7, 65536}
		for i, size := range []int{0, 100003, 70001} {
			for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
				seed++
				p := ciPayload(mt, size, seed)
				_ = cl.SetWriteDeadline(time.Now().Add(ciTimeout))
				w, err := cl.NextWriter(mt)
				if err != nil {
					t.Fatal(err)
				}
				for off, k := 0, i; off < len(p); k++ {
					n := chunks[k%len(chunks)]
					if n > len(p)-off {
						n = len(p) - off
					}
					if mt == websocket.TextMessage {
						//lint:ignore SA6006 the point is to reach the writer's WriteString method
						_, err = io.WriteString(w, string(p[off:off+n]))
					} else {
						_, err = w.Write(p[off : off+n])
					}
					if err != nil {
						t.Fatalf("write at %d: %v", off, err)
					}
					off += n
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				cl.expect(t, mt, p, fmt.Sprintf("fragmented %s %d B", ciTypeName(mt), size))
			}
		}
	})
	if !ok {
		return
	}

	ok = t.Run("chatty", func(t *testing.T) {
		if got := cl.extensions(); got != wantExt {
			t.Errorf("Sec-WebSocket-Extensions = %q; want %q", got, wantExt)
		}
		const n = 50
		sent := make([]ciChat, n)
		for i := range sent {
			sent[i] = ciChat{
				Seq:  i,
				User: fmt.Sprintf("user-%d", i%7),
				Room: "lobby",
				Text: strings.TrimSpace(string(ciText(20+i*7, int64(1000+i)))),
				Ts:   1700000000000 + int64(i)*1000,
			}
			_ = cl.SetWriteDeadline(time.Now().Add(ciTimeout))
			if err := cl.WriteJSON(sent[i]); err != nil {
				t.Fatalf("WriteJSON #%d: %v", i, err)
			}
		}
		for i := range sent {
			mt, p := cl.next(t)
			var got ciChat
			if mt != websocket.TextMessage || !bytes.HasSuffix(p, []byte("\n")) {
				t.Fatalf("message #%d: %s %q; want a JSON text message ending in a newline", i, ciTypeName(mt), p)
			}
			if err := json.Unmarshal(p, &got); err != nil || got != sent[i] {
				t.Fatalf("message #%d: %q (%v); want %+v", i, p, err, sent[i])
			}
		}
	})
	if !ok {
		return
	}

	ok = t.Run("ping", func(t *testing.T) {
		payloads := []string{"", "client-ping-1", strings.Repeat("p", 125)}
		cl.pongs = nil
		for _, p := range payloads {
			if err := cl.WriteControl(websocket.PingMessage, []byte(p), time.Now().Add(ciTimeout)); err != nil {
				t.Fatal(err)
			}
		}
		// The pongs precede the echo of a message sent after the pings.
		cl.send(t, websocket.TextMessage, []byte("after pings"))
		cl.expect(t, websocket.TextMessage, []byte("after pings"), "echo after pings")
		if strings.Join(cl.pongs, "|") != strings.Join(payloads, "|") || len(cl.pongs) != len(payloads) {
			t.Fatalf("PongHandler saw %q; want %q", cl.pongs, payloads)
		}
	})
	if !ok {
		return
	}

	ok = t.Run("serverPing", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			cl.pings = nil
			payload := fmt.Sprintf("srv-ping-%d", i)
			cl.send(t, websocket.TextMessage, []byte("ping:"+payload))
			mt, p := cl.next(t)
			got := strings.TrimPrefix(string(p), "pong:")
			if mt != websocket.TextMessage || got == string(p) {
				t.Fatalf("got %s %q; want the server's pong report", ciTypeName(mt), p)
			}
			// The server reports the payload of the pong our client sent.
			if len(cl.pings) != 1 || cl.pings[0] != got {
				t.Fatalf("PingHandler saw %q; the server got pong %q", cl.pings, got)
			}
			if srv.pingPayload && got != payload {
				t.Fatalf("server ping carried %q; want %q", got, payload)
			}
		}
	})
	if !ok {
		return
	}

	t.Run("close", func(t *testing.T) {
		cl.closeWith(t, srv, websocket.CloseNormalClosure, "script done")
	})
}

// ciCloseCases checks the close handshake started by either side, with a
// standard and an application code.
func ciCloseCases(t *testing.T, start ciStart, dials ...ciDial) {
	for _, dc := range dials {
		dc := dc
		t.Run(dc.name, func(t *testing.T) {
			srv := start(t, nil)
			for _, c := range []struct {
				name   string
				server bool
				code   int
				reason string
			}{
				{"client1000", false, websocket.CloseNormalClosure, "normal bye"},
				{"client4001", false, 4001, "application bye ✓"},
				{"server1000", true, websocket.CloseNormalClosure, "server done"},
				{"server4002", true, 4002, "server bye ✓"},
			} {
				c := c
				t.Run(c.name, func(t *testing.T) {
					cl := ciConnect(t, srv.url, dc, nil, nil)
					p := ciText(300, 7)
					cl.send(t, websocket.TextMessage, p)
					cl.expect(t, websocket.TextMessage, p, "echo before close")
					if !c.server {
						cl.closeWith(t, srv, c.code, c.reason)
						return
					}
					cl.send(t, websocket.TextMessage, []byte(fmt.Sprintf("close:%d:%s", c.code, c.reason)))
					cl.expectClose(t, c.code, c.reason, false)
					// The default close handler answered; nothing more
					// may be sent.
					if err := cl.WriteMessage(websocket.TextMessage, []byte("late")); err != websocket.ErrCloseSent {
						t.Errorf("write after the close handshake: %v; want ErrCloseSent", err)
					}
				})
			}
		})
	}
}

// ciSubprotocolCases checks that the server's choice among the offered
// subprotocols reaches both the response and Conn.Subprotocol.
func ciSubprotocolCases(t *testing.T, start ciStart) {
	for _, c := range []struct {
		name   string
		server []string
		offer  []string
		header string
		want   string
	}{
		{name: "server-prefers-a", server: []string{"a", "b"}, offer: []string{"b", "a"}, want: "a"},
		{name: "server-has-b", server: []string{"b"}, offer: []string{"b", "a"}, want: "b"},
		{name: "server-has-c", server: []string{"c"}, offer: []string{"b", "a"}, want: ""},
		{name: "offered-in-header", server: []string{"a", "b"}, header: "b, a", want: "a"},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			srv := start(t, c.server)
			var header http.Header
			if c.header != "" {
				header = http.Header{"Sec-Websocket-Protocol": {c.header}}
			}
			cl := ciConnect(t, srv.url, ciDeflate, c.offer, header)
			if got := cl.resp.Header.Get("Sec-WebSocket-Protocol"); got != c.want {
				t.Errorf("response Sec-WebSocket-Protocol = %q; want %q", got, c.want)
			}
			if got := cl.Subprotocol(); got != c.want {
				t.Errorf("Subprotocol() = %q; want %q", got, c.want)
			}
			cl.send(t, websocket.BinaryMessage, []byte("sub"))
			cl.expect(t, websocket.BinaryMessage, []byte("sub"), "echo")
			cl.closeWith(t, srv, websocket.CloseNormalClosure, "")
		})
	}
}

// ---- servers on net/http ------------------------------------------------------

// ciServerState tracks a Go server's handlers, so that they can be stopped
// and waited for, and the errors they met.
type ciServerState struct {
	t       *testing.T
	name    string
	mu      sync.Mutex
	closing bool
	conns   map[*ciCloser]struct{}
	errs    []string
	wg      sync.WaitGroup
}

type ciCloser struct{ close func() }

func newCiServerState(t *testing.T, name string) *ciServerState {
	return &ciServerState{t: t, name: name, conns: make(map[*ciCloser]struct{})}
}

// enter registers a handler; it returns false once the server is shutting
// down.
func (s *ciServerState) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *ciServerState) leave() { s.wg.Done() }

// track remembers how to close a live connection; the returned function
// forgets it.
func (s *ciServerState) track(close func()) (untrack func()) {
	c := &ciCloser{close: close}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
}

func (s *ciServerState) fail(format string, args ...interface{}) {
	s.mu.Lock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// shutdown closes the connections still open, waits (bounded) for every
// handler to return and reports the errors the handlers met.
func (s *ciServerState) shutdown() {
	s.mu.Lock()
	s.closing = true
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("%s server: handlers still running 10s after shutdown", s.name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		s.t.Errorf("%s server: %s", s.name, e)
	}
}

// ciServe runs handler on an httptest server on 127.0.0.1 and returns its
// ws:// URL. The server and its handlers are stopped when the test ends.
func ciServe(t *testing.T, s *ciServerState, handler func(w http.ResponseWriter, r *http.Request)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.enter() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		defer s.leave()
		handler(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		s.shutdown()
	})
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s; want 127.0.0.1", srv.URL)
	}
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

// ciCommand parses the "ping:" and "close:" text messages.
func ciCommand(p []byte) (ping []byte, isPing bool, code int, reason string, isClose bool) {
	if bytes.HasPrefix(p, []byte("ping:")) {
		return p[len("ping:"):], true, 0, "", false
	}
	if bytes.HasPrefix(p, []byte("close:")) {
		codeStr, reason, _ := strings.Cut(string(p[len("close:"):]), ":")
		code, err := strconv.Atoi(codeStr)
		if err == nil {
			return nil, false, code, reason, true
		}
	}
	return nil, false, 0, "", false
}

// ciExpectedCode reports whether a close code can end a connection in
// these tests.
func ciExpectedCode(code int) bool {
	switch code {
	case 1000, 1005, 1006, 4001, 4002:
		return true
	}
	return false
}

// ciStartGorilla starts a gorilla/websocket echo server.
func ciStartGorilla(t *testing.T, compress bool, protocols []string) ciServer {
	t.Helper()
	s := newCiServerState(t, "gorilla/websocket")
	up := gorilla.Upgrader{EnableCompression: compress, Subprotocols: protocols, HandshakeTimeout: ciTimeout}
	url := ciServe(t, s, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			s.fail("upgrade: %v", err)
			return
		}
		defer s.track(func() { c.Close() })()
		defer c.Close()
		ciGorillaEcho(s, c)
	})
	return ciServer{url: url, pingPayload: true, closeReason: false, midPings: true}
}

func ciGorillaEcho(s *ciServerState, c *gorilla.Conn) {
	c.SetPongHandler(func(p string) error {
		if p == ciMidPing {
			return nil
		}
		_ = c.SetWriteDeadline(time.Now().Add(ciTimeout))
		return c.WriteMessage(gorilla.TextMessage, []byte("pong:"+p))
	})
	for {
		_ = c.SetReadDeadline(time.Now().Add(ciTimeout))
		mt, p, err := c.ReadMessage()
		if err != nil {
			var ce *gorilla.CloseError
			switch {
			case errors.As(err, &ce):
				if !ciExpectedCode(ce.Code) {
					s.fail("read: %v", err)
				}
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
			default:
				s.fail("read: %v", err)
			}
			return
		}
		deadline := time.Now().Add(ciTimeout)
		_ = c.SetWriteDeadline(deadline)
		if mt == gorilla.TextMessage {
			ping, isPing, code, reason, isClose := ciCommand(p)
			switch {
			case isPing:
				err = c.WriteControl(gorilla.PingMessage, ping, deadline)
			case isClose:
				// Keep reading: the client's answer ends the loop.
				err = c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, reason), deadline)
			}
			if err != nil {
				s.fail("write control: %v", err)
				return
			}
			if isPing || isClose {
				continue
			}
		}
		// NextWriter sends the echo in frames of gorilla's 4 KiB buffer; a
		// large echo has a ping between its frames.
		w, err := c.NextWriter(mt)
		if err == nil && len(p) > ciMidPingAbove {
			if _, err = w.Write(p[:len(p)/2]); err == nil {
				err = c.WriteControl(gorilla.PingMessage, []byte(ciMidPing), deadline)
				p = p[len(p)/2:]
			}
		}
		if err == nil {
			if _, err = w.Write(p); err == nil {
				err = w.Close()
			}
		}
		if err != nil {
			s.fail("echo: %v", err)
			return
		}
	}
}

// ciStartCoder starts a coder/websocket echo server.
func ciStartCoder(t *testing.T, mode cws.CompressionMode, protocols []string) ciServer {
	t.Helper()
	s := newCiServerState(t, "coder/websocket")
	url := ciServe(t, s, func(w http.ResponseWriter, r *http.Request) {
		pongs := make(chan string, 16)
		c, err := cws.Accept(w, r, &cws.AcceptOptions{
			Subprotocols:    protocols,
			CompressionMode: mode,
			OnPongReceived: func(_ context.Context, p []byte) {
				select {
				case pongs <- string(p):
				default:
				}
			},
		})
		if err != nil {
			s.fail("accept: %v", err)
			return
		}
		c.SetReadLimit(ciReadLimit)
		var pingers sync.WaitGroup
		defer pingers.Wait()
		defer s.track(func() { c.CloseNow() })()
		defer c.CloseNow()
		ciCoderEcho(s, c, pongs, &pingers)
	})
	return ciServer{url: url, pingPayload: false, closeReason: true}
}

func ciCoderEcho(s *ciServerState, c *cws.Conn, pongs chan string, pingers *sync.WaitGroup) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), ciTimeout)
		mt, p, err := c.Read(ctx)
		cancel()
		if err != nil {
			switch code := int(cws.CloseStatus(err)); {
			case code != -1:
				if !ciExpectedCode(code) {
					s.fail("read: %v", err)
				}
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
			default:
				s.fail("read: %v", err)
			}
			return
		}
		if mt == cws.MessageText {
			_, isPing, code, reason, isClose := ciCommand(p)
			if isPing {
				// Ping waits for the pong, which this loop reads.
				pingers.Add(1)
				go func() {
					defer pingers.Done()
					ctx, cancel := context.WithTimeout(context.Background(), ciTimeout)
					defer cancel()
					if err := c.Ping(ctx); err != nil {
						s.fail("ping: %v", err)
						return
					}
					select {
					case pong := <-pongs:
						if err := c.Write(ctx, cws.MessageText, []byte("pong:"+pong)); err != nil {
							s.fail("write pong report: %v", err)
						}
					default:
						s.fail("Ping returned but OnPongReceived saw nothing")
					}
				}()
				continue
			}
			if isClose {
				// Close waits for the client's close frame.
				if err := c.Close(cws.StatusCode(code), reason); err != nil {
					s.fail("close %d: %v", code, err)
				}
				return
			}
		}
		// The echo goes out in 16 KiB writes, one frame each.
		ctx, cancel = context.WithTimeout(context.Background(), ciTimeout)
		w, err := c.Writer(ctx, mt)
		for off := 0; err == nil && off < len(p); off += 16 << 10 {
			end := off + 16<<10
			if end > len(p) {
				end = len(p)
			}
			_, err = w.Write(p[off:end])
		}
		if err == nil {
			err = w.Close()
		}
		cancel()
		if err != nil {
			s.fail("echo: %v", err)
			return
		}
	}
}

// ---- Node's ws server ---------------------------------------------------------

// ciNodeConfig is the JSON configuration server.mjs takes on its command
// line.
type ciNodeConfig struct {
	// PerMessageDeflate is false, true (ws defaults) or a *nodeDeflate.
	PerMessageDeflate interface{} `json:"perMessageDeflate"`
	Protocols         []string    `json:"protocols,omitempty"`
	MaxPayload        int         `json:"maxPayload"`
}

// ciSyncBuffer collects a process's output and signals its first line.
type ciSyncBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	firstLine chan string
	sent      bool
}

func (b *ciSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.firstLine != nil && !b.sent {
		if line, _, ok := strings.Cut(b.buf.String(), "\n"); ok {
			b.sent = true
			b.firstLine <- line
		}
	}
	return len(p), nil
}

func (b *ciSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ciStartNode starts server.mjs with perMessageDeflate pmd. The process
// ends when the test does: its stdin is closed, and it is killed if it
// does not exit at once. Lines it writes to stderr starting with
// "ws-error:" fail the test.
func ciStartNode(t *testing.T, pmd interface{}, protocols []string) ciServer {
	t.Helper()
	node, client := nodeClient(t)
	script := filepath.Join(filepath.Dir(client), "server.mjs")
	if _, err := os.Stat(script); err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(ciNodeConfig{PerMessageDeflate: pmd, Protocols: protocols, MaxPayload: ciReadLimit})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, string(cfg))
	cmd.Dir = filepath.Dir(script)
	stdout := &ciSyncBuffer{firstLine: make(chan string, 1)}
	stderr := &ciSyncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Errorf("node server did not exit 5s after its stdin closed; killing it")
			_ = cmd.Process.Kill()
			<-exited
		}
		if strings.Contains(stderr.String(), "ws-error:") {
			t.Errorf("node server reported errors (exit: %v):\n%s", waitErr, stderr.String())
		}
	})

	var line string
	select {
	case line = <-stdout.firstLine:
	case <-exited:
		t.Fatalf("node server exited before listening (%v)\nstderr: %s", waitErr, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("node server printed no port within 30s\nstderr: %s", stderr.String())
	}
	var listening struct {
		Port int `json:"port"`
	}
	if err := json.Unmarshal([]byte(line), &listening); err != nil || listening.Port == 0 {
		t.Fatalf("node server printed %q: %v", line, err)
	}
	return ciServer{url: fmt.Sprintf("ws://127.0.0.1:%d/", listening.Port), pingPayload: true, closeReason: true, midPings: true}
}

// ---- the tests ----------------------------------------------------------------

// TestClientInteropGorilla: our client against a gorilla/websocket server,
// which negotiates permessage-deflate only without context takeover.
func TestClientInteropGorilla(t *testing.T) {
	wstest.CheckGoroutines(t, 2)
	gorillaServer := func(compress bool) ciStart {
		return func(t *testing.T, protocols []string) ciServer { return ciStartGorilla(t, compress, protocols) }
	}
	const noTakeover = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	cases := []ciCase{
		{"server=plain/plain", gorillaServer(false), ciPlain, "", ciFullSizes()},
		{"server=plain/deflate", gorillaServer(false), ciDeflate, "", ciMediumSizes},
		{"server=deflate/plain", gorillaServer(true), ciPlain, "", ciMediumSizes},
		{"server=deflate/deflate", gorillaServer(true), ciDeflate, noTakeover, ciFullSizes()},
	}
	for _, dc := range ciOptionDialers {
		if dc == ciServerBits10 {
			continue // refused below
		}
		cases = append(cases, ciCase{"server=deflate/" + dc.name, gorillaServer(true), dc, noTakeover, ciMediumSizes})
	}
	t.Run("echo", func(t *testing.T) { ciRunCases(t, cases) })

	// gorilla answers an offer of server_max_window_bits=10 without the
	// parameter, which RFC 7692 §7.1.2.1 does not allow: a server accepts
	// it only by repeating it. Our client must fail the connection.
	t.Run("refused/"+ciServerBits10.name, func(t *testing.T) {
		srv := ciStartGorilla(t, true, nil)
		cl := &ciClient{}
		c, resp, err := ciDialer(ciServerBits10, cl).Dial(srv.url, nil)
		if err == nil {
			c.Close()
			t.Fatalf("dial succeeded with Sec-WebSocket-Extensions %q; want the response refused", resp.Header.Get("Sec-WebSocket-Extensions"))
		}
		if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("dial: %v (response %v); want ErrBadHandshake with the 101 response", err, resp)
		}
		if !strings.Contains(err.Error(), "server_max_window_bits") {
			t.Errorf("dial error %q does not name server_max_window_bits", err)
		}
		if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != noTakeover {
			t.Errorf("Sec-WebSocket-Extensions = %q; want %q", got, noTakeover)
		}
	})
	t.Run("close", func(t *testing.T) {
		ciCloseCases(t, gorillaServer(false), ciPlain)
		ciCloseCases(t, gorillaServer(true), ciDeflateAll)
	})
	t.Run("subprotocols", func(t *testing.T) { ciSubprotocolCases(t, gorillaServer(true)) })
}

// TestClientInteropCoder: our client against a coder/websocket server in
// each of its compression modes.
func TestClientInteropCoder(t *testing.T) {
	wstest.CheckGoroutines(t, 2)
	coderServer := func(mode cws.CompressionMode) ciStart {
		return func(t *testing.T, protocols []string) ciServer { return ciStartCoder(t, mode, protocols) }
	}
	takeover, noTakeover, disabled := coderServer(cws.CompressionContextTakeover), coderServer(cws.CompressionNoContextTakeover), coderServer(cws.CompressionDisabled)
	const bothNoTakeover = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
	cases := []ciCase{
		{"server=Disabled/plain", disabled, ciPlain, "", ciFullSizes()},
		{"server=Disabled/deflate", disabled, ciDeflate, "", ciMediumSizes},
		{"server=ContextTakeover/plain", takeover, ciPlain, "", ciMediumSizes},
		{"server=ContextTakeover/deflate", takeover, ciDeflate, "permessage-deflate", ciFullSizes()},
		{"server=ContextTakeover/" + ciDeflateAll.name, takeover, ciDeflateAll, "permessage-deflate", ciMediumSizes},
		// coder accepts client_max_window_bits=9 without repeating it;
		// our client keeps to 9 bits all the same.
		{"server=ContextTakeover/" + ciClientBits9.name, takeover, ciClientBits9, "permessage-deflate", ciMediumSizes},
		// coder declines any server_max_window_bits below 15: no
		// compression, and the connection works uncompressed.
		{"server=ContextTakeover/" + ciServerBits10.name, takeover, ciServerBits10, "", ciMediumSizes},
		{"server=ContextTakeover/" + ciClientNoTake.name, takeover, ciClientNoTake, "permessage-deflate; client_no_context_takeover", ciMediumSizes},
		{"server=ContextTakeover/" + ciServerNoTake.name, takeover, ciServerNoTake, "permessage-deflate; server_no_context_takeover", ciMediumSizes},
		{"server=NoContextTakeover/deflate", noTakeover, ciDeflate, bothNoTakeover, ciFullSizes()},
		{"server=NoContextTakeover/" + ciDeflateAll.name, noTakeover, ciDeflateAll, bothNoTakeover, ciMediumSizes},
		{"server=NoContextTakeover/" + ciClientBits9.name, noTakeover, ciClientBits9, bothNoTakeover, ciMediumSizes},
	}
	t.Run("echo", func(t *testing.T) { ciRunCases(t, cases) })
	t.Run("close", func(t *testing.T) {
		ciCloseCases(t, disabled, ciPlain)
		ciCloseCases(t, takeover, ciDeflateAll)
	})
	t.Run("subprotocols", func(t *testing.T) { ciSubprotocolCases(t, takeover) })
}

// TestClientInteropNode: our client against Node's ws server.
func TestClientInteropNode(t *testing.T) {
	nodeClient(t)
	wstest.CheckGoroutines(t, 2)
	nodeServer := func(pmd interface{}) ciStart {
		return func(t *testing.T, protocols []string) ciServer { return ciStartNode(t, pmd, protocols) }
	}
	plain, defaults := nodeServer(false), nodeServer(true)
	cases := []ciCase{
		{"server=false/plain", plain, ciPlain, "", ciFullSizes()},
		{"server=false/deflate", plain, ciDeflate, "", ciMediumSizes},
		{"server=true/plain", defaults, ciPlain, "", ciMediumSizes},
		{"server=true/deflate", defaults, ciDeflate, "permessage-deflate", ciFullSizes()},
		{"server=true/" + ciDeflateAll.name, defaults, ciDeflateAll, "permessage-deflate", ciMediumSizes},
		{"server=true/" + ciClientBits9.name, defaults, ciClientBits9, "permessage-deflate; client_max_window_bits=9", ciMediumSizes},
		{"server=true/" + ciServerBits10.name, defaults, ciServerBits10, "permessage-deflate; server_max_window_bits=10", ciMediumSizes},
		{"server=true/" + ciClientNoTake.name, defaults, ciClientNoTake, "permessage-deflate; client_no_context_takeover", ciMediumSizes},
		{"server=true/" + ciServerNoTake.name, defaults, ciServerNoTake, "permessage-deflate; server_no_context_takeover", ciMediumSizes},
		{"server=serverNoContextTakeover/deflate", nodeServer(&nodeDeflate{ServerNoContextTakeover: true, Threshold: intPtr(0)}),
			ciDeflate, "permessage-deflate; server_no_context_takeover", ciFullSizes()},
		{"server=clientNoContextTakeover/deflate", nodeServer(&nodeDeflate{ClientNoContextTakeover: true, Threshold: intPtr(0)}),
			ciDeflateAll, "permessage-deflate; client_no_context_takeover", ciMediumSizes},
		{"server=both8NoTakeover/deflate", nodeServer(&nodeDeflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8, Threshold: intPtr(0)}),
			// ws keeps the parameters of the offer first, in its order.
			ciDeflateAll, "permessage-deflate; client_max_window_bits=8; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8", ciMediumSizes},
	}
	t.Run("echo", func(t *testing.T) { ciRunCases(t, cases) })
	t.Run("close", func(t *testing.T) {
		ciCloseCases(t, plain, ciPlain)
		ciCloseCases(t, defaults, ciDeflateAll)
	})
	t.Run("subprotocols", func(t *testing.T) { ciSubprotocolCases(t, defaults) })
}

// TestClientInteropNodeWindowBits runs every window size, 8 to 15, both
// ways: imposed by the ws server's options and asked for by our Dialer's.
// Node's zlib inflates with exactly the agreed client window, so a
// back-reference from our compressor past client_max_window_bits fails
// there with "invalid distance too far back".
func TestClientInteropNodeWindowBits(t *testing.T) {
	nodeClient(t)
	wstest.CheckGoroutines(t, 2)
	sizes := []int{0, 1, 125, 126, 65535, 65536, 300 << 10}
	var cases []ciCase
	for bits := 8; bits <= 15; bits++ {
		bits := bits
		server := func(d *nodeDeflate) ciStart {
			return func(t *testing.T, protocols []string) ciServer { return ciStartNode(t, d, protocols) }
		}
		withBits := func(param string) string {
			if bits == 15 {
				// Our Dialer offers nothing for a 15-bit window.
				return "permessage-deflate"
			}
			return fmt.Sprintf("permessage-deflate; %s=%d", param, bits)
		}
		cases = append(cases,
			ciCase{fmt.Sprintf("ws/serverMaxWindowBits=%d", bits), server(&nodeDeflate{ServerMaxWindowBits: bits}),
				ciDeflateAll, fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits), sizes},
			ciCase{fmt.Sprintf("ws/clientMaxWindowBits=%d", bits), server(&nodeDeflate{ClientMaxWindowBits: bits}),
				ciDeflateAll, fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", bits), sizes},
			ciCase{fmt.Sprintf("dialer/ServerMaxWindowBits=%d", bits), server(&nodeDeflate{}),
				ciDial{name: "deflate", compress: true, opts: websocket.CompressionOptions{ServerMaxWindowBits: bits, Threshold: -1}},
				withBits("server_max_window_bits"), sizes},
			ciCase{fmt.Sprintf("dialer/ClientMaxWindowBits=%d", bits), server(&nodeDeflate{}),
				ciDial{name: "deflate", compress: true, opts: websocket.CompressionOptions{ClientMaxWindowBits: bits, Threshold: -1}},
				withBits("client_max_window_bits"), sizes},
		)
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := c.start(t, nil)
			ciEchoScript(t, srv, c.dial, c.want, c.sizes)
		})
	}
}
