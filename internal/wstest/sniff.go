package wstest

import (
	"bytes"
	"net"
	"sync"

	"github.com/hertzws/websocket/frame"
)

// Sniffer parses one direction of a WebSocket connection as it passes:
// the HTTP head first, then frame headers; payloads are counted and
// skipped.
type Sniffer struct {
	mu        sync.Mutex
	total     int64
	inHTTP    bool
	httpHead  []byte
	hdr       []byte
	remaining int64
	frames    []frame.Header
	broken    error
}

func (s *Sniffer) feed(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total += int64(len(p))
	for len(p) > 0 && s.broken == nil {
		switch {
		case s.inHTTP:
			s.httpHead = append(s.httpHead, p[0])
			p = p[1:]
			if bytes.HasSuffix(s.httpHead, []byte("\r\n\r\n")) {
				s.inHTTP = false
			}
		case s.remaining > 0:
			n := int64(len(p))
			if n > s.remaining {
				n = s.remaining
			}
			s.remaining -= n
			p = p[n:]
		default:
			s.hdr = append(s.hdr, p[0])
			p = p[1:]
			h, _, err := frame.ParseHeader(s.hdr)
			if err == frame.ErrShortHeader {
				continue
			}
			if err != nil {
				s.broken = err
				return
			}
			s.frames = append(s.frames, h)
			s.remaining = h.PayloadLen
			s.hdr = s.hdr[:0]
		}
	}
}

// SniffMark is a position in a Sniffer's record.
type SniffMark struct {
	bytes  int64
	frames int
}

// Mark returns the position the record has reached.
func (s *Sniffer) Mark() SniffMark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SniffMark{s.total, len(s.frames)}
}

// Since returns how many bytes went past after m, the HTTP head included,
// and the headers of the frames that began after m. The zero SniffMark is
// the start of the connection.
func (s *Sniffer) Since(m SniffMark) (int64, []frame.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total - m.bytes, append([]frame.Header(nil), s.frames[m.frames:]...)
}

// Head returns the HTTP head (request or response) that went past, with
// its final empty line.
func (s *Sniffer) Head() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.httpHead...)
}

// Err returns the error that stopped the parse (bytes that are no frame
// header), or nil.
func (s *Sniffer) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broken
}

// SniffedConn is a client net.Conn whose traffic is sniffed both ways.
type SniffedConn struct {
	net.Conn
	// In sees what the client reads (the server's side); Out what it
	// writes.
	In, Out *Sniffer
}

// Sniff wraps a client connection before its handshake.
func Sniff(c net.Conn) *SniffedConn {
	return &SniffedConn{Conn: c, In: &Sniffer{inHTTP: true}, Out: &Sniffer{inHTTP: true}}
}

// Read reads from the connection and records what it read.
func (c *SniffedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.In.feed(p[:n])
	return n, err
}

// Write records p before sending it: once the bytes are out, the peer's
// answer may reach the test (through http.Transport's read loop, say)
// before a record made afterwards would.
func (c *SniffedConn) Write(p []byte) (int, error) {
	c.Out.feed(p)
	return c.Conn.Write(p)
}
