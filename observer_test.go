package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// observedMessage is one MessageRead or MessageWritten event.
type observedMessage struct {
	messageType   int
	payload, wire int64
}

// observed is what a recordingObserver has recorded.
type observed struct {
	failed  []int
	opened  int
	closed  []int
	read    []observedMessage
	written []observedMessage
	rtts    []time.Duration
}

// recordingObserver records every event it receives.
type recordingObserver struct {
	mu sync.Mutex
	observed
}

func (o *recordingObserver) HandshakeFailed(status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed = append(o.failed, status)
}

func (o *recordingObserver) ConnOpened() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opened++
}

func (o *recordingObserver) ConnClosed(code int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = append(o.closed, code)
}

func (o *recordingObserver) MessageRead(mt int, payload, wire int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.read = append(o.read, observedMessage{mt, payload, wire})
}

func (o *recordingObserver) MessageWritten(mt int, payload, wire int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.written = append(o.written, observedMessage{mt, payload, wire})
}

func (o *recordingObserver) PingRTT(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rtts = append(o.rtts, d)
}

// snapshot returns a copy of what was recorded so far.
func (o *recordingObserver) snapshot() observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return observed{
		failed:  append([]int(nil), o.failed...),
		opened:  o.opened,
		closed:  append([]int(nil), o.closed...),
		read:    append([]observedMessage(nil), o.read...),
		written: append([]observedMessage(nil), o.written...),
		rtts:    append([]time.Duration(nil), o.rtts...),
	}
}

// closedCodes returns the ConnClosed codes recorded so far.
func (o *recordingObserver) closedCodes() []int { return o.snapshot().closed }

// dataWire sums the payload lengths of the data frames among frames, and
// reports whether the first one carried RSV1 (compressed).
func dataWire(frames []frame.Header) (wire int64, compressed bool) {
	first := true
	for _, h := range frames {
		if h.Opcode.IsControl() {
			continue
		}
		if first {
			compressed, first = h.Rsv&frame.Rsv1 != 0, false
		}
		wire += h.PayloadLen
	}
	return wire, compressed
}

// sniffingDialer returns d dialling through a sniffer, which *sc is set to.
func sniffingDialer(d websocket.Dialer, sc **wstest.SniffedConn) *websocket.Dialer {
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		c, err := nd.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		*sc = wstest.Sniff(c)
		return *sc, nil
	}
	return &d
}

// readUntilError reads and drops messages until the read fails, within
// the test's guard, and returns the error.
func readUntilError(c *websocket.Conn) error {
	_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
	for i := 0; i < 1000; i++ {
		if _, _, err := c.ReadMessage(); err != nil {
			return err
		}
	}
	return errors.New("no end after 1000 messages")
}

// echoOnce is how a server reads one message and answers it; msg is the
// message the client sent.
type echoOnce func(c *websocket.Conn, msg []byte) error

var observerEchoes = []struct {
	name   string
	mt     int
	echo   echoOnce
	events bool // served by UpgradeEvents, whose OnMessage writes with WriteMessage
}{
	{name: "ReadMessage+WriteMessage", mt: websocket.TextMessage, echo: func(c *websocket.Conn, _ []byte) error {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return err
		}
		return c.WriteMessage(mt, p)
	}},
	{name: "ReadMessageInto+WriteMessages", mt: websocket.BinaryMessage, echo: func(c *websocket.Conn, _ []byte) error {
		mt, p, err := c.ReadMessageInto(make([]byte, 0, 64))
		if err != nil {
			return err
		}
		return c.WriteMessages(mt, p)
	}},
	{name: "NextReader+NextWriter.Write", mt: websocket.TextMessage, echo: func(c *websocket.Conn, _ []byte) error {
		mt, r, err := c.NextReader()
		if err != nil {
			return err
		}
		p, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return err
		}
		// Two writes, so that a message of several frames is counted once.
		if _, err := w.Write(p[:len(p)/2]); err != nil {
			return err
		}
		if _, err := w.Write(p[len(p)/2:]); err != nil {
			return err
		}
		return w.Close()
	}},
	{name: "NextReader+NextWriter.ReadFrom", mt: websocket.BinaryMessage, echo: func(c *websocket.Conn, _ []byte) error {
		mt, r, err := c.NextReader()
		if err != nil {
			return err
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			return err
		}
		return w.Close()
	}},
	{name: "ReadJSON+WriteJSON", mt: websocket.TextMessage, echo: func(c *websocket.Conn, _ []byte) error {
		var v interface{}
		if err := c.ReadJSON(&v); err != nil {
			return err
		}
		return c.WriteJSON(v)
	}},
	{name: "ReadMessage+WritePreparedMessage", mt: websocket.BinaryMessage, echo: func(c *websocket.Conn, _ []byte) error {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return err
		}
		pm, err := websocket.NewPreparedMessage(mt, p)
		if err != nil {
			return err
		}
		return c.WritePreparedMessage(pm)
	}},
	{name: "NextReader unread+WriteMessage", mt: websocket.TextMessage, echo: func(c *websocket.Conn, msg []byte) error {
		// The message is left unread: the next read discards it, and it
		// counts then.
		mt, _, err := c.NextReader()
		if err != nil {
			return err
		}
		return c.WriteMessage(mt, msg)
	}},
	{name: "UpgradeEvents", mt: websocket.TextMessage, events: true},
}

// TestObserverMessages checks the events a server's and a client's
// observers see for one message each way, through every read and write
// API, plain and compressed: one read and one write with the right type,
// payload and wire sizes (the wire sizes as a sniffer on the client's
// socket saw them), one open, and one close with code 1000.
func TestObserverMessages(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, compressed := range []bool{false, true} {
			for _, e := range observerEchoes {
				e := e
				name := e.name
				if compressed {
					name += "/compressed"
				}
				t.Run(name, func(t *testing.T) { testObserverMessages(t, tc, compressed, e.mt, e.echo, e.events) })
			}
		}
	})
}

func testObserverMessages(t *testing.T, tc wstest.Transport, compressed bool, mt int, echo echoOnce, events bool) {
	msg := observerMessage(mt)
	var srv, cli recordingObserver
	u := &websocket.HertzUpgrader{EnableCompression: compressed, Observer: &srv}
	handlerErr := make(chan error, 1)
	var url string
	if events {
		url = wstest.StartEvents(t, tc, wstest.EngineSettings{}, u, websocket.EventFuncs{
			Message: func(c *websocket.Conn, mt int, data []byte) { _ = c.WriteMessage(mt, data) },
		})
		handlerErr <- nil
	} else {
		url = wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			err := echo(c, msg)
			handlerErr <- err
			if err == nil {
				_ = readUntilError(c)
			}
		})
	}

	var sc *wstest.SniffedConn
	c, _ := wstest.Dial(t, sniffingDialer(websocket.Dialer{EnableCompression: compressed, Observer: &cli}, &sc), url, nil)
	if err := c.WriteMessage(mt, msg); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
	gotType, reply, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("reading the reply: %v", err)
	}
	if err := wstest.Receive(t, handlerErr, "the server's echo"); err != nil {
		t.Fatalf("server: %v", err)
	}
	if gotType != mt || len(reply) == 0 {
		t.Fatalf("reply of type %d and %d bytes", gotType, len(reply))
	}
	_, outFrames := sc.Out.Since(wstest.SniffMark{})
	_, inFrames := sc.In.Since(wstest.SniffMark{})
	outWire, outCompressed := dataWire(outFrames)
	inWire, inCompressed := dataWire(inFrames)
	if outCompressed != compressed || inCompressed != compressed {
		t.Fatalf("compressed: sent %v, received %v, want %v", outCompressed, inCompressed, compressed)
	}
	if compressed && (outWire >= int64(len(msg)) || inWire >= int64(len(reply))) {
		t.Fatalf("compressed sizes %d and %d are not below %d and %d", outWire, inWire, len(msg), len(reply))
	}

	// The client closes; both sides end with the client's code.
	if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(wstest.Guard)); err != nil {
		t.Fatal(err)
	}
	if err := readUntilError(c); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("client read after its close: %v", err)
	}
	_ = c.Close()
	wstest.WaitFor(t, wstest.Guard, "the server's ConnClosed", func() bool { return len(srv.closedCodes()) > 0 })

	sent := observedMessage{mt, int64(len(msg)), outWire}
	echoed := observedMessage{mt, int64(len(reply)), inWire}
	checkObserved(t, "server", srv.snapshot(), []observedMessage{sent}, []observedMessage{echoed}, websocket.CloseNormalClosure)
	checkObserved(t, "client", cli.snapshot(), []observedMessage{echoed}, []observedMessage{sent}, websocket.CloseNormalClosure)
}

// observerMessage returns a message of type mt of a few KiB that
// compresses well: for text, a JSON document, which ReadJSON decodes whole.
func observerMessage(mt int) []byte {
	if mt == websocket.BinaryMessage {
		return wstest.CompressibleBinary(3000, 1)
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; i < 40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"seq":%d,"text":"the quick brown fox jumps over the lazy dog"}`, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// checkObserved compares what an observer recorded with what it should
// have: one open, the messages read and written, one close with code.
func checkObserved(t *testing.T, side string, got observed, read, written []observedMessage, code int) {
	t.Helper()
	if got.opened != 1 {
		t.Errorf("%s: ConnOpened %d times, want once", side, got.opened)
	}
	if !equalMessages(got.read, read) {
		t.Errorf("%s: MessageRead %+v, want %+v", side, got.read, read)
	}
	if !equalMessages(got.written, written) {
		t.Errorf("%s: MessageWritten %+v, want %+v", side, got.written, written)
	}
	if len(got.closed) != 1 || got.closed[0] != code {
		t.Errorf("%s: ConnClosed %v, want [%d]", side, got.closed, code)
	}
	if len(got.failed) != 0 {
		t.Errorf("%s: HandshakeFailed %v, want none", side, got.failed)
	}
}

func equalMessages(a, b []observedMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestObserverConnClosed checks the code ConnClosed reports, once per
// connection, on both sides: the peer's close code when one arrived, else
// the one sent, else 1006.
func TestObserverConnClosed(t *testing.T) {
	sendClose := func(c *websocket.Conn, payload []byte) {
		_ = c.WriteControl(websocket.CloseMessage, payload, time.Now().Add(wstest.Guard))
	}
	readAll := func(c *websocket.Conn) { _ = readUntilError(c) }
	tests := []struct {
		name string
		// server is the handler; client runs on the dialled connection,
		// whose TCP connection is nc, before the test closes it.
		server                 func(c *websocket.Conn)
		client                 func(c *websocket.Conn, nc net.Conn)
		wantServer, wantClient int
	}{
		{"client closes with 1000", readAll, func(c *websocket.Conn, _ net.Conn) {
			sendClose(c, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			readAll(c)
		}, 1000, 1000},
		{"client closes with 4000", readAll, func(c *websocket.Conn, _ net.Conn) {
			sendClose(c, websocket.FormatCloseMessage(4000, "done"))
			readAll(c)
		}, 4000, 4000},
		{"client closes without a code", readAll, func(c *websocket.Conn, _ net.Conn) {
			sendClose(c, nil)
			readAll(c)
		}, websocket.CloseNoStatusReceived, websocket.CloseNoStatusReceived},
		{"server closes with 1001", func(c *websocket.Conn) {
			sendClose(c, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"))
			readAll(c)
		}, func(c *websocket.Conn, _ net.Conn) { readAll(c) }, 1001, 1001},
		{"server sends 1001 and returns at once", func(c *websocket.Conn) {
			sendClose(c, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"))
		}, func(c *websocket.Conn, _ net.Conn) { readAll(c) }, 1001, 1001},
		{"handler returns without a close", func(*websocket.Conn) {}, func(c *websocket.Conn, _ net.Conn) {
			readAll(c)
		}, websocket.CloseAbnormalClosure, websocket.CloseAbnormalClosure},
		{"client drops the TCP connection", readAll, func(_ *websocket.Conn, nc net.Conn) {
			_ = nc.Close()
		}, websocket.CloseAbnormalClosure, websocket.CloseAbnormalClosure},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				var srv, cli recordingObserver
				u := &websocket.HertzUpgrader{Observer: &srv}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, tt.server)
				var sc *wstest.SniffedConn
				c, _ := wstest.Dial(t, sniffingDialer(websocket.Dialer{Observer: &cli}, &sc), url, nil)
				tt.client(c, sc.Conn)
				_ = c.Close()
				_ = c.Close() // a second Close reports nothing
				wstest.WaitFor(t, wstest.Guard, "the server's ConnClosed", func() bool { return len(srv.closedCodes()) > 0 })
				wstest.WaitFor(t, wstest.Guard, "the server's handler to end", func() bool { return u.Connections() == 0 })
				for _, side := range []struct {
					name string
					o    *recordingObserver
					want int
				}{{"server", &srv, tt.wantServer}, {"client", &cli, tt.wantClient}} {
					got := side.o.snapshot()
					if got.opened != 1 || len(got.closed) != 1 || got.closed[0] != side.want {
						t.Errorf("%s: opened %d, closed %v; want 1 and [%d]", side.name, got.opened, got.closed, side.want)
					}
				}
			})
		}
	})
}

// TestObserverProtocolError checks that a connection the server fails
// reports the code it sent: a client frame that is not masked is answered
// with 1002 (RFC 6455 §5.1).
func TestObserverProtocolError(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		var srv recordingObserver
		u := &websocket.HertzUpgrader{Observer: &srv}
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) { _ = readUntilError(c) })
		rc := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
		rc.Write(wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText, PayloadLen: 2}, []byte("hi")))
		rc.ExpectCloseCode(websocket.CloseProtocolError)
		wstest.WaitFor(t, wstest.Guard, "the server's ConnClosed", func() bool { return len(srv.closedCodes()) > 0 })
		if got := srv.closedCodes(); len(got) != 1 || got[0] != websocket.CloseProtocolError {
			t.Fatalf("ConnClosed %v, want [1002]", got)
		}
	})
}

// TestObserverHandshakeFailed checks that a refused upgrade reports its
// status, on the server and, for a Dialer that got the answer, on the
// client, and opens no connection.
func TestObserverHandshakeFailed(t *testing.T) {
	lines := func(drop string, extra ...string) []string {
		var out []string
		for _, l := range wstest.UpgradeLines() {
			if drop == "" || len(l) < len(drop) || l[:len(drop)] != drop {
				out = append(out, l)
			}
		}
		return append(out, extra...)
	}
	tests := []struct {
		name   string
		method string
		lines  []string
		want   int
	}{
		{"origin of another host", "GET", lines("", "Origin: http://elsewhere.example"), http.StatusForbidden},
		{"no Sec-WebSocket-Key", "GET", lines("Sec-WebSocket-Key:"), http.StatusBadRequest},
		{"no upgrade token", "GET", lines("Connection:", "Connection: keep-alive"), http.StatusBadRequest},
		{"version 8", "GET", lines("Sec-WebSocket-Version:", "Sec-WebSocket-Version: 8"), http.StatusUpgradeRequired},
		{"POST", "POST", append(lines(""), "Content-Length: 0"), http.StatusMethodNotAllowed},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				var srv recordingObserver
				u := &websocket.HertzUpgrader{Observer: &srv}
				addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
					h.Any("/ws", func(_ context.Context, ctx *app.RequestContext) {
						_ = u.Upgrade(ctx, func(*websocket.Conn) {})
					})
				})
				rc := wstest.DialRaw(t, addr)
				rc.Write(wstest.Request(tt.method, addr, "/ws", tt.lines))
				if resp := rc.ReadResponse(); resp.Status != tt.want {
					t.Fatalf("status %d, want %d", resp.Status, tt.want)
				}
				got := srv.snapshot()
				if len(got.failed) != 1 || got.failed[0] != tt.want || got.opened != 0 || len(got.closed) != 0 {
					t.Fatalf("HandshakeFailed %v, opened %d, closed %v; want [%d], 0, none", got.failed, got.opened, got.closed, tt.want)
				}
			})
		}
		t.Run("Dialer", func(t *testing.T) {
			var srv, cli recordingObserver
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{Observer: &srv}, func(*websocket.Conn) {})
			d := websocket.Dialer{Observer: &cli}
			_, resp, err := d.Dial(url, http.Header{"Origin": {"http://elsewhere.example"}})
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("dial with another origin: %v (response %v)", err, resp)
			}
			for _, got := range []observed{srv.snapshot(), cli.snapshot()} {
				if len(got.failed) != 1 || got.failed[0] != http.StatusForbidden || got.opened != 0 {
					t.Fatalf("HandshakeFailed %v, opened %d; want [403] and 0", got.failed, got.opened)
				}
			}
		})
	})
}

// TestNopObserver checks that NopObserver is an Observer that an embedding
// type completes.
func TestNopObserver(t *testing.T) {
	var o websocket.Observer = websocket.NopObserver{}
	o.HandshakeFailed(400)
	o.ConnOpened()
	o.ConnClosed(1000)
	o.MessageRead(websocket.TextMessage, 1, 1)
	o.MessageWritten(websocket.BinaryMessage, 1, 1)
	o.PingRTT(time.Millisecond)
}
