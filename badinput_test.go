package websocket_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// The bad-input table: hostile or broken bytes sent over raw TCP, each row
// with the exact answer on the wire (an HTTP status, or a close code, or a
// bare TCP close), checked on both transports, and a check that every
// goroutine the row started (the server's for its connection included) has
// ended once the client is gone.

// badInputServer serves, with a handler that reports the error that ended
// its read loop:
//   - /ws: the default HertzUpgrader;
//   - /ws-limit: ReadLimit 100;
//   - /ws-deflate: EnableCompression and ReadLimit 1000.
type badInputServer struct {
	addr     string
	readErrs chan error
}

func startBadInputServer(t *testing.T, tc wstest.Transport) *badInputServer {
	s := &badInputServer{readErrs: make(chan error, 16)}
	handler := func(c *websocket.Conn) {
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				s.readErrs <- err
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				s.readErrs <- err
				return
			}
		}
	}
	route := func(u *websocket.HertzUpgrader) app.HandlerFunc {
		return func(_ context.Context, ctx *app.RequestContext) { _ = u.Upgrade(ctx, handler) }
	}
	s.addr = wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
		h.GET("/ws", route(&websocket.HertzUpgrader{}))
		h.GET("/ws-limit", route(&websocket.HertzUpgrader{ReadLimit: 100}))
		h.GET("/ws-deflate", route(&websocket.HertzUpgrader{EnableCompression: true, ReadLimit: 1000}))
		h.POST("/ws", route(&websocket.HertzUpgrader{}))
	})
	// The first connection starts goroutines that live as long as the
	// process (netpoll's pollers, Hertz's Date header clock): start them
	// before any row takes its baseline.
	rc := wstest.DialRaw(t, s.addr)
	rc.Handshake("/ws")
	rc.Echo("warm up")
	rc.NetConn.Close()
	if err := <-s.readErrs; !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
		t.Fatalf("warm-up connection ended with %v", err)
	}
	return s
}

// badRequest builds a request by hand: the request line, then lines, each
// without its CRLF.
func badRequest(requestLine string, lines ...string) []byte {
	return []byte(requestLine + "\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n")
}

// deflateOffer is the upgrade request header that offers permessage-deflate.
const deflateOffer = "Sec-WebSocket-Extensions: permessage-deflate"

type badHandshakeRow struct {
	name    string
	request func(addr string) []byte
	status  int
	// header holds response headers that must be present with one value.
	header map[string]string
}

func badHandshakeRows() []badHandshakeRow {
	valid := func(addr string, extra ...string) []string {
		return append([]string{"Host: " + addr}, rwLines(nil, extra...)...)
	}
	without := func(addr, name string, extra ...string) []string {
		return append([]string{"Host: " + addr}, rwLines([]string{name}, extra...)...)
	}
	v13 := map[string]string{"Sec-WebSocket-Version": "13"}
	bigValue := strings.Repeat("a", 1<<20) // Hertz's default MaxHeaderBytes is 1 MiB
	return []badHandshakeRow{
		// RFC 6455 §11.3.1: Sec-WebSocket-Key MUST NOT appear more than once.
		{name: "two different Sec-WebSocket-Key headers", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", valid(a, "Sec-WebSocket-Key: "+rwB64(16))...)
		}},
		{name: "the same Sec-WebSocket-Key twice", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", valid(a, "Sec-WebSocket-Key: "+wstest.SampleKey)...)
		}},
		// §4.2.1 item 5: the key is 16 bytes, base64-encoded.
		{name: "Sec-WebSocket-Key missing", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Sec-WebSocket-Key")...)
		}},
		{name: "Sec-WebSocket-Key of 15 bytes", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Sec-WebSocket-Key", "Sec-WebSocket-Key: "+rwB64(15))...)
		}},
		{name: "Sec-WebSocket-Key not base64", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Sec-WebSocket-Key", "Sec-WebSocket-Key: ########################")...)
		}},
		// §11.3.5: Sec-WebSocket-Version appears once in a request.
		{name: "Sec-WebSocket-Version twice", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", valid(a, "Sec-WebSocket-Version: 13")...)
		}},
		// §4.2.2: a version the server does not speak gets 426 with the
		// versions it does.
		{name: "Sec-WebSocket-Version 8", status: 426, header: v13, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")...)
		}},
		{name: "Sec-WebSocket-Version list 8, 13", status: 426, header: v13, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Sec-WebSocket-Version", "Sec-WebSocket-Version: 8, 13")...)
		}},
		{name: "Sec-WebSocket-Version 013", status: 426, header: v13, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Sec-WebSocket-Version", "Sec-WebSocket-Version: 013")...)
		}},
		{name: "Sec-WebSocket-Version missing", status: 426, header: v13, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Sec-WebSocket-Version")...)
		}},
		// §4.2.1 item 1: an HTTP/1.1 or higher GET request.
		{name: "HTTP/1.0", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.0", valid(a)...)
		}},
		{name: "POST", status: 405, request: func(a string) []byte {
			return badRequest("POST /ws HTTP/1.1", valid(a, "Content-Length: 0")...)
		}},
		// Methods are case-sensitive (RFC 9110 §9.1): no route matches.
		{name: "lower-case get", status: 404, request: func(a string) []byte {
			return badRequest("get /ws HTTP/1.1", valid(a)...)
		}},
		// §4.2.1 item 1 allows an absolute HTTP URI as the request target.
		{name: "absolute-form request target", status: 101, request: func(a string) []byte {
			return badRequest("GET http://"+a+"/ws HTTP/1.1", valid(a)...)
		}},
		// §4.2.1 item 2: Host is required; Hertz refuses its absence.
		{name: "Host missing", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", wstest.UpgradeLines()...)
		}},
		// §4.2.1 items 3 and 4.
		{name: "Upgrade missing", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Upgrade")...)
		}},
		{name: "Upgrade: h2c", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Upgrade", "Upgrade: h2c")...)
		}},
		// §4.2.1 item 3: "websocket" as an ASCII case-insensitive value;
		// Unicode case folding would take the long s (U+017F) for an s.
		{name: "Upgrade: websocket with a long s", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Upgrade", "Upgrade: web\u017focket")...)
		}},
		{name: "Connection: keep-alive only", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", without(a, "Connection", "Connection: keep-alive")...)
		}},
		// §10.2: the origin check refuses other origins, and the opaque
		// origin of sandboxed pages and file: URLs.
		{name: "Origin of another site", status: 403, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", valid(a, "Origin: http://evil.example")...)
		}},
		{name: "Origin null", status: 403, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", valid(a, "Origin: null")...)
		}},
		// Hertz answers what it cannot parse or hold.
		{name: "header over MaxHeaderBytes", status: 431, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", valid(a, "X-Big: "+bigValue)...)
		}},
		{name: "garbage request line", status: 400, request: func(a string) []byte {
			return badRequest("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", valid(a)...)
		}},
		{name: "space in a header name", status: 400, request: func(a string) []byte {
			return badRequest("GET /ws HTTP/1.1", valid(a, "Bad Name: x")...)
		}},
	}
}

type badFrameRow struct {
	name string
	path string // /ws when empty
	// offerDeflate adds the permessage-deflate offer to the handshake.
	offerDeflate bool
	frames       []byte
	// halfClose closes the client's sending side after the frames: the
	// server reads EOF in the middle of a frame.
	halfClose bool
	// code is the close code the server must send; 0 means it must close
	// the TCP connection without a close frame.
	code int
}

func badFrameRows() []badFrameRow {
	masked := func(fin bool, op frame.Opcode, rsv byte, payload []byte) []byte {
		return wstest.EncodeFrame(frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: wstest.Mask}, payload)
	}
	compressed, err := frame.AppendCompressed(nil, []byte("hello hello hello hello hello"), 1, 15)
	if err != nil {
		panic(err)
	}
	bomb, err := frame.AppendCompressed(nil, make([]byte, 1<<20), 9, 15)
	if err != nil {
		panic(err)
	}
	// header64 is a masked binary frame header announcing n bytes in the
	// 64-bit length form; no payload follows.
	header64 := func(n uint64) []byte {
		b := binary.BigEndian.AppendUint64([]byte{0x82, 0x80 | 127}, n)
		return append(b, wstest.Mask[:]...)
	}
	full := wstest.Masked(true, frame.OpBinary, make([]byte, 300)) // 16-bit length form
	return []badFrameRow{
		// RFC 6455 §5.1: a client's frames are masked.
		{name: "unmasked text", frames: wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("hi")), code: 1002},
		{name: "unmasked close", frames: wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpClose}, rwClosePayload(1000, "")), code: 1002},
		// §5.2: RSV bits without an extension that defines them.
		{name: "compressed frame (RSV1) without negotiation", frames: masked(true, frame.OpText, frame.Rsv1, compressed), code: 1002},
		{name: "RSV2", frames: masked(true, frame.OpText, frame.Rsv2, []byte("hi")), code: 1002},
		{name: "RSV3", frames: masked(true, frame.OpBinary, frame.Rsv3, []byte("hi")), code: 1002},
		// §5.2: reserved opcodes.
		{name: "reserved data opcode 0x3", frames: masked(true, 0x3, 0, []byte("hi")), code: 1002},
		{name: "reserved control opcode 0xB", frames: masked(true, 0xB, 0, nil), code: 1002},
		// §5.5: control frames are not fragmented and carry at most 125 bytes.
		{name: "fragmented ping", frames: masked(false, frame.OpPing, 0, []byte("p")), code: 1002},
		{name: "ping of 126 bytes", frames: masked(true, frame.OpPing, 0, bytes.Repeat([]byte("p"), 126)), code: 1002},
		// §5.4: fragments of one message, in order, not interleaved.
		{name: "continuation with no message open", frames: masked(true, frame.OpContinuation, 0, []byte("x")), code: 1002},
		{name: "text frame inside a fragmented message", frames: rwConcat(masked(false, frame.OpText, 0, []byte("a")), masked(true, frame.OpText, 0, []byte("b"))), code: 1002},
		// §5.2: the most significant bit of a 64-bit length is 0.
		{name: "64-bit length with the top bit set", frames: rwMasked64BitLength(), code: 1002},
		// §10.4: a length beyond the read limit is refused from the header,
		// before a byte of payload (none is sent).
		{name: "64-bit length of 1 TiB, default limit", frames: header64(1 << 40), code: 1009},
		{name: "64-bit length of 2^63-1", frames: header64(1<<63 - 1), code: 1009},
		{name: "16-bit length over ReadLimit 100", path: "/ws-limit", frames: wstest.Masked(true, frame.OpBinary, make([]byte, 101))[:8], code: 1009},
		{name: "fragments adding up over ReadLimit 100", path: "/ws-limit", frames: rwConcat(masked(false, frame.OpBinary, 0, make([]byte, 60)), masked(true, frame.OpContinuation, 0, make([]byte, 41))), code: 1009},
		// §5.5.1: a close payload is empty or a valid code and UTF-8 reason.
		{name: "close payload of 1 byte", frames: masked(true, frame.OpClose, 0, []byte{0x03}), code: 1002},
		{name: "close code 1005 on the wire", frames: masked(true, frame.OpClose, 0, rwClosePayload(1005, "")), code: 1002},
		{name: "close code 999", frames: masked(true, frame.OpClose, 0, rwClosePayload(999, "")), code: 1002},
		{name: "close code 5000", frames: masked(true, frame.OpClose, 0, rwClosePayload(5000, "")), code: 1002},
		{name: "close reason not UTF-8", frames: masked(true, frame.OpClose, 0, rwClosePayload(1000, "\xc3\x28")), code: 1007},
		// §8.1: text is UTF-8.
		{name: "text not UTF-8", frames: masked(true, frame.OpText, 0, []byte("a\xffb")), code: 1007},
		// §7.1.5: the peer closed TCP in the middle of a frame; nobody is
		// left to read a close frame, the server just closes.
		{name: "truncated: first header byte only", frames: []byte{0x81}, halfClose: true},
		{name: "truncated: 16-bit length cut", frames: full[:3], halfClose: true},
		{name: "truncated: 64-bit length cut", frames: header64(5)[:6], halfClose: true},
		{name: "truncated: masking key cut", frames: full[:6], halfClose: true},
		{name: "truncated: payload cut", frames: full[:100], halfClose: true},
		// RFC 7692 §6.1: RSV1 only on the first frame of a data message.
		{name: "deflate: RSV1 on a ping", offerDeflate: true, path: "/ws-deflate", frames: masked(true, frame.OpPing, frame.Rsv1, nil), code: 1002},
		{name: "deflate: RSV1 on a continuation", offerDeflate: true, path: "/ws-deflate",
			frames: rwConcat(masked(false, frame.OpText, frame.Rsv1, compressed[:4]), masked(true, frame.OpContinuation, frame.Rsv1, compressed[4:])), code: 1002},
		// RFC 7692 §8.2.3.4 says nothing of corrupt data: it is invalid
		// payload data (1007), as for invalid UTF-8.
		{name: "deflate: corrupt DEFLATE data", offerDeflate: true, path: "/ws-deflate", frames: masked(true, frame.OpBinary, frame.Rsv1, []byte{0xff, 0xfe, 0x00}), code: 1007},
		{name: "deflate: 1 MiB inflated over ReadLimit 1000", offerDeflate: true, path: "/ws-deflate", frames: masked(true, frame.OpBinary, frame.Rsv1, bomb), code: 1009},
	}
}

// TestBadInputServer runs the bad-input table against the server.
func TestBadInputServer(t *testing.T) {
	handshakes, frames := badHandshakeRows(), badFrameRows()
	if n := len(handshakes) + len(frames) + len(badClientRows()); n < 40 {
		t.Fatalf("only %d rows", n)
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := startBadInputServer(t, tc)
		for _, r := range handshakes {
			r := r
			t.Run("handshake/"+r.name, func(t *testing.T) {
				base := wstest.Goroutines()
				rc := wstest.DialRaw(t, s.addr)
				rc.Write(r.request(s.addr))
				resp := rc.ReadResponse()
				if resp.Status != r.status {
					t.Fatalf("status %d, want %d (body %q)", resp.Status, r.status, resp.Body)
				}
				for k, v := range r.header {
					if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
						t.Fatalf("header %s: %q, want [%q]", k, got, v)
					}
				}
				if r.status == 101 {
					rc.Echo("upgraded")
					rc.NetConn.Close()
					if err := <-s.readErrs; !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
						t.Fatalf("handler read error %v, want 1006", err)
					}
				} else {
					rc.NetConn.Close()
				}
				wstest.WaitGoroutines(t, base, 0)
				select {
				case err := <-s.readErrs:
					t.Fatalf("a handler ran after a refused handshake (%v)", err)
				default:
				}
			})
		}
		for _, r := range frames {
			r := r
			t.Run("frames/"+r.name, func(t *testing.T) {
				base := wstest.Goroutines()
				path := r.path
				if path == "" {
					path = "/ws"
				}
				rc := wstest.DialRaw(t, s.addr)
				lines := wstest.UpgradeLines()
				if r.offerDeflate {
					lines = append(lines, deflateOffer)
				}
				rc.Write(wstest.Request("GET", s.addr, path, lines))
				resp := rc.ReadResponse()
				if resp.Status != 101 {
					t.Fatalf("handshake: status %d", resp.Status)
				}
				if got := resp.Header.Get("Sec-WebSocket-Extensions"); (got != "") != r.offerDeflate {
					t.Fatalf("Sec-WebSocket-Extensions %q", got)
				}
				rc.Write(r.frames)
				if r.halfClose {
					rc.CloseWrite()
				}
				if r.code != 0 {
					rc.ExpectCloseCode(r.code)
				}
				rc.ExpectClosed()
				checkHandlerError(t, <-s.readErrs, r.code)
				rc.NetConn.Close()
				wstest.WaitGoroutines(t, base, 0)
			})
		}
	})
}

// checkHandlerError checks the error the server's read loop ended with
// against the close code sent on the wire: a *ProtocolError carrying it for
// 1002 and 1007, ErrReadLimit for 1009, and 1006 when the peer vanished.
func checkHandlerError(t *testing.T, err error, code int) {
	t.Helper()
	var pe *websocket.ProtocolError
	switch code {
	case 0:
		if !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
			t.Fatalf("handler read error %v, want 1006", err)
		}
	case websocket.CloseMessageTooBig:
		if !errors.Is(err, websocket.ErrReadLimit) {
			t.Fatalf("handler read error %v, want ErrReadLimit", err)
		}
	default:
		if !errors.As(err, &pe) || int(pe.Code) != code {
			t.Fatalf("handler read error %v (%T), want a *ProtocolError with code %d", err, err, code)
		}
	}
}

type badClientRow struct {
	name      string
	frames    []byte // what the raw server sends after its 101
	readLimit int64
	code      int // close code the client must send
}

func badClientRows() []badClientRow {
	unmasked := func(op frame.Opcode, rsv byte, payload []byte) []byte {
		return wstest.EncodeFrame(frame.Header{Fin: true, Rsv: rsv, Opcode: op}, payload)
	}
	top := binary.BigEndian.AppendUint64([]byte{0x82, 127}, 1<<63|5)
	return []badClientRow{
		// RFC 6455 §5.1: a client MUST close a connection if it detects a
		// masked frame.
		{name: "masked frame from the server", frames: wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: wstest.Mask}, []byte("hi")), code: 1002},
		{name: "masked ping from the server", frames: wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpPing, Masked: true, Mask: wstest.Mask}, nil), code: 1002},
		{name: "compressed frame (RSV1) without negotiation", frames: unmasked(frame.OpText, frame.Rsv1, []byte{0xf2, 0x48, 0x05, 0x00}), code: 1002},
		{name: "reserved opcode 0x7", frames: unmasked(0x7, 0, nil), code: 1002},
		{name: "64-bit length with the top bit set", frames: append(top, "hello"...), code: 1002},
		{name: "text not UTF-8", frames: unmasked(frame.OpText, 0, []byte{0xed, 0xa0, 0x80}), code: 1007},
		{name: "message over the Dialer's ReadLimit", readLimit: 10, frames: unmasked(frame.OpBinary, 0, make([]byte, 11)), code: 1009},
	}
}

// TestBadInputClient runs the client rows against the Dialer: a raw server
// completes the handshake, then sends bytes that break RFC 6455. The client
// must answer with the close code, masked, then close the connection.
func TestBadInputClient(t *testing.T) {
	for _, r := range badClientRows() {
		r := r
		t.Run(r.name, func(t *testing.T) {
			base := wstest.Goroutines()
			c, p := ctRawUpgrade(t, &websocket.Dialer{ReadLimit: r.readLimit})
			p.write(string(r.frames))
			_, _, err := c.ReadMessage()
			checkHandlerError(t, err, r.code)
			h, payload := p.readFrame()
			if h.Opcode != frame.OpClose || !h.Masked {
				t.Fatalf("client sent %+v, want a masked close frame", h)
			}
			code, _, perr := frame.ParseClosePayload(payload)
			if perr != nil || int(code) != r.code {
				t.Fatalf("client close payload %q: code %d (%v), want %d", payload, code, perr, r.code)
			}
			p.expectEOF()
			c.Close()
			p.c.Close()
			wstest.WaitGoroutines(t, base, 0)
		})
	}
}
