// Package abuse attacks a real server built on this library the way a
// hostile peer would, over raw TCP on 127.0.0.1, and checks that its
// memory, goroutines and timings stay inside the bounds the library
// promises while a well-behaved client keeps being served. The attacks
// are in abuse_test.go; cmd/abuse-server is the server they attack.
//
// The server is a separate program, built by the suite with a plain go
// build, rather than the test binary re-executed: its heap, RSS and
// goroutines are then its own, and they are not inflated by the race
// detector, whose shadow memory and slower code would make the memory
// bounds and the timings meaningless. For the same reason make test runs
// this package without -race, on its own line (the attackers' speed and
// the well-behaved client's latencies are measured in this process); the
// rest of the project's tests keep the race detector.
//
// ABUSE=full selects the full size (make abuse); without it the short
// form runs, in about a minute and a half on two cores.
package abuse

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"time"

	"github.com/hertzws/websocket/frame"
)

// mask is the masking key of every frame a Client sends.
var mask = [4]byte{0x5a, 0xc3, 0x19, 0x7e}

// Client is a hand-driven WebSocket client: every byte it sends is built
// by the caller, so it can send what no real client would.
type Client struct {
	Conn net.Conn
	br   *bufio.Reader
}

// Dial connects to addr without a handshake.
func Dial(addr string) (*Client, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &Client{Conn: c, br: bufio.NewReader(c)}, nil
}

// UpgradeRequest is a valid opening handshake for path, with extra header
// lines.
func UpgradeRequest(addr, path string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", path, addr)
	for _, l := range extra {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// DialWebSocket connects and completes the opening handshake.
func DialWebSocket(addr string, extra ...string) (*Client, error) {
	c, err := Dial(addr)
	if err != nil {
		return nil, err
	}
	if err := c.Handshake(addr, extra...); err != nil {
		c.Conn.Close()
		return nil, err
	}
	return c, nil
}

// Handshake sends the upgrade request and reads the 101.
func (c *Client) Handshake(addr string, extra ...string) error {
	_ = c.Conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer func() { _ = c.Conn.SetDeadline(time.Time{}) }()
	if _, err := c.Conn.Write(UpgradeRequest(addr, "/ws", extra...)); err != nil {
		return err
	}
	status, err := c.ReadStatus()
	if err != nil {
		return err
	}
	if status != 101 {
		return fmt.Errorf("handshake: status %d", status)
	}
	return nil
}

// ReadStatus reads an HTTP response's status line and headers and returns
// the status.
func (c *Client) ReadStatus() (int, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return 0, err
	}
	var status int
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &status); err != nil {
		return 0, fmt.Errorf("status line %q: %v", line, err)
	}
	for i := 0; i < 100; i++ {
		l, err := c.br.ReadString('\n')
		if err != nil {
			return status, err
		}
		if l == "\r\n" {
			return status, nil
		}
	}
	return status, errors.New("more than 100 header lines")
}

// Header encodes the header of a masked frame announcing size bytes.
func Header(fin bool, rsv byte, op frame.Opcode, size int64) []byte {
	return frame.AppendHeader(nil, frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: mask, PayloadLen: size})
}

// Frame encodes a whole masked frame.
func Frame(fin bool, rsv byte, op frame.Opcode, payload []byte) []byte {
	b := Header(fin, rsv, op, int64(len(payload)))
	start := len(b)
	b = append(b, payload...)
	frame.Mask(mask, 0, b[start:])
	return b
}

// Masked returns payload masked as the bytes from offset pos of a frame's
// payload.
func Masked(payload []byte, pos int) []byte {
	b := append([]byte(nil), payload...)
	frame.Mask(mask, pos, b)
	return b
}

// Write sends b within timeout.
func (c *Client) Write(b []byte, timeout time.Duration) error {
	_, err := c.WriteCount(b, timeout)
	return err
}

// WriteCount sends b within timeout and returns how many of its bytes the
// kernel took.
func (c *Client) WriteCount(b []byte, timeout time.Duration) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(timeout))
	return c.Conn.Write(b)
}

// Received is a frame from the server. Its payload is kept when it is at
// most keepPayload bytes; its length and CRC-32 always.
type Received struct {
	Op      frame.Opcode
	Fin     bool
	Rsv     byte
	Len     int64
	CRC     uint32
	Payload []byte
}

// keepPayload is the largest payload a Received keeps.
const keepPayload = 4096

// ReadFrame reads one frame from the server within timeout, streaming its
// payload through a CRC so that a large one costs no memory.
func (c *Client) ReadFrame(timeout time.Duration) (Received, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(timeout))
	var hb [frame.MaxHeaderSize]byte
	if _, err := io.ReadFull(c.br, hb[:2]); err != nil {
		return Received{}, err
	}
	n := 2
	switch hb[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if hb[1]&0x80 != 0 {
		return Received{}, errors.New("server sent a masked frame")
	}
	if _, err := io.ReadFull(c.br, hb[2:n]); err != nil {
		return Received{}, err
	}
	h, _, err := frame.ParseHeader(hb[:n])
	if err != nil {
		return Received{}, err
	}
	r := Received{Op: h.Opcode, Fin: h.Fin, Rsv: h.Rsv, Len: h.PayloadLen}
	crc := crc32.NewIEEE()
	var dst io.Writer = crc
	var kept strings.Builder
	if h.PayloadLen <= keepPayload {
		dst = io.MultiWriter(crc, &kept)
	}
	if _, err := io.CopyN(dst, c.br, h.PayloadLen); err != nil {
		return Received{}, err
	}
	r.CRC = crc.Sum32()
	r.Payload = []byte(kept.String())
	return r, nil
}

// ReadUntilClose reads frames until a close frame and returns its code
// (1005 for an empty close), skipping at most maxFrames others.
func (c *Client) ReadUntilClose(timeout time.Duration, maxFrames int) (int, error) {
	deadline := time.Now().Add(timeout)
	for i := 0; i < maxFrames; i++ {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, errors.New("no close frame in time")
		}
		f, err := c.ReadFrame(left)
		if err != nil {
			return 0, err
		}
		if f.Op != frame.OpClose {
			continue
		}
		if len(f.Payload) < 2 {
			return 1005, nil
		}
		return int(f.Payload[0])<<8 | int(f.Payload[1]), nil
	}
	return 0, fmt.Errorf("no close frame in %d frames", maxFrames)
}

// WaitClosed reads until the server closes the connection, discarding what
// arrives, and reports whether it did within timeout.
func (c *Client) WaitClosed(timeout time.Duration) bool {
	_ = c.Conn.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, c.br)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// CloseThenEOF reads until a close frame (skipping at most maxFrames
// others), then until the server closes the TCP connection, all within
// timeout. It returns the close code (0 when none came) and when the close
// frame and the end of the stream came (zero times when they did not come
// in time).
func (c *Client) CloseThenEOF(timeout time.Duration, maxFrames int) (code int, closedAt, eofAt time.Time) {
	deadline := time.Now().Add(timeout)
	code, err := c.ReadUntilClose(timeout, maxFrames)
	if err != nil {
		return 0, time.Time{}, time.Time{}
	}
	closedAt = time.Now()
	if left := time.Until(deadline); left > 0 && c.WaitClosed(left) {
		eofAt = time.Now()
	}
	return code, closedAt, eofAt
}

// Close closes the TCP connection.
func (c *Client) Close() error { return c.Conn.Close() }

// Ack is what the server in ack mode answers for payload.
func Ack(payload []byte) string {
	return fmt.Sprintf("%d/%08x", len(payload), crc32.ChecksumIEEE(payload))
}

// newReader is the buffered reader a Client reads through.
func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
