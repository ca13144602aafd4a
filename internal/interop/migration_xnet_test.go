package interop_test

// Moving from golang.org/x/net/websocket. One small program is written
// twice: once on x/net/websocket (a net/http server through httptest on
// 127.0.0.1, and x/net's own client), once on this package (a Hertz server
// with HertzUpgrader, and the Dialer). It has four endpoints:
//
//   - /echo answers each text message with "Received: " and the text, the
//     echo server of the usual x/net/websocket tutorial;
//   - /bytes answers each message with its bytes reversed, as binary;
//   - /chat answers each JSON chat message with a JSON chat message;
//   - /copy copies what it reads back to the client, x/net's io.Copy(ws, ws).
//
// TestMigrationXNetSameProgram drives every server with every client (x/net,
// this package, gorilla) and expects the same transcript from all.
// TestMigrationXNetDifferences pins down where the two behave differently,
// so that the README's migration table says what is true. Helpers private to
// this file carry the mx prefix.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	gorilla "github.com/gorilla/websocket"
	xwebsocket "golang.org/x/net/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// mxGuard bounds every wait of these tests; it never judges speed.
const mxGuard = 10 * time.Second

// mxChatMessage is the message of the JSON chat exchange.
type mxChatMessage struct {
	From string `json:"from"`
	Text string `json:"text"`
	Seq  int    `json:"seq"`
}

// mxAnswer is the server's reply to a chat message, in both programs.
func mxAnswer(in mxChatMessage) mxChatMessage {
	return mxChatMessage{From: "server", Text: strings.ToUpper(in.Text), Seq: in.Seq + 1}
}

func mxReversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r
}

// ---------------------------------------------------------------------------
// The program on golang.org/x/net/websocket
// ---------------------------------------------------------------------------

func mxXNetEcho(ws *xwebsocket.Conn) {
	for {
		var reply string
		if err := xwebsocket.Message.Receive(ws, &reply); err != nil {
			return
		}
		if err := xwebsocket.Message.Send(ws, "Received: "+reply); err != nil {
			return
		}
	}
}

func mxXNetBytes(ws *xwebsocket.Conn) {
	for {
		var data []byte
		if err := xwebsocket.Message.Receive(ws, &data); err != nil {
			return
		}
		if err := xwebsocket.Message.Send(ws, mxReversed(data)); err != nil {
			return
		}
	}
}

func mxXNetChat(ws *xwebsocket.Conn) {
	for {
		var in mxChatMessage
		if err := xwebsocket.JSON.Receive(ws, &in); err != nil {
			return
		}
		if err := xwebsocket.JSON.Send(ws, mxAnswer(in)); err != nil {
			return
		}
	}
}

func mxXNetCopy(ws *xwebsocket.Conn) {
	_, _ = io.Copy(ws, ws)
}

// mxXNetServer serves the x/net program, and the variants the differences
// test needs, on 127.0.0.1.
type mxXNetServer struct {
	srv    *httptest.Server
	active atomic.Int32 // handlers running
}

func startMxXNetServer(t testing.TB) *mxXNetServer {
	t.Helper()
	s := &mxXNetServer{}
	counted := func(h xwebsocket.Handler) xwebsocket.Handler {
		return func(ws *xwebsocket.Conn) {
			s.active.Add(1)
			defer s.active.Add(-1)
			h(ws)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/echo", xwebsocket.Handler(counted(mxXNetEcho)))
	mux.Handle("/bytes", xwebsocket.Handler(counted(mxXNetBytes)))
	mux.Handle("/chat", xwebsocket.Handler(counted(mxXNetChat)))
	mux.Handle("/copy", xwebsocket.Handler(counted(mxXNetCopy)))

	// Origin checking through Server.Handshake.
	mux.Handle("/guarded", xwebsocket.Server{
		Handshake: func(cfg *xwebsocket.Config, req *http.Request) error {
			origin, err := xwebsocket.Origin(cfg, req)
			if err != nil {
				return err
			}
			if origin == nil || origin.String() != "http://good.example" {
				return fmt.Errorf("origin %v not allowed", origin)
			}
			cfg.Origin = origin
			return nil
		},
		Handler: counted(mxXNetEcho),
	})

	// MaxPayloadBytes, with the tutorial's loop that ends on any error...
	mux.Handle("/small", xwebsocket.Handler(counted(func(ws *xwebsocket.Conn) {
		ws.MaxPayloadBytes = 1024
		mxXNetEcho(ws)
	})))
	// ...and with a loop that skips an oversized frame and goes on.
	mux.Handle("/small-skip", xwebsocket.Handler(counted(func(ws *xwebsocket.Conn) {
		ws.MaxPayloadBytes = 1024
		for {
			var reply string
			err := xwebsocket.Message.Receive(ws, &reply)
			if errors.Is(err, xwebsocket.ErrFrameTooLarge) {
				if err := xwebsocket.Message.Send(ws, "too large"); err != nil {
					return
				}
				continue
			}
			if err != nil {
				return
			}
			if err := xwebsocket.Message.Send(ws, "Received: "+reply); err != nil {
				return
			}
		}
	})))

	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *mxXNetServer) addr() string { return s.srv.Listener.Addr().String() }

// ---------------------------------------------------------------------------
// The same program on this package
// ---------------------------------------------------------------------------

func mxOursEcho(conn *websocket.Conn) {
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(websocket.TextMessage, append([]byte("Received: "), msg...)); err != nil {
			return
		}
	}
}

func mxOursBytes(conn *websocket.Conn) {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(websocket.BinaryMessage, mxReversed(data)); err != nil {
			return
		}
	}
}

func mxOursChat(conn *websocket.Conn) {
	for {
		var in mxChatMessage
		if err := conn.ReadJSON(&in); err != nil {
			return
		}
		if err := conn.WriteJSON(mxAnswer(in)); err != nil {
			return
		}
	}
}

// mxOursServer serves this package's program, and the variants the
// differences test needs, on one Hertz transport.
type mxOursServer struct {
	addr                      string
	upgrader, guarded, sealed websocket.HertzUpgrader
}

func startMxOursServer(t testing.TB, tc wstest.Transport) *mxOursServer {
	t.Helper()
	s := &mxOursServer{
		// Origin checking: same origin, no Origin at all, or this list.
		guarded: websocket.HertzUpgrader{CheckOrigin: websocket.AllowOrigins("http://good.example")},
		// x/net's MaxPayloadBytes.
		sealed: websocket.HertzUpgrader{ReadLimit: 1024},
	}
	s.addr = wstest.StartServer(t, tc, wstest.EngineSettings{NoHijackConnPool: true}, nil, func(h *server.Hertz) {
		route := func(path string, u *websocket.HertzUpgrader, handler websocket.HertzHandler) {
			h.GET(path, func(_ context.Context, ctx *app.RequestContext) {
				_ = u.Upgrade(ctx, handler)
			})
		}
		route("/echo", &s.upgrader, mxOursEcho)
		route("/bytes", &s.upgrader, mxOursBytes)
		route("/chat", &s.upgrader, mxOursChat)
		route("/copy", &s.upgrader, wstest.Echo) // io.Copy(ws, ws), message by message
		route("/guarded", &s.guarded, mxOursEcho)
		route("/small", &s.sealed, mxOursEcho)
	})
	return s
}

func (s *mxOursServer) active() int {
	return s.upgrader.Connections() + s.guarded.Connections() + s.sealed.Connections()
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

// mxClient is what the script needs of a client connection.
type mxClient interface {
	sendText(s string) error
	sendBinary(b []byte) error
	sendJSON(m mxChatMessage) error
	// receive returns one incoming message (on x/net: one frame) and its
	// type, TextMessage or BinaryMessage.
	receive() (int, []byte, error)
	receiveJSON(m *mxChatMessage) error
	// close says goodbye with close code 1000 and drops the connection.
	close() error
}

// mxClientKind dials one client implementation; origin is the Origin
// header to send, or "" for the implementation's default.
type mxClientKind struct {
	name string
	dial func(wsURL, origin string) (mxClient, *http.Response, error)
}

var mxClientKinds = []mxClientKind{
	{name: "xnet", dial: mxDialXNet},
	{name: "hertzws", dial: mxDialOurs},
	{name: "gorilla", dial: mxDialGorilla},
}

// mxFrame is what mxFrameCodec receives: one frame's payload and type.
type mxFrame struct {
	payloadType byte
	data        []byte
}

// mxFrameCodec is an x/net Codec that keeps the payload type, which the
// Message codec drops.
var mxFrameCodec = xwebsocket.Codec{
	Marshal: func(v interface{}) ([]byte, byte, error) {
		return nil, xwebsocket.UnknownFrame, xwebsocket.ErrNotSupported
	},
	Unmarshal: func(data []byte, payloadType byte, v interface{}) error {
		f, ok := v.(*mxFrame)
		if !ok {
			return xwebsocket.ErrNotSupported
		}
		f.payloadType, f.data = payloadType, data
		return nil
	},
}

type mxXNetClient struct{ ws *xwebsocket.Conn }

// mxDialXNet dials with x/net's client, which always sends an Origin; by
// default this one names the server, as a page served by it would.
func mxDialXNet(wsURL, origin string) (mxClient, *http.Response, error) {
	if origin == "" {
		u, err := url.Parse(wsURL)
		if err != nil {
			return nil, nil, err
		}
		origin = "http://" + u.Host
	}
	cfg, err := xwebsocket.NewConfig(wsURL, origin)
	if err != nil {
		return nil, nil, err
	}
	cfg.Dialer = &net.Dialer{Timeout: 5 * time.Second}
	ws, err := xwebsocket.DialConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	_ = ws.SetDeadline(time.Now().Add(mxGuard))
	return &mxXNetClient{ws: ws}, nil, nil
}

func (c *mxXNetClient) sendText(s string) error        { return xwebsocket.Message.Send(c.ws, s) }
func (c *mxXNetClient) sendBinary(b []byte) error      { return xwebsocket.Message.Send(c.ws, b) }
func (c *mxXNetClient) sendJSON(m mxChatMessage) error { return xwebsocket.JSON.Send(c.ws, m) }
func (c *mxXNetClient) receiveJSON(m *mxChatMessage) error {
	return xwebsocket.JSON.Receive(c.ws, m)
}
func (c *mxXNetClient) close() error { return c.ws.Close() }

func (c *mxXNetClient) receive() (int, []byte, error) {
	var f mxFrame
	if err := mxFrameCodec.Receive(c.ws, &f); err != nil {
		return 0, nil, err
	}
	switch f.payloadType {
	case xwebsocket.TextFrame:
		return websocket.TextMessage, f.data, nil
	case xwebsocket.BinaryFrame:
		return websocket.BinaryMessage, f.data, nil
	}
	return 0, nil, fmt.Errorf("frame of type %d", f.payloadType)
}

// mxGorillaStyle adapts a gorilla-style *Conn, which both this package and
// gorilla have.
type mxGorillaStyle interface {
	ReadMessage() (int, []byte, error)
	WriteMessage(int, []byte) error
	ReadJSON(v interface{}) error
	WriteJSON(v interface{}) error
	Close() error
}

type mxConnClient struct{ c mxGorillaStyle }

func (c mxConnClient) sendText(s string) error {
	return c.c.WriteMessage(websocket.TextMessage, []byte(s))
}
func (c mxConnClient) sendBinary(b []byte) error {
	return c.c.WriteMessage(websocket.BinaryMessage, b)
}
func (c mxConnClient) sendJSON(m mxChatMessage) error     { return c.c.WriteJSON(m) }
func (c mxConnClient) receive() (int, []byte, error)      { return c.c.ReadMessage() }
func (c mxConnClient) receiveJSON(m *mxChatMessage) error { return c.c.ReadJSON(m) }
func (c mxConnClient) close() error {
	_ = c.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	return c.c.Close()
}

func mxHeader(origin string) http.Header {
	if origin == "" {
		return nil
	}
	return http.Header{"Origin": {origin}}
}

// mxDialOurs dials with this package's Dialer, which sends no Origin unless
// told to, as gorilla's.
func mxDialOurs(wsURL, origin string) (mxClient, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(wsURL, mxHeader(origin))
	if err != nil {
		return nil, resp, err
	}
	_ = c.SetReadDeadline(time.Now().Add(mxGuard))
	_ = c.SetWriteDeadline(time.Now().Add(mxGuard))
	return mxConnClient{c}, resp, nil
}

// mxDialGorilla dials with gorilla's Dialer, which sends no Origin unless
// told to.
func mxDialGorilla(wsURL, origin string) (mxClient, *http.Response, error) {
	c, resp, err := mxDialGorillaConn(wsURL, mxHeader(origin), 0)
	if err != nil {
		return nil, resp, err
	}
	return mxConnClient{c}, resp, nil
}

func mxDialGorillaConn(wsURL string, header http.Header, writeBufferSize int) (*gorilla.Conn, *http.Response, error) {
	d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second, WriteBufferSize: writeBufferSize}
	c, resp, err := d.Dial(wsURL, header)
	if err != nil {
		return nil, resp, err
	}
	_ = c.SetReadDeadline(time.Now().Add(mxGuard))
	_ = c.SetWriteDeadline(time.Now().Add(mxGuard))
	return c, resp, nil
}

// ---------------------------------------------------------------------------
// The same traffic against both programs
// ---------------------------------------------------------------------------

// mxScript runs the client traffic on each endpoint of baseURL and returns
// what the client saw. origin is the Origin header to send ("" for the
// client's default).
func mxScript(kind mxClientKind, baseURL, origin string) ([]string, error) {
	var transcript []string
	session := func(path string, talk func(c mxClient) error) error {
		c, resp, err := kind.dial(baseURL+path, origin)
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			return fmt.Errorf("dial %s: %v (status %d)", path, err, status)
		}
		defer c.close()
		if err := talk(c); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		return nil
	}
	recv := func(c mxClient) error {
		mt, data, err := c.receive()
		if err != nil {
			return err
		}
		transcript = append(transcript, ciTypeName(mt)+" "+strconv.Quote(string(data)))
		return nil
	}
	steps := []struct {
		path string
		talk func(c mxClient) error
	}{
		{"/echo", func(c mxClient) error {
			for _, s := range []string{"hello", "世界", ""} {
				if err := c.sendText(s); err != nil {
					return err
				}
				if err := recv(c); err != nil {
					return err
				}
			}
			return nil
		}},
		{"/bytes", func(c mxClient) error {
			for _, b := range [][]byte{{0, 1, 2, 0xff}, []byte("abc")} {
				if err := c.sendBinary(b); err != nil {
					return err
				}
				if err := recv(c); err != nil {
					return err
				}
			}
			return nil
		}},
		{"/chat", func(c mxClient) error {
			for _, m := range []mxChatMessage{{From: "alice", Text: "hi", Seq: 1}, {From: "bob", Text: "good night", Seq: 41}} {
				if err := c.sendJSON(m); err != nil {
					return err
				}
				var out mxChatMessage
				if err := c.receiveJSON(&out); err != nil {
					return err
				}
				transcript = append(transcript, fmt.Sprintf("json %+v", out))
			}
			return nil
		}},
		{"/copy", func(c mxClient) error {
			for _, s := range []string{"one", "two"} {
				if err := c.sendText(s); err != nil {
					return err
				}
				if err := recv(c); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, st := range steps {
		if err := session(st.path, st.talk); err != nil {
			return transcript, err
		}
	}
	return transcript, nil
}

// mxWantTranscript is what every client must see from either program.
var mxWantTranscript = []string{
	`text "Received: hello"`,
	`text "Received: 世界"`,
	`text "Received: "`,
	`binary "\xff\x02\x01\x00"`,
	`binary "cba"`,
	`json {From:server Text:HI Seq:2}`,
	`json {From:server Text:GOOD NIGHT Seq:42}`,
	`text "one"`,
	`text "two"`,
}

// mxServerCase is one server under test: the x/net program, or this
// package's on one transport.
type mxServerCase struct {
	name   string
	start  func(t *testing.T) (addr string, active func() int)
	isXNet bool
}

func mxServerCases() []mxServerCase {
	cases := []mxServerCase{{
		name:   "xnet",
		isXNet: true,
		start: func(t *testing.T) (string, func() int) {
			s := startMxXNetServer(t)
			return s.addr(), func() int { return int(s.active.Load()) }
		},
	}}
	for _, tc := range wstest.Transports {
		tc := tc
		cases = append(cases, mxServerCase{
			name: "hertzws-" + tc.Name,
			start: func(t *testing.T) (string, func() int) {
				s := startMxOursServer(t, tc)
				return s.addr, s.active
			},
		})
	}
	return cases
}

// TestMigrationXNetSameProgram drives the x/net program and this package's
// program, on both Hertz transports, with the same traffic from x/net's
// client, this package's Dialer and gorilla's client, and expects the same
// transcript every time: the echo with its prefix, the reversed bytes as
// binary, the JSON answers, the copies; and every server handler ends once
// its client has closed.
func TestMigrationXNetSameProgram(t *testing.T) {
	for _, sc := range mxServerCases() {
		sc := sc
		t.Run(sc.name, func(t *testing.T) {
			addr, active := sc.start(t)
			for _, kind := range mxClientKinds {
				kind := kind
				t.Run(kind.name, func(t *testing.T) {
					origin := ""
					if kind.name != "xnet" {
						// x/net's Handler refuses a handshake without Origin
						// (see the differences test), and gorilla's Dialer and
						// ours send none unless told to; a browser would send
						// this.
						origin = "http://" + addr
					}
					got, err := mxScript(kind, "ws://"+addr, origin)
					if err != nil {
						t.Fatalf("after %d messages: %v", len(got), err)
					}
					if strings.Join(got, "\n") != strings.Join(mxWantTranscript, "\n") {
						t.Fatalf("transcript:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(mxWantTranscript, "\n"))
					}
					wstest.WaitFor(t, mxGuard, "the server handlers to end", func() bool { return active() == 0 })
				})
			}
		})
	}
}

// mxStatus returns the HTTP status of a failed handshake, or 101 when it
// succeeded.
func mxStatus(t testing.TB, c *gorilla.Conn, resp *http.Response, err error) int {
	t.Helper()
	if err == nil {
		c.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("handshake failed without a response: %v", err)
	}
	return resp.StatusCode
}

// TestMigrationXNetDifferences checks, against both programs, each
// behaviour in which this package differs from x/net/websocket, as the
// README's migration table describes it.
func TestMigrationXNetDifferences(t *testing.T) {
	for _, sc := range mxServerCases() {
		sc := sc
		t.Run(sc.name, func(t *testing.T) {
			addr, active := sc.start(t)
			base := "ws://" + addr
			sameOrigin := http.Header{"Origin": {"http://" + addr}}

			// x/net's Handler requires an Origin header; this package's
			// default check admits a client that sends none.
			t.Run("NoOrigin", func(t *testing.T) {
				c, resp, err := mxDialGorillaConn(base+"/echo", nil, 0)
				got := mxStatus(t, c, resp, err)
				want := http.StatusSwitchingProtocols
				if sc.isXNet {
					want = http.StatusForbidden
				}
				if got != want {
					t.Fatalf("handshake without Origin: status %d, want %d", got, want)
				}
			})

			// x/net's client sends the Origin it is given; the x/net
			// examples use "http://localhost/", which names another origin
			// than the server's: x/net's Handler takes any origin that
			// parses, this package's default check refuses it.
			t.Run("XNetClientForeignOrigin", func(t *testing.T) {
				c, _, err := mxDialXNet(base+"/echo", "http://localhost/")
				if sc.isXNet {
					if err != nil {
						t.Fatalf("x/net client with Origin http://localhost/: %v", err)
					}
					_ = c.close()
					return
				}
				if err == nil {
					_ = c.close()
					t.Fatal("a foreign Origin was admitted by the default origin check")
				}
				var de *xwebsocket.DialError
				if !errors.As(err, &de) || !errors.Is(de.Err, xwebsocket.ErrBadStatus) {
					t.Fatalf("x/net client with a foreign Origin: %v, want a DialError with ErrBadStatus", err)
				}
			})

			// Server.Handshake and CheckOrigin: AllowOrigins refuse and
			// admit the same origins.
			t.Run("OriginCheck", func(t *testing.T) {
				for _, o := range []struct {
					origin string
					want   int
				}{{"http://evil.example", http.StatusForbidden}, {"http://good.example", http.StatusSwitchingProtocols}} {
					c, resp, err := mxDialGorillaConn(base+"/guarded", http.Header{"Origin": {o.origin}}, 0)
					if got := mxStatus(t, c, resp, err); got != o.want {
						t.Fatalf("Origin %s: status %d, want %d", o.origin, got, o.want)
					}
				}
			})

			// x/net's codecs receive one frame; this package's reads
			// receive one message, whatever its fragmentation.
			t.Run("Fragmented", func(t *testing.T) {
				c, _, err := mxDialGorillaConn(base+"/echo", sameOrigin, 256)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				msg := strings.Repeat("0123456789", 100) // frames of at most 256 bytes
				w, err := c.NextWriter(gorilla.TextMessage)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.WriteString(w, msg); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if err := c.WriteMessage(gorilla.TextMessage, []byte("after")); err != nil {
					t.Fatal(err)
				}
				var replies []string
				for i := 0; i < 32; i++ {
					_, data, err := c.ReadMessage()
					if err != nil {
						t.Fatalf("after %d replies: %v", len(replies), err)
					}
					if string(data) == "Received: after" {
						break
					}
					replies = append(replies, strings.TrimPrefix(string(data), "Received: "))
				}
				if strings.Join(replies, "") != msg {
					t.Fatalf("the replies do not add up to the message: %q", replies)
				}
				if sc.isXNet && len(replies) < 2 {
					t.Fatalf("x/net answered a fragmented message %d time(s), want once per frame", len(replies))
				}
				if !sc.isXNet && len(replies) != 1 {
					t.Fatalf("answered a fragmented message %d times, want once", len(replies))
				}
				t.Logf("%d replies to a message sent in frames of at most 256 bytes", len(replies))
			})

			// MaxPayloadBytes lets the handler skip an oversized frame;
			// ReadLimit fails the connection with close code 1009.
			t.Run("Oversize", func(t *testing.T) {
				c, _, err := mxDialGorillaConn(base+"/small", sameOrigin, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.WriteMessage(gorilla.TextMessage, bytes.Repeat([]byte("z"), 2000)); err != nil {
					t.Fatal(err)
				}
				_, data, err := c.ReadMessage()
				code := mcCloseCode(err)
				want := websocket.CloseMessageTooBig
				if sc.isXNet {
					// The tutorial's loop ends on ErrFrameTooLarge and the
					// connection is dropped without a close message.
					want = websocket.CloseAbnormalClosure
				}
				if code != want {
					t.Fatalf("after an oversized message: %q, %v, want close %d", data, err, want)
				}
				if !sc.isXNet {
					return
				}
				c2, _, err := mxDialGorillaConn(base+"/small-skip", sameOrigin, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer c2.Close()
				for _, m := range [][]byte{bytes.Repeat([]byte("z"), 2000), []byte("hi")} {
					if err := c2.WriteMessage(gorilla.TextMessage, m); err != nil {
						t.Fatal(err)
					}
				}
				for _, want := range []string{"too large", "Received: hi"} {
					if _, data, err := c2.ReadMessage(); err != nil || string(data) != want {
						t.Fatalf("x/net after a skipped frame: %q, %v, want %q", data, err, want)
					}
				}
			})

			// io.Copy(ws, ws) on x/net writes with the Conn's PayloadType,
			// text unless set: a binary message comes back as text. The
			// NextReader/NextWriter loop keeps each message's type.
			t.Run("CopyBinary", func(t *testing.T) {
				c, _, err := mxDialGorillaConn(base+"/copy", sameOrigin, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.WriteMessage(gorilla.BinaryMessage, []byte("abc")); err != nil {
					t.Fatal(err)
				}
				mt, data, err := c.ReadMessage()
				want := gorilla.BinaryMessage
				if sc.isXNet {
					want = gorilla.TextMessage
				}
				if err != nil || mt != want || string(data) != "abc" {
					t.Fatalf("copy of a binary message: type %d %q, %v; want type %d %q", mt, data, err, want, "abc")
				}
			})

			// JSON.Send writes the bare JSON value; WriteJSON ends it with a
			// newline, as json.Encoder does. Decoded, they are equal.
			t.Run("JSONNewline", func(t *testing.T) {
				c, _, err := mxDialGorillaConn(base+"/chat", sameOrigin, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.WriteJSON(mxChatMessage{From: "carol", Text: "abc", Seq: 7}); err != nil {
					t.Fatal(err)
				}
				mt, data, err := c.ReadMessage()
				if err != nil || mt != gorilla.TextMessage {
					t.Fatalf("JSON answer: type %d, %v", mt, err)
				}
				bare := `{"from":"server","text":"ABC","seq":8}`
				want := bare + "\n"
				if sc.isXNet {
					want = bare
				}
				if string(data) != want {
					t.Fatalf("JSON answer %q, want %q", data, want)
				}
				var got mxChatMessage
				if err := json.Unmarshal(data, &got); err != nil || got != (mxChatMessage{From: "server", Text: "ABC", Seq: 8}) {
					t.Fatalf("JSON answer decodes to %+v, %v", got, err)
				}
			})

			// x/net answers a close message by dropping the connection;
			// this package echoes the close code first.
			t.Run("CloseReply", func(t *testing.T) {
				c, _, err := mxDialGorillaConn(base+"/echo", sameOrigin, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "")); err != nil {
					t.Fatal(err)
				}
				_, _, err = c.ReadMessage()
				want := websocket.CloseNormalClosure
				if sc.isXNet {
					want = websocket.CloseAbnormalClosure
				}
				if code := mcCloseCode(err); code != want {
					t.Fatalf("after the client's close: %v, want close %d", err, want)
				}
			})

			wstest.WaitFor(t, mxGuard, "the server handlers to end", func() bool { return active() == 0 })
		})
	}
}
