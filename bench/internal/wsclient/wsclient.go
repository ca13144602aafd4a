// Package wsclient is the load generator's WebSocket client: a minimal
// RFC 6455 client over a plain net.Conn, written for low overhead and
// strict checking rather than generality.
//
//   - Frames to send are built once, already masked (BuildFrame), and each
//     send is a single Write of those bytes: no per-message masking, copying
//     or allocation on the client.
//   - Echoed messages are compared with the expected payload in place, in
//     the bufio.Reader's buffer (ReadExpect), so every byte is checked
//     without copying it out; fragmented messages are accepted.
//   - No compression, no extensions, binary messages only.
//
// The same client is used against every server, so its cost is the same
// constant in every measurement.
package wsclient

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Opcodes used by the client.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// MaskKey is the masking key of every frame the client sends. RFC 6455
// wants an unpredictable key to defeat cache-poisoning proxies; on a
// loopback benchmark a fixed key lets frames be masked once, ahead of time.
// Servers cannot tell the difference.
var MaskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// BuildFrame returns one complete client frame (FIN set) carrying payload,
// masked with MaskKey.
func BuildFrame(opcode byte, payload []byte) []byte {
	n := len(payload)
	b := make([]byte, 0, 14+n)
	b = append(b, 0x80|opcode)
	switch {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127,
			byte(uint64(n)>>56), byte(uint64(n)>>48), byte(uint64(n)>>40), byte(uint64(n)>>32),
			byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	b = append(b, MaskKey[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range b[start:] {
		b[start+i] ^= MaskKey[i&3]
	}
	return b
}

// Conn is one client connection. Write may be used by one goroutine while
// another reads.
type Conn struct {
	nc net.Conn
	br *bufio.Reader
	// text makes the echoes expected text messages instead of binary.
	text bool
}

// Options tune Dial.
type Options struct {
	// ReadBufferSize is the bufio.Reader size; it bounds how much of a
	// payload is compared per step, not the message size. Minimum 256.
	ReadBufferSize int
	// Timeout bounds the TCP connect and the handshake.
	Timeout time.Duration
}

const handshakeKey = "dGhlIHNhbXBsZSBub25jZQ=="

var expectedAccept = acceptKey(handshakeKey)

func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Dial connects to ws://addr/path and completes the opening handshake.
func Dial(addr, path string, o Options) (*Conn, error) {
	if o.ReadBufferSize < 256 {
		o.ReadBufferSize = 256
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	nc, err := net.DialTimeout("tcp", addr, o.Timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	_ = nc.SetDeadline(time.Now().Add(o.Timeout))
	req := "GET " + path + " HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + handshakeKey + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, o.ReadBufferSize)
	if err := readHandshake(br); err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake with %s%s: %w", addr, path, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return &Conn{nc: nc, br: br}, nil
}

func readHandshake(br *bufio.Reader) error {
	status, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101") {
		return fmt.Errorf("unexpected status %q", strings.TrimSpace(status))
	}
	accept := ""
	for i := 0; i < 100; i++ { // bounded: a response has few headers
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if accept != expectedAccept {
				return fmt.Errorf("bad Sec-WebSocket-Accept %q", accept)
			}
			return nil
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "sec-websocket-accept":
			accept = strings.TrimSpace(v)
		case "sec-websocket-extensions":
			if strings.TrimSpace(v) != "" {
				return fmt.Errorf("server negotiated extensions %q", v)
			}
		}
	}
	return errors.New("too many response headers")
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the TCP connection without a close handshake.
func (c *Conn) Close() error { return c.nc.Close() }

// WriteRaw sends bytes that already form complete masked frames.
func (c *Conn) WriteRaw(frame []byte) error {
	_, err := c.nc.Write(frame)
	return err
}

// WriteBatch writes ready-made frames with one writev where the
// connection allows it. The frames' bytes are not modified, but the
// slice's elements are: WriteTo consumes them as it writes.
func (c *Conn) WriteBatch(frames net.Buffers) error {
	if len(frames) == 1 {
		return c.WriteRaw(frames[0])
	}
	_, err := frames.WriteTo(c.nc)
	return err
}

// SetReadDeadline sets the read deadline of the TCP connection.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// header is a parsed server frame header.
type header struct {
	fin    bool
	opcode byte
	length int64
}

// readHeader reads the next frame header. Server frames must not be masked
// and must not set RSV bits (no extension was negotiated).
func (c *Conn) readHeader() (header, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return header{}, err
	}
	h := header{fin: b[0]&0x80 != 0, opcode: b[0] & 0x0f}
	if b[0]&0x70 != 0 {
		return h, fmt.Errorf("RSV bits set in server frame (0x%02x)", b[0])
	}
	if b[1]&0x80 != 0 {
		return h, errors.New("server frame is masked")
	}
	size := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		size = 4
	case 127:
		size = 10
	default:
		h.length = int64(l)
	}
	if size > 2 {
		b, err = c.br.Peek(size)
		if err != nil {
			return h, err
		}
		for _, x := range b[2:size] {
			h.length = h.length<<8 | int64(x)
		}
		if h.length < 0 {
			return h, errors.New("frame length overflows")
		}
	}
	_, err = c.br.Discard(size)
	return h, err
}

// nextDataFrame reads frame headers until a data frame, skipping pings and
// pongs (their payload is discarded; the servers under test never send
// any) and failing on a close frame.
func (c *Conn) nextDataFrame() (header, error) {
	for i := 0; ; i++ {
		h, err := c.readHeader()
		if err != nil {
			return h, err
		}
		switch h.opcode {
		case OpPing, OpPong:
			if _, err := c.br.Discard(int(h.length)); err != nil {
				return h, err
			}
			if i > 1000 {
				return h, errors.New("too many control frames")
			}
			continue
		case OpClose:
			p := make([]byte, h.length)
			_, _ = io.ReadFull(c.br, p)
			code := 0
			if len(p) >= 2 {
				code = int(p[0])<<8 | int(p[1])
			}
			return h, fmt.Errorf("server sent close frame (code %d, %q)", code, p[min(2, len(p)):])
		}
		return h, nil
	}
}

// ErrMismatch is wrapped by ReadExpect when the echo differs.
var ErrMismatch = errors.New("echoed message differs from what was sent")

// ExpectText makes ReadExpect and ReadExpectOrEmpty expect text messages
// (the echoes of text messages) instead of binary ones.
func (c *Conn) ExpectText() { c.text = true }

// ReadExpect reads the next data message and checks that it is a binary
// message (text after ExpectText) equal, byte for byte, to want. The payload is compared inside
// the read buffer, chunk by chunk, without being copied.
func (c *Conn) ReadExpect(want []byte) error {
	empty, err := c.ReadExpectOrEmpty(want)
	if err == nil && empty && len(want) != 0 {
		err = fmt.Errorf("%w: empty message, want %d bytes", ErrMismatch, len(want))
	}
	return err
}

// ReadExpectOrEmpty is ReadExpect, except that an empty binary message (a
// single empty final frame) is also accepted and reported: the throughput
// workload uses one as its end-of-stream marker.
func (c *Conn) ReadExpectOrEmpty(want []byte) (empty bool, err error) {
	h, err := c.nextDataFrame()
	if err != nil {
		return false, err
	}
	if h.opcode == OpBinary && h.fin && h.length == 0 {
		return true, nil
	}
	switch {
	case c.text && h.opcode != OpText:
		return false, fmt.Errorf("%w: opcode %d, want text", ErrMismatch, h.opcode)
	case !c.text && h.opcode != OpBinary:
		return false, fmt.Errorf("%w: opcode %d, want binary", ErrMismatch, h.opcode)
	}
	return false, c.readRest(h, want)
}

func (c *Conn) readRest(h header, want []byte) error {
	off := 0
	for frames := 0; ; frames++ {
		if int64(len(want)-off) < h.length {
			return fmt.Errorf("%w: longer than the %d bytes sent", ErrMismatch, len(want))
		}
		rem := int(h.length)
		for rem > 0 {
			n := min(rem, c.br.Size())
			b, err := c.br.Peek(n)
			if err != nil {
				return err
			}
			if !bytes.Equal(b, want[off:off+n]) {
				return fmt.Errorf("%w: bytes %d..%d", ErrMismatch, off, off+n)
			}
			_, _ = c.br.Discard(n)
			off += n
			rem -= n
		}
		if h.fin {
			break
		}
		if frames > 1<<20 {
			return errors.New("too many fragments")
		}
		var err error
		if h, err = c.nextDataFrame(); err != nil {
			return err
		}
		if h.opcode != OpContinuation {
			return fmt.Errorf("opcode %d inside a fragmented message", h.opcode)
		}
	}
	if off != len(want) {
		return fmt.Errorf("%w: %d bytes echoed, %d sent", ErrMismatch, off, len(want))
	}
	return nil
}

// ReadSmall reads the next data message, at most len(buf) bytes, into buf
// and returns it. It is for the broadcast receivers, which must look at a
// message to know which one it is.
func (c *Conn) ReadSmall(buf []byte) ([]byte, error) {
	h, err := c.nextDataFrame()
	if err != nil {
		return nil, err
	}
	if h.opcode != OpBinary {
		return nil, fmt.Errorf("%w: opcode %d, want binary", ErrMismatch, h.opcode)
	}
	p := buf[:0]
	for frames := 0; ; frames++ {
		if h.length > int64(cap(p)-len(p)) {
			return nil, fmt.Errorf("message longer than %d bytes", cap(buf))
		}
		n := int(h.length)
		if _, err := io.ReadFull(c.br, p[len(p):len(p)+n]); err != nil {
			return nil, err
		}
		p = p[:len(p)+n]
		if h.fin {
			return p, nil
		}
		if frames > 1<<20 {
			return nil, errors.New("too many fragments")
		}
		if h, err = c.nextDataFrame(); err != nil {
			return nil, err
		}
		if h.opcode != OpContinuation {
			return nil, fmt.Errorf("opcode %d inside a fragmented message", h.opcode)
		}
	}
}
