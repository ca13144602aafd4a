package websocket

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hertzws/websocket/frame"
)

// loopTransport serves the same encoded frames over and over and discards
// what is written into one reused buffer: a connection without I/O, so
// that benchmarks measure the library's own work per message.
type loopTransport struct {
	memoryOnly
	frames []byte
	off    int
	out    []byte
}

// memoryOnly gives a transport over memory the methods of transport.Conn
// that only a socket has a use for: it reads nothing around its buffer,
// and its deadlines wake nothing.
type memoryOnly struct{}

func (memoryOnly) ReadsDirect(int) bool                 { return false }
func (memoryOnly) ReadDirect([]byte, bool) (int, error) { return 0, nil }
func (memoryOnly) LiveDeadlines() bool                  { return false }
func (memoryOnly) CopiesPayload(int) bool               { return false }

func (l *loopTransport) wrap() {
	if l.off == len(l.frames) {
		l.off = 0
	}
}

func (l *loopTransport) Peek(n int) ([]byte, error) {
	l.wrap()
	if l.off+n > len(l.frames) {
		return l.frames[l.off:], io.ErrUnexpectedEOF
	}
	return l.frames[l.off : l.off+n], nil
}

func (l *loopTransport) Skip(n int) error                  { l.off += n; return nil }
func (l *loopTransport) Release() error                    { return nil }
func (l *loopTransport) Len() int                          { l.wrap(); return len(l.frames) - l.off }
func (l *loopTransport) Flush() error                      { return nil }
func (l *loopTransport) Close() error                      { return nil }
func (l *loopTransport) WriteBinary(b []byte) (int, error) { return len(b), nil }

func (l *loopTransport) Malloc(n int) ([]byte, error) {
	if cap(l.out) < n {
		l.out = make([]byte, n)
	}
	return l.out[:n], nil
}

func (l *loopTransport) SetReadDeadline(time.Time) error  { return nil }
func (l *loopTransport) SetWriteDeadline(time.Time) error { return nil }

var benchSizes = []int{16, 1 << 10, 16 << 10, 1 << 20}

func benchConn(role frame.Role, frames []byte) *Conn {
	// The defaults an upgrader or Dialer gives a Conn.
	cfg := connConfig{readBufferSize: DefaultReadBufferSize, writeBufferSize: DefaultWriteBufferSize, readLimit: DefaultReadLimit,
		messageTimeout: DefaultMessageTimeout, writeTimeout: DefaultWriteTimeout}
	return newConn(&loopTransport{frames: frames}, role, cfg, nil, nil)
}

// benchFrames encodes msg as one client (masked) frame or server frame.
func benchFrames(role frame.Role, op frame.Opcode, msg []byte) []byte {
	h := frame.Header{Fin: true, Opcode: op, PayloadLen: int64(len(msg))}
	payload := msg
	if role == frame.RoleServer { // frames a server reads come from a client
		h.Masked, h.Mask = true, [4]byte{0x12, 0x34, 0x56, 0x78}
		payload = append([]byte(nil), msg...)
		frame.Mask(h.Mask, 0, payload)
	}
	return append(frame.AppendHeader(nil, h), payload...)
}

// BenchmarkConnWrite measures a server's and a client's cost per message,
// without I/O, for each write API.
func BenchmarkConnWrite(b *testing.B) {
	for _, role := range []frame.Role{frame.RoleServer, frame.RoleClient} {
		for _, size := range benchSizes {
			msg := bytes.Repeat([]byte("x"), size)
			pm, _ := NewPreparedMessage(BinaryMessage, msg)
			paths := []struct {
				name  string
				write func(c *Conn) error
			}{
				{"WriteMessage", func(c *Conn) error { return c.WriteMessage(BinaryMessage, msg) }},
				{"WritePreparedMessage", func(c *Conn) error { return c.WritePreparedMessage(pm) }},
				{"NextWriter", func(c *Conn) error {
					w, err := c.NextWriter(BinaryMessage)
					if err != nil {
						return err
					}
					if _, err := w.Write(msg); err != nil {
						return err
					}
					return w.Close()
				}},
			}
			for _, p := range paths {
				p := p
				b.Run(fmt.Sprintf("%v/%s/%d", role, p.name, size), func(b *testing.B) {
					c := benchConn(role, nil)
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						if err := p.write(c); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkConnRead measures the cost per message of reading, unmasking
// (as a server) and, for text, validating UTF-8, without I/O.
func BenchmarkConnRead(b *testing.B) {
	for _, role := range []frame.Role{frame.RoleServer, frame.RoleClient} {
		for _, op := range []frame.Opcode{frame.OpBinary, frame.OpText} {
			for _, size := range benchSizes {
				msg := bytes.Repeat([]byte("héllo wörld "), size/12+1)[:size]
				for !utf8Valid(msg) { // cut on a whole character
					msg = msg[:len(msg)-1]
				}
				frames := benchFrames(role, op, msg)
				buf := make([]byte, 64<<10)
				b.Run(fmt.Sprintf("%v/%v/NextReader/%d", role, op, size), func(b *testing.B) {
					c := benchConn(role, frames)
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						_, r, err := c.NextReader()
						if err != nil {
							b.Fatal(err)
						}
						for err == nil {
							_, err = r.Read(buf)
						}
						if err != io.EOF {
							b.Fatal(err)
						}
					}
				})
				b.Run(fmt.Sprintf("%v/%v/ReadMessage/%d", role, op, size), func(b *testing.B) {
					c := benchConn(role, frames)
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						if _, _, err := c.ReadMessage(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

func utf8Valid(b []byte) bool {
	var v frame.UTF8Validator
	return v.Write(b) && v.Complete()
}
