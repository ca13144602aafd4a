package interop_test

// Migration tests for users of hertz-contrib/websocket. Its four examples
// (echo, chat, command, filewatch) are ported here the way one of its users
// would port them, by changing the import path and nothing else: the same
// HertzUpgrader literals, the same Upgrade callbacks that read the
// RequestContext, the same read and write loops. Each is served by a real
// Hertz server on 127.0.0.1, on both transports, and driven by real clients
// (gorilla/websocket's and this package's Dialer), and each test checks what
// the example promises its users. A last test reads the RequestContext
// inside the callback, after a delay, while other requests run on the same
// server. Helpers private to this file carry the mc prefix.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/middlewares/server/recovery"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// mcGuard bounds every wait of these tests, so that a broken server fails a
// test instead of hanging it. It never judges speed.
const mcGuard = 10 * time.Second

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

// mcPeer is the part of a client connection the tests use. gorilla's *Conn
// and this package's *Conn both have these methods, with the same message
// type numbers.
type mcPeer interface {
	ReadMessage() (int, []byte, error)
	WriteMessage(messageType int, data []byte) error
	SetPingHandler(h func(appData string) error)
	Close() error
}

// mcClientKind is a WebSocket client implementation the tests dial with.
type mcClientKind struct {
	name string
	dial func(url string, header http.Header) (mcPeer, *http.Response, error)
}

var mcClientKinds = []mcClientKind{
	{name: "gorilla", dial: mcDialGorilla},
	{name: "hertzws", dial: mcDialHertzws},
}

func mcDialGorilla(url string, header http.Header) (mcPeer, *http.Response, error) {
	d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, header)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}

func mcDialHertzws(url string, header http.Header) (mcPeer, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, header)
	if err != nil {
		return nil, resp, err
	}
	return c, resp, nil
}

// mcDial connects with kind and closes the connection when the test ends.
func mcDial(t testing.TB, kind mcClientKind, url string, header http.Header) mcPeer {
	t.Helper()
	p, resp, err := kind.dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("%s client: dial %s: %v (status %d)", kind.name, url, err, status)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// mcCloseCode returns the close code carried by a read error of either
// client, or -1 when err is not a close error.
func mcCloseCode(err error) int {
	var ge *gorilla.CloseError
	if errors.As(err, &ge) {
		return ge.Code
	}
	var we *websocket.CloseError
	if errors.As(err, &we) {
		return we.Code
	}
	return -1
}

// mcMessage is one message a client received.
type mcMessage struct {
	mt   int
	data []byte
}

// mcInbox reads a client connection on a goroutine of its own, the way the
// examples' clients do, so that control frames are answered while the test
// waits.
type mcInbox struct {
	msgs     chan mcMessage
	done     chan struct{}
	err      error // the read error that ended the loop; set before done closes
	overflow bool  // a message was dropped because msgs was full; set before done closes
}

func mcStartReading(p mcPeer) *mcInbox {
	in := &mcInbox{msgs: make(chan mcMessage, 1024), done: make(chan struct{})}
	go func() {
		defer close(in.done)
		for {
			mt, data, err := p.ReadMessage()
			if err != nil {
				in.err = err
				return
			}
			select {
			case in.msgs <- mcMessage{mt: mt, data: data}:
			default:
				in.overflow = true
			}
		}
	}()
	return in
}

// next returns the next message, failing the test if the connection ends or
// nothing arrives within d.
func (in *mcInbox) next(t testing.TB, d time.Duration, what string) mcMessage {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case m := <-in.msgs:
		return m
	case <-in.done:
		select {
		case m := <-in.msgs:
			return m
		default:
		}
		t.Fatalf("%s: connection ended instead: %v", what, in.err)
	case <-timer.C:
		t.Fatalf("%s: nothing within %v", what, d)
	}
	panic("unreachable")
}

// quiet fails the test if a message arrives within d.
func (in *mcInbox) quiet(t testing.TB, d time.Duration, what string) {
	t.Helper()
	select {
	case m := <-in.msgs:
		t.Fatalf("%s: unexpected message (type %d) %q", what, m.mt, m.data)
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case m := <-in.msgs:
		t.Fatalf("%s: unexpected message (type %d) %q", what, m.mt, m.data)
	case <-timer.C:
	}
}

// end waits until the connection ends and returns the read error. Messages
// still queued fail the test.
func (in *mcInbox) end(t testing.TB, d time.Duration, what string) error {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-in.done:
	case <-timer.C:
		t.Fatalf("%s: connection still open after %v", what, d)
	}
	select {
	case m := <-in.msgs:
		t.Fatalf("%s: unexpected message (type %d) %q before the end", what, m.mt, m.data)
	default:
	}
	if in.overflow {
		t.Fatalf("%s: messages were dropped", what)
	}
	return in.err
}

// mcWaitGroup waits for wg, failing the test after mcGuard.
func mcWaitGroup(t testing.TB, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(mcGuard):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// mcHTTPClient talks plain HTTP to the test servers, never through a proxy.
func mcHTTPClient(keepAlive bool) *http.Client {
	return &http.Client{
		Timeout:   mcGuard,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: !keepAlive},
	}
}

// mcGetPage fetches a page and checks its status and content type.
func mcGetPage(t testing.TB, url string) string {
	t.Helper()
	client := mcHTTPClient(false)
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %q", url, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET %s: Content-Type %q", url, ct)
	}
	return string(body)
}

var mcPageSocketURL = regexp.MustCompile(`new WebSocket\("([^"]*)"\)`)

// mcSocketURLInPage returns the URL a page's script opens, as a browser's
// JavaScript would read the string literal html/template wrote.
func mcSocketURLInPage(t testing.TB, page string) string {
	t.Helper()
	m := mcPageSocketURL.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no WebSocket URL in page %q", page)
	}
	return strings.NewReplacer(`\/`, `/`, `\u0026`, `&`, `\u003d`, `=`).Replace(m[1])
}

// ---------------------------------------------------------------------------
// examples/echo
// ---------------------------------------------------------------------------

// mcEchoUpgrader is the echo example's upgrader: the default options.
var mcEchoUpgrader = websocket.HertzUpgrader{}

// mcEcho is the echo example's /echo handler: every message goes back with
// its type until a read or a write fails.
func mcEcho(_ context.Context, c *app.RequestContext) {
	err := mcEchoUpgrader.Upgrade(c, func(conn *websocket.Conn) {
		for {
			mt, message, err := conn.ReadMessage()
			if err != nil {
				hlog.Debugf("read: %v", err)
				break
			}
			hlog.Debugf("recv: %s", message)
			if err := conn.WriteMessage(mt, message); err != nil {
				hlog.Debugf("write: %v", err)
				break
			}
		}
	})
	if err != nil {
		hlog.Warnf("upgrade: %v", err)
	}
}

// mcEchoHomeTemplate is the page the echo example serves at /: a script
// that opens the URL it is given.
var mcEchoHomeTemplate = template.Must(template.New("echo").Parse(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<script>
window.addEventListener("load", function() {
    var ws = new WebSocket("{{.}}");
    ws.onmessage = function(evt) { console.log("RESPONSE: " + evt.data); };
});
</script>
</head>
<body>Echo</body>
</html>
`))

// mcEchoHome is the echo example's / handler: the page points its script at
// /echo on the host the browser asked for.
func mcEchoHome(_ context.Context, c *app.RequestContext) {
	c.SetContentType("text/html; charset=utf-8")
	if err := mcEchoHomeTemplate.Execute(c, "ws://"+string(c.Host())+"/echo"); err != nil {
		hlog.Warnf("home: %v", err)
	}
}

// TestMigrationContribEcho runs the echo example with server.Default's
// recovery middleware, on both transports and every hijack setting (the
// example sets NoHijackConnPool; the others must work as well). A client
// loads the page, opens the URL it names, sends timestamps as the example's
// client does (plus a binary and an empty message) and gets each back with
// its type; its close message (1000) is answered with 1000, and the server's
// handler ends.
func TestMigrationContribEcho(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, es := range wstest.AllEngineSettings {
			es := es
			t.Run(es.String(), func(t *testing.T) {
				addr := wstest.StartServer(t, tc, es, nil, func(h *server.Hertz) {
					h.Use(recovery.Recovery())
					h.GET("/", mcEchoHome)
					h.GET("/echo", mcEcho)
				})
				wsURL := mcSocketURLInPage(t, mcGetPage(t, "http://"+addr+"/"))
				if want := "ws://" + addr + "/echo"; wsURL != want {
					t.Fatalf("page opens %q, want %q", wsURL, want)
				}
				for _, kind := range mcClientKinds {
					kind := kind
					t.Run(kind.name, func(t *testing.T) {
						mcDriveEcho(t, mcDial(t, kind, wsURL, nil))
						wstest.WaitFor(t, mcGuard, "the echo handler has returned", func() bool { return mcEchoUpgrader.Connections() == 0 })
					})
				}
			})
		}
	})
}

// mcDriveEcho is the echo example's client, bounded: a reader goroutine,
// messages sent on a ticker, then a close message and a wait for the
// server's answer.
func mcDriveEcho(t *testing.T, c mcPeer) {
	in := mcStartReading(c)
	ticker := time.NewTicker(5 * time.Millisecond)
	defer ticker.Stop()
	for i := 0; i < 5; i++ {
		tick := <-ticker.C
		msg := []byte(tick.String())
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatalf("write: %v", err)
		}
		got := in.next(t, mcGuard, "echo of a timestamp")
		if got.mt != websocket.TextMessage || !bytes.Equal(got.data, msg) {
			t.Fatalf("echo: got type %d %q, want text %q", got.mt, got.data, msg)
		}
	}
	for _, m := range []mcMessage{{websocket.BinaryMessage, []byte{0, 1, 2, 0xff, 0xfe}}, {websocket.TextMessage, []byte{}}} {
		if err := c.WriteMessage(m.mt, m.data); err != nil {
			t.Fatalf("write: %v", err)
		}
		got := in.next(t, mcGuard, "echo")
		if got.mt != m.mt || !bytes.Equal(got.data, m.data) {
			t.Fatalf("echo: got type %d %q, want type %d %q", got.mt, got.data, m.mt, m.data)
		}
	}
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatalf("write close: %v", err)
	}
	// The example's client gives the server a second to answer; the test
	// allows more, for busy machines.
	err := in.end(t, mcGuard, "the server's answer to the close")
	if code := mcCloseCode(err); code != websocket.CloseNormalClosure {
		t.Fatalf("after the close: %v (code %d), want close 1000", err, code)
	}
}

// ---------------------------------------------------------------------------
// examples/chat
// ---------------------------------------------------------------------------

// The chat example's timing, scaled down from a minute to a second so that
// the test sees the keepalive work. The example pings at 9/10 of the pong
// wait; at this scale that would leave a pong 100 ms to come back on a busy
// machine, so the test pings at half of it.
const (
	mcChatWriteWait      = 10 * time.Second
	mcChatPongWait       = time.Second
	mcChatPingPeriod     = mcChatPongWait / 2
	mcChatMaxMessageSize = 512
)

var (
	mcNewline = []byte{'\n'}
	mcSpace   = []byte{' '}
)

// mcChatHub is the chat example's Hub: the registered clients and the
// channels through which they join, leave and broadcast. Unlike the
// example's global hub, it belongs to one test, and stops.
type mcChatHub struct {
	clients     map[*mcChatClient]struct{}
	clientsLock sync.RWMutex
	broadcast   chan []byte
	register    chan *mcChatClient
	unregister  chan *mcChatClient

	upgrader websocket.HertzUpgrader
	stop     chan struct{}
	pumps    sync.WaitGroup // writePump goroutines
}

func newMcChatHub() *mcChatHub {
	return &mcChatHub{
		clients:    make(map[*mcChatClient]struct{}),
		broadcast:  make(chan []byte),
		register:   make(chan *mcChatClient),
		unregister: make(chan *mcChatClient),
		upgrader: websocket.HertzUpgrader{
			ReadBufferSize:  1024,
			WriteBufferSize: 1024,
			CheckOrigin: func(ctx *app.RequestContext) bool {
				return true
			},
		},
		stop: make(chan struct{}),
	}
}

func (h *mcChatHub) run() {
	for {
		select {
		case <-h.stop:
			return
		case client := <-h.register:
			h.clientsLock.Lock()
			h.clients[client] = struct{}{}
			h.clientsLock.Unlock()
		case client := <-h.unregister:
			h.drop(client)
		case message := <-h.broadcast:
			h.clientsLock.Lock()
			for client := range h.clients {
				select {
				case client.send <- message:
				default:
					// Too slow: drop it, as the example does.
					close(client.send)
					delete(h.clients, client)
				}
			}
			h.clientsLock.Unlock()
		}
	}
}

// drop removes a client still registered and closes its send channel.
func (h *mcChatHub) drop(client *mcChatClient) {
	h.clientsLock.Lock()
	defer h.clientsLock.Unlock()
	if _, ok := h.clients[client]; ok {
		delete(h.clients, client)
		close(client.send)
	}
}

func (h *mcChatHub) count() int {
	h.clientsLock.RLock()
	defer h.clientsLock.RUnlock()
	return len(h.clients)
}

// mcChatClient is the chat example's Client: the middleman between one
// connection and the hub.
type mcChatClient struct {
	hub  *mcChatHub
	conn *websocket.Conn
	send chan []byte
}

// readPump moves messages from the connection to the hub, with the read
// limit and the pong-extended read deadline of the example.
func (c *mcChatClient) readPump() {
	defer func() {
		select {
		case c.hub.unregister <- c:
		case <-c.hub.stop:
		}
		c.conn.Close()
	}()
	c.conn.SetReadLimit(mcChatMaxMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(mcChatPongWait))
	c.conn.SetPongHandler(func(string) error { _ = c.conn.SetReadDeadline(time.Now().Add(mcChatPongWait)); return nil })
	for {
		_, message, err := c.conn.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseAbnormalClosure) {
				hlog.Debugf("error: %v", err)
			}
			break
		}
		message = bytes.TrimSpace(bytes.Replace(message, mcNewline, mcSpace, -1))
		select {
		case c.hub.broadcast <- message:
		case <-c.hub.stop:
			return
		}
	}
}

// writePump moves messages from the hub to the connection, packing the
// queued ones into one message separated by newlines, and pings.
func (c *mcChatClient) writePump() {
	ticker := time.NewTicker(mcChatPingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case message, ok := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(mcChatWriteWait))
			if !ok {
				// The hub closed the channel.
				_ = c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			w, err := c.conn.NextWriter(websocket.TextMessage)
			if err != nil {
				return
			}
			_, _ = w.Write(message)
			n := len(c.send)
			for i := 0; i < n; i++ {
				_, _ = w.Write(mcNewline)
				_, _ = w.Write(<-c.send)
			}
			if err := w.Close(); err != nil {
				return
			}
		case <-ticker.C:
			_ = c.conn.SetWriteDeadline(time.Now().Add(mcChatWriteWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// serveWs is the chat example's serveWs.
func (h *mcChatHub) serveWs(ctx *app.RequestContext) {
	err := h.upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
		client := &mcChatClient{hub: h, conn: conn, send: make(chan []byte, 256)}
		select {
		case h.register <- client:
		case <-h.stop:
			return
		}
		h.pumps.Add(1)
		go func() {
			defer h.pumps.Done()
			client.writePump()
		}()
		client.readPump()
	})
	if err != nil {
		hlog.Warnf("upgrade: %v", err)
	}
}

// mcChatReader collects the chat lines one client receives: the writePump
// may pack several broadcasts into one message.
type mcChatReader struct {
	in      *mcInbox
	pending []string
}

func (r *mcChatReader) lines(t testing.TB, n int, what string) []string {
	t.Helper()
	for len(r.pending) < n {
		m := r.in.next(t, mcGuard, what)
		if m.mt != websocket.TextMessage {
			t.Fatalf("%s: message of type %d", what, m.mt)
		}
		r.pending = append(r.pending, strings.Split(string(m.data), "\n")...)
	}
	got := r.pending[:n]
	r.pending = r.pending[n:]
	return got
}

// TestMigrationContribChat runs the chat example's hub with three clients
// (gorilla, this package's Dialer, and this package's Dialer sending a
// foreign Origin, which the example's CheckOrigin admits). It checks that
// every broadcast reaches every client, in the same order, with newlines
// turned to spaces and the ends trimmed; that clients which answer pings
// outlive the read deadline; that a message over the 512-byte limit ends
// its sender's connection with close code 1009 and is not broadcast; that a
// client which stops answering pings is dropped after the pong wait; that a
// client's close 1000 is answered and unregisters it.
func TestMigrationContribChat(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		hub := newMcChatHub()
		go hub.run()
		var stopOnce sync.Once
		stopHub := func() { stopOnce.Do(func() { close(hub.stop) }) }
		t.Cleanup(stopHub) // runs after the server's shutdown
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
			h.GET("/ws", func(c context.Context, ctx *app.RequestContext) {
				hub.serveWs(ctx)
			})
		})
		url := "ws://" + addr + "/ws"
		gorillaKind, oursKind := mcClientKinds[0], mcClientKinds[1]

		a := mcDial(t, gorillaKind, url, nil)
		b := mcDial(t, oursKind, url, nil)
		c := mcDial(t, oursKind, url, http.Header{"Origin": {"http://chat.elsewhere.example"}})
		ra := &mcChatReader{in: mcStartReading(a)}
		rb := &mcChatReader{in: mcStartReading(b)}
		rc := &mcChatReader{in: mcStartReading(c)}
		wstest.WaitFor(t, mcGuard, "three clients are registered", func() bool { return hub.count() == 3 })

		// Every message reaches everyone, cleaned up, in the hub's order.
		for i, p := range []mcPeer{a, b, c} {
			msg := fmt.Sprintf("  hello\nfrom %c\n", 'a'+i)
			if err := p.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatalf("client %c: write: %v", 'a'+i, err)
			}
		}
		seen := [][]string{ra.lines(t, 3, "a's broadcasts"), rb.lines(t, 3, "b's broadcasts"), rc.lines(t, 3, "c's broadcasts")}
		for i := 1; i < 3; i++ {
			if strings.Join(seen[i], "|") != strings.Join(seen[0], "|") {
				t.Fatalf("clients saw different orders: %q and %q", seen[0], seen[i])
			}
		}
		sorted := append([]string(nil), seen[0]...)
		sort.Strings(sorted)
		if want := []string{"hello from a", "hello from b", "hello from c"}; strings.Join(sorted, "|") != strings.Join(want, "|") {
			t.Fatalf("broadcasts %q, want %q in some order", seen[0], want)
		}

		// Past the pong wait, the server's pings and the clients' pongs have
		// kept every read deadline moving.
		time.Sleep(2 * mcChatPongWait)
		if n := hub.count(); n != 3 {
			t.Fatalf("%d clients registered after %v of pings, want 3", n, 2*mcChatPongWait)
		}
		if err := a.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
			t.Fatalf("write: %v", err)
		}
		for name, r := range map[string]*mcChatReader{"a": ra, "b": rb, "c": rc} {
			if got := r.lines(t, 1, name+" after the idle time"); got[0] != "still here" {
				t.Fatalf("client %s got %q, want %q", name, got[0], "still here")
			}
		}

		// A message over the read limit closes its sender's connection.
		if err := b.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), mcChatMaxMessageSize+88)); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := rb.in.end(t, mcGuard, "b after its oversized message"); mcCloseCode(err) != websocket.CloseMessageTooBig {
			t.Fatalf("b after its oversized message: %v, want close 1009", err)
		}
		wstest.WaitFor(t, mcGuard, "b is unregistered", func() bool { return hub.count() == 2 })
		if err := c.WriteMessage(websocket.TextMessage, []byte("after the big one")); err != nil {
			t.Fatalf("write: %v", err)
		}
		for name, r := range map[string]*mcChatReader{"a": ra, "c": rc} {
			if got := r.lines(t, 1, name+" after b's oversized message"); got[0] != "after the big one" {
				t.Fatalf("client %s got %q, want %q", name, got[0], "after the big one")
			}
		}

		// A client that no longer answers pings is dropped after the pong
		// wait.
		d := mcDial(t, gorillaKind, url, nil)
		d.SetPingHandler(func(string) error { return nil })
		rd := mcStartReading(d)
		wstest.WaitFor(t, mcGuard, "d is registered", func() bool { return hub.count() == 3 })
		joined := time.Now()
		err := rd.end(t, mcChatPongWait+mcGuard, "d, which does not answer pings")
		t.Logf("silent client dropped %v after it joined: %v", time.Since(joined).Round(time.Millisecond), err)
		if time.Since(joined) < mcChatPongWait/2 {
			t.Fatalf("silent client dropped after %v, before the pong wait of %v", time.Since(joined), mcChatPongWait)
		}
		wstest.WaitFor(t, mcGuard, "d is unregistered", func() bool { return hub.count() == 2 })

		// A close message is answered, and its sender leaves the hub.
		if err := a.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
			t.Fatalf("write close: %v", err)
		}
		if err := ra.in.end(t, mcGuard, "a after its close"); mcCloseCode(err) != websocket.CloseNormalClosure {
			t.Fatalf("a after its close: %v, want close 1000", err)
		}
		wstest.WaitFor(t, mcGuard, "a is unregistered", func() bool { return hub.count() == 1 })
		if err := c.WriteMessage(websocket.TextMessage, []byte("last")); err != nil {
			t.Fatalf("write: %v", err)
		}
		if got := rc.lines(t, 1, "c alone"); got[0] != "last" {
			t.Fatalf("c got %q, want %q", got[0], "last")
		}

		_ = c.Close()
		wstest.WaitFor(t, mcGuard, "every client is unregistered", func() bool { return hub.count() == 0 })
		mcWaitGroup(t, &hub.pumps, "the write pumps")
		wstest.WaitFor(t, mcGuard, "every handler has returned", func() bool { return hub.upgrader.Connections() == 0 })
		stopHub()
	})
}

// ---------------------------------------------------------------------------
// examples/command
// ---------------------------------------------------------------------------

// The command example's timing; only the grace period before the final
// Close is scaled down (from 10 s).
const (
	mcCmdWriteWait        = 10 * time.Second
	mcCmdMaxMessageSize   = 8192
	mcCmdPongWait         = 60 * time.Second
	mcCmdPingPeriod       = mcCmdPongWait * 9 / 10
	mcCmdCloseGracePeriod = 100 * time.Millisecond
)

// mcCommand is the command example's server for one command line: each
// connection starts the command, feeds it the messages it receives, one per
// line, and sends each line of its output as a message.
type mcCommand struct {
	upgrader websocket.HertzUpgrader
	cmdPath  string
	args     []string

	goroutines sync.WaitGroup        // pumpStdout and ping
	exited     chan *os.ProcessState // one per command that was waited for
}

func newMcCommand(t testing.TB, args ...string) *mcCommand {
	t.Helper()
	path, err := exec.LookPath(args[0])
	if err != nil {
		t.Skipf("%s not found: %v", args[0], err)
	}
	return &mcCommand{cmdPath: path, args: args, exited: make(chan *os.ProcessState, 16)}
}

func (m *mcCommand) pumpStdin(ws *websocket.Conn, w io.Writer) {
	defer ws.Close()
	ws.SetReadLimit(mcCmdMaxMessageSize)
	_ = ws.SetReadDeadline(time.Now().Add(mcCmdPongWait))
	ws.SetPongHandler(func(string) error { _ = ws.SetReadDeadline(time.Now().Add(mcCmdPongWait)); return nil })
	for {
		_, message, err := ws.ReadMessage()
		if err != nil {
			break
		}
		message = append(message, '\n')
		if _, err := w.Write(message); err != nil {
			break
		}
	}
}

func (m *mcCommand) pumpStdout(ws *websocket.Conn, r io.Reader, done chan struct{}) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		_ = ws.SetWriteDeadline(time.Now().Add(mcCmdWriteWait))
		if err := ws.WriteMessage(websocket.TextMessage, s.Bytes()); err != nil {
			ws.Close()
			break
		}
	}
	if s.Err() != nil {
		hlog.Debugf("scan: %v", s.Err())
	}
	close(done)

	_ = ws.SetWriteDeadline(time.Now().Add(mcCmdWriteWait))
	_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	time.Sleep(mcCmdCloseGracePeriod)
	ws.Close()
}

func (m *mcCommand) ping(ws *websocket.Conn, done chan struct{}) {
	ticker := time.NewTicker(mcCmdPingPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			if err := ws.WriteControl(websocket.PingMessage, []byte{}, time.Now().Add(mcCmdWriteWait)); err != nil {
				hlog.Debugf("ping: %v", err)
			}
		case <-done:
			return
		}
	}
}

func (m *mcCommand) internalError(ws *websocket.Conn, msg string, err error) {
	hlog.Warnf("%s %v", msg, err)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("Internal server error."))
}

// serveWs is the command example's serveWs.
func (m *mcCommand) serveWs(c context.Context, ctx *app.RequestContext) {
	err := m.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		defer ws.Close()

		outr, outw, err := os.Pipe()
		if err != nil {
			m.internalError(ws, "stdout:", err)
			return
		}
		defer outr.Close()
		defer outw.Close()

		inr, inw, err := os.Pipe()
		if err != nil {
			m.internalError(ws, "stdin:", err)
			return
		}
		defer inr.Close()
		defer inw.Close()

		proc, err := os.StartProcess(m.cmdPath, m.args, &os.ProcAttr{
			Files: []*os.File{inr, outw, outw},
		})
		if err != nil {
			m.internalError(ws, "start:", err)
			return
		}

		inr.Close()
		outw.Close()

		stdoutDone := make(chan struct{})
		m.goroutines.Add(2)
		go func() { defer m.goroutines.Done(); m.pumpStdout(ws, outr, stdoutDone) }()
		go func() { defer m.goroutines.Done(); m.ping(ws, stdoutDone) }()

		m.pumpStdin(ws, inw)

		// Some commands exit when their input ends.
		inw.Close()

		// Others are told to.
		if err := proc.Signal(os.Interrupt); err != nil {
			hlog.Debugf("inter: %v", err)
		}

		select {
		case <-stdoutDone:
		case <-time.After(time.Second):
			if err := proc.Signal(os.Kill); err != nil {
				hlog.Debugf("term: %v", err)
			}
			<-stdoutDone
		}

		state, err := proc.Wait()
		if err != nil {
			hlog.Debugf("wait: %v", err)
		}
		m.exited <- state
	})
	if err != nil {
		hlog.Warnf("upgrade: %v", err)
	}
}

// waitExited returns the state of the next command the server reaped.
func (m *mcCommand) waitExited(t testing.TB) *os.ProcessState {
	t.Helper()
	select {
	case s := <-m.exited:
		if s == nil {
			t.Fatal("the command was not waited for")
		}
		return s
	case <-time.After(mcGuard):
		t.Fatal("the command was never reaped")
	}
	panic("unreachable")
}

func (m *mcCommand) start(t *testing.T, tc wstest.Transport) string {
	addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
		h.GET("/ws", m.serveWs)
	})
	t.Cleanup(func() { mcWaitGroup(t, &m.goroutines, "the command's pumps") })
	return "ws://" + addr + "/ws"
}

// mcExpectLines reads one text message per line of want.
func mcExpectLines(t testing.TB, in *mcInbox, want ...string) {
	t.Helper()
	for _, line := range want {
		m := in.next(t, mcGuard, "output line "+strconv.Quote(line))
		if m.mt != websocket.TextMessage || string(m.data) != line {
			t.Fatalf("got type %d %q, want text %q", m.mt, m.data, line)
		}
	}
}

// TestMigrationContribCommand runs the command example with cat and with
// head -n 2. With cat, every message comes back as one message per line;
// the client's close (1000) is answered, cat's input closes and the process
// is reaped. With head, the process ends by itself after two lines, and the
// server then closes the connection with code 1000. A message over the
// 8192-byte limit is refused with 1009 and the process is still reaped.
func TestMigrationContribCommand(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, kind := range mcClientKinds {
			kind := kind
			t.Run("cat-"+kind.name, func(t *testing.T) {
				m := newMcCommand(t, "cat")
				url := m.start(t, tc)
				c := mcDial(t, kind, url, nil)
				in := mcStartReading(c)
				if err := c.WriteMessage(websocket.TextMessage, []byte("first")); err != nil {
					t.Fatalf("write: %v", err)
				}
				mcExpectLines(t, in, "first")
				if err := c.WriteMessage(websocket.TextMessage, []byte("second\nthird")); err != nil {
					t.Fatalf("write: %v", err)
				}
				mcExpectLines(t, in, "second", "third")
				if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
					t.Fatalf("write close: %v", err)
				}
				if err := in.end(t, mcGuard, "after the client's close"); mcCloseCode(err) != websocket.CloseNormalClosure {
					t.Fatalf("after the client's close: %v, want close 1000", err)
				}
				t.Logf("cat ended: %v", m.waitExited(t))
			})
		}
		t.Run("head", func(t *testing.T) {
			m := newMcCommand(t, "head", "-n", "2")
			url := m.start(t, tc)
			c := mcDial(t, mcClientKinds[0], url, nil)
			in := mcStartReading(c)
			for _, line := range []string{"one", "two"} {
				if err := c.WriteMessage(websocket.TextMessage, []byte(line)); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			mcExpectLines(t, in, "one", "two")
			if err := in.end(t, mcGuard, "after the command ended"); mcCloseCode(err) != websocket.CloseNormalClosure {
				t.Fatalf("after the command ended: %v, want close 1000 from the server", err)
			}
			// The example interrupts the command once its input has
			// ended, which here is after head closed its output: head
			// may be caught between closing stdout and exiting. Either
			// way it ended after its two lines, and it was reaped.
			s := m.waitExited(t)
			ws, _ := s.Sys().(syscall.WaitStatus)
			if !s.Success() && !(ws.Signaled() && ws.Signal() == syscall.SIGINT) {
				t.Fatalf("head ended with %v, want success (or the interrupt the example sends after the output ended)", s)
			}
		})
		t.Run("limit", func(t *testing.T) {
			m := newMcCommand(t, "cat")
			url := m.start(t, tc)
			c := mcDial(t, mcClientKinds[1], url, nil)
			in := mcStartReading(c)
			if err := c.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("y"), mcCmdMaxMessageSize+1)); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := in.end(t, mcGuard, "after an oversized message"); mcCloseCode(err) != websocket.CloseMessageTooBig {
				t.Fatalf("after an oversized message: %v, want close 1009", err)
			}
			m.waitExited(t)
		})
	})
}

// ---------------------------------------------------------------------------
// examples/filewatch
// ---------------------------------------------------------------------------

// The filewatch example's timing, scaled down from seconds to
// milliseconds; pings go at half the pong wait rather than 9/10 of it, as
// in the chat test.
const (
	mcFileWriteWait  = 10 * time.Second
	mcFilePongWait   = time.Second
	mcFilePingPeriod = mcFilePongWait / 2
	mcFilePeriod     = 25 * time.Millisecond
)

// mcFileWatch is the filewatch example's server for one file.
type mcFileWatch struct {
	filename string
	upgrader websocket.HertzUpgrader
	writers  sync.WaitGroup
	homeTmpl *template.Template
}

func newMcFileWatch(filename string) *mcFileWatch {
	return &mcFileWatch{
		filename: filename,
		upgrader: websocket.HertzUpgrader{
			ReadBufferSize:  1024,
			WriteBufferSize: 1024,
		},
		homeTmpl: template.Must(template.New("filewatch").Parse(mcFileHomeHTML)),
	}
}

func (fw *mcFileWatch) readFileIfModified(lastMod time.Time) ([]byte, time.Time, error) {
	fi, err := os.Stat(fw.filename)
	if err != nil {
		return nil, lastMod, err
	}
	if !fi.ModTime().After(lastMod) {
		return nil, lastMod, nil
	}
	p, err := os.ReadFile(fw.filename)
	if err != nil {
		return nil, fi.ModTime(), err
	}
	return p, fi.ModTime(), nil
}

func (fw *mcFileWatch) reader(ws *websocket.Conn) {
	defer ws.Close()
	ws.SetReadLimit(512)
	_ = ws.SetReadDeadline(time.Now().Add(mcFilePongWait))
	ws.SetPongHandler(func(string) error { _ = ws.SetReadDeadline(time.Now().Add(mcFilePongWait)); return nil })
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
}

func (fw *mcFileWatch) writer(ws *websocket.Conn, lastMod time.Time) {
	lastError := ""
	pingTicker := time.NewTicker(mcFilePingPeriod)
	fileTicker := time.NewTicker(mcFilePeriod)
	defer func() {
		pingTicker.Stop()
		fileTicker.Stop()
		ws.Close()
	}()
	for {
		select {
		case <-fileTicker.C:
			var p []byte
			var err error

			p, lastMod, err = fw.readFileIfModified(lastMod)

			if err != nil {
				if s := err.Error(); s != lastError {
					lastError = s
					p = []byte(lastError)
				}
			} else {
				lastError = ""
			}

			if p != nil {
				_ = ws.SetWriteDeadline(time.Now().Add(mcFileWriteWait))
				if err := ws.WriteMessage(websocket.TextMessage, p); err != nil {
					return
				}
			}
		case <-pingTicker.C:
			_ = ws.SetWriteDeadline(time.Now().Add(mcFileWriteWait))
			if err := ws.WriteMessage(websocket.PingMessage, []byte{}); err != nil {
				return
			}
		}
	}
}

// serveWs is the filewatch example's serveWs: it reads lastMod from the
// request inside the upgrade callback.
func (fw *mcFileWatch) serveWs(c context.Context, ctx *app.RequestContext) {
	err := fw.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		var lastMod time.Time
		if n, err := strconv.ParseInt(string(ctx.FormValue("lastMod")), 16, 64); err == nil {
			lastMod = time.Unix(0, n)
		}

		fw.writers.Add(1)
		go func() {
			defer fw.writers.Done()
			fw.writer(ws, lastMod)
		}()
		fw.reader(ws)
	})
	if err != nil {
		var he websocket.HandshakeError
		if errors.As(err, &he) {
			hlog.Warnf("%v", err)
		}
		return
	}
}

func (fw *mcFileWatch) serveHome(c context.Context, ctx *app.RequestContext) {
	if !ctx.IsGet() {
		ctx.AbortWithMsg("Method not allowed", consts.StatusMethodNotAllowed)
		return
	}
	ctx.SetContentType("text/html; charset=utf-8")
	p, lastMod, err := fw.readFileIfModified(time.Time{})
	if err != nil {
		p = []byte(err.Error())
		lastMod = time.Unix(0, 0)
	}
	v := struct {
		Host    string
		Data    string
		LastMod string
	}{
		string(ctx.Host()),
		string(p),
		strconv.FormatInt(lastMod.UnixNano(), 16),
	}
	if err := fw.homeTmpl.Execute(ctx, &v); err != nil {
		hlog.Warnf("home: %v", err)
	}
}

// mcFileHomeHTML shows the file and opens a WebSocket that asks for
// versions newer than the one shown.
const mcFileHomeHTML = `<!DOCTYPE html>
<html lang="en">
<head><title>File watch</title></head>
<body>
<pre id="fileData">{{.Data}}</pre>
<script type="text/javascript">
(function() {
    var data = document.getElementById("fileData");
    var conn = new WebSocket("ws://{{.Host}}/ws?lastMod={{.LastMod}}");
    conn.onclose = function(evt) { data.textContent = "Connection closed"; };
    conn.onmessage = function(evt) { data.textContent = evt.data; };
})();
</script>
</body>
</html>
`

var mcPageFileData = regexp.MustCompile(`<pre id="fileData">([^<]*)</pre>`)

// mcReplaceFile gives path new contents and modification time in one
// rename, so that the watcher never sees a half-written file.
func mcReplaceFile(t testing.TB, path, contents string, mtime time.Time) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(contents), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationContribFilewatch runs the filewatch example. The page shows
// the file and its modification time; a client that opens the page's URL
// (?lastMod=) receives nothing until the file changes, while a client
// without lastMod receives the current contents at once. Each change is sent
// once to both; a removed file is reported once, by its error text, and a
// recreated one is sent again. The test passes only if the handler reads
// the right lastMod from the RequestContext inside the upgrade callback.
func TestMigrationContribFilewatch(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		path := filepath.Join(t.TempDir(), "watched.txt")
		base := time.Now().Add(-time.Hour).Truncate(time.Second)
		mcReplaceFile(t, path, "version 1", base)

		fw := newMcFileWatch(path)
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{NoHijackConnPool: true}, nil, func(h *server.Hertz) {
			h.GET("/", fw.serveHome)
			h.GET("/ws", fw.serveWs)
			h.NoRoute(func(c context.Context, ctx *app.RequestContext) {
				ctx.AbortWithMsg("Unsupported path", consts.StatusNotFound)
			})
		})
		// Registered before the clients are dialled, so that it runs after
		// they are closed: a writer ends at its next ping after that.
		t.Cleanup(func() { mcWaitGroup(t, &fw.writers, "the file writers") })

		page := mcGetPage(t, "http://"+addr+"/")
		if m := mcPageFileData.FindStringSubmatch(page); m == nil || m[1] != "version 1" {
			t.Fatalf("page does not show the file: %q", page)
		}
		wsURL := mcSocketURLInPage(t, page)
		if want := "ws://" + addr + "/ws?lastMod=" + strconv.FormatInt(base.UnixNano(), 16); wsURL != want {
			t.Fatalf("page opens %q, want %q", wsURL, want)
		}

		fromPage := mcStartReading(mcDial(t, mcClientKinds[0], wsURL, nil))
		fresh := mcStartReading(mcDial(t, mcClientKinds[1], "ws://"+addr+"/ws", nil))
		expect := func(in *mcInbox, who, want string) {
			t.Helper()
			m := in.next(t, mcGuard, who+" waiting for "+strconv.Quote(want))
			if m.mt != websocket.TextMessage || !strings.Contains(string(m.data), want) {
				t.Fatalf("%s: got type %d %q, want text with %q", who, m.mt, m.data, want)
			}
		}

		expect(fresh, "client without lastMod", "version 1")
		fromPage.quiet(t, 20*mcFilePeriod, "client with the page's lastMod, before any change")

		mcReplaceFile(t, path, "version 2", base.Add(time.Minute))
		expect(fromPage, "client with the page's lastMod", "version 2")
		expect(fresh, "client without lastMod", "version 2")
		fromPage.quiet(t, 8*mcFilePeriod, "client with the page's lastMod, after version 2")
		fresh.quiet(t, 0, "client without lastMod, after version 2")

		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		expect(fromPage, "client with the page's lastMod", "no such file")
		expect(fresh, "client without lastMod", "no such file")
		fromPage.quiet(t, 8*mcFilePeriod, "client with the page's lastMod, file still missing")
		fresh.quiet(t, 0, "client without lastMod, file still missing")

		mcReplaceFile(t, path, "version 3", base.Add(2*time.Minute))
		expect(fromPage, "client with the page's lastMod", "version 3")
		expect(fresh, "client without lastMod", "version 3")

		// Past the pong wait, pings have kept both connections open.
		time.Sleep(mcFilePongWait + mcFilePongWait/2)
		for _, in := range []*mcInbox{fromPage, fresh} {
			select {
			case <-in.done:
				t.Fatalf("connection ended while the client answered pings: %v", in.err)
			default:
			}
		}
	})
}

// ---------------------------------------------------------------------------
// The RequestContext inside the upgrade callback
// ---------------------------------------------------------------------------

// mcSeen is what a handler read from its RequestContext.
type mcSeen struct {
	Query  string `json:"query"`
	Param  string `json:"param"`
	Header string `json:"header"`
	Cookie string `json:"cookie"`
	Value  string `json:"value"`
	Body   string `json:"body"`
}

// mcCtxReport is what the WebSocket handler sends: its RequestContext read
// as the callback starts and again after a delay.
type mcCtxReport struct {
	Early mcSeen `json:"early"`
	Late  mcSeen `json:"late"`
}

const mcCtxDelay = 200 * time.Millisecond

func mcLook(ctx *app.RequestContext) mcSeen {
	return mcSeen{
		Query:  ctx.Query("id"),
		Param:  ctx.Param("room"),
		Header: string(ctx.GetHeader("X-Mc-Client")),
		Cookie: string(ctx.Cookie("mc_session")),
		Value:  ctx.GetString("mc.tag"),
		Body:   string(ctx.Request.Body()),
	}
}

// TestMigrationContribRequestContext reads the query, a route parameter, a
// header, a cookie, a value set by middleware and the body from the
// RequestContext inside the upgrade callback, at once and after 200 ms,
// while plain HTTP POSTs with values of their own run on another route of
// the same server. hertz-contrib/websocket runs the callback while the
// RequestContext still belongs to the request, and its examples rely on
// it: every WebSocket handler must see its own request's values, and every
// plain request its own. The WebSocket clients are gorilla's, this
// package's Dialer (neither sends a body, so the handler must see none) and
// a hand-written handshake that carries a Content-Length body, which Hertz
// reads for a GET too.
func TestMigrationContribRequestContext(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, es := range wstest.AllEngineSettings {
			es := es
			t.Run(es.String(), func(t *testing.T) { mcRunRequestContext(t, tc, es) })
		}
	})
}

func mcRunRequestContext(t *testing.T, tc wstest.Transport, es wstest.EngineSettings) {
	var upgrader websocket.HertzUpgrader
	addr := wstest.StartServer(t, tc, es, nil, func(h *server.Hertz) {
		h.Use(func(c context.Context, ctx *app.RequestContext) {
			ctx.Set("mc.tag", "mw:"+ctx.Query("id"))
			ctx.Next(c)
		})
		h.GET("/ctx/ws/:room", func(c context.Context, ctx *app.RequestContext) {
			err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
				early := mcLook(ctx)
				time.Sleep(mcCtxDelay)
				late := mcLook(ctx)
				if err := conn.WriteJSON(mcCtxReport{Early: early, Late: late}); err != nil {
					return
				}
				for {
					if _, _, err := conn.ReadMessage(); err != nil {
						return
					}
				}
			})
			if err != nil {
				hlog.Warnf("upgrade: %v", err)
			}
		})
		h.POST("/ctx/plain/:room", func(c context.Context, ctx *app.RequestContext) {
			ctx.JSON(consts.StatusOK, mcLook(ctx))
		})
	})

	// Plain requests, each with values of its own, until the WebSocket
	// clients have their reports.
	const plainWorkers, plainMax = 4, 400
	stop := make(chan struct{})
	var plain sync.WaitGroup
	var mu sync.Mutex
	var plainErrs []string
	plainDone := 0
	for g := 0; g < plainWorkers; g++ {
		g := g
		plain.Add(1)
		go func() {
			defer plain.Done()
			client := mcHTTPClient(g%2 == 0)
			defer client.CloseIdleConnections()
			for k := 0; k < plainMax; k++ {
				select {
				case <-stop:
					return
				default:
				}
				err := mcPlainRequest(client, addr, fmt.Sprintf("plain-%d-%d", g, k))
				mu.Lock()
				if err != nil {
					plainErrs = append(plainErrs, err.Error())
				} else {
					plainDone++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wstest.WaitFor(t, mcGuard, "plain requests are flowing", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return plainDone >= 20 || len(plainErrs) > 0
	})

	const wsClients = 9
	type result struct {
		i      int
		report mcCtxReport
		err    error
	}
	results := make(chan result, wsClients)
	for i := 0; i < wsClients; i++ {
		i := i
		go func() {
			var report mcCtxReport
			var err error
			if i%3 == 2 {
				report, err = mcCtxRawClient(t, addr, i)
			} else {
				report, err = mcCtxClient(mcClientKinds[i%3], addr, i)
			}
			results <- result{i: i, report: report, err: err}
		}()
	}
	var failures []string
	for n := 0; n < wsClients; n++ {
		var r result
		select {
		case r = <-results:
		case <-time.After(2 * mcGuard):
			t.Fatal("WebSocket clients never reported")
		}
		if r.err != nil {
			failures = append(failures, fmt.Sprintf("ws client %d: %v", r.i, r.err))
			continue
		}
		tag := fmt.Sprintf("ws-%d", r.i)
		want := mcWantSeen(tag, "")
		if r.i%3 == 2 {
			want.Body = tag + "-body"
		}
		if r.report.Early != want {
			failures = append(failures, fmt.Sprintf("ws client %d, at the start of the callback: saw %+v, want %+v", r.i, r.report.Early, want))
		}
		if r.report.Late != want {
			failures = append(failures, fmt.Sprintf("ws client %d, after %v: saw %+v, want %+v", r.i, mcCtxDelay, r.report.Late, want))
		}
	}
	close(stop)
	mcWaitGroup(t, &plain, "the plain HTTP clients")
	mu.Lock()
	failures = append(failures, plainErrs...)
	t.Logf("%d plain requests ran alongside", plainDone)
	mu.Unlock()
	if len(failures) > 0 {
		t.Fatalf("handlers saw values that were not their own:\n%s", strings.Join(failures, "\n"))
	}
	wstest.WaitFor(t, mcGuard, "the WebSocket handlers have returned", func() bool { return upgrader.Connections() == 0 })
}

// mcWantSeen is what a handler must see for the request tagged tag.
func mcWantSeen(tag, body string) mcSeen {
	return mcSeen{
		Query:  tag + "-id",
		Param:  tag + "-room",
		Header: tag + "-header",
		Cookie: tag + "-cookie",
		Value:  "mw:" + tag + "-id",
		Body:   body,
	}
}

// mcPlainRequest POSTs one request tagged tag and checks that its handler
// saw its values.
func mcPlainRequest(client *http.Client, addr, tag string) error {
	body := tag + "-body"
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/ctx/plain/"+tag+"-room?id="+tag+"-id", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Mc-Client", tag+"-header")
	req.Header.Set("Cookie", "mc_session="+tag+"-cookie")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %v", tag, err)
	}
	defer resp.Body.Close()
	var seen mcSeen
	if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
		return fmt.Errorf("%s: status %d: %v", tag, resp.StatusCode, err)
	}
	if want := mcWantSeen(tag, body); seen != want {
		return fmt.Errorf("plain request %s: saw %+v, want %+v", tag, seen, want)
	}
	return nil
}

// mcCtxClient opens the WebSocket route with values tagged ws-i and returns
// the handler's report.
func mcCtxClient(kind mcClientKind, addr string, i int) (mcCtxReport, error) {
	tag := fmt.Sprintf("ws-%d", i)
	header := http.Header{
		"X-Mc-Client": {tag + "-header"},
		"Cookie":      {"mc_session=" + tag + "-cookie"},
	}
	c, resp, err := kind.dial("ws://"+addr+"/ctx/ws/"+tag+"-room?id="+tag+"-id", header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return mcCtxReport{}, fmt.Errorf("%s dial: %v (status %d)", kind.name, err, status)
	}
	defer c.Close()
	type read struct {
		data []byte
		err  error
	}
	got := make(chan read, 1)
	go func() {
		_, data, err := c.ReadMessage()
		got <- read{data, err}
	}()
	var r read
	select {
	case r = <-got:
	case <-time.After(mcGuard):
		_ = c.Close()
		r = <-got
	}
	if r.err != nil {
		return mcCtxReport{}, fmt.Errorf("%s read: %v", kind.name, r.err)
	}
	var report mcCtxReport
	if err := json.Unmarshal(r.data, &report); err != nil {
		return mcCtxReport{}, fmt.Errorf("%s: report %q: %v", kind.name, r.data, err)
	}
	_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	return report, nil
}

// mcCtxRawClient opens the WebSocket route with a handshake written by hand
// that carries values tagged ws-i and a body, and returns the handler's
// report. It reports failures as errors: it runs on a goroutine of its own.
func mcCtxRawClient(t testing.TB, addr string, i int) (mcCtxReport, error) {
	tag := fmt.Sprintf("ws-%d", i)
	body := tag + "-body"
	rc, err := wstest.TryDialRaw(t, addr)
	if err != nil {
		return mcCtxReport{}, fmt.Errorf("raw dial: %v", err)
	}
	defer rc.NetConn.Close()
	lines := append(wstest.UpgradeLines(),
		"X-Mc-Client: "+tag+"-header",
		"Cookie: mc_session="+tag+"-cookie",
		"Content-Length: "+strconv.Itoa(len(body)))
	req := append(wstest.Request("GET", addr, "/ctx/ws/"+tag+"-room?id="+tag+"-id", lines), body...)
	if err := rc.TryWrite(req); err != nil {
		return mcCtxReport{}, fmt.Errorf("raw write: %v", err)
	}
	resp, err := rc.TryReadResponse()
	if err != nil {
		return mcCtxReport{}, fmt.Errorf("raw handshake: %v", err)
	}
	if resp.Status != http.StatusSwitchingProtocols {
		return mcCtxReport{}, fmt.Errorf("raw handshake: status %d, body %q", resp.Status, resp.Body)
	}
	f, err := rc.TryReadFrame()
	if err != nil {
		return mcCtxReport{}, fmt.Errorf("raw read: %v", err)
	}
	if !f.Header.Fin || f.Header.Opcode != frame.OpText {
		return mcCtxReport{}, fmt.Errorf("raw read: frame %+v, want one text frame", f.Header)
	}
	var report mcCtxReport
	if err := json.Unmarshal(f.Payload, &report); err != nil {
		return mcCtxReport{}, fmt.Errorf("raw: report %q: %v", f.Payload, err)
	}
	return report, nil
}
