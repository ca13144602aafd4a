package websocket_test

import (
	"bufio"
	"context"
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

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"

	"github.com/hertzws/websocket/frame"
)

// rwIOTimeout bounds every read and write of the raw client, so a server
// that hangs makes a test fail instead of blocking it.
const rwIOTimeout = 3 * time.Second

// rwSampleKey and rwSampleAccept are the handshake values of RFC 6455 §1.3.
const (
	rwSampleKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rwSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// rwAcceptKey computes Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
func rwAcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// rwMask is the masking key of every frame the raw client sends. It has
// no zero byte, so a masked payload never equals its clear text.
var rwMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// rwStartServer is startServer with extra Hertz options (a read timeout,
// for instance) appended after the transport's.
func rwStartServer(t testing.TB, tc transportCase, extra []config.Option, setup func(h *server.Hertz)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]config.Option{server.WithListener(ln), server.WithExitWaitTime(time.Second)}, tc.opts...)
	opts = append(opts, extra...)
	h := server.New(opts...)
	setup(h)
	go func() { _ = h.Run() }()
	addr := ln.Addr().String()
	waitListening(t, addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	return addr
}

// rwConn is a hand-driven client connection: HTTP and WebSocket bytes are
// written exactly as the test builds them, and the server's answer is parsed
// from a bufio.Reader over the same socket.
type rwConn struct {
	t    testing.TB
	addr string
	c    net.Conn
	br   *bufio.Reader
}

func rwDial(t testing.TB, addr string) *rwConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, rwIOTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rwConn{t: t, addr: addr, c: c, br: bufio.NewReader(c)}
}

// write sends b in one write call.
func (rc *rwConn) write(b []byte) {
	rc.t.Helper()
	if err := rc.tryWrite(b); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

func (rc *rwConn) tryWrite(b []byte) error {
	_ = rc.c.SetWriteDeadline(time.Now().Add(rwIOTimeout))
	_, err := rc.c.Write(b)
	return err
}

// closeWrite half-closes the connection: the server reads EOF.
func (rc *rwConn) closeWrite() {
	rc.t.Helper()
	if tc, ok := rc.c.(*net.TCPConn); ok {
		if err := tc.CloseWrite(); err != nil {
			rc.t.Fatalf("CloseWrite: %v", err)
		}
	}
}

func (rc *rwConn) setReadDeadline() {
	_ = rc.c.SetReadDeadline(time.Now().Add(rwIOTimeout))
}

// rwResponse is an HTTP response as it came off the wire.
type rwResponse struct {
	status int
	header textproto.MIMEHeader
	body   []byte
}

// readResponse reads one HTTP/1.1 response: the status line, the headers and
// a body delimited by Content-Length (none for 1xx, 204 and 304).
func (rc *rwConn) readResponse() *rwResponse {
	rc.t.Helper()
	resp, err := rc.tryReadResponse()
	if err != nil {
		rc.t.Fatalf("read response: %v", err)
	}
	return resp
}

func (rc *rwConn) tryReadResponse() (*rwResponse, error) {
	rc.setReadDeadline()
	tp := textproto.NewReader(rc.br)
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
	resp := &rwResponse{status: status, header: header}
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
	resp.body = make([]byte, n)
	if _, err := io.ReadFull(rc.br, resp.body); err != nil {
		return nil, err
	}
	return resp, nil
}

// rwRequest builds a GET request for path with the given header lines
// (each "Name: value", without CRLF); Host is added first.
func rwRequest(method, host, path string, lines []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// rwUpgradeLines are the header lines of a valid upgrade request.
func rwUpgradeLines() []string {
	return []string{
		"Connection: Upgrade",
		"Upgrade: websocket",
		"Sec-WebSocket-Version: 13",
		"Sec-WebSocket-Key: " + rwSampleKey,
	}
}

// handshake performs a valid upgrade on path and checks the 101.
func (rc *rwConn) handshake(path string) {
	rc.t.Helper()
	rc.write(rwRequest("GET", rc.addr, path, rwUpgradeLines()))
	resp := rc.readResponse()
	if resp.status != 101 {
		rc.t.Fatalf("handshake: status %d, body %q", resp.status, resp.body)
	}
	if got := resp.header.Get("Sec-WebSocket-Accept"); got != rwSampleAccept {
		rc.t.Fatalf("handshake: Sec-WebSocket-Accept %q", got)
	}
}

// rwFrame encodes a client frame. When h.Masked is set the payload is
// masked with h.Mask; h.PayloadLen is taken from payload.
func rwFrame(h frame.Header, payload []byte) []byte {
	h.PayloadLen = int64(len(payload))
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	if h.Masked {
		frame.Mask(h.Mask, 0, b[start:])
	}
	return b
}

// rwMasked encodes a masked client frame with the given FIN bit and
// opcode.
func rwMasked(fin bool, op frame.Opcode, payload []byte) []byte {
	return rwFrame(frame.Header{Fin: fin, Opcode: op, Masked: true, Mask: rwMask}, payload)
}

// rwServerFrame is a frame read from the server.
type rwServerFrame struct {
	h       frame.Header
	payload []byte
}

// readFrame reads one frame from the server.
func (rc *rwConn) readFrame() rwServerFrame {
	rc.t.Helper()
	f, err := rc.tryReadFrame()
	if err != nil {
		rc.t.Fatalf("read frame: %v", err)
	}
	return f
}

func (rc *rwConn) tryReadFrame() (rwServerFrame, error) {
	rc.setReadDeadline()
	var buf [frame.MaxHeaderSize]byte
	if _, err := io.ReadFull(rc.br, buf[:2]); err != nil {
		return rwServerFrame{}, err
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
	if _, err := io.ReadFull(rc.br, buf[2:n]); err != nil {
		return rwServerFrame{}, err
	}
	h, hn, err := frame.ParseHeader(buf[:n])
	if err != nil {
		return rwServerFrame{}, err
	}
	if hn != n {
		return rwServerFrame{}, fmt.Errorf("header size %d, want %d", hn, n)
	}
	if h.Masked {
		return rwServerFrame{}, errors.New("server sent a masked frame")
	}
	if h.PayloadLen > 1<<20 {
		return rwServerFrame{}, fmt.Errorf("server frame of %d bytes", h.PayloadLen)
	}
	f := rwServerFrame{h: h, payload: make([]byte, h.PayloadLen)}
	if _, err := io.ReadFull(rc.br, f.payload); err != nil {
		return rwServerFrame{}, err
	}
	return f, nil
}

// readMessage reads one data message, which may be fragmented, and fails on
// any control frame in between.
func (rc *rwConn) readMessage() (frame.Opcode, []byte) {
	rc.t.Helper()
	var op frame.Opcode
	var data []byte
	for i := 0; i < 1000; i++ {
		f := rc.readFrame()
		if f.h.Opcode.IsControl() {
			rc.t.Fatalf("got %v frame %q while reading a message", f.h.Opcode, f.payload)
		}
		if i == 0 {
			if f.h.Opcode == frame.OpContinuation {
				rc.t.Fatal("message starts with a continuation frame")
			}
			op = f.h.Opcode
		} else if f.h.Opcode != frame.OpContinuation {
			rc.t.Fatalf("got %v frame inside a fragmented message", f.h.Opcode)
		}
		if f.h.Rsv != 0 {
			rc.t.Fatalf("server set RSV bits %#x", f.h.Rsv)
		}
		data = append(data, f.payload...)
		if f.h.Fin {
			return op, data
		}
	}
	rc.t.Fatal("message of more than 1000 frames")
	return 0, nil
}

// echo sends a masked text message and checks that the server echoes it.
func (rc *rwConn) echo(msg string) {
	rc.t.Helper()
	rc.write(rwMasked(true, frame.OpText, []byte(msg)))
	op, got := rc.readMessage()
	if op != frame.OpText || string(got) != msg {
		rc.t.Fatalf("echo: got %v %q, want text %q", op, got, msg)
	}
}

// expectCloseFrame reads the next frame, which must be a close frame, and
// returns its payload. RFC 6455 §7.1.7: after failing the connection the
// server sends nothing before its close frame.
func (rc *rwConn) expectCloseFrame() []byte {
	rc.t.Helper()
	f, err := rc.tryReadFrame()
	if err != nil {
		rc.t.Fatalf("expected a close frame, got error %v", err)
	}
	if f.h.Opcode != frame.OpClose {
		rc.t.Fatalf("expected a close frame, got %v frame %q", f.h.Opcode, f.payload)
	}
	if !f.h.Fin || f.h.Rsv != 0 {
		rc.t.Fatalf("bad close frame header %+v", f.h)
	}
	return f.payload
}

// expectCloseCode reads the close frame and checks its status code and that
// its reason is valid.
func (rc *rwConn) expectCloseCode(want int) {
	rc.t.Helper()
	p := rc.expectCloseFrame()
	code, _, err := frame.ParseClosePayload(p)
	if err != nil {
		rc.t.Fatalf("server close payload %q: %v", p, err)
	}
	if int(code) != want {
		rc.t.Fatalf("close code %d (payload %q), want %d", code, p, want)
	}
}

// expectClosed checks that the server closes the TCP connection without
// sending another byte: the read ends with EOF or a reset, never a timeout.
func (rc *rwConn) expectClosed() {
	rc.t.Helper()
	rc.setReadDeadline()
	var b [64]byte
	n, err := rc.br.Read(b[:])
	if n > 0 {
		rc.t.Fatalf("server sent %d more bytes after its close frame: %q", n, b[:n])
	}
	if !rwIsClosed(err) {
		rc.t.Fatalf("expected the server to close the connection, got %v", err)
	}
}

// rwIsClosed reports whether err means the peer closed the connection at
// a frame boundary: EOF, or a reset (a server that closes with unread bytes
// in its receive buffer sends RST instead of FIN). Timeouts and partial
// frames are not.
func rwIsClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// rwIsTimeout reports whether err is a read or write deadline expiring.
func rwIsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
