package interop_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// The tests in this file hold this package to gorilla/websocket's behaviour
// where code written for gorilla (or for hertz-contrib/websocket, its fork)
// can see it: control messages through NextWriter and PreparedMessage, the
// text of a CloseError, FormatCloseMessage, ReadJSON's errors, and the
// package-level JoinMessages, ReadJSON and WriteJSON. Where gorilla can be
// asked (its client reading the same bytes, its functions), it is.

// gaControlLog records the control messages a client's handlers saw.
type gaControlLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *gaControlLog) add(kind, data string) error {
	l.mu.Lock()
	l.seen = append(l.seen, kind+" "+data)
	l.mu.Unlock()
	return nil
}

func (l *gaControlLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.seen, ",")
}

// watch installs ping and pong handlers on p that record what they see and
// answer nothing.
func (l *gaControlLog) watch(p wlPeer) {
	p.SetPingHandler(func(d string) error { return l.add("ping", d) })
	p.SetPongHandler(func(d string) error { return l.add("pong", d) })
}

// gaWantErr returns an error unless err is a non-nil error with text want.
func gaWantErr(what string, err error, want string) error {
	if err == nil || err.Error() != want {
		return fmt.Errorf("%s: error %v, want %q", what, err, want)
	}
	return nil
}

// gaAfterClose checks that every write path reports ErrCloseSent once a
// close message has gone out, and that the peer's answer arrives.
func gaAfterClose(c *websocket.Conn, wantCode int) error {
	pm, err := websocket.NewPreparedMessage(websocket.PingMessage, nil)
	if err != nil {
		return err
	}
	checks := map[string]error{
		"WriteMessage":         c.WriteMessage(websocket.TextMessage, []byte("x")),
		"WriteMessage(ping)":   c.WriteMessage(websocket.PingMessage, nil),
		"WriteControl":         c.WriteControl(websocket.CloseMessage, nil, time.Now().Add(wlGuard)),
		"WritePreparedMessage": c.WritePreparedMessage(pm),
		"WriteJSON":            c.WriteJSON(1),
		"NextWriter(text)":     func() error { _, err := c.NextWriter(websocket.TextMessage); return err }(),
		"NextWriter(ping)":     func() error { _, err := c.NextWriter(websocket.PingMessage); return err }(),
		//lint:ignore SA1019 the package-level JSON functions are kept for gorilla code; this tests them
		"package-level WriteJSON": websocket.WriteJSON(c, 1),
	}
	for name, err := range checks {
		if err != websocket.ErrCloseSent {
			return fmt.Errorf("%s after the close was sent: %v, want ErrCloseSent", name, err)
		}
	}
	_, _, err = c.ReadMessage()
	if code, _, ok := wlCloseCode(err); !ok || code != wantCode {
		return fmt.Errorf("read after the close: %v, want the peer's close %d", err, wantCode)
	}
	return nil
}

// TestGorillaControlNextWriter: NextWriter accepts PingMessage, PongMessage
// and CloseMessage, as gorilla's does. The payload goes out as one frame at
// Close (never compressed); past 125 bytes nothing is sent and the error is
// gorilla's ("websocket: invalid control frame"), and the connection goes
// on; a close sent this way is the close sent.
func TestGorillaControlNextWriter(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		for _, compress := range []bool{false, true} {
			compress := compress
			t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
				u := &websocket.HertzUpgrader{EnableCompression: compress}
				s := wlServe(t, tc, u, func(c *websocket.Conn) error {
					w, err := c.NextWriter(websocket.PingMessage)
					if err != nil {
						return err
					}
					if _, err := io.WriteString(w, "pi"); err != nil {
						return err
					}
					if _, err := w.Write([]byte("ng")); err != nil {
						return err
					}
					if err := w.Close(); err != nil {
						return err
					}
					if w, err = c.NextWriter(websocket.PongMessage); err != nil {
						return err
					}
					if _, err := io.Copy(w, strings.NewReader("pong")); err != nil {
						return err
					}
					if err := w.Close(); err != nil {
						return err
					}

					// 126 bytes: refused, nothing sent, the connection goes on.
					if w, err = c.NextWriter(websocket.PingMessage); err != nil {
						return err
					}
					if _, err := w.Write(bytes.Repeat([]byte{'x'}, 125)); err != nil {
						return fmt.Errorf("125 bytes: %v", err)
					}
					const invalid = "websocket: invalid control frame"
					if _, err := w.Write([]byte{'x'}); gaWantErr("the 126th byte", err, invalid) != nil {
						return gaWantErr("the 126th byte", err, invalid)
					}
					if err := w.Close(); gaWantErr("Close of 126 bytes", err, invalid) != nil {
						return gaWantErr("Close of 126 bytes", err, invalid)
					}
					if w, err = c.NextWriter(websocket.PongMessage); err != nil {
						return err
					}
					if _, err := io.Copy(w, bytes.NewReader(make([]byte, 200))); gaWantErr("io.Copy of 200 bytes", err, invalid) != nil {
						return gaWantErr("io.Copy of 200 bytes", err, invalid)
					}
					if err := c.WriteMessage(websocket.TextMessage, []byte("after")); err != nil {
						return err
					}

					if w, err = c.NextWriter(websocket.CloseMessage); err != nil {
						return err
					}
					if _, err := w.Write(websocket.FormatCloseMessage(4000, "done")); err != nil {
						return err
					}
					if err := w.Close(); err != nil {
						return err
					}
					return gaAfterClose(c, 4000)
				})
				p := cl.dial(t, s.url, compress)
				var log gaControlLog
				log.watch(p)
				wlExpect(t, p, websocket.TextMessage, "after")
				_ = p.SetReadDeadline(time.Now().Add(wlGuard))
				_, _, err := p.ReadMessage()
				if code, text, ok := wlCloseCode(err); !ok || code != 4000 || text != "done" {
					t.Fatalf("client read %v, want close 4000 \"done\"", err)
				}
				if err := s.result(t); err != nil {
					t.Fatal(err)
				}
				if got := log.String(); got != "ping ping,pong pong" {
					t.Fatalf("client saw %q", got)
				}
			})
		}
	})
}

// TestGorillaPreparedControl: NewPreparedMessage accepts control messages of
// up to 125 bytes and refuses what gorilla's refuses, with its errors; a
// prepared close is the close sent, and a batch stops there.
func TestGorillaPreparedControl(t *testing.T) {
	for _, tt := range []struct {
		mt   int
		size int
	}{
		{websocket.PingMessage, 0}, {websocket.PingMessage, 125}, {websocket.PingMessage, 126},
		{websocket.PongMessage, 125}, {websocket.PongMessage, 126},
		{websocket.CloseMessage, 2}, {websocket.CloseMessage, 125}, {websocket.CloseMessage, 126},
		{websocket.TextMessage, 1000}, {websocket.BinaryMessage, 0},
		{0, 1}, {3, 1}, {7, 1}, {11, 1}, {15, 1}, {-1, 1},
	} {
		data := make([]byte, tt.size)
		_, ours := websocket.NewPreparedMessage(tt.mt, data)
		_, theirs := gorilla.NewPreparedMessage(tt.mt, data)
		if fmt.Sprint(ours) != fmt.Sprint(theirs) {
			t.Errorf("NewPreparedMessage(%d, %d bytes): %v, gorilla's %v", tt.mt, tt.size, ours, theirs)
		}
	}

	prepare := func(mt int, data string) *websocket.PreparedMessage {
		pm, err := websocket.NewPreparedMessage(mt, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return pm
	}
	ping := prepare(websocket.PingMessage, "pp")
	batch := []*websocket.PreparedMessage{
		prepare(websocket.TextMessage, "t1"),
		prepare(websocket.PongMessage, "po"),
		prepare(websocket.TextMessage, strings.Repeat("t2", 1000)),
		prepare(websocket.CloseMessage, string(websocket.FormatCloseMessage(4001, "bye"))),
		prepare(websocket.TextMessage, "t3"),
	}
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		for _, compress := range []bool{false, true} {
			compress := compress
			t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
				u := &websocket.HertzUpgrader{EnableCompression: compress, Compression: websocket.CompressionOptions{Threshold: -1}}
				s := wlServe(t, tc, u, func(c *websocket.Conn) error {
					if err := c.WritePreparedMessage(ping); err != nil {
						return err
					}
					if err := c.WritePreparedMessages(batch); err != websocket.ErrCloseSent {
						return fmt.Errorf("WritePreparedMessages past a close: %v, want ErrCloseSent", err)
					}
					return gaAfterClose(c, 4001)
				})
				p := cl.dial(t, s.url, compress)
				var log gaControlLog
				log.watch(p)
				wlExpect(t, p, websocket.TextMessage, "t1")
				wlExpect(t, p, websocket.TextMessage, strings.Repeat("t2", 1000))
				_ = p.SetReadDeadline(time.Now().Add(wlGuard))
				_, _, err := p.ReadMessage()
				if code, text, ok := wlCloseCode(err); !ok || code != 4001 || text != "bye" {
					t.Fatalf("client read %v, want close 4001 \"bye\" (and no t3)", err)
				}
				if err := s.result(t); err != nil {
					t.Fatal(err)
				}
				if got := log.String(); got != "ping pp,pong po" {
					t.Fatalf("client saw %q", got)
				}
			})
		}
	})
}

// TestGorillaControlFromClient: this package's client sends control
// messages through NextWriter and PreparedMessage (masked, RFC 6455 §5.3);
// the server's handlers see them, and the client's prepared close is its
// close sent.
func TestGorillaControlFromClient(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		var log gaControlLog
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			c.SetPingHandler(func(d string) error { return log.add("ping", d) })
			c.SetPongHandler(func(d string) error { return log.add("pong", d) })
			_, _, err := c.ReadMessage()
			if code, text, ok := wlCloseCode(err); !ok || code != 4002 || text != "client" {
				return fmt.Errorf("server read %v, want close 4002 \"client\"", err)
			}
			return nil
		})
		d := websocket.Dialer{HandshakeTimeout: wlGuard}
		c, _, err := d.Dial(s.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		w, err := c.NextWriter(websocket.PingMessage)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("cp")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			mt   int
			data []byte
		}{
			{websocket.PongMessage, []byte("cq")},
			{websocket.CloseMessage, websocket.FormatCloseMessage(4002, "client")},
		} {
			pm, err := websocket.NewPreparedMessage(m.mt, m.data)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.WritePreparedMessage(pm); err != nil {
				t.Fatal(err)
			}
		}
		if err := gaAfterClose(c, 4002); err != nil {
			t.Fatal(err)
		}
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		if got := log.String(); got != "ping cp,pong cq" {
			t.Fatalf("server saw %q", got)
		}
	})
}

// TestGorillaCloseErrorText: CloseError.Error reads as gorilla's for every
// code: "websocket: close N", gorilla's name for the codes it names, and the
// text. 1012, 1013 and 1014, which gorilla leaves unnamed, keep this
// package's names.
func TestGorillaCloseErrorText(t *testing.T) {
	named := []struct {
		code int
		want string
	}{
		{1000, "websocket: close 1000 (normal)"},
		{1001, "websocket: close 1001 (going away)"},
		{1002, "websocket: close 1002 (protocol error)"},
		{1003, "websocket: close 1003 (unsupported data)"},
		{1004, "websocket: close 1004"},
		{1005, "websocket: close 1005 (no status)"},
		{1006, "websocket: close 1006 (abnormal closure)"},
		{1007, "websocket: close 1007 (invalid payload data)"},
		{1008, "websocket: close 1008 (policy violation)"},
		{1009, "websocket: close 1009 (message too big)"},
		{1010, "websocket: close 1010 (mandatory extension missing)"},
		{1011, "websocket: close 1011 (internal server error)"},
		{1012, "websocket: close 1012 (service restart)"},
		{1013, "websocket: close 1013 (try again later)"},
		{1014, "websocket: close 1014 (bad gateway)"},
		{1015, "websocket: close 1015 (TLS handshake error)"},
		{1016, "websocket: close 1016"},
		{3000, "websocket: close 3000"},
		{4000, "websocket: close 4000"},
		{0, "websocket: close 0"},
		{-1, "websocket: close -1"},
		{1000 + 65536, "websocket: close 66536"}, // not 1000 in disguise
	}
	for _, tt := range named {
		for _, text := range []string{"", "bye"} {
			want := tt.want
			if text != "" {
				want += ": " + text
			}
			if got := (&websocket.CloseError{Code: tt.code, Text: text}).Error(); got != want {
				t.Errorf("CloseError{%d, %q}.Error() = %q, want %q", tt.code, text, got, want)
			}
		}
	}
	// Every other code reads exactly as gorilla's.
	own := map[int]bool{1012: true, 1013: true, 1014: true}
	codes := []int{-70000, -1, 65535, 65536, 66536, 1 << 20}
	for code := 0; code <= 5000; code++ {
		codes = append(codes, code)
	}
	for _, code := range codes {
		if own[code] {
			continue
		}
		for _, text := range []string{"", "reason", "ünïcode"} {
			got := (&websocket.CloseError{Code: code, Text: text}).Error()
			want := (&gorilla.CloseError{Code: code, Text: text}).Error()
			if got != want {
				t.Fatalf("CloseError{%d, %q}.Error() = %q, gorilla's %q", code, text, got, want)
			}
		}
	}
}

// TestGorillaFormatCloseMessage: the payload is gorilla's byte for byte,
// 1005 an empty non-nil slice included, except for a text longer than a
// close frame has room for, which this package cuts to 123 bytes at a
// UTF-8 boundary (gorilla's WriteControl refuses the whole).
func TestGorillaFormatCloseMessage(t *testing.T) {
	for _, code := range []int{0, 1000, 1001, 1005, 1005 + 65536, 1006, 3000, 4999, 65535, -1} {
		for _, text := range []string{"", "bye", strings.Repeat("a", 123), strings.Repeat("é", 61)} {
			got := websocket.FormatCloseMessage(code, text)
			want := gorilla.FormatCloseMessage(code, text)
			if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("FormatCloseMessage(%d, %.10q) = %x (nil %v), gorilla's %x (nil %v)", code, text, got, got == nil, want, want == nil)
			}
		}
	}
	for _, text := range []string{strings.Repeat("a", 124), strings.Repeat("é", 62), strings.Repeat("😀", 40), strings.Repeat("x", 1000)} {
		got := websocket.FormatCloseMessage(websocket.CloseGoingAway, text)
		want := gorilla.FormatCloseMessage(websocket.CloseGoingAway, text)
		if len(got) > 125 || !bytes.HasPrefix(want, got) || !utf8.Valid(got[2:]) || len(got) < 125-3 {
			t.Errorf("long text %d bytes: %d-byte payload %x", len(text), len(got), got)
		}
	}
}

// TestGorillaIsCloseError: IsCloseError and IsUnexpectedCloseError answer as
// gorilla's for a *CloseError, and for errors that are not close errors.
// Unlike gorilla's, they also find a *CloseError wrapped in another error.
func TestGorillaIsCloseError(t *testing.T) {
	for _, code := range []int{1000, 1001, 1006, 4000} {
		ours := &websocket.CloseError{Code: code}
		theirs := &gorilla.CloseError{Code: code}
		for _, codes := range [][]int{nil, {1000}, {1001, 1006}, {4000, 1000}} {
			if a, b := websocket.IsCloseError(ours, codes...), gorilla.IsCloseError(theirs, codes...); a != b {
				t.Errorf("IsCloseError(%d, %v) = %v, gorilla's %v", code, codes, a, b)
			}
			if a, b := websocket.IsUnexpectedCloseError(ours, codes...), gorilla.IsUnexpectedCloseError(theirs, codes...); a != b {
				t.Errorf("IsUnexpectedCloseError(%d, %v) = %v, gorilla's %v", code, codes, a, b)
			}
		}
	}
	other := errors.New("other")
	if websocket.IsCloseError(other, 1000) || websocket.IsUnexpectedCloseError(other) || websocket.IsUnexpectedCloseError(nil) {
		t.Error("a non-close error counted as a close error")
	}
	wrapped := fmt.Errorf("session: %w", &websocket.CloseError{Code: 1008})
	if !websocket.IsCloseError(wrapped, 1008) || !websocket.IsUnexpectedCloseError(wrapped, 1000) {
		t.Error("a wrapped *CloseError was not found")
	}
}

// gaJSONCase is one message ReadJSON decodes.
type gaJSONCase struct {
	name  string
	input string
	// into makes the value decoded into; its contents before decoding are
	// part of the check (a syntax error leaves them alone).
	into func() interface{}
	// kind is what the error must be: "" none, "syntax" a
	// *json.SyntaxError, "eof" io.ErrUnexpectedEOF, "type" a
	// *json.UnmarshalTypeError.
	kind string
}

type gaDoc struct {
	A int   `json:"a"`
	B []int `json:"b"`
}

func gaMap() interface{} { m := map[string]interface{}{"kept": true}; return &m }
func gaStruct() interface{} {
	return &gaDoc{A: 7, B: []int{7}}
}

var gaJSONCases = []gaJSONCase{
	{"valid", `{"a":1,"b":[2,3]}`, gaStruct, ""},
	{"valid spaced", " \n{ \"a\" : 1 }\t", gaMap, ""},
	{"deep", strings.Repeat("[", 500) + strings.Repeat("]", 500), func() interface{} { var v interface{}; return &v }, ""},
	{"unicode", `{"a":"ünïcode ✓ 𝄞 \u00e9"}`, gaMap, ""},
	{"invalid UTF-8 in a string", "{\"a\":\"\xff\xfe\"}", gaMap, ""},
	{"missing value", `{"a":}`, gaMap, "syntax"},
	{"bare word", `x`, gaMap, "syntax"},
	{"lone brace", `}`, gaMap, "syntax"},
	{"double comma", `[1,2,,3]`, gaStruct, "syntax"},
	{"missing colon", `{"a" 1}`, gaStruct, "syntax"},
	{"trailing comma", `{"a":1,}`, gaStruct, "syntax"},
	{"bad literal", `{"a":tru}`, gaMap, "syntax"},
	{"bad escape", `{"a":"\u12"}`, gaMap, "syntax"},
	{"error deep inside", `{"a":1,"b":[2,3,4,5,6,7,8,9,x]}`, gaStruct, "syntax"},
	{"truncated object", `{"a":1`, gaStruct, "eof"},
	{"truncated string", `{"a":"x`, gaMap, "eof"},
	{"truncated literal", `tru`, gaMap, "eof"},
	{"truncated array", `{"a":1,"b":[2,3]`, gaStruct, "eof"},
	{"truncated number", `1e`, gaMap, "eof"},
	{"minus only", `-`, gaMap, "eof"},
	{"empty", ``, gaStruct, "eof"},
	{"white space", " \n\t ", gaStruct, "eof"},
	{"trailing word", `{"a":1} xyz`, gaStruct, ""},
	{"two values", `{"a":1}{"a":2}`, gaStruct, ""},
	{"two numbers", `1 2`, func() interface{} { var n int; return &n }, ""},
	{"trailing bracket", `{"a":1}]`, gaStruct, ""},
	{"string for int", `{"a":"str"}`, gaStruct, "type"},
	{"float for int", `{"a":1.5}`, gaStruct, "type"},
	{"mismatch then more", `{"b":"x","a":2}`, gaStruct, "type"},
	{"number too large", `{"a":1e400}`, gaStruct, "type"},
}

// gaJSONResult is what ReadJSON did with one message.
type gaJSONResult struct {
	errType string
	errText string
	offset  int64
	value   string
}

func gaDecodeResult(v interface{}, err error) gaJSONResult {
	r := gaJSONResult{offset: -1}
	if err != nil {
		r.errType, r.errText = fmt.Sprintf("%T", err), err.Error()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			r.offset = se.Offset
		}
	}
	b, _ := json.Marshal(v)
	r.value = string(b)
	return r
}

// TestGorillaReadJSON: ReadJSON's result for malformed, truncated, empty and
// trailing input, and type mismatches, is gorilla's: the same error, of the
// same type, with the same offset for a syntax error, and the same value
// left behind. gorilla's client reads each message with its own ReadJSON;
// this package's server reads the same bytes with ReadJSON (and with the
// package-level function), and so does this package's client.
func TestGorillaReadJSON(t *testing.T) {
	cases := gaJSONCases
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		serverGot := make([]gaJSONResult, len(cases))
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			for i, cs := range cases {
				v := cs.into()
				var err error
				if i%2 == 0 {
					err = c.ReadJSON(v)
				} else {
					//lint:ignore SA1019 the package-level JSON functions are kept for gorilla code; this tests them
					err = websocket.ReadJSON(c, v)
				}
				serverGot[i] = gaDecodeResult(v, err)
			}
			// Now the same bytes the other way, for the clients.
			for _, cs := range cases {
				if err := c.WriteMessage(websocket.BinaryMessage, []byte(cs.input)); err != nil {
					return err
				}
			}
			return nil
		})
		ref := dialGorilla(t, s.url, nil)
		for _, cs := range cases {
			// Binary: some inputs are not UTF-8.
			if err := ref.WriteMessage(gorilla.BinaryMessage, []byte(cs.input)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		_ = ref.SetReadDeadline(time.Now().Add(wlGuard))
		want := make([]gaJSONResult, len(cases))
		for i, cs := range cases {
			v := cs.into()
			want[i] = gaDecodeResult(v, ref.ReadJSON(v))
		}

		// This package's client gets the same bytes from a second handler.
		s2 := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			for _, cs := range cases {
				if err := c.WriteMessage(websocket.BinaryMessage, []byte(cs.input)); err != nil {
					return err
				}
			}
			return nil
		})
		d := websocket.Dialer{HandshakeTimeout: wlGuard}
		ours, _, err := d.Dial(s2.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ours.Close()
		_ = ours.SetReadDeadline(time.Now().Add(wlGuard))
		clientGot := make([]gaJSONResult, len(cases))
		for i, cs := range cases {
			v := cs.into()
			clientGot[i] = gaDecodeResult(v, ours.ReadJSON(v))
		}
		if err := s2.result(t); err != nil {
			t.Fatal(err)
		}

		kinds := map[string]string{"": "", "syntax": "*json.SyntaxError", "eof": "*errors.errorString", "type": "*json.UnmarshalTypeError"}
		for i, cs := range cases {
			if want[i].errType != kinds[cs.kind] || (cs.kind == "eof" && want[i].errText != io.ErrUnexpectedEOF.Error()) {
				t.Errorf("%s: gorilla's ReadJSON gave %s %q; the table expects %q", cs.name, want[i].errType, want[i].errText, cs.kind)
			}
			for side, got := range map[string]gaJSONResult{"server": serverGot[i], "client": clientGot[i]} {
				if got != want[i] {
					t.Errorf("%s: %s ReadJSON gave %+v, gorilla's %+v", cs.name, side, got, want[i])
				}
			}
		}
	})
}

// TestGorillaReadJSONUnit checks decoding errors without a network: each
// case's error must say what is wrong and, for malformed input, where.
func TestGorillaReadJSONUnit(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			for _, cs := range gaJSONCases {
				if cs.kind != "syntax" {
					continue
				}
				err := c.ReadJSON(cs.into())
				var se *json.SyntaxError
				if !errors.As(err, &se) || se.Offset <= 0 || se.Offset > int64(len(cs.input))+1 {
					return fmt.Errorf("%s: %v (%T), want a *json.SyntaxError with an offset", cs.name, err, err)
				}
				if !strings.Contains(err.Error(), "invalid character") {
					return fmt.Errorf("%s: %q does not say what is wrong", cs.name, err)
				}
			}
			return nil
		})
		p := dialGorilla(t, s.url, nil)
		for _, cs := range gaJSONCases {
			if cs.kind == "syntax" {
				if err := p.WriteMessage(gorilla.BinaryMessage, []byte(cs.input)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
	})
}

// gaFailingMarshaler's MarshalJSON fails.
type gaFailingMarshaler struct{}

func (gaFailingMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("no JSON today") }

// TestGorillaWriteJSON: WriteJSON and the package-level WriteJSON send what
// gorilla's sends (the JSON and a newline), and when v cannot be encoded
// return encoding/json's error types. Unlike gorilla's, which has opened a
// message by then, they send nothing.
func TestGorillaWriteJSON(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		doc := map[string]interface{}{"name": "<gopher> & co", "n": 3, "list": []int{1, 2}}
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			var me *json.MarshalerError
			if err := c.WriteJSON(gaFailingMarshaler{}); !errors.As(err, &me) {
				return fmt.Errorf("WriteJSON of a failing Marshaler: %v (%T), want a *json.MarshalerError", err, err)
			}
			var ute *json.UnsupportedTypeError
			//lint:ignore SA1019 the package-level JSON functions are kept for gorilla code; this tests them
			if err := websocket.WriteJSON(c, make(chan int)); !errors.As(err, &ute) {
				return fmt.Errorf("WriteJSON of a channel: %v (%T), want a *json.UnsupportedTypeError", err, err)
			}
			if err := c.WriteJSON(doc); err != nil {
				return err
			}
			//lint:ignore SA1019 the package-level JSON functions are kept for gorilla code; this tests them
			return websocket.WriteJSON(c, doc)
		})
		p := cl.dial(t, s.url, false)
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(doc); err != nil { // what gorilla's WriteJSON sends
			t.Fatal(err)
		}
		wlExpect(t, p, websocket.TextMessage, want.String())
		wlExpect(t, p, websocket.TextMessage, want.String())
	})
}

// TestGorillaJoinMessages: JoinMessages reads as gorilla's does, message
// after message with term after each, whatever the size of the reads, and
// then returns the close.
func TestGorillaJoinMessages(t *testing.T) {
	msgs := []string{"a", "bc", "", strings.Repeat("d", 5000)}
	for _, term := range []string{"\n", "", "<end>"} {
		term := term
		t.Run(fmt.Sprintf("term=%q", term), func(t *testing.T) {
			var want strings.Builder
			for _, m := range msgs {
				want.WriteString(m + term)
			}
			wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
				for _, bufSize := range []int{1, 3, 64 << 10} {
					bufSize := bufSize
					t.Run(fmt.Sprint(bufSize), func(t *testing.T) {
						s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
							// The same messages for gorilla's JoinMessages,
							// before the close the client sends.
							for _, m := range msgs {
								if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
									return err
								}
							}
							r := websocket.JoinMessages(c, term)
							if n, err := r.Read(nil); n != 0 || err != nil {
								return fmt.Errorf("Read(nil) = %d, %v", n, err)
							}
							var got []byte
							buf := make([]byte, bufSize)
							var err error
							for err == nil {
								var n int
								n, err = r.Read(buf)
								got = append(got, buf[:n]...)
							}
							if string(got) != want.String() {
								return fmt.Errorf("joined %q, want %q", got, want.String())
							}
							if code, _, ok := wlCloseCode(err); !ok || code != websocket.CloseNormalClosure {
								return fmt.Errorf("ended with %v, want close 1000", err)
							}
							if _, again := r.Read(buf); again == nil {
								return errors.New("Read after the close succeeded")
							}
							return nil
						})
						p := dialGorilla(t, s.url, nil)
						for _, m := range msgs {
							if err := p.WriteMessage(gorilla.TextMessage, []byte(m)); err != nil {
								t.Fatal(err)
							}
						}
						if err := p.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""), time.Now().Add(wlGuard)); err != nil {
							t.Fatal(err)
						}
						if err := s.result(t); err != nil {
							t.Fatal(err)
						}
						_ = p.SetReadDeadline(time.Now().Add(wlGuard))
						r := gorilla.JoinMessages(p, term)
						got := make([]byte, want.Len())
						if _, err := io.ReadFull(r, got); err != nil || string(got) != want.String() {
							t.Fatalf("gorilla's JoinMessages read %q, %v", got, err)
						}
					})
				}
			})
		})
	}
}

// TestGorillaWriteControlPastDeadline: WriteControl with a deadline that has
// already passed returns a timeout error without writing, as gorilla's
// does, and the connection goes on; it used to hand the transport a
// deadline in the past, whose failed write ended every later write.
func TestGorillaWriteControlPastDeadline(t *testing.T) {
	wlForEach(t, func(t *testing.T, tc wstest.Transport, cl wlClient) {
		s := wlServe(t, tc, nil, func(c *websocket.Conn) error {
			err := c.WriteControl(websocket.PingMessage, []byte("late"), time.Now().Add(-time.Second))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return fmt.Errorf("WriteControl past its deadline: %v, want a timeout", err)
			}
			if err := c.WriteControl(websocket.PingMessage, []byte("in time"), time.Now().Add(wlGuard)); err != nil {
				return err
			}
			return c.WriteMessage(websocket.TextMessage, []byte("after"))
		})
		p := cl.dial(t, s.url, false)
		var log gaControlLog
		log.watch(p)
		if err := s.result(t); err != nil {
			t.Fatal(err)
		}
		wlExpect(t, p, websocket.TextMessage, "after")
		if got := log.String(); got != "ping in time" {
			t.Fatalf("client saw %q", got)
		}
	})
	// gorilla's, for comparison: a timeout too.
	err := func() error {
		s := wlServe(t, wstest.Transports[0], nil, func(c *websocket.Conn) error { return nil })
		g := dialGorilla(t, s.url, nil)
		return g.WriteControl(gorilla.PingMessage, nil, time.Now().Add(-time.Second))
	}()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("gorilla's WriteControl past its deadline: %v", err)
	}
}
