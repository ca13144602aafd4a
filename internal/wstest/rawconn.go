package wstest

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hertzws/websocket/frame"
)

// IOTimeout bounds every read and write of a RawConn, so that a server
// that hangs makes a test fail instead of blocking it.
const IOTimeout = 3 * time.Second

// SampleKey and SampleAccept are the handshake values of RFC 6455 §1.3:
// the Sec-WebSocket-Key of UpgradeLines and the Sec-WebSocket-Accept a
// server must answer it with.
const (
	SampleKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// AcceptKey computes the Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Mask is the masking key of the frames Masked builds. It has no zero
// byte, so a masked payload never equals its clear text.
var Mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// MaxFrame is the largest payload a RawConn accepts in a frame from the
// server; a larger announcement is an error rather than an allocation.
const MaxFrame = 64 << 20

// RawConn is a hand-driven client connection: HTTP and WebSocket bytes are
// written exactly as the test builds them, and the server's answer is
// parsed from a bufio.Reader over the same socket. Every method that
// reads or writes fails the test on error; the Try forms return it.
type RawConn struct {
	t testing.TB
	// Addr is the server's host:port.
	Addr string
	// NetConn is the TCP connection, for what the methods do not do
	// (closing it, a linger setting, a deadline of the test's own).
	NetConn net.Conn
	// Reader buffers what the server sent; read through it, never
	// NetConn, once a method has read.
	Reader *bufio.Reader
}

// DialRaw connects to addr (host:port) without a handshake. The
// connection is closed when the test ends.
func DialRaw(t testing.TB, addr string) *RawConn {
	t.Helper()
	rc, err := TryDialRaw(t, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return rc
}

// TryDialRaw is DialRaw returning its error, for goroutines other than
// the test's. The methods of the RawConn that fail the test must still
// be called from the test's goroutine only; the Try forms from any.
func TryDialRaw(t testing.TB, addr string) (*RawConn, error) {
	c, err := net.DialTimeout("tcp", addr, IOTimeout)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &RawConn{t: t, Addr: addr, NetConn: c, Reader: bufio.NewReaderSize(c, 64<<10)}, nil
}

// Write sends b in one write call.
func (rc *RawConn) Write(b []byte) {
	rc.t.Helper()
	if err := rc.TryWrite(b); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// TryWrite sends b in one write call within IOTimeout.
func (rc *RawConn) TryWrite(b []byte) error {
	_ = rc.NetConn.SetWriteDeadline(time.Now().Add(IOTimeout))
	_, err := rc.NetConn.Write(b)
	return err
}

// CloseWrite half-closes the connection: the server reads EOF.
func (rc *RawConn) CloseWrite() {
	rc.t.Helper()
	if tc, ok := rc.NetConn.(*net.TCPConn); ok {
		if err := tc.CloseWrite(); err != nil {
			rc.t.Fatalf("CloseWrite: %v", err)
		}
	}
}

// SetReadDeadline gives the next reads IOTimeout.
func (rc *RawConn) SetReadDeadline() {
	_ = rc.NetConn.SetReadDeadline(time.Now().Add(IOTimeout))
}

// Response is an HTTP response as it came off the wire.
type Response struct {
	// Status is the status code of the status line.
	Status int
	// Header holds the header fields, canonicalised by textproto.
	Header textproto.MIMEHeader
	// Body is the body, as long as Content-Length said.
	Body []byte
}

// ReadResponse reads one HTTP/1.1 response: the status line, the headers
// and a body delimited by Content-Length (none for 1xx, 204 and 304).
func (rc *RawConn) ReadResponse() *Response {
	rc.t.Helper()
	resp, err := rc.TryReadResponse()
	if err != nil {
		rc.t.Fatalf("read response: %v", err)
	}
	return resp
}

// TryReadResponse is ReadResponse returning its error.
func (rc *RawConn) TryReadResponse() (*Response, error) {
	rc.SetReadDeadline()
	tp := textproto.NewReader(rc.Reader)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/1.") {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	resp := &Response{Status: status, Header: header}
	if status/100 == 1 || status == 204 || status == 304 {
		return resp, nil
	}
	if te := header.Get("Transfer-Encoding"); te != "" {
		return nil, fmt.Errorf("unexpected Transfer-Encoding %q", te)
	}
	cl := header.Get("Content-Length")
	if cl == "" {
		return nil, errors.New("response without Content-Length")
	}
	n, err := strconv.Atoi(cl)
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad Content-Length %q", cl)
	}
	resp.Body = make([]byte, n)
	if _, err := io.ReadFull(rc.Reader, resp.Body); err != nil {
		return nil, err
	}
	return resp, nil
}

// Request builds an HTTP/1.1 request for path with the given header lines
// (each "Name: value", without CRLF); Host is added first.
func Request(method, host, path string, lines []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// UpgradeLines are the header lines of a valid upgrade request, with
// SampleKey.
func UpgradeLines() []string {
	return []string{
		"Connection: Upgrade",
		"Upgrade: websocket",
		"Sec-WebSocket-Version: 13",
		"Sec-WebSocket-Key: " + SampleKey,
	}
}

// Handshake performs a valid upgrade on path and checks the 101, with
// extra header lines after UpgradeLines. It returns the response.
func (rc *RawConn) Handshake(path string, extra ...string) *Response {
	rc.t.Helper()
	resp, err := rc.TryHandshake(path, extra...)
	if err != nil {
		rc.t.Fatalf("handshake: %v", err)
	}
	return resp
}

// TryHandshake is Handshake returning its error.
func (rc *RawConn) TryHandshake(path string, extra ...string) (*Response, error) {
	if err := rc.TryWrite(Request("GET", rc.Addr, path, append(UpgradeLines(), extra...))); err != nil {
		return nil, err
	}
	resp, err := rc.TryReadResponse()
	if err != nil {
		return nil, err
	}
	if resp.Status != 101 {
		return resp, fmt.Errorf("status %d, body %q", resp.Status, resp.Body)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != SampleAccept {
		return resp, fmt.Errorf("Sec-WebSocket-Accept %q", got)
	}
	return resp, nil
}

// DialHandshake is DialRaw followed by Handshake on path.
func DialHandshake(t testing.TB, addr, path string) *RawConn {
	t.Helper()
	rc := DialRaw(t, addr)
	rc.Handshake(path)
	return rc
}

// EncodeFrame encodes a frame. When h.Masked is set the payload is masked
// with h.Mask; h.PayloadLen is taken from payload.
func EncodeFrame(h frame.Header, payload []byte) []byte {
	h.PayloadLen = int64(len(payload))
	b := frame.AppendHeader(make([]byte, 0, frame.MaxHeaderSize+len(payload)), h)
	start := len(b)
	b = append(b, payload...)
	if h.Masked {
		frame.Mask(h.Mask, 0, b[start:])
	}
	return b
}

// Masked encodes a client frame, masked with Mask, with the given FIN bit
// and opcode.
func Masked(fin bool, op frame.Opcode, payload []byte) []byte {
	return EncodeFrame(frame.Header{Fin: fin, Opcode: op, Masked: true, Mask: Mask}, payload)
}

// Frame is a frame as read: its header and its payload, unmasked.
type Frame struct {
	// Header is the frame's header as parsed.
	Header frame.Header
	// Payload is the frame's payload, unmasked.
	Payload []byte
}

// ReadHeader reads one frame header from r, taking exactly its bytes.
func ReadHeader(r io.Reader) (frame.Header, error) {
	var buf [frame.MaxHeaderSize]byte
	if _, err := io.ReadFull(r, buf[:2]); err != nil {
		return frame.Header{}, err
	}
	n := 2
	switch buf[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if buf[1]&0x80 != 0 {
		n += 4
	}
	if _, err := io.ReadFull(r, buf[2:n]); err != nil {
		return frame.Header{}, err
	}
	h, hn, err := frame.ParseHeader(buf[:n])
	if err != nil {
		return frame.Header{}, err
	}
	if hn != n {
		return frame.Header{}, fmt.Errorf("header size %d, want %d", hn, n)
	}
	return h, nil
}

// ReadFrame reads one frame from r whose payload is at most limit bytes,
// and unmasks the payload if the frame is masked.
func ReadFrame(r io.Reader, limit int64) (Frame, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return Frame{}, err
	}
	if h.PayloadLen > limit {
		return Frame{}, fmt.Errorf("frame of %d bytes, more than %d", h.PayloadLen, limit)
	}
	f := Frame{Header: h, Payload: make([]byte, h.PayloadLen)}
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return Frame{}, err
	}
	if h.Masked {
		frame.Mask(h.Mask, 0, f.Payload)
	}
	return f, nil
}

// ReadFrame reads one frame from the server.
func (rc *RawConn) ReadFrame() Frame {
	rc.t.Helper()
	f, err := rc.TryReadFrame()
	if err != nil {
		rc.t.Fatalf("read frame: %v", err)
	}
	return f
}

// TryReadFrame reads one frame from the server within IOTimeout; a masked
// frame is an error (RFC 6455 §5.1).
func (rc *RawConn) TryReadFrame() (Frame, error) {
	rc.SetReadDeadline()
	f, err := ReadFrame(rc.Reader, MaxFrame)
	if err == nil && f.Header.Masked {
		return Frame{}, errors.New("server sent a masked frame")
	}
	return f, err
}

// ReadMessage reads one data message, which may be fragmented, and fails
// on any control frame in between and on RSV bits.
func (rc *RawConn) ReadMessage() (frame.Opcode, []byte) {
	rc.t.Helper()
	var op frame.Opcode
	var data []byte
	for i := 0; i < 100000; i++ {
		f := rc.ReadFrame()
		if f.Header.Opcode.IsControl() {
			rc.t.Fatalf("got %v frame %q while reading a message", f.Header.Opcode, f.Payload)
		}
		if i == 0 {
			if f.Header.Opcode == frame.OpContinuation {
				rc.t.Fatal("message starts with a continuation frame")
			}
			op = f.Header.Opcode
		} else if f.Header.Opcode != frame.OpContinuation {
			rc.t.Fatalf("got %v frame inside a fragmented message", f.Header.Opcode)
		}
		if f.Header.Rsv != 0 {
			rc.t.Fatalf("server set RSV bits %#x", f.Header.Rsv)
		}
		data = append(data, f.Payload...)
		if f.Header.Fin {
			return op, data
		}
	}
	rc.t.Fatal("message of more than 100000 frames")
	return 0, nil
}

// Echo sends a masked text message and checks that the server echoes it.
func (rc *RawConn) Echo(msg string) {
	rc.t.Helper()
	rc.Write(Masked(true, frame.OpText, []byte(msg)))
	op, got := rc.ReadMessage()
	if op != frame.OpText || string(got) != msg {
		rc.t.Fatalf("echo: got %v %q, want text %q", op, got, msg)
	}
}

// ExpectCloseFrame reads the next frame, which must be a close frame, and
// returns its payload. RFC 6455 §7.1.7: after failing the connection the
// server sends nothing before its close frame.
func (rc *RawConn) ExpectCloseFrame() []byte {
	rc.t.Helper()
	f, err := rc.TryReadFrame()
	if err != nil {
		rc.t.Fatalf("expected a close frame, got error %v", err)
	}
	if f.Header.Opcode != frame.OpClose {
		rc.t.Fatalf("expected a close frame, got %v frame %q", f.Header.Opcode, f.Payload)
	}
	if !f.Header.Fin || f.Header.Rsv != 0 {
		rc.t.Fatalf("bad close frame header %+v", f.Header)
	}
	return f.Payload
}

// ExpectCloseCode reads the close frame and checks its status code and
// that its reason is valid.
func (rc *RawConn) ExpectCloseCode(want int) {
	rc.t.Helper()
	p := rc.ExpectCloseFrame()
	code, _, err := frame.ParseClosePayload(p)
	if err != nil {
		rc.t.Fatalf("server close payload %q: %v", p, err)
	}
	if int(code) != want {
		rc.t.Fatalf("close code %d (payload %q), want %d", code, p, want)
	}
}

// ReadClose reads frames until a close frame, skipping pings and pongs,
// and returns its code and reason. A data frame before it fails the test.
func (rc *RawConn) ReadClose() (int, string) {
	rc.t.Helper()
	for i := 0; i < 100; i++ {
		f := rc.ReadFrame()
		switch f.Header.Opcode {
		case frame.OpClose:
			code, reason, err := frame.ParseClosePayload(f.Payload)
			if err != nil {
				rc.t.Fatalf("server close payload: %v", err)
			}
			return int(code), reason
		case frame.OpPing, frame.OpPong:
			continue
		default:
			rc.t.Fatalf("expected a close frame, got %v frame of %d bytes", f.Header.Opcode, len(f.Payload))
		}
	}
	rc.t.Fatal("no close frame within 100 frames")
	return 0, ""
}

// ExpectClosed checks that the server closes the TCP connection without
// sending another byte: the read ends with EOF or a reset, never a
// timeout.
func (rc *RawConn) ExpectClosed() {
	rc.t.Helper()
	rc.SetReadDeadline()
	var b [64]byte
	n, err := rc.Reader.Read(b[:])
	if n > 0 {
		rc.t.Fatalf("server sent %d more bytes after its close frame: %q", n, b[:n])
	}
	if !IsClosed(err) {
		rc.t.Fatalf("expected the server to close the connection, got %v", err)
	}
}

// ReadUntilClosed reads everything the server sends until it closes the
// connection, and fails if it is still open after IOTimeout.
func (rc *RawConn) ReadUntilClosed() []byte {
	rc.t.Helper()
	rc.SetReadDeadline()
	var got []byte
	buf := make([]byte, 512)
	for i := 0; i < 100; i++ {
		n, err := rc.Reader.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if !IsClosed(err) {
				rc.t.Fatalf("connection not closed by the server: %v (read %q)", err, got)
			}
			return got
		}
	}
	rc.t.Fatalf("server sent more than 100 reads' worth: %q", got)
	return nil
}

// IsClosed reports whether err means the peer closed the connection at a
// frame boundary: EOF, or a reset (a server that closes with unread bytes
// in its receive buffer sends RST instead of FIN). Timeouts and partial
// frames are not.
func IsClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// IsTimeout reports whether err is a deadline expiring.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
