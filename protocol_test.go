package websocket_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// rwProtocolServer serves echoHandler on /ws (default upgrader) and on
// /ws-limit (ReadLimit 100), and counts panics that escape the handler.
type rwProtocolServer struct {
	addr   string
	panics atomic.Int32
}

func rwStartProtocolServer(t *testing.T, tc wstest.Transport) *rwProtocolServer {
	s := &rwProtocolServer{}
	handler := func(c *websocket.Conn) {
		defer func() {
			if r := recover(); r != nil {
				s.panics.Add(1)
				panic(r) // let the library deal with it as it would
			}
		}()
		wstest.Echo(c)
	}
	route := func(u *websocket.HertzUpgrader) app.HandlerFunc {
		return func(_ context.Context, ctx *app.RequestContext) { _ = u.Upgrade(ctx, handler) }
	}
	s.addr = wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
		h.GET("/ws", route(&websocket.HertzUpgrader{}))
		h.GET("/ws-limit", route(&websocket.HertzUpgrader{ReadLimit: 100}))
	})
	t.Cleanup(func() {
		if n := s.panics.Load(); n != 0 {
			t.Errorf("%d handler panics", n)
		}
	})
	return s
}

// rwConcat joins byte slices.
func rwConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// rwClosePayload returns a close frame payload with code and reason.
func rwClosePayload(code uint16, reason string) []byte {
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, code)
	return append(p, reason...)
}

// rwMasked64BitLength is a masked binary frame header whose 64-bit payload
// length has its most significant bit set (RFC 6455 §5.2 forbids it).
func rwMasked64BitLength() []byte {
	b := []byte{0x82, 0x80 | 127}
	b = binary.BigEndian.AppendUint64(b, 1<<63|5)
	b = append(b, wstest.Mask[:]...)
	return append(b, "hello"...)
}

// TestProtocolViolations sends one sequence of frames that breaks RFC 6455
// and checks the close code of the server's close frame, which must be the
// first thing it sends (§7.1.7), and that the server then closes the TCP
// connection.
func TestProtocolViolations(t *testing.T) {
	type row struct {
		name  string
		path  string // /ws when empty
		bytes []byte
		code  int
	}
	text := func(fin bool, s string) []byte { return wstest.Masked(fin, frame.OpText, []byte(s)) }
	cont := func(fin bool, s string) []byte { return wstest.Masked(fin, frame.OpContinuation, []byte(s)) }
	rows := []row{
		{name: "unmasked frame", bytes: wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("hello")), code: 1002},
		{name: "unmasked ping", bytes: wstest.EncodeFrame(frame.Header{Fin: true, Opcode: frame.OpPing}, []byte("p")), code: 1002},
		{name: "ping of 126 bytes", bytes: wstest.Masked(true, frame.OpPing, bytes.Repeat([]byte("p"), 126)), code: 1002},
		{name: "close of 126 bytes", bytes: wstest.Masked(true, frame.OpClose, rwClosePayload(1000, string(bytes.Repeat([]byte("r"), 124)))), code: 1002},
		{name: "fragmented ping", bytes: wstest.Masked(false, frame.OpPing, []byte("p")), code: 1002},
		{name: "continuation with no message open", bytes: cont(true, "x"), code: 1002},
		{name: "continuation FIN=0 with no message open", bytes: cont(false, "x"), code: 1002},
		{name: "text inside a fragmented message", bytes: rwConcat(text(false, "Hel"), text(true, "lo")), code: 1002},
		{name: "binary inside a fragmented message", bytes: rwConcat(text(false, "Hel"), wstest.Masked(true, frame.OpBinary, []byte("lo"))), code: 1002},
		{name: "64-bit length with top bit set", bytes: rwMasked64BitLength(), code: 1002},

		{name: "invalid UTF-8 in one frame", bytes: text(true, "ok \xff ok"), code: 1007},
		{name: "truncated UTF-8 at the end of the message", bytes: text(true, "ok \xe2\x82"), code: 1007},
		{name: "invalid UTF-8 across fragments", bytes: rwConcat(text(false, "ok \xe2\x82"), cont(true, "\x28 ok")), code: 1007},
		{name: "UTF-8 surrogate in a continuation", bytes: rwConcat(text(false, "ok "), cont(true, "\xed\xa0\x80")), code: 1007},

		{name: "close payload of 1 byte", bytes: wstest.Masked(true, frame.OpClose, []byte{0x03}), code: 1002},
		{name: "close reason not UTF-8", bytes: wstest.Masked(true, frame.OpClose, rwClosePayload(1000, "bye \xff")), code: 1007},

		{name: "over the read limit", path: "/ws-limit", bytes: wstest.Masked(true, frame.OpBinary, make([]byte, 101)), code: 1009},
		{name: "over the read limit across fragments", path: "/ws-limit",
			bytes: rwConcat(wstest.Masked(false, frame.OpBinary, make([]byte, 60)), wstest.Masked(true, frame.OpContinuation, make([]byte, 41))), code: 1009},
	}
	for _, rsv := range []struct {
		name string
		bit  byte
	}{{"RSV1", frame.Rsv1}, {"RSV2", frame.Rsv2}, {"RSV3", frame.Rsv3}} {
		h := frame.Header{Fin: true, Rsv: rsv.bit, Opcode: frame.OpText, Masked: true, Mask: wstest.Mask}
		rows = append(rows, row{name: rsv.name + " set", bytes: wstest.EncodeFrame(h, []byte("hello")), code: 1002})
	}
	for _, op := range []frame.Opcode{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		rows = append(rows, row{name: fmt.Sprintf("reserved opcode %#x", byte(op)), bytes: wstest.Masked(true, op, nil), code: 1002})
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		rows = append(rows, row{name: fmt.Sprintf("close code %d", code), bytes: wstest.Masked(true, frame.OpClose, rwClosePayload(code, "")), code: 1002})
	}

	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartProtocolServer(t, tc)
		for _, r := range rows {
			r := r
			t.Run(r.name, func(t *testing.T) {
				path := r.path
				if path == "" {
					path = "/ws"
				}
				rc := wstest.DialRaw(t, s.addr)
				rc.Handshake(path)
				rc.Write(r.bytes)
				rc.ExpectCloseCode(r.code)
				rc.ExpectClosed()
			})
		}
	})
}

// TestProtocolUTF8FailFast checks that invalid UTF-8 is refused as soon as
// it arrives: the frame announces 1000 bytes, only 10 are sent, and the
// first is not UTF-8. The server must answer 1007 without waiting for the
// other 990.
func TestProtocolUTF8FailFast(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartProtocolServer(t, tc)
		for _, tt := range []struct {
			name   string
			prefix []byte
			op     frame.Opcode
			before []byte // frames sent first
		}{
			{"first frame", []byte("\xffabcdefghi"), frame.OpText, nil},
			{"continuation", []byte("abc\xc0\xafdefg"), frame.OpContinuation, wstest.Masked(false, frame.OpText, []byte("ok"))},
		} {
			tt := tt
			t.Run(tt.name, func(t *testing.T) {
				rc := wstest.DialRaw(t, s.addr)
				rc.Handshake("/ws")
				payload := make([]byte, 1000)
				copy(payload, tt.prefix)
				b := wstest.EncodeFrame(frame.Header{Fin: true, Opcode: tt.op, Masked: true, Mask: wstest.Mask}, payload)
				hdrLen := len(b) - len(payload)
				rc.Write(rwConcat(tt.before, b[:hdrLen+10]))
				rc.ExpectCloseCode(1007)
				rc.ExpectClosed()
			})
		}
	})
}

// TestProtocolCloseEcho checks the answer to a valid close frame: the same
// code, then the server closes the TCP connection (RFC 6455 §5.5.1, §7.1.1).
func TestProtocolCloseEcho(t *testing.T) {
	codes := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartProtocolServer(t, tc)
		for _, code := range codes {
			code := code
			t.Run(fmt.Sprint(code), func(t *testing.T) {
				rc := wstest.DialRaw(t, s.addr)
				rc.Handshake("/ws")
				rc.Write(wstest.Masked(true, frame.OpClose, rwClosePayload(code, "bye")))
				rc.ExpectCloseCode(int(code))
				rc.ExpectClosed()
			})
		}
		// RFC 6455 §5.5.1: a close without a status code is answered by a
		// close without one; 1005 never goes on the wire.
		t.Run("empty", func(t *testing.T) {
			rc := wstest.DialRaw(t, s.addr)
			rc.Handshake("/ws")
			rc.Write(wstest.Masked(true, frame.OpClose, nil))
			if p := rc.ExpectCloseFrame(); len(p) != 0 {
				t.Fatalf("close payload %q, want empty", p)
			}
			rc.ExpectClosed()
		})
		// A close in the middle of a fragmented message is allowed (§5.4).
		t.Run("inside a fragmented message", func(t *testing.T) {
			rc := wstest.DialRaw(t, s.addr)
			rc.Handshake("/ws")
			rc.Write(rwConcat(wstest.Masked(false, frame.OpText, []byte("Hel")), wstest.Masked(true, frame.OpClose, rwClosePayload(1001, ""))))
			rc.ExpectCloseCode(1001)
			rc.ExpectClosed()
		})
	})
}

// TestProtocolInterleavedControl sends a fragmented message with a ping and
// a pong between its fragments (RFC 6455 §5.4): the pong answer goes out at
// once, the message is echoed whole.
func TestProtocolInterleavedControl(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartProtocolServer(t, tc)
		rc := wstest.DialRaw(t, s.addr)
		rc.Handshake("/ws")
		rc.Write(rwConcat(
			wstest.Masked(false, frame.OpText, []byte("Hel")),
			wstest.Masked(true, frame.OpPing, []byte("p")),
			wstest.Masked(false, frame.OpContinuation, []byte("lo ")),
			wstest.Masked(true, frame.OpPong, []byte("x")),
			wstest.Masked(true, frame.OpContinuation, []byte("World")),
		))
		f := rc.ReadFrame()
		if f.Header.Opcode != frame.OpPong || string(f.Payload) != "p" || !f.Header.Fin {
			t.Fatalf("first frame %v fin=%v %q, want pong \"p\"", f.Header.Opcode, f.Header.Fin, f.Payload)
		}
		op, msg := rc.ReadMessage()
		if op != frame.OpText || string(msg) != "Hello World" {
			t.Fatalf("got %v %q, want text \"Hello World\"", op, msg)
		}
		rc.Echo("still in sync")
	})
}

// TestProtocolByteAtATime feeds the server one byte per write.
func TestProtocolByteAtATime(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartProtocolServer(t, tc)
		rc := wstest.DialRaw(t, s.addr)
		rc.Handshake("/ws")
		for _, msg := range []string{"hello, slowly", string(bytes.Repeat([]byte("é"), 65))} {
			b := wstest.Masked(true, frame.OpText, []byte(msg))
			for i := range b {
				rc.Write(b[i : i+1])
				time.Sleep(time.Millisecond)
			}
			op, got := rc.ReadMessage()
			if op != frame.OpText || string(got) != msg {
				t.Fatalf("got %v %q, want text %q", op, got, msg)
			}
		}
	})
}

// TestProtocolPipelinedFrame sends the upgrade request and the first frame
// in a single write: the frame bytes that arrive with the request must not
// be lost.
func TestProtocolPipelinedFrame(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartProtocolServer(t, tc)
		rc := wstest.DialRaw(t, s.addr)
		rc.Write(rwConcat(
			wstest.Request("GET", s.addr, "/ws", wstest.UpgradeLines()),
			wstest.Masked(true, frame.OpText, []byte("pipelined")),
			wstest.Masked(true, frame.OpPing, []byte("ping too")),
		))
		resp := rc.ReadResponse()
		if resp.Status != 101 {
			t.Fatalf("status %d", resp.Status)
		}
		op, got := rc.ReadMessage()
		if op != frame.OpText || string(got) != "pipelined" {
			t.Fatalf("got %v %q, want text \"pipelined\"", op, got)
		}
		f := rc.ReadFrame()
		if f.Header.Opcode != frame.OpPong || string(f.Payload) != "ping too" {
			t.Fatalf("got %v %q, want pong \"ping too\"", f.Header.Opcode, f.Payload)
		}
		rc.Echo("and after")
	})
}

// rwClosesIn walks data as a sequence of client frames, as the server
// would, and returns the payloads of the complete close frames it meets
// before the bytes run out or stop parsing. The server may legitimately echo
// one of them.
func rwClosesIn(data []byte) [][]byte {
	var closes [][]byte
	for i := 0; i < 1000 && len(data) > 0; i++ {
		h, n, err := frame.ParseHeader(data)
		if err != nil || h.PayloadLen > int64(len(data)-n) {
			break
		}
		payload := append([]byte(nil), data[n:n+int(h.PayloadLen)]...)
		if h.Masked {
			frame.Mask(h.Mask, 0, payload)
		}
		if h.Opcode == frame.OpClose {
			closes = append(closes, payload)
		}
		data = data[n+int(h.PayloadLen):]
	}
	return closes
}

// TestProtocolRandomGarbage sends seeded random bytes after the handshake,
// then half-closes. Whatever the bytes, the server must not panic and must
// end the connection, either with a close frame for a protocol error (1002,
// 1007, 1009) or the echo of a close frame found in the garbage, or by
// closing the TCP connection. A normal client still works afterwards.
func TestProtocolRandomGarbage(t *testing.T) {
	const sequences = 200
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := rwStartProtocolServer(t, tc)
		rng := rand.New(rand.NewSource(6455))
		outcomes := map[string]int{}
		for i := 0; i < sequences; i++ {
			garbage := make([]byte, 1+rng.Intn(64))
			rng.Read(garbage)
			// Bias a third of the inputs towards plausible headers so that
			// the deeper checks are reached too: a masked frame with a
			// valid opcode and no RSV bit, and random length and payload.
			if i%3 == 0 && len(garbage) >= 2 {
				ops := []byte{0, 1, 2, 8, 9, 10}
				garbage[0] = garbage[0]&0x80 | ops[rng.Intn(len(ops))]
				garbage[1] |= 0x80
			}
			rc := wstest.DialRaw(t, s.addr)
			rc.Handshake("/ws")
			if err := rc.TryWrite(garbage); err != nil {
				// The server may already have failed the connection.
				outcomes["write error"]++
				continue
			}
			// Half-close only once the server has gone quiet: it may be
			// waiting for the rest of a frame. Closing at once would hide the
			// close frame on netpoll, which tears the connection down when
			// the peer's FIN arrives and then cannot write to it.
			// A first header that breaks the framing rules must be answered
			// with 1002 without waiting for another byte.
			firstBad := false
			if h, _, err := frame.ParseHeader(garbage); err == nil {
				firstBad = frame.CheckHeader(h, frame.State{Role: frame.RoleServer}) != nil
			} else {
				firstBad = err != frame.ErrShortHeader
			}
			halfClosed := firstBad
			outcome := ""
			for j := 0; j < 100 && outcome == ""; j++ {
				if !halfClosed {
					_ = rc.NetConn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
					if _, err := rc.Reader.Peek(1); wstest.IsTimeout(err) {
						rc.CloseWrite()
						halfClosed = true
					}
				}
				f, err := rc.TryReadFrame()
				switch {
				case err != nil:
					if !wstest.IsClosed(err) {
						t.Fatalf("sequence %d (% x): %v", i, garbage, err)
					}
					outcome = "closed"
				case f.Header.Opcode == frame.OpClose:
					code, _, perr := frame.ParseClosePayload(f.Payload)
					if perr != nil {
						t.Fatalf("sequence %d (% x): server close payload %q: %v", i, garbage, f.Payload, perr)
					}
					switch code {
					case 1002, 1007, 1009:
					default:
						echoed := false
						for _, p := range rwClosesIn(garbage) {
							if c, _, err := frame.ParseClosePayload(p); err == nil && c == code {
								echoed = true
							}
						}
						if !echoed {
							t.Fatalf("sequence %d (% x): close code %d", i, garbage, code)
						}
					}
					outcome = fmt.Sprintf("close %d", code)
					rc.ExpectClosed()
				case f.Header.Opcode.IsControl() && f.Header.Opcode != frame.OpPong:
					t.Fatalf("sequence %d (% x): server sent %v", i, garbage, f.Header.Opcode)
				}
				// Echoed data and pongs may come first.
			}
			if outcome == "" {
				t.Fatalf("sequence %d (% x): no end after 100 frames", i, garbage)
			}
			if firstBad && outcome != "close 1002" {
				t.Fatalf("sequence %d (% x): first header breaks RFC 6455, got %s, want close 1002", i, garbage, outcome)
			}
			outcomes[outcome]++
		}
		t.Logf("outcomes: %v", outcomes)
		if n := s.panics.Load(); n != 0 {
			t.Fatalf("%d handler panics", n)
		}
		c, _ := wstest.Dial(t, nil, "ws://"+s.addr+"/ws", nil)
		wstest.CheckEcho(t, c, websocket.TextMessage, []byte("after the garbage"))
	})
}
