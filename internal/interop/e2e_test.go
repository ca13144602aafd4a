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
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// e2eGuard bounds every wait in these tests so that a broken server fails the
// test instead of hanging it. It is never used to judge speed.
const e2eGuard = 30 * time.Second

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// e2eReleaseAtCleanup closes release when the test ends, for handlers that
// must stay alive until the test has looked at the connection. Call it after
// starting the server, so that it runs before the server's shutdown.
func e2eReleaseAtCleanup(t testing.TB, release chan struct{}) {
	t.Cleanup(func() { close(release) })
}

// e2ePayload returns the test payload of a message type and size.
func e2ePayload(mt, n int) []byte {
	if mt == gorilla.TextMessage {
		return wstest.RandomText(n, int64(n)+1)
	}
	return wstest.RandomBytes(n, int64(n)+2)
}

// e2eSameBytes fails the test unless got equals want, naming the first byte
// that differs.
func e2eSameBytes(t testing.TB, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("got %d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("byte %d of %d differs: got %#x, want %#x", i, len(want), got[i], want[i])
		}
	}
}

var e2eEchoHandlers = []struct {
	name    string
	handler websocket.HertzHandler
}{
	{"NextReader-NextWriter", wstest.Echo},
	{"ReadMessage-WriteMessage", wstest.EchoMessages},
}

// e2eGuardGorilla puts hang guards on a gorilla connection.
func e2eGuardGorilla(c *gorilla.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(e2eGuard))
	_ = c.SetWriteDeadline(time.Now().Add(e2eGuard))
}

// e2eExpectEOF reads the raw connection and fails unless the peer has closed
// it: io.EOF, or a reset, which a peer closing with unread input causes.
func e2eExpectEOF(t testing.TB, nc net.Conn) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(e2eGuard))
	var buf [64]byte
	for i := 0; i < 16; i++ { // bounded: a few stray bytes are reported
		n, err := nc.Read(buf[:])
		if n > 0 {
			t.Fatalf("expected the server to close the TCP connection, got %d more bytes: %q", n, buf[:n])
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return
		}
		t.Fatalf("expected EOF from the server closing the connection, got %v", err)
	}
	t.Fatal("expected EOF, read returned nothing repeatedly")
}

// e2eCheckFragments checks that s saw exactly one data message, split into
// at least minFrames frames of at most maxPayload bytes each, and returns
// its frame count.
func e2eCheckFragments(t testing.TB, s *wstest.Sniffer, op frame.Opcode, minFrames int, maxPayload int64) int {
	t.Helper()
	if err := s.Err(); err != nil {
		t.Fatalf("recorded stream: %v", err)
	}
	_, hs := s.Since(wstest.SniffMark{})
	var data []frame.Header
	for _, h := range hs {
		if h.Opcode.IsData() {
			data = append(data, h)
		}
	}
	if len(data) < minFrames {
		t.Fatalf("message went out in %d frames, want at least %d", len(data), minFrames)
	}
	for i, h := range data {
		wantOp := frame.OpContinuation
		if i == 0 {
			wantOp = op
		}
		if h.Opcode != wantOp {
			t.Fatalf("frame %d has opcode %v, want %v", i, h.Opcode, wantOp)
		}
		if h.Fin != (i == len(data)-1) {
			t.Fatalf("frame %d of %d has FIN=%v", i, len(data), h.Fin)
		}
		if h.PayloadLen > maxPayload {
			t.Fatalf("frame %d carries %d bytes, want at most %d", i, h.PayloadLen, maxPayload)
		}
	}
	return len(data)
}

// e2eReadFrame reads one frame of the raw client, which must carry no RSV
// bits.
func e2eReadFrame(t testing.TB, c *wstest.RawConn) (frame.Header, []byte) {
	t.Helper()
	f := c.ReadFrame()
	if f.Header.Rsv != 0 {
		t.Fatalf("server frame with RSV bits %#x", f.Header.Rsv)
	}
	return f.Header, f.Payload
}

// ---------------------------------------------------------------------------
// 1. Echo of every interesting size, both message types, both APIs.
// ---------------------------------------------------------------------------

func TestE2EEcho(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 << 20}
	types := []int{gorilla.TextMessage, gorilla.BinaryMessage}
	payloads := map[int]map[int][]byte{}
	for _, mt := range types {
		payloads[mt] = map[int][]byte{}
		for _, n := range sizes {
			payloads[mt][n] = e2ePayload(mt, n)
		}
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, hc := range e2eEchoHandlers {
			hc := hc
			t.Run(hc.name, func(t *testing.T) {
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{}, hc.handler)
				c := dialGorilla(t, url, nil)
				for _, mt := range types {
					for _, n := range sizes {
						mt, want := mt, payloads[mt][n]
						t.Run(fmt.Sprintf("%s/%d", ciTypeName(mt), n), func(t *testing.T) {
							e2eGuardGorilla(c)
							// Write while reading: the streaming echo sends
							// bytes back before the message has all arrived.
							werr := make(chan error, 1)
							go func() { werr <- c.WriteMessage(mt, want) }()
							gotType, got, err := c.ReadMessage()
							if err != nil {
								t.Fatalf("ReadMessage: %v", err)
							}
							if err := wstest.Receive(t, werr, "client write"); err != nil {
								t.Fatalf("WriteMessage: %v", err)
							}
							if gotType != mt {
								t.Fatalf("echo type %d, want %d", gotType, mt)
							}
							e2eSameBytes(t, got, want)
						})
					}
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 2. Fragmented writes in both directions.
// ---------------------------------------------------------------------------

// e2ePieceSizes splits total into pieces of varying sizes, 1 to maxLen bytes.
func e2ePieceSizes(total, maxLen int, seed int64) []int {
	r := rand.New(rand.NewSource(seed))
	var sizes []int
	for total > 0 {
		n := 1 + r.Intn(maxLen)
		if n > total {
			n = total
		}
		sizes = append(sizes, n)
		total -= n
	}
	return sizes
}

func TestE2EFragmentedClientWrites(t *testing.T) {
	const clientBuf = 64
	tests := []struct {
		name string
		mt   int
		size int
	}{
		{"binary", gorilla.BinaryMessage, 100000},
		{"text split inside runes", gorilla.TextMessage, 100000},
		{"binary just over one buffer", gorilla.BinaryMessage, clientBuf + 1},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, hc := range e2eEchoHandlers {
			hc := hc
			t.Run(hc.name, func(t *testing.T) {
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{}, hc.handler)
				for _, tt := range tests {
					tt := tt
					t.Run(tt.name, func(t *testing.T) {
						var rec *wstest.SniffedConn
						d := gorilla.Dialer{
							WriteBufferSize: clientBuf,
							NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
								var nd net.Dialer
								nc, err := nd.DialContext(ctx, network, addr)
								if err != nil {
									return nil, err
								}
								rec = wstest.Sniff(nc)
								return rec, nil
							},
						}
						c, _ := dialGorillaWith(t, d, url, nil)
						e2eGuardGorilla(c)
						want := e2ePayload(tt.mt, tt.size)

						werr := make(chan error, 1)
						go func() {
							w, err := c.NextWriter(tt.mt)
							if err != nil {
								werr <- err
								return
							}
							rest := want
							for _, n := range e2ePieceSizes(len(want), 1000, int64(tt.size)) {
								if _, err := w.Write(rest[:n]); err != nil {
									werr <- err
									return
								}
								rest = rest[n:]
							}
							werr <- w.Close()
						}()
						gotType, got, err := c.ReadMessage()
						if err != nil {
							t.Fatalf("ReadMessage: %v", err)
						}
						if err := wstest.Receive(t, werr, "client write"); err != nil {
							t.Fatalf("client NextWriter: %v", err)
						}
						if gotType != tt.mt {
							t.Fatalf("echo type %d, want %d", gotType, tt.mt)
						}
						e2eSameBytes(t, got, want)

						// The client really did fragment the message.
						minFrames := (tt.size + clientBuf - 1) / clientBuf
						e2eCheckFragments(t, rec.Out, frame.Opcode(tt.mt), minFrames, clientBuf)
					})
				}
			})
		}
	})
}

func TestE2EFragmentedServerWrites(t *testing.T) {
	const serverBuf = 128
	const maxPiece = 300
	tests := []struct {
		name string
		mt   int
		size int
		pool bool
	}{
		{"binary", websocket.BinaryMessage, 200000, false},
		{"text", websocket.TextMessage, 200000, false},
		{"binary with buffer pool", websocket.BinaryMessage, 200000, true},
		{"text with buffer pool", websocket.TextMessage, 50000, true},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				want := e2ePayload(tt.mt, tt.size)
				pieces := e2ePieceSizes(len(want), maxPiece, 7)
				u := &websocket.HertzUpgrader{WriteBufferSize: serverBuf}
				if tt.pool {
					u.WriteBufferPool = &sync.Pool{}
				}
				serverErr := make(chan error, 1)
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
					serverErr <- func() error {
						// Wait for the client's go-ahead, then stream.
						if _, _, err := c.ReadMessage(); err != nil {
							return err
						}
						w, err := c.NextWriter(tt.mt)
						if err != nil {
							return err
						}
						rest := want
						for i, n := range pieces {
							var err error
							if i%2 == 0 {
								_, err = w.Write(rest[:n])
							} else {
								//lint:ignore SA6006 the point is to reach the writer's WriteString method
								_, err = io.WriteString(w, string(rest[:n]))
							}
							if err != nil {
								return err
							}
							rest = rest[n:]
						}
						if err := w.Close(); err != nil {
							return err
						}
						_, _, err = c.ReadMessage() // until the client closes
						return err
					}()
				})
				var rec *wstest.SniffedConn
				d := gorilla.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					var nd net.Dialer
					nc, err := nd.DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					rec = wstest.Sniff(nc)
					return rec, nil
				}}
				c, _ := dialGorillaWith(t, d, url, nil)
				e2eGuardGorilla(c)
				if err := c.WriteMessage(gorilla.TextMessage, []byte("go")); err != nil {
					t.Fatal(err)
				}
				gotType, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("ReadMessage: %v", err)
				}
				if gotType != tt.mt {
					t.Fatalf("type %d, want %d", gotType, tt.mt)
				}
				e2eSameBytes(t, got, want)
				e2eCheckFragments(t, rec.In, frame.Opcode(tt.mt), tt.size/maxPiece, maxPiece)

				if err := c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, "")); err != nil {
					t.Fatal(err)
				}
				if err := wstest.Receive(t, serverErr, "server handler"); !websocket.IsCloseError(err, 1000) {
					t.Fatalf("server: %v, want close 1000", err)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 3. Control frames between the fragments of a message (raw client).
// ---------------------------------------------------------------------------

func TestE2EPingBetweenFragments(t *testing.T) {
	type rawFrame struct {
		fin     bool
		op      frame.Opcode
		payload string
	}
	tests := []struct {
		name      string
		frames    []rawFrame
		wantPongs []string
		wantOp    frame.Opcode
		wantMsg   string
	}{
		{
			name: "ping between text fragments",
			frames: []rawFrame{
				{false, frame.OpText, "Hello, "},
				{true, frame.OpPing, "p1"},
				{false, frame.OpContinuation, "wor"},
				{true, frame.OpPing, "p2"},
				{true, frame.OpContinuation, "ld!"},
			},
			wantPongs: []string{"p1", "p2"},
			wantOp:    frame.OpText,
			wantMsg:   "Hello, world!",
		},
		{
			name: "rune split around a ping",
			frames: []rawFrame{
				{false, frame.OpText, "caf\xc3"},
				{true, frame.OpPing, "é"},
				{true, frame.OpContinuation, "\xa9!"},
			},
			wantPongs: []string{"é"},
			wantOp:    frame.OpText,
			wantMsg:   "café!",
		},
		{
			name: "empty and maximal pings around binary fragments",
			frames: []rawFrame{
				{true, frame.OpPing, ""},
				{false, frame.OpBinary, "\x00\x01"},
				{true, frame.OpPing, strings.Repeat("m", 125)},
				{false, frame.OpContinuation, ""},
				{true, frame.OpContinuation, "\xff"},
			},
			wantPongs: []string{"", strings.Repeat("m", 125)},
			wantOp:    frame.OpBinary,
			wantMsg:   "\x00\x01\xff",
		},
		{
			name: "unsolicited pong is not answered",
			frames: []rawFrame{
				{false, frame.OpText, "a"},
				{true, frame.OpPong, "unsolicited"},
				{true, frame.OpPing, "q"},
				{true, frame.OpContinuation, "b"},
			},
			wantPongs: []string{"q"},
			wantOp:    frame.OpText,
			wantMsg:   "ab",
		},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, hc := range e2eEchoHandlers {
			hc := hc
			t.Run(hc.name, func(t *testing.T) {
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{}, hc.handler)
				for _, tt := range tests {
					tt := tt
					t.Run(tt.name, func(t *testing.T) {
						c := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
						for _, f := range tt.frames {
							c.Write(wstest.Masked(f.fin, f.op, []byte(f.payload)))
						}
						// A last ping marks the end: everything the server
						// says about the message comes before its pong. So
						// the server owes exactly len(wantPongs)+1 pongs, the
						// last of them the marker; reading stops at that many
						// whatever their payloads, so a wrong pong fails at
						// once.
						const endMarker = "end-marker"
						c.Write(wstest.Masked(true, frame.OpPing, []byte(endMarker)))

						var pongs []string
						var msgs []string
						var op frame.Opcode
						var cur []byte
						inMsg := false
						pongsBeforeFin := -1
						for i := 0; ; i++ {
							if i == 1000 {
								t.Fatal("no end-marker pong within 1000 frames")
							}
							h, p := e2eReadFrame(t, c)
							if h.Opcode == frame.OpPong {
								if len(pongs) == len(tt.wantPongs) {
									if string(p) != endMarker {
										t.Fatalf("pongs %q then %q, want %q then the end marker", pongs, p, tt.wantPongs)
									}
									break
								}
								pongs = append(pongs, string(p))
								continue
							}
							switch h.Opcode {
							case frame.OpText, frame.OpBinary:
								if inMsg {
									t.Fatalf("new %v frame inside a message", h.Opcode)
								}
								op, cur, inMsg = h.Opcode, nil, true
							case frame.OpContinuation:
								if !inMsg {
									t.Fatal("continuation frame outside a message")
								}
							default:
								t.Fatalf("unexpected %v frame %q", h.Opcode, p)
							}
							cur = append(cur, p...)
							if h.Fin {
								msgs = append(msgs, string(cur))
								inMsg = false
								if pongsBeforeFin < 0 {
									pongsBeforeFin = len(pongs)
								}
							}
						}
						if !reflect.DeepEqual(pongs, tt.wantPongs) && !(len(pongs) == 0 && len(tt.wantPongs) == 0) {
							t.Fatalf("pongs %q, want %q", pongs, tt.wantPongs)
						}
						if len(msgs) != 1 || msgs[0] != tt.wantMsg || op != tt.wantOp {
							t.Fatalf("echo %v %q, want one %v message %q", op, msgs, tt.wantOp, tt.wantMsg)
						}
						// Each ping preceded the final fragment, so its pong
						// must precede the end of the echo.
						if pongsBeforeFin != len(tt.wantPongs) {
							t.Fatalf("%d pongs arrived before the echo ended, want %d", pongsBeforeFin, len(tt.wantPongs))
						}

						c.Write(wstest.Masked(true, frame.OpClose, websocket.FormatCloseMessage(1000, "")))
						if code, _ := c.ReadClose(); code != 1000 {
							t.Fatalf("close code %d, want 1000", code)
						}
						c.ExpectClosed()
					})
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 4. Ping and pong in both directions.
// ---------------------------------------------------------------------------

func TestE2EServerPing(t *testing.T) {
	tests := []struct {
		name string
		// clientPingHandler replaces gorilla's default ping handler when set.
		customClientHandler bool
		payload             string
	}{
		{"client custom ping handler", true, "srv-ping"},
		{"client default ping handler", false, "srv-ping-2"},
		{"empty payload", true, ""},
		{"125-byte payload", false, strings.Repeat("z", 125)},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				serverPongs := make(chan string, 4)
				serverErr := make(chan error, 1)
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{}, func(c *websocket.Conn) {
					c.SetPongHandler(func(appData string) error {
						serverPongs <- appData
						return c.WriteMessage(websocket.TextMessage, []byte("got:"+appData))
					})
					if err := c.WriteControl(websocket.PingMessage, []byte(tt.payload), time.Now().Add(e2eGuard)); err != nil {
						serverErr <- err
						return
					}
					_, _, err := c.ReadMessage() // runs the pong handler, ends on close
					serverErr <- err
				})
				c := dialGorilla(t, url, nil)
				e2eGuardGorilla(c)
				clientPings := make(chan string, 4)
				if tt.customClientHandler {
					c.SetPingHandler(func(appData string) error {
						clientPings <- appData
						return c.WriteControl(gorilla.PongMessage, []byte(appData), time.Now().Add(e2eGuard))
					})
				}
				mt, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("ReadMessage: %v", err)
				}
				if mt != gorilla.TextMessage || string(got) != "got:"+tt.payload {
					t.Fatalf("got %d %q, want text %q", mt, got, "got:"+tt.payload)
				}
				if tt.customClientHandler {
					if p := wstest.Receive(t, clientPings, "client ping handler"); p != tt.payload {
						t.Fatalf("client ping handler got %q, want %q", p, tt.payload)
					}
				}
				if p := wstest.Receive(t, serverPongs, "server pong handler"); p != tt.payload {
					t.Fatalf("server pong handler got %q, want %q", p, tt.payload)
				}
				if err := c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, "")); err != nil {
					t.Fatal(err)
				}
				if err := wstest.Receive(t, serverErr, "server handler"); !websocket.IsCloseError(err, 1000) {
					t.Fatalf("server: %v, want close 1000", err)
				}
				if len(serverPongs) != 0 || len(clientPings) != 0 {
					t.Fatalf("extra pings or pongs: %d at the server, %d at the client", len(serverPongs), len(clientPings))
				}
			})
		}
	})
}

func TestE2EClientPing(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, hc := range e2eEchoHandlers {
			hc := hc
			t.Run(hc.name, func(t *testing.T) {
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{}, hc.handler)
				c := dialGorilla(t, url, nil)
				e2eGuardGorilla(c)
				var pongs []string
				c.SetPongHandler(func(appData string) error {
					pongs = append(pongs, appData)
					return nil
				})
				for i := 0; i < 3; i++ {
					if err := c.WriteControl(gorilla.PingMessage, []byte(fmt.Sprintf("cli-%d", i)), time.Now().Add(e2eGuard)); err != nil {
						t.Fatal(err)
					}
				}
				if err := c.WriteMessage(gorilla.TextMessage, []byte("after")); err != nil {
					t.Fatal(err)
				}
				_, got, err := c.ReadMessage()
				if err != nil || string(got) != "after" {
					t.Fatalf("ReadMessage: %q, %v", got, err)
				}
				if want := []string{"cli-0", "cli-1", "cli-2"}; !reflect.DeepEqual(pongs, want) {
					t.Fatalf("pongs before the echo: %q, want %q", pongs, want)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 5. Many goroutines writing to one server connection.
// ---------------------------------------------------------------------------

const (
	e2eCWGoroutines = 8
	e2eCWMessages   = 200
	e2eCWPingEvery  = 5
	e2eCWSharedAt   = 50 // one shared prepared message every e2eCWSharedAt messages
)

// e2eCWPad is the deterministic padding of message i of goroutine g: up to
// ~700 bytes, so messages span many 128-byte frames.
func e2eCWPad(g, i int) string {
	return strings.Repeat(string(rune('a'+g)), (g*131+i*37)%700)
}

type e2eCWJSON struct {
	Kind string `json:"kind"`
	G    int    `json:"g"`
	I    int    `json:"i"`
	Pad  string `json:"pad"`
}

// e2eCWExpected returns the type and bytes message i of goroutine g must have.
func e2eCWExpected(g, i int) (int, []byte) {
	switch i % 4 {
	case 0:
		return websocket.TextMessage, []byte(fmt.Sprintf("T %d %d %s", g, i, e2eCWPad(g, i)))
	case 1:
		b, _ := json.Marshal(e2eCWJSON{Kind: "json", G: g, I: i, Pad: e2eCWPad(g, i)})
		return websocket.TextMessage, b
	case 2:
		return websocket.BinaryMessage, []byte(fmt.Sprintf("P %d %d %s", g, i, e2eCWPad(g, i)))
	default:
		return websocket.BinaryMessage, []byte(fmt.Sprintf("W %d %d %s", g, i, e2eCWPad(g, i)))
	}
}

var e2eCWShared = []byte("S " + strings.Repeat("shared-", 100))

// e2eCWNextWriterMu lets one goroutine at a time hold a NextWriter, as
// NextWriter's contract asks.
var e2eCWNextWriterMu sync.Mutex

// e2eCWWrite sends message i of goroutine g with the API its kind calls for.
func e2eCWWrite(c *websocket.Conn, g, i int) error {
	mt, want := e2eCWExpected(g, i)
	switch i % 4 {
	case 0:
		return c.WriteMessage(mt, want)
	case 1:
		return c.WriteJSON(e2eCWJSON{Kind: "json", G: g, I: i, Pad: e2eCWPad(g, i)})
	case 2:
		pm, err := websocket.NewPreparedMessage(mt, want)
		if err != nil {
			return err
		}
		return c.WritePreparedMessage(pm)
	default:
		// NextWriter and its writer are for one goroutine at a time (a
		// second goroutine's NextWriter ends the open message, as in
		// gorilla); the other APIs are safe from any goroutine.
		e2eCWNextWriterMu.Lock()
		defer e2eCWNextWriterMu.Unlock()
		w, err := c.NextWriter(mt)
		if err != nil {
			return err
		}
		for len(want) > 0 {
			n := 50
			if n > len(want) {
				n = len(want)
			}
			if _, err := w.Write(want[:n]); err != nil {
				_ = w.Close()
				return err
			}
			want = want[n:]
		}
		return w.Close()
	}
}

// e2eCWIdentify works out which goroutine and message a received message
// claims to be.
func e2eCWIdentify(mt int, p []byte) (g, i int, err error) {
	if mt == gorilla.TextMessage && len(p) > 0 && p[0] == '{' {
		var v e2eCWJSON
		if err := json.Unmarshal(p, &v); err != nil {
			return 0, 0, err
		}
		// json.Marshal and Hertz's encoder (which adds a newline) may format
		// differently; compare decoded values instead of bytes.
		if v.Kind != "json" || v.Pad != e2eCWPad(v.G, v.I) {
			return 0, 0, fmt.Errorf("corrupt JSON message %q", p)
		}
		return v.G, v.I, nil
	}
	var kind string
	if _, err := fmt.Sscanf(string(p), "%s %d %d", &kind, &g, &i); err != nil {
		return 0, 0, fmt.Errorf("unparsable message %.40q: %v", p, err)
	}
	return g, i, nil
}

func TestE2EConcurrentWriters(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		serverResult := make(chan string, 1)
		u := &websocket.HertzUpgrader{WriteBufferSize: 128}
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			shared, err := websocket.NewPreparedMessage(websocket.BinaryMessage, e2eCWShared)
			if err != nil {
				serverResult <- err.Error()
				return
			}
			pongs := 0
			c.SetPongHandler(func(string) error { pongs++; return nil })
			var wg sync.WaitGroup
			errs := make(chan error, e2eCWGoroutines)
			for g := 0; g < e2eCWGoroutines; g++ {
				g := g
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < e2eCWMessages; i++ {
						if i%e2eCWPingEvery == 0 {
							ping := []byte(fmt.Sprintf("ping %d %d", g, i))
							if err := c.WriteControl(websocket.PingMessage, ping, time.Now().Add(e2eGuard)); err != nil {
								errs <- fmt.Errorf("ping %d/%d: %w", g, i, err)
								return
							}
						}
						if err := e2eCWWrite(c, g, i); err != nil {
							errs <- fmt.Errorf("message %d/%d: %w", g, i, err)
							return
						}
						if i%e2eCWSharedAt == e2eCWSharedAt-1 {
							if err := c.WritePreparedMessage(shared); err != nil {
								errs <- fmt.Errorf("shared %d/%d: %w", g, i, err)
								return
							}
						}
					}
				}()
			}
			// Read (and count pongs) while the writers run.
			readErr := make(chan error, 1)
			go func() {
				_, _, err := c.ReadMessage()
				readErr <- err
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				serverResult <- "writer: " + err.Error()
				return
			}
			if err := c.WriteMessage(websocket.TextMessage, []byte("done")); err != nil {
				serverResult <- "done: " + err.Error()
				return
			}
			err = <-readErr
			if !websocket.IsCloseError(err, 1000) {
				serverResult <- fmt.Sprintf("read: %v, want close 1000", err)
				return
			}
			serverResult <- fmt.Sprintf("pongs=%d", pongs)
		})

		c := dialGorilla(t, url, nil)
		e2eGuardGorilla(c)
		var pingsSeen [e2eCWGoroutines]int
		var pingErr error
		c.SetPingHandler(func(appData string) error {
			var g, i int
			if _, err := fmt.Sscanf(appData, "ping %d %d", &g, &i); err != nil || g < 0 || g >= e2eCWGoroutines {
				pingErr = fmt.Errorf("bad ping %q", appData)
			} else if want := pingsSeen[g] * e2eCWPingEvery; i != want {
				pingErr = fmt.Errorf("ping %q out of order, want index %d", appData, want)
			} else {
				pingsSeen[g]++
			}
			return c.WriteControl(gorilla.PongMessage, []byte(appData), time.Now().Add(e2eGuard))
		})

		var next [e2eCWGoroutines]int
		shared := 0
		total := e2eCWGoroutines*e2eCWMessages + e2eCWGoroutines*(e2eCWMessages/e2eCWSharedAt)
		for n := 0; ; n++ {
			if n > total {
				t.Fatalf("more than %d messages before done", total)
			}
			mt, p, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("after %d messages: %v", n, err)
			}
			if mt == gorilla.TextMessage && string(p) == "done" {
				break
			}
			if mt == gorilla.BinaryMessage && bytes.Equal(p, e2eCWShared) {
				shared++
				continue
			}
			g, i, err := e2eCWIdentify(mt, p)
			if err != nil {
				t.Fatal(err)
			}
			if g < 0 || g >= e2eCWGoroutines || i != next[g] {
				t.Fatalf("message %d/%d arrived, want goroutine %d's message %d", g, i, g, next[g])
			}
			wantType, want := e2eCWExpected(g, i)
			if mt != wantType {
				t.Fatalf("message %d/%d has type %d, want %d", g, i, mt, wantType)
			}
			if i%4 != 1 { // JSON was checked field by field
				e2eSameBytes(t, p, want)
			}
			next[g]++
		}
		if pingErr != nil {
			t.Fatal(pingErr)
		}
		for g := 0; g < e2eCWGoroutines; g++ {
			if next[g] != e2eCWMessages {
				t.Errorf("goroutine %d: %d messages, want %d", g, next[g], e2eCWMessages)
			}
			if want := (e2eCWMessages + e2eCWPingEvery - 1) / e2eCWPingEvery; pingsSeen[g] != want {
				t.Errorf("goroutine %d: %d pings, want %d", g, pingsSeen[g], want)
			}
		}
		if want := e2eCWGoroutines * (e2eCWMessages / e2eCWSharedAt); shared != want {
			t.Errorf("%d shared prepared messages, want %d", shared, want)
		}
		if err := c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, "")); err != nil {
			t.Fatal(err)
		}
		wantPongs := fmt.Sprintf("pongs=%d", e2eCWGoroutines*((e2eCWMessages+e2eCWPingEvery-1)/e2eCWPingEvery))
		if got := wstest.Receive(t, serverResult, "server result"); got != wantPongs {
			t.Fatalf("server: %s, want %s", got, wantPongs)
		}
	})
}

// ---------------------------------------------------------------------------
// 6. Close handshake started by either side.
// ---------------------------------------------------------------------------

func TestE2ECloseFromClient(t *testing.T) {
	tests := []struct {
		name       string
		payload    []byte
		wantCode   int
		wantText   string
		wantEchoed int
	}{
		{"1000 bye", gorilla.FormatCloseMessage(1000, "bye"), 1000, "bye", 1000},
		{"4001 unicode reason", gorilla.FormatCloseMessage(4001, "ünïcødé"), 4001, "ünïcødé", 4001},
		{"empty close", nil, websocket.CloseNoStatusReceived, "", gorilla.CloseNoStatusReceived},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				type result struct{ readErr, writeErr error }
				results := make(chan result, 1)
				release := make(chan struct{})
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{}, func(c *websocket.Conn) {
					_, _, err := c.ReadMessage()
					werr := c.WriteMessage(websocket.TextMessage, []byte("too late"))
					results <- result{err, werr}
					// Stay in the handler: the TCP close the client sees
					// must come from the close handshake itself.
					<-release
				})
				e2eReleaseAtCleanup(t, release)
				c := dialGorilla(t, url, nil)
				e2eGuardGorilla(c)
				if err := c.WriteControl(gorilla.CloseMessage, tt.payload, time.Now().Add(e2eGuard)); err != nil {
					t.Fatal(err)
				}
				r := wstest.Receive(t, results, "server read")
				var ce *websocket.CloseError
				if !errors.As(r.readErr, &ce) || ce.Code != tt.wantCode || ce.Text != tt.wantText {
					t.Fatalf("server ReadMessage: %#v, want *CloseError{%d, %q}", r.readErr, tt.wantCode, tt.wantText)
				}
				if r.writeErr == nil {
					t.Fatal("server WriteMessage after the close handshake succeeded")
				}
				_, _, err := c.ReadMessage()
				var gce *gorilla.CloseError
				if !errors.As(err, &gce) || gce.Code != tt.wantEchoed {
					t.Fatalf("client ReadMessage: %v, want close %d echoed", err, tt.wantEchoed)
				}
				e2eExpectEOF(t, c.NetConn())
			})
		}
	})
}

func TestE2ECloseFromServer(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		type result struct{ closeErr, writeErr, readErr error }
		results := make(chan result, 1)
		release := make(chan struct{})
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, &websocket.HertzUpgrader{}, func(c *websocket.Conn) {
			var r result
			r.closeErr = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "x"), time.Now().Add(e2eGuard))
			r.writeErr = c.WriteMessage(websocket.TextMessage, []byte("after close"))
			_, _, r.readErr = c.ReadMessage()
			results <- r
			<-release
		})
		e2eReleaseAtCleanup(t, release)
		c := dialGorilla(t, url, nil)
		e2eGuardGorilla(c)
		_, _, err := c.ReadMessage() // gorilla echoes the close
		var gce *gorilla.CloseError
		if !errors.As(err, &gce) || gce.Code != 4000 || gce.Text != "x" {
			t.Fatalf("client ReadMessage: %v, want close 4000 \"x\"", err)
		}
		r := wstest.Receive(t, results, "server handler")
		if r.closeErr != nil {
			t.Fatalf("server WriteControl(close): %v", r.closeErr)
		}
		if !errors.Is(r.writeErr, websocket.ErrCloseSent) {
			t.Fatalf("server WriteMessage after close: %v, want ErrCloseSent", r.writeErr)
		}
		var ce *websocket.CloseError
		if !errors.As(r.readErr, &ce) || ce.Code != 4000 {
			t.Fatalf("server ReadMessage: %v, want close 4000 echoed", r.readErr)
		}
		e2eExpectEOF(t, c.NetConn())
	})
}

// ---------------------------------------------------------------------------
// 7. Read limit.
// ---------------------------------------------------------------------------

func TestE2EReadLimit(t *testing.T) {
	tests := []struct {
		name          string
		upgraderLimit int64
		setLimit      bool // call SetReadLimit(handlerLimit) in the handler
		handlerLimit  int64
		fragments     []int
		wantOK        bool
	}{
		{"1024 single frame at the limit", 1024, false, 0, []int{1024}, true},
		{"1024 single frame over the limit", 1024, false, 0, []int{1025}, false},
		{"1024 four fragments at the limit", 1024, false, 0, []int{256, 256, 256, 256}, true},
		{"1024 four fragments over the limit", 1024, false, 0, []int{300, 300, 300, 300}, false},
		{"1024 fragments over by one", 1024, false, 0, []int{1000, 0, 25}, false},
		{"handler raises to 2048, at the limit", 1024, true, 2048, []int{2048}, true},
		{"handler raises to 2048, over", 1024, true, 2048, []int{2049}, false},
		{"handler lowers to 100, at the limit", 0, true, 100, []int{60, 40}, true},
		{"handler lowers to 100, over", 0, true, 100, []int{101}, false},
		{"handler removes the limit with 0", 1024, true, 0, []int{5000}, true},
		{"handler removes the limit with -1", 1024, true, -1, []int{3000, 3000}, true},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				serverErr := make(chan error, 1)
				u := &websocket.HertzUpgrader{ReadLimit: tt.upgraderLimit}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
					if tt.setLimit {
						c.SetReadLimit(tt.handlerLimit)
					}
					for {
						mt, p, err := c.ReadMessage()
						if err != nil {
							serverErr <- err
							return
						}
						if err := c.WriteMessage(mt, p); err != nil {
							serverErr <- err
							return
						}
					}
				})
				c := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
				total := 0
				for _, n := range tt.fragments {
					total += n
				}
				want := wstest.RandomBytes(total, 3)
				rest := want
				for i, n := range tt.fragments {
					op := frame.OpContinuation
					if i == 0 {
						op = frame.OpBinary
					}
					c.Write(wstest.Masked(i == len(tt.fragments)-1, op, rest[:n]))
					rest = rest[n:]
				}
				if tt.wantOK {
					op, got := c.ReadMessage()
					if op != frame.OpBinary {
						t.Fatalf("echo opcode %v", op)
					}
					e2eSameBytes(t, got, want)
					c.Write(wstest.Masked(true, frame.OpClose, websocket.FormatCloseMessage(1000, "")))
					if code, _ := c.ReadClose(); code != 1000 {
						t.Fatalf("close code %d, want 1000", code)
					}
					if err := wstest.Receive(t, serverErr, "server"); !websocket.IsCloseError(err, 1000) {
						t.Fatalf("server: %v, want close 1000", err)
					}
					return
				}
				if code, _ := c.ReadClose(); code != websocket.CloseMessageTooBig {
					t.Fatalf("close code %d, want 1009", code)
				}
				if err := wstest.Receive(t, serverErr, "server"); !errors.Is(err, websocket.ErrReadLimit) {
					t.Fatalf("server ReadMessage: %v, want ErrReadLimit", err)
				}
				c.ExpectClosed()
			})
		}
	})
}

// TestE2EReadLimitDefault checks the limit a connection starts with by
// announcing large frames without sending them: the limit is judged on the
// header, so the server either refuses the frame at once or hands out a
// reader for it.
func TestE2EReadLimitDefault(t *testing.T) {
	tests := []struct {
		name          string
		upgraderLimit int64
		announce      int64
		wantOK        bool
	}{
		{"default, exactly DefaultReadLimit", 0, websocket.DefaultReadLimit, true},
		{"default, DefaultReadLimit+1", 0, websocket.DefaultReadLimit + 1, false},
		{"negative means no limit", -1, websocket.DefaultReadLimit + 1, true},
		{"negative means no limit, 1 TiB", -1, 1 << 40, true},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				serverErr := make(chan error, 1)
				u := &websocket.HertzUpgrader{ReadLimit: tt.upgraderLimit}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
					_, _, err := c.NextReader()
					if err == nil {
						err = c.WriteMessage(websocket.TextMessage, []byte("accepted"))
					}
					serverErr <- err
				})
				c := wstest.DialHandshake(t, wstest.Addr(url), "/ws")
				c.Write(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Mask: wstest.Mask, PayloadLen: tt.announce}))
				h, p := e2eReadFrame(t, c)
				err := wstest.Receive(t, serverErr, "server")
				if tt.wantOK {
					if err != nil || h.Opcode != frame.OpText || string(p) != "accepted" {
						code, reason, _ := frame.ParseClosePayload(p)
						t.Fatalf("server refused a %d-byte frame: %v (got %v frame, close %d %q)", tt.announce, err, h.Opcode, code, reason)
					}
					return
				}
				if !errors.Is(err, websocket.ErrReadLimit) {
					t.Fatalf("server NextReader: %v, want ErrReadLimit", err)
				}
				if h.Opcode != frame.OpClose {
					t.Fatalf("got %v frame %q, want close 1009", h.Opcode, p)
				}
				if code, _, _ := frame.ParseClosePayload(p); code != websocket.CloseMessageTooBig {
					t.Fatalf("close code %d, want 1009", code)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 8. JSON.
// ---------------------------------------------------------------------------

type e2eDoc struct {
	Name   string         `json:"name"`
	Count  int            `json:"count"`
	Ratio  float64        `json:"ratio"`
	Tags   []string       `json:"tags"`
	Nested e2eNested      `json:"nested"`
	Scores map[string]int `json:"scores"`
}

type e2eNested struct {
	OK   bool   `json:"ok"`
	Note string `json:"note"`
}

func TestE2EJSON(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{WriteBufferSize: 256} // large documents span frames
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
			for {
				var d e2eDoc
				err := c.ReadJSON(&d)
				var ce *websocket.CloseError
				switch {
				case errors.As(err, &ce):
					return
				case errors.Is(err, io.ErrUnexpectedEOF):
					err = c.WriteMessage(websocket.TextMessage, []byte("ERR unexpected EOF"))
				case err != nil:
					err = c.WriteMessage(websocket.TextMessage, []byte("ERR other: "+err.Error()))
				default:
					d.Count++
					d.Tags = append(d.Tags, "server")
					d.Scores["server"] = len(d.Name)
					err = c.WriteJSON(d)
				}
				if err != nil {
					return
				}
			}
		})
		c := dialGorilla(t, url, nil)
		e2eGuardGorilla(c)

		docs := []e2eDoc{
			{Name: "small", Count: 1, Ratio: 0.5, Tags: []string{"a"}, Nested: e2eNested{true, "n"}, Scores: map[string]int{"x": 1}},
			{Name: "ünïcode ✓ 𝄞", Count: -7, Ratio: 1e-9, Tags: []string{}, Nested: e2eNested{false, "\"quoted\"\n"}, Scores: map[string]int{}},
			{Name: "large", Count: 0, Ratio: 3, Tags: []string{strings.Repeat("big", 30000)}, Scores: map[string]int{"y": 2}},
		}
		for _, d := range docs {
			if err := c.WriteJSON(d); err != nil {
				t.Fatal(err)
			}
			want := d
			want.Count++
			want.Tags = append(append([]string{}, d.Tags...), "server")
			want.Scores = map[string]int{"server": len(d.Name)}
			for k, v := range d.Scores {
				want.Scores[k] = v
			}
			mt, r, err := c.NextReader()
			if err != nil {
				t.Fatal(err)
			}
			if mt != gorilla.TextMessage {
				t.Fatalf("WriteJSON sent message type %d, want text", mt)
			}
			var got e2eDoc
			if err := json.NewDecoder(r).Decode(&got); err != nil {
				t.Fatalf("decoding the server's JSON: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip of %.40q: got %+v", d.Name, got)
			}
		}

		// A message that ends inside the JSON value, or holds none.
		for _, bad := range []string{`{"name":"trunc`, ``} {
			if err := c.WriteMessage(gorilla.TextMessage, []byte(bad)); err != nil {
				t.Fatal(err)
			}
			_, p, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if string(p) != "ERR unexpected EOF" {
				t.Fatalf("ReadJSON of %q: server said %q, want io.ErrUnexpectedEOF", bad, p)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// 9. Subprotocol negotiation.
// ---------------------------------------------------------------------------

func TestE2ESubprotocols(t *testing.T) {
	tests := []struct {
		name      string
		server    []string
		appHeader string // Sec-WebSocket-Protocol set by the application before Upgrade
		offer     []string
		want      string
	}{
		{"server preference wins", []string{"b", "a"}, "", []string{"a", "b"}, "b"},
		{"single overlap", []string{"b", "a"}, "", []string{"c", "a"}, "a"},
		{"no overlap", []string{"b", "a"}, "", []string{"c"}, ""},
		{"client offers none", []string{"b", "a"}, "", nil, ""},
		{"no overlap drops the application's header", []string{"b"}, "zz", []string{"c"}, ""},
		{"nil Subprotocols keeps the application's header", nil, "a", []string{"a", "b"}, "a"},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, tt := range tests {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				serverProto := make(chan string, 1)
				u := &websocket.HertzUpgrader{Subprotocols: tt.server}
				addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
					h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
						if tt.appHeader != "" {
							ctx.Response.Header.Set("Sec-WebSocket-Protocol", tt.appHeader)
						}
						_ = u.Upgrade(ctx, func(c *websocket.Conn) {
							serverProto <- c.Subprotocol()
							wstest.Echo(c)
						})
					})
				})
				c, resp := dialGorillaWith(t, gorilla.Dialer{Subprotocols: tt.offer}, "ws://"+addr+"/ws", nil)
				e2eGuardGorilla(c)
				if got := wstest.Receive(t, serverProto, "server subprotocol"); got != tt.want {
					t.Fatalf("server Subprotocol() = %q, want %q", got, tt.want)
				}
				if got := c.Subprotocol(); got != tt.want {
					t.Fatalf("client Subprotocol() = %q, want %q", got, tt.want)
				}
				values := resp.Header.Values("Sec-WebSocket-Protocol")
				if tt.want == "" && len(values) != 0 {
					t.Fatalf("Sec-WebSocket-Protocol %q sent with no protocol selected", values)
				}
				if tt.want != "" && (len(values) != 1 || values[0] != tt.want) {
					t.Fatalf("Sec-WebSocket-Protocol %q, want [%q]", values, tt.want)
				}
				if err := c.WriteMessage(gorilla.TextMessage, []byte("hi")); err != nil {
					t.Fatal(err)
				}
				if _, p, err := c.ReadMessage(); err != nil || string(p) != "hi" {
					t.Fatalf("echo after negotiation: %q, %v", p, err)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 10. Headers set by the application reach the handshake response.
// ---------------------------------------------------------------------------

func TestE2EResponseHeaders(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{}
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				ctx.Response.Header.Set("Set-Cookie", "k=v")
				ctx.Response.Header.Set("X-App", "hello")
				_ = u.Upgrade(ctx, wstest.Echo)
			})
		})
		c, resp := dialGorillaWith(t, gorilla.Dialer{}, "ws://"+addr+"/ws", nil)
		e2eGuardGorilla(c)
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		found := false
		for _, ck := range resp.Cookies() {
			if ck.Name == "k" && ck.Value == "v" {
				found = true
			}
		}
		if !found {
			t.Fatalf("cookie k=v missing; Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
		}
		if got := resp.Header.Get("X-App"); got != "hello" {
			t.Fatalf("X-App %q, want hello", got)
		}
		if got := resp.Header.Get("Upgrade"); !strings.EqualFold(got, "websocket") {
			t.Fatalf("Upgrade header %q", got)
		}
		if err := c.WriteMessage(gorilla.BinaryMessage, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.ReadMessage(); err != nil || !bytes.Equal(p, []byte{1, 2, 3}) {
			t.Fatalf("echo: %v, %v", p, err)
		}
	})
}
