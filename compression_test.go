package websocket_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// This file tests permessage-deflate (RFC 7692) end to end: real Hertz
// servers on both transports against this package's Dialer and a raw
// client that speaks DEFLATE itself. Every helper is prefixed "cz".
// gorilla/websocket's and coder/websocket's clients are tested in the
// interop module (internal/interop).

// czTimeout bounds every blocking step of these tests.
const czTimeout = 20 * time.Second

var (
	// czTail is the sync-flush tail RFC 7692 §7.2.1 strips from a message.
	czTail = []byte{0x00, 0x00, 0xff, 0xff}
	// czTailFinal is czTail followed by an empty final stored block, which
	// lets a one-shot flate reader end at io.EOF.
	czTailFinal = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}
)

// ---------------------------------------------------------------------------
// Payloads.

// czRandomLetters returns n random lowercase letters: text that LZ77 finds
// no repeats in beyond chance.
func czRandomLetters(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.Intn(26))
	}
	return b
}

// ---------------------------------------------------------------------------
// Server handlers.

// czCommandEcho echoes every message with ReadMessage/WriteMessage. A text
// message "cmd:<name> <arg>" is a command instead:
//
//	cmd:level N   SetCompressionLevel(N)
//	cmd:wc on|off EnableWriteCompression
//	cmd:nw on|off echo through NextWriter instead of WriteMessage
//	cmd:nw str    echo through NextWriter with io.WriteString
func czCommandEcho(c *websocket.Conn) {
	streaming, viaString := false, false
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if mt == websocket.TextMessage && bytes.HasPrefix(msg, []byte("cmd:")) {
			f := strings.Fields(string(msg[len("cmd:"):]))
			switch f[0] {
			case "level":
				n, _ := strconv.Atoi(f[1])
				_ = c.SetCompressionLevel(n)
			case "wc":
				c.EnableWriteCompression(f[1] == "on")
			case "nw":
				streaming = f[1] != "off"
				viaString = f[1] == "str"
			}
			continue
		}
		if streaming {
			w, err := c.NextWriter(mt)
			if err != nil {
				return
			}
			if viaString {
				//lint:ignore SA6006 the point is to reach the writer's WriteString method
				_, err = io.WriteString(w, string(msg))
			} else {
				_, err = w.Write(msg)
			}
			if err != nil {
				return
			}
			if err := w.Close(); err != nil {
				return
			}
			continue
		}
		if err := c.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

// czErrEcho echoes with ReadMessage/WriteMessage and reports the read error
// that ends it.
func czErrEcho(errs chan<- error) websocket.HertzHandler {
	return func(c *websocket.Conn) {
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	}
}

// ---------------------------------------------------------------------------
// The raw client.

// czRaw is a hand-driven client: it sends its own extension offer, frames
// and compresses its messages itself, and decodes the server's compressed
// messages with compress/flate, cross-checked by czInflateCheck, which also
// checks back-reference distances against the negotiated window.
type czRaw struct {
	cc     net.Conn
	br     *bufio.Reader
	ext    string // the Sec-WebSocket-Extensions of the 101, lines joined
	params frame.DeflateParams
	inf    *czInflater // nil unless permessage-deflate was negotiated
	def    *czDeflater
	mask   uint32
	pings  int      // pings sent
	pongs  []string // pong payloads received
}

// czDialRaw connects to url (ws://host/path) and performs the handshake
// with offer as Sec-WebSocket-Extensions (none when empty).
func czDialRaw(t testing.TB, url, offer string) *czRaw {
	t.Helper()
	r, err := czTryDialRaw(url, offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	return r
}

func czTryDialRaw(url, offer string) (*czRaw, error) {
	hostPath := strings.TrimPrefix(url, "ws://")
	slash := strings.IndexByte(hostPath, '/')
	host, path := hostPath[:slash], hostPath[slash:]
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	r := &czRaw{cc: c}
	r.br = bufio.NewReaderSize(r.cc, 64<<10)
	var key [16]byte
	rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + k + "\r\n"
	if offer != "" {
		req += "Sec-WebSocket-Extensions: " + offer + "\r\n"
	}
	_ = c.SetDeadline(time.Now().Add(czTimeout))
	if _, err := r.cc.Write([]byte(req + "\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("handshake response: %v", err)
	}
	_ = c.SetDeadline(time.Time{})
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-Websocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		c.Close()
		return nil, fmt.Errorf("handshake: status %d, accept %q", resp.StatusCode, resp.Header.Get("Sec-Websocket-Accept"))
	}
	r.ext = strings.Join(resp.Header.Values("Sec-Websocket-Extensions"), ", ")
	if r.ext != "" {
		exts := frame.ParseExtensions([][]byte{[]byte(r.ext)})
		if len(exts) != 1 {
			c.Close()
			return nil, fmt.Errorf("server accepted %d extensions: %q", len(exts), r.ext)
		}
		if r.params, err = frame.ParseDeflateParams(exts[0]); err != nil {
			c.Close()
			return nil, fmt.Errorf("server response %q: %v", r.ext, err)
		}
		if r.params.ClientMaxWindowBits != 0 && r.params.ClientMaxWindowBits < 15 {
			c.Close()
			return nil, fmt.Errorf("server limits the client window (%q), which compress/flate cannot honour", r.ext)
		}
		r.inf = &czInflater{takeover: !r.params.ServerNoContextTakeover, bits: r.params.ServerWindowBits()}
		r.def = &czDeflater{takeover: !r.params.ClientNoContextTakeover, level: flate.DefaultCompression}
	}
	return r, nil
}

func (r *czRaw) close() {
	r.cc.Close()
	if r.inf != nil && r.inf.stream != nil {
		r.inf.stream.close()
	}
}

func (r *czRaw) nextMask() [4]byte {
	r.mask = r.mask*1664525 + 1013904223
	return [4]byte{byte(r.mask>>24) | 1, byte(r.mask >> 16), byte(r.mask >> 8), byte(r.mask)}
}

// writeFrame sends one masked frame.
func (r *czRaw) writeFrame(fin bool, rsv byte, op frame.Opcode, payload []byte) error {
	_ = r.cc.SetWriteDeadline(time.Now().Add(czTimeout))
	_, err := r.cc.Write(wstest.EncodeFrame(frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: r.nextMask()}, payload))
	return err
}

// czSendOpts says how the raw client sends a message.
type czSendOpts struct {
	compress  bool
	fragments int  // frames the payload is cut into; 0 or 1 for one
	pings     bool // a ping between every two fragments
	emptyHead bool // the first fragment carries no payload
}

// send sends a data message as o asks and returns the payload as it went
// on the wire (compressed or not).
func (r *czRaw) send(op frame.Opcode, data []byte, o czSendOpts) ([]byte, error) {
	payload := data
	if o.compress {
		payload = r.def.compress(data)
	}
	parts := czSplit(payload, o.fragments, o.emptyHead)
	for i, p := range parts {
		fop, rsv := frame.OpContinuation, byte(0)
		if i == 0 {
			fop = op
			if o.compress {
				rsv = frame.Rsv1
			}
		}
		if err := r.writeFrame(i == len(parts)-1, rsv, fop, p); err != nil {
			return payload, err
		}
		if o.pings && i < len(parts)-1 {
			r.pings++
			if err := r.writeFrame(true, 0, frame.OpPing, []byte("ping-"+strconv.Itoa(r.pings))); err != nil {
				return payload, err
			}
		}
	}
	return payload, nil
}

// czSplit cuts p into n parts of roughly equal size (the first empty when
// emptyHead is set).
func czSplit(p []byte, n int, emptyHead bool) [][]byte {
	if n < 1 {
		n = 1
	}
	var parts [][]byte
	if emptyHead {
		parts = append(parts, nil)
		if n > 1 {
			n--
		}
	}
	size := (len(p) + n - 1) / n
	for i := 0; i < n; i++ {
		lo, hi := i*size, (i+1)*size
		if lo > len(p) {
			lo = len(p)
		}
		if hi > len(p) || i == n-1 {
			hi = len(p)
		}
		parts = append(parts, p[lo:hi])
	}
	return parts
}

// readFrame reads one frame from the server, which must not be masked.
func (r *czRaw) readFrame() (wstest.Frame, error) {
	_ = r.cc.SetReadDeadline(time.Now().Add(czTimeout))
	f, err := wstest.ReadFrame(r.br, 64<<20)
	if err == nil && f.Header.Masked {
		return wstest.Frame{}, errors.New("server sent a masked frame")
	}
	return f, err
}

// czCloseErr is the close frame that ended a receive.
type czCloseErr struct {
	code   int
	reason string
}

func (e *czCloseErr) Error() string { return fmt.Sprintf("close %d %q", e.code, e.reason) }

// czMsg is a data message received by the raw client.
type czMsg struct {
	op         frame.Opcode
	compressed bool
	frames     []frame.Header
	wire       []byte // the payload as sent
	data       []byte // decompressed
	maxDist    int    // largest back-reference distance, -1 if not checked
}

// recv reads the next data message, recording pongs on the way. A close
// frame ends it with a *czCloseErr.
func (r *czRaw) recv() (czMsg, error) {
	m := czMsg{maxDist: -1}
	for {
		f, err := r.readFrame()
		if err != nil {
			return m, err
		}
		h := f.Header
		if h.Opcode.IsControl() {
			if h.Rsv != 0 {
				return m, fmt.Errorf("RSV %#x on a %v frame", h.Rsv, h.Opcode)
			}
			switch h.Opcode {
			case frame.OpPong:
				r.pongs = append(r.pongs, string(f.Payload))
			case frame.OpClose:
				code, reason, err := frame.ParseClosePayload(f.Payload)
				if err != nil {
					return m, fmt.Errorf("close payload %q: %v", f.Payload, err)
				}
				return m, &czCloseErr{code: int(code), reason: reason}
			default:
				return m, fmt.Errorf("unexpected %v frame", h.Opcode)
			}
			continue
		}
		if len(m.frames) == 0 {
			if h.Opcode == frame.OpContinuation {
				return m, errors.New("message starts with a continuation frame")
			}
			if h.Rsv&^frame.Rsv1 != 0 {
				return m, fmt.Errorf("RSV %#x on the first frame", h.Rsv)
			}
			m.op = h.Opcode
			m.compressed = h.Rsv&frame.Rsv1 != 0
			if m.compressed && r.inf == nil {
				return m, errors.New("RSV1 set although permessage-deflate was not negotiated")
			}
		} else {
			if h.Opcode != frame.OpContinuation {
				return m, fmt.Errorf("%v frame inside a fragmented message", h.Opcode)
			}
			if h.Rsv != 0 {
				return m, fmt.Errorf("RSV %#x on a continuation frame (RFC 7692 §6.1)", h.Rsv)
			}
		}
		m.frames = append(m.frames, h)
		m.wire = append(m.wire, f.Payload...)
		if h.Fin {
			break
		}
	}
	m.data = m.wire
	if m.compressed {
		var err error
		if m.data, m.maxDist, err = r.inf.decode(m.wire); err != nil {
			return m, err
		}
	}
	if m.op == frame.OpText && !utf8.Valid(m.data) {
		return m, errors.New("text message is not valid UTF-8")
	}
	return m, nil
}

// mustRecv is recv for the test goroutine.
func (r *czRaw) mustRecv(t testing.TB) czMsg {
	t.Helper()
	m, err := r.recv()
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
}

// expectClose reads until the server's close frame and checks its code.
func (r *czRaw) expectClose(t testing.TB, code int) {
	t.Helper()
	m, err := r.recv()
	var ce *czCloseErr
	if !errors.As(err, &ce) {
		t.Fatalf("expected close %d, got message %v %d bytes, error %v", code, m.op, len(m.data), err)
	}
	if ce.code != code {
		t.Fatalf("close code %d (%q), want %d", ce.code, ce.reason, code)
	}
}

// ---------------------------------------------------------------------------
// DEFLATE on the client side.

// czDeflater compresses the raw client's messages with compress/flate: one
// stream across messages with context takeover, a fresh one per message
// without.
type czDeflater struct {
	takeover bool
	level    int
	buf      bytes.Buffer
	fw       *flate.Writer
}

func (d *czDeflater) compress(msg []byte) []byte {
	if d.fw == nil {
		d.fw, _ = flate.NewWriter(&d.buf, d.level)
	} else if !d.takeover {
		d.fw.Reset(&d.buf)
	}
	d.buf.Reset()
	_, _ = d.fw.Write(msg)
	_ = d.fw.Flush()
	b := d.buf.Bytes()
	if !bytes.HasSuffix(b, czTail) {
		panic("compress/flate flush without its sync tail")
	}
	return append([]byte(nil), b[:len(b)-len(czTail)]...)
}

// czCompress compresses msg as a fresh stream, tail removed.
func czCompress(msg []byte, level int) []byte {
	d := &czDeflater{level: level}
	return d.compress(msg)
}

// czInflater decodes the server's compressed messages. With context
// takeover it keeps one compress/flate stream across messages (czStream);
// without, each message is a fresh stream. Every message is also decoded by
// czInflateCheck on the history the window allows, which fails on a
// reference to bytes the peer never sent and reports the largest distance.
type czInflater struct {
	takeover bool
	bits     int
	hist     []byte // last 32 KiB of output, with takeover
	stream   *czStream
}

func (f *czInflater) decode(payload []byte) ([]byte, int, error) {
	if len(payload) == 0 {
		// Not a DEFLATE stream at all, but some senders use it for an empty
		// message; it adds nothing to the window.
		return []byte{}, 0, nil
	}
	maxDist := -1
	var checked []byte
	if len(payload) <= 4<<20 {
		var hist []byte
		if f.takeover {
			hist = f.hist
		}
		out, md, err := czInflateCheck(hist, append(append([]byte(nil), payload...), czTail...))
		if err != nil {
			return nil, 0, fmt.Errorf("reference inflater: %v", err)
		}
		if md > 1<<f.bits {
			return nil, md, fmt.Errorf("back-reference distance %d exceeds the negotiated window of %d bytes", md, 1<<f.bits)
		}
		checked, maxDist = out, md
	}
	var out []byte
	var err error
	if f.takeover {
		if f.stream == nil {
			f.stream = newCzStream()
		}
		out, err = f.stream.decode(payload)
	} else {
		out, err = io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(czTailFinal))))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("compress/flate: %v", err)
	}
	if checked != nil && !bytes.Equal(checked, out) {
		return nil, 0, errors.New("compress/flate and the reference inflater disagree")
	}
	if f.takeover {
		f.hist = append(f.hist, out...)
		if len(f.hist) > 32<<10 {
			f.hist = append([]byte(nil), f.hist[len(f.hist)-32<<10:]...)
		}
	}
	return out, maxDist, nil
}

// czStream is one compress/flate decompressor fed message after message,
// as a context-takeover peer must be. A goroutine reads the decompressor;
// its source blocks when empty and says so on starved, which tells decode
// that every byte of the message went through and its output is in.
type czStream struct {
	mu      sync.Mutex
	cond    *sync.Cond
	in      []byte
	closed  bool
	starved chan struct{}
	out     []byte
	err     error
}

func newCzStream() *czStream {
	s := &czStream{starved: make(chan struct{}, 1)}
	s.cond = sync.NewCond(&s.mu)
	// s is an io.ByteReader, so flate reads it byte by byte, never ahead.
	fr := flate.NewReader(s)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := fr.Read(buf)
			s.mu.Lock()
			s.out = append(s.out, buf[:n]...)
			if err != nil {
				s.err = err
				s.notify()
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// notify reports starvation; the caller holds mu.
func (s *czStream) notify() {
	select {
	case s.starved <- struct{}{}:
	default:
	}
}

func (s *czStream) ReadByte() (byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.in) == 0 {
		if s.closed {
			return 0, io.EOF
		}
		s.notify()
		s.cond.Wait()
	}
	b := s.in[0]
	s.in = s.in[1:]
	return b, nil
}

func (s *czStream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := s.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

func (s *czStream) decode(payload []byte) ([]byte, error) {
	s.mu.Lock()
	select {
	case <-s.starved:
	default:
	}
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, err
	}
	s.in = append(append([]byte(nil), payload...), czTail...)
	s.cond.Broadcast()
	s.mu.Unlock()
	select {
	case <-s.starved:
	case <-time.After(czTimeout):
		return nil, errors.New("decompressor stalled")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.out
	s.out = nil
	if s.err != nil {
		return out, s.err
	}
	if len(s.in) != 0 {
		return out, errors.New("decompressor stopped before the end of the message")
	}
	return out, nil
}

func (s *czStream) close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// czInflateCheck is a small reference inflater (after zlib's puff) for a
// raw DEFLATE stream that ends at a block boundary, as a message with its
// 00 00 ff ff tail does, decoded on top of hist. It returns the output, the
// largest back-reference distance, and an error for any reference to bytes
// before hist or any malformed block.
func czInflateCheck(hist, in []byte) ([]byte, int, error) {
	br := &czBits{in: in}
	out := append(make([]byte, 0, len(hist)+4*len(in)), hist...)
	start := len(hist)
	maxDist := 0
	for br.pos < len(in) {
		final, err := br.bits(1)
		if err != nil {
			return nil, 0, err
		}
		typ, err := br.bits(2)
		if err != nil {
			return nil, 0, err
		}
		var lit, dist *czHuff
		switch typ {
		case 0:
			if br.bit != 0 {
				br.bit = 0
				br.pos++
			}
			if br.pos+4 > len(in) {
				return nil, 0, io.ErrUnexpectedEOF
			}
			n := int(in[br.pos]) | int(in[br.pos+1])<<8
			nn := int(in[br.pos+2]) | int(in[br.pos+3])<<8
			if n != ^nn&0xffff {
				return nil, 0, errors.New("stored block length check failed")
			}
			br.pos += 4
			if br.pos+n > len(in) {
				return nil, 0, io.ErrUnexpectedEOF
			}
			out = append(out, in[br.pos:br.pos+n]...)
			br.pos += n
		case 1:
			lit, dist = czFixedHuff()
		case 2:
			if lit, dist, err = czDynamicHuff(br); err != nil {
				return nil, 0, err
			}
		default:
			return nil, 0, errors.New("reserved block type")
		}
		if lit != nil {
			for {
				sym, err := lit.decode(br)
				if err != nil {
					return nil, 0, err
				}
				if sym < 256 {
					out = append(out, byte(sym))
					continue
				}
				if sym == 256 {
					break
				}
				sym -= 257
				if sym >= 29 {
					return nil, 0, errors.New("bad length symbol")
				}
				e, err := br.bits(czLenExtra[sym])
				if err != nil {
					return nil, 0, err
				}
				length := czLenBase[sym] + e
				ds, err := dist.decode(br)
				if err != nil {
					return nil, 0, err
				}
				if ds >= 30 {
					return nil, 0, errors.New("bad distance symbol")
				}
				e, err = br.bits(czDistExtra[ds])
				if err != nil {
					return nil, 0, err
				}
				d := czDistBase[ds] + e
				if d > len(out) {
					return nil, 0, fmt.Errorf("distance %d reaches before the %d bytes of history and output", d, len(out))
				}
				if d > maxDist {
					maxDist = d
				}
				for i := 0; i < length; i++ {
					out = append(out, out[len(out)-d])
				}
			}
		}
		if final == 1 {
			break
		}
	}
	return out[start:], maxDist, nil
}

var (
	czLenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	czLenExtra  = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	czDistBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	czDistExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	czCLOrder   = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// czBits reads a DEFLATE bit stream, least significant bit first.
type czBits struct {
	in  []byte
	pos int
	bit uint
}

func (b *czBits) bits(n uint) (int, error) {
	v := 0
	for i := uint(0); i < n; i++ {
		if b.pos >= len(b.in) {
			return 0, io.ErrUnexpectedEOF
		}
		v |= int(b.in[b.pos]>>b.bit&1) << i
		if b.bit++; b.bit == 8 {
			b.bit = 0
			b.pos++
		}
	}
	return v, nil
}

// czHuff is a canonical Huffman code: the number of codes of each length
// and the symbols in code order.
type czHuff struct {
	count  [16]int
	symbol []int
}

func czNewHuff(lengths []int) *czHuff {
	h := &czHuff{symbol: make([]int, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
	return h
}

func (h *czHuff) decode(b *czBits) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		v, err := b.bits(1)
		if err != nil {
			return 0, err
		}
		code |= v
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+code-first], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("invalid Huffman code")
}

func czFixedHuff() (*czHuff, *czHuff) {
	var lengths [288]int
	for i := range lengths {
		switch {
		case i < 144:
			lengths[i] = 8
		case i < 256:
			lengths[i] = 9
		case i < 280:
			lengths[i] = 7
		default:
			lengths[i] = 8
		}
	}
	var dl [30]int
	for i := range dl {
		dl[i] = 5
	}
	return czNewHuff(lengths[:]), czNewHuff(dl[:])
}

func czDynamicHuff(br *czBits) (*czHuff, *czHuff, error) {
	nlen, err := br.bits(5)
	if err != nil {
		return nil, nil, err
	}
	ndist, err := br.bits(5)
	if err != nil {
		return nil, nil, err
	}
	ncode, err := br.bits(4)
	if err != nil {
		return nil, nil, err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return nil, nil, errors.New("bad code counts")
	}
	var lengths [320]int
	for i := 0; i < ncode; i++ {
		if lengths[czCLOrder[i]], err = br.bits(3); err != nil {
			return nil, nil, err
		}
	}
	lencode := czNewHuff(lengths[:19])
	for i := range lengths[:19] {
		lengths[i] = 0
	}
	for index := 0; index < nlen+ndist; {
		sym, err := lencode.decode(br)
		if err != nil {
			return nil, nil, err
		}
		if sym < 16 {
			lengths[index] = sym
			index++
			continue
		}
		l, rep := 0, 0
		switch sym {
		case 16:
			if index == 0 {
				return nil, nil, errors.New("repeat with no previous length")
			}
			l = lengths[index-1]
			v, err := br.bits(2)
			if err != nil {
				return nil, nil, err
			}
			rep = 3 + v
		case 17:
			v, err := br.bits(3)
			if err != nil {
				return nil, nil, err
			}
			rep = 3 + v
		default:
			v, err := br.bits(7)
			if err != nil {
				return nil, nil, err
			}
			rep = 11 + v
		}
		if index+rep > nlen+ndist {
			return nil, nil, errors.New("too many code lengths")
		}
		for ; rep > 0; rep-- {
			lengths[index] = l
			index++
		}
	}
	if lengths[256] == 0 {
		return nil, nil, errors.New("no end-of-block code")
	}
	return czNewHuff(lengths[:nlen]), czNewHuff(lengths[nlen : nlen+ndist]), nil
}

// ---------------------------------------------------------------------------
// 3. CompressionOptions and per-connection settings, judged by the raw
// client's own decoder.

// czEchoCheck sends data uncompressed and checks the server's echo: its
// bytes and whether it came compressed. It returns the echo.
func czEchoCheck(t *testing.T, r *czRaw, op frame.Opcode, data []byte, wantCompressed bool) czMsg {
	t.Helper()
	if _, err := r.send(op, data, czSendOpts{}); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := r.mustRecv(t)
	if m.op != op || !bytes.Equal(m.data, data) {
		t.Fatalf("echo of %d B: got %v %d B, want %v", len(data), m.op, len(m.data), op)
	}
	if m.compressed != wantCompressed {
		t.Fatalf("echo of %d B: compressed=%v, want %v", len(data), m.compressed, wantCompressed)
	}
	return m
}

func czCommand(t *testing.T, r *czRaw, cmd string) {
	t.Helper()
	if _, err := r.send(frame.OpText, []byte("cmd:"+cmd), czSendOpts{}); err != nil {
		t.Fatalf("send command: %v", err)
	}
}

func TestCompressionOptions(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		t.Run("ServerMaxWindowBits", func(t *testing.T) {
			u := &websocket.HertzUpgrader{EnableCompression: true}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czCommandEcho)
			for bits := 8; bits <= 15; bits++ {
				offer := fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits)
				r := czDialRaw(t, url, offer)
				if want := fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits); r.ext != want {
					t.Fatalf("offer %q: response %q, want %q", offer, r.ext, want)
				}
				rng := rand.New(rand.NewSource(int64(bits)))
				// A message whose only long repeat lies just beyond the
				// window: a server that ignores the window would refer to it.
				a := czRandomLetters(rng, 300)
				far := append(append(append([]byte(nil), a...), czRandomLetters(rng, 1<<bits+200)...), a...)
				msgs := [][]byte{wstest.JSONText(4096, bits), wstest.JSONText(4096, bits), far, wstest.CompressibleBinary(20000, bits), wstest.JSONText(6000, bits+1)}
				maxDist := 0
				var sizes []int
				for _, msg := range msgs {
					m := czEchoCheck(t, r, frame.OpBinary, msg, true)
					if m.maxDist > maxDist {
						maxDist = m.maxDist
					}
					sizes = append(sizes, len(m.wire))
				}
				t.Logf("server_max_window_bits=%d: largest back-reference %d B (window %d B), compressed sizes %v", bits, maxDist, 1<<bits, sizes)
				if bits >= 13 && maxDist < 4096 {
					t.Errorf("window %d B: largest back-reference %d B; the repeated 4 KiB message should reach back at least 4 KiB", 1<<bits, maxDist)
				}
			}
		})

		t.Run("ServerNoContextTakeover", func(t *testing.T) {
			for _, side := range []string{"policy", "offer"} {
				u := &websocket.HertzUpgrader{EnableCompression: true}
				offer := "permessage-deflate"
				if side == "policy" {
					u.Compression.ServerNoContextTakeover = true
				} else {
					offer += "; server_no_context_takeover"
				}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czCommandEcho)
				r := czDialRaw(t, url, offer)
				if want := "permessage-deflate; server_no_context_takeover"; r.ext != want {
					t.Fatalf("%s: response %q, want %q", side, r.ext, want)
				}
				if r.inf.takeover {
					t.Fatal("raw client decodes with takeover")
				}
				msg := wstest.JSONText(3000, 7)
				var first []byte
				for i := 0; i < 5; i++ {
					// Decoded without history: any reference to an earlier
					// message fails in the reference inflater.
					m := czEchoCheck(t, r, frame.OpText, msg, true)
					if i == 0 {
						first = m.wire
					} else if !bytes.Equal(m.wire, first) {
						t.Fatalf("%s: message %d compressed to %d B, the first to %d B: the window was kept", side, i, len(m.wire), len(first))
					}
				}
				t.Logf("%s: a 3000 B message compresses to %d B every time", side, len(first))
			}
		})

		t.Run("Levels", func(t *testing.T) {
			u := &websocket.HertzUpgrader{EnableCompression: true}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czCommandEcho)
			r := czDialRaw(t, url, "permessage-deflate")
			msg := wstest.JSONText(16<<10, 3)
			size := map[int]int{}
			for _, level := range []int{1, 9, -2, 0, 5, 1} {
				czCommand(t, r, "level "+strconv.Itoa(level))
				m := czEchoCheck(t, r, frame.OpText, msg, true)
				// Each change of level restarts the window, so the repeat
				// of the message is compressed afresh: it must decode too.
				m2 := czEchoCheck(t, r, frame.OpText, msg, true)
				t.Logf("level %2d: %5d B -> %5d B, repeat %5d B, largest distance %d", level, len(msg), len(m.wire), len(m2.wire), m.maxDist)
				switch level {
				case 0:
					if len(m.wire) < len(msg) || m.maxDist != 0 {
						t.Errorf("level 0: %d B with distance %d; want stored blocks", len(m.wire), m.maxDist)
					}
				case -2:
					if m.maxDist != 0 || len(m.wire) >= len(msg) {
						t.Errorf("level -2: %d B with distance %d; want Huffman only", len(m.wire), m.maxDist)
					}
				default:
					if len(m.wire) > len(msg)/4 {
						t.Errorf("level %d: %d B", level, len(m.wire))
					}
				}
				if _, ok := size[level]; !ok {
					size[level] = len(m.wire)
				}
			}
			if size[9] > size[1] {
				t.Errorf("level 9 gives %d B, level 1 %d B", size[9], size[1])
			}
		})

		t.Run("Threshold", func(t *testing.T) {
			cases := []struct {
				threshold int
				sizes     []int
				cut       int // smallest size compressed
			}{
				{0, []int{0, 1, 127, 128, 129}, websocket.DefaultCompressionThreshold},
				{300, []int{10, 299, 300}, 300},
				{-1, []int{0, 1, 2, 10}, 0},
			}
			for _, c := range cases {
				u := &websocket.HertzUpgrader{EnableCompression: true, Compression: websocket.CompressionOptions{Threshold: c.threshold}}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czCommandEcho)
				r := czDialRaw(t, url, "permessage-deflate")
				for _, n := range c.sizes {
					m := czEchoCheck(t, r, frame.OpText, wstest.JSONText(n, n), n >= c.cut)
					if n == 0 && m.compressed {
						t.Logf("threshold %d: an empty message goes out as RSV1 with payload %x", c.threshold, m.wire)
						if len(m.wire) > 1 || (len(m.wire) == 1 && m.wire[0] != 0) {
							t.Errorf("empty compressed message: payload %x, want 00 or nothing", m.wire)
						}
					}
				}
				// NextWriter compresses whatever the size.
				czCommand(t, r, "nw on")
				czEchoCheck(t, r, frame.OpBinary, nil, true)
				czEchoCheck(t, r, frame.OpBinary, []byte("x"), true)
			}
		})

		t.Run("NextWriterWriteString", func(t *testing.T) {
			u := &websocket.HertzUpgrader{EnableCompression: true, WriteBufferSize: 512}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czCommandEcho)
			r := czDialRaw(t, url, "permessage-deflate")
			czCommand(t, r, "nw str")
			for _, n := range []int{0, 100, 511, 512, 513, 5000, 100000} {
				m := czEchoCheck(t, r, frame.OpText, wstest.JSONText(n, n), true)
				if n == 100000 && len(m.frames) < 2 {
					t.Errorf("a %d B message compressed to %d B came in %d frame(s)", n, len(m.wire), len(m.frames))
				}
			}
			czEchoCheck(t, r, frame.OpBinary, wstest.CompressibleBinary(200000, 1), true)
		})

		t.Run("JSON", func(t *testing.T) {
			type doc struct {
				Seq  int      `json:"seq"`
				Text string   `json:"text"`
				Tags []string `json:"tags"`
			}
			u := &websocket.HertzUpgrader{EnableCompression: true}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
				for {
					var v doc
					if err := c.ReadJSON(&v); err != nil {
						return
					}
					if err := c.WriteJSON(v); err != nil {
						return
					}
				}
			})
			r := czDialRaw(t, url, "permessage-deflate")
			for _, n := range []int{1, 3, 50} {
				v := doc{Seq: n, Text: strings.Repeat("compress me ", n), Tags: []string{"a", "b"}}
				want, _ := json.Marshal(v)
				want = append(want, '\n')
				if _, err := r.send(frame.OpText, want, czSendOpts{compress: true}); err != nil {
					t.Fatal(err)
				}
				m := r.mustRecv(t)
				if !bytes.Equal(m.data, want) {
					t.Fatalf("WriteJSON sent %q, want %q", m.data, want)
				}
				if m.compressed != (len(want) >= websocket.DefaultCompressionThreshold) {
					t.Fatalf("WriteJSON of %d B: compressed=%v", len(want), m.compressed)
				}
			}
		})

		t.Run("EnableWriteCompression", func(t *testing.T) {
			u := &websocket.HertzUpgrader{EnableCompression: true}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czCommandEcho)
			r := czDialRaw(t, url, "permessage-deflate")
			msg := wstest.JSONText(5000, 11)
			czEchoCheck(t, r, frame.OpText, msg, true)
			czCommand(t, r, "wc off")
			m := czEchoCheck(t, r, frame.OpText, msg, false)
			czCommand(t, r, "nw on")
			m2 := czEchoCheck(t, r, frame.OpText, wstest.JSONText(20000, 12), false)
			for _, f := range append(m.frames, m2.frames...) {
				if f.Rsv != 0 {
					t.Fatalf("RSV %#x with write compression off", f.Rsv)
				}
			}
			// Back on: the uncompressed messages are not part of the window,
			// and the next message may refer to the first.
			czCommand(t, r, "wc on")
			m3 := czEchoCheck(t, r, frame.OpText, msg, true)
			czCommand(t, r, "nw off")
			czEchoCheck(t, r, frame.OpText, msg, true)
			t.Logf("5000 B: %d B uncompressed, %d B compressed after re-enabling (largest distance %d)", len(m.wire), len(m3.wire), m3.maxDist)
		})
	})
}

// ---------------------------------------------------------------------------
// 4. The raw client sends compressed messages.

func TestCompressionClientSends(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		handlers := []struct {
			name string
			h    websocket.HertzHandler
		}{{"NextReader", wstest.Echo}, {"ReadMessage", czCommandEcho}}
		offers := []struct{ name, offer string }{
			{"Takeover", "permessage-deflate"},
			{"NoTakeover", "permessage-deflate; client_no_context_takeover"},
		}
		for _, hc := range handlers {
			for _, oc := range offers {
				hc, oc := hc, oc
				t.Run(hc.name+"/"+oc.name, func(t *testing.T) {
					u := &websocket.HertzUpgrader{EnableCompression: true}
					url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, hc.h)
					r := czDialRaw(t, url, oc.offer)
					if r.def.takeover != (oc.name == "Takeover") {
						t.Fatalf("response %q: client takeover %v", r.ext, r.def.takeover)
					}
					utf := []byte(strings.Repeat("grüße, 世界 — ", 200))
					script := []struct {
						op   frame.Opcode
						data []byte
						o    czSendOpts
					}{
						{frame.OpText, wstest.JSONText(2048, 1), czSendOpts{compress: true}},
						{frame.OpText, wstest.JSONText(2048, 1), czSendOpts{compress: true}},
						{frame.OpBinary, wstest.CompressibleBinary(10000, 2), czSendOpts{compress: true, fragments: 4, pings: true}},
						{frame.OpText, wstest.JSONText(300, 3), czSendOpts{}},
						{frame.OpText, wstest.JSONText(3000, 1), czSendOpts{compress: true, fragments: 3, pings: true}},
						{frame.OpBinary, wstest.CompressibleBinary(5000, 4), czSendOpts{fragments: 3, pings: true}},
						{frame.OpText, nil, czSendOpts{compress: true}},
						{frame.OpBinary, wstest.CompressibleBinary(3000, 2), czSendOpts{compress: true, fragments: 3, emptyHead: true}},
						{frame.OpText, utf, czSendOpts{compress: true, fragments: 7, pings: true}},
						{frame.OpText, []byte("short"), czSendOpts{compress: true, fragments: 2}},
						{frame.OpText, wstest.JSONText(2048, 1), czSendOpts{compress: true}},
						{frame.OpText, utf, czSendOpts{fragments: 5}},
						{frame.OpText, utf, czSendOpts{compress: true}},
					}
					var wire []int
					for i, s := range script {
						pings := r.pings
						p, err := r.send(s.op, s.data, s.o)
						if err != nil {
							t.Fatalf("message %d: send: %v", i, err)
						}
						wire = append(wire, len(p))
						m := r.mustRecv(t)
						if m.op != s.op || !bytes.Equal(m.data, s.data) {
							t.Fatalf("message %d (%d B, %+v): echo %v %d B differs", i, len(s.data), s.o, m.op, len(m.data))
						}
						if len(r.pongs) != r.pings {
							t.Fatalf("message %d: %d pongs for %d pings", i, len(r.pongs), r.pings)
						}
						for j := pings; j < r.pings; j++ {
							if want := "ping-" + strconv.Itoa(j+1); r.pongs[j] != want {
								t.Fatalf("pong %q, want %q", r.pongs[j], want)
							}
						}
					}
					t.Logf("client payload sizes: %v", wire)
					// The test must really exercise the server's window: with
					// takeover, a repeated message costs the client little.
					if oc.name == "Takeover" && wire[1]*4 > wire[0] {
						t.Errorf("takeover: the repeated message took %d B, the first %d B", wire[1], wire[0])
					}
					if oc.name == "NoTakeover" && wire[1] != wire[0] {
						t.Errorf("no takeover: the repeated message took %d B, the first %d B", wire[1], wire[0])
					}
				})
			}
		}
	})
}

// czPrefixEcho answers every message with its first n bytes, leaving the
// rest for NextReader to discard.
func czPrefixEcho(n int) websocket.HertzHandler {
	return func(c *websocket.Conn) {
		buf := make([]byte, n)
		for {
			mt, r, err := c.NextReader()
			if err != nil {
				return
			}
			k, err := io.ReadFull(r, buf)
			if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
				return
			}
			if err := c.WriteMessage(mt, buf[:k]); err != nil {
				return
			}
		}
	}
}

// TestCompressionPartialRead leaves most of each compressed message unread.
// With context takeover the discarded bytes must still enter the window:
// the repeats below are almost entirely references to them.
func TestCompressionPartialRead(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, offer := range []string{"permessage-deflate", "permessage-deflate; client_no_context_takeover"} {
			u := &websocket.HertzUpgrader{EnableCompression: true}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czPrefixEcho(16))
			r := czDialRaw(t, url, offer)
			a, b := wstest.JSONText(6000, 1), wstest.CompressibleBinary(9000, 2)
			script := []struct {
				op   frame.Opcode
				data []byte
				o    czSendOpts
			}{
				{frame.OpText, a, czSendOpts{compress: true}},
				{frame.OpText, a, czSendOpts{compress: true}},
				{frame.OpBinary, b, czSendOpts{compress: true, fragments: 5, pings: true}},
				{frame.OpText, []byte("tiny"), czSendOpts{compress: true}},
				{frame.OpBinary, b, czSendOpts{compress: true}},
				{frame.OpText, a, czSendOpts{fragments: 3}},
				{frame.OpText, a[3000:], czSendOpts{compress: true, fragments: 2}},
			}
			for i, s := range script {
				p, err := r.send(s.op, s.data, s.o)
				if err != nil {
					t.Fatal(err)
				}
				m := r.mustRecv(t)
				want := s.data
				if len(want) > 16 {
					want = want[:16]
				}
				if m.op != s.op || !bytes.Equal(m.data, want) {
					t.Fatalf("%s: message %d (%d B, %d B on the wire): got %v %q, want %q", offer, i, len(s.data), len(p), m.op, m.data, want)
				}
			}
		}
	})
}

// ---------------------------------------------------------------------------
// 5. Protocol errors in compressed messages.

func TestCompressionErrors(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		// A compressed message that refers to an earlier one: garbage on a
		// connection whose window is empty.
		d := &czDeflater{takeover: true, level: 6}
		msg := wstest.JSONText(2000, 5)
		d.compress(msg)
		dangling := d.compress(msg)

		cases := []struct {
			name     string
			disabled bool   // server without EnableCompression
			offer    string // client offer
			code     int
			send     func(r *czRaw) error
		}{
			{
				name: "RSV1OnContinuation", offer: "permessage-deflate", code: websocket.CloseProtocolError,
				send: func(r *czRaw) error {
					p := czCompress(wstest.JSONText(1000, 1), 6)
					if err := r.writeFrame(false, frame.Rsv1, frame.OpText, p[:len(p)/2]); err != nil {
						return err
					}
					return r.writeFrame(true, frame.Rsv1, frame.OpContinuation, p[len(p)/2:])
				},
			},
			{
				name: "RSV1WithoutOffer", offer: "", code: websocket.CloseProtocolError,
				send: func(r *czRaw) error {
					return r.writeFrame(true, frame.Rsv1, frame.OpText, czCompress([]byte("hello hello hello"), 6))
				},
			},
			{
				name: "RSV1ServerDisabled", disabled: true, offer: "permessage-deflate", code: websocket.CloseProtocolError,
				send: func(r *czRaw) error {
					return r.writeFrame(true, frame.Rsv1, frame.OpBinary, czCompress([]byte("hello hello hello"), 6))
				},
			},
			{
				name: "RSV1OnPing", offer: "permessage-deflate", code: websocket.CloseProtocolError,
				send: func(r *czRaw) error {
					return r.writeFrame(true, frame.Rsv1, frame.OpPing, []byte{0x00})
				},
			},
			{
				name: "CorruptBlockType", offer: "permessage-deflate", code: websocket.CloseInvalidFramePayloadData,
				send: func(r *czRaw) error {
					return r.writeFrame(true, frame.Rsv1, frame.OpBinary, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
				},
			},
			{
				name: "CorruptStoredLength", offer: "permessage-deflate", code: websocket.CloseInvalidFramePayloadData,
				send: func(r *czRaw) error {
					return r.writeFrame(true, frame.Rsv1, frame.OpBinary, []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e'})
				},
			},
			{
				name: "DistanceTooFarBack", offer: "permessage-deflate", code: websocket.CloseInvalidFramePayloadData,
				send: func(r *czRaw) error {
					return r.writeFrame(true, frame.Rsv1, frame.OpText, dangling)
				},
			},
			{
				name: "CorruptAfterGoodFragment", offer: "permessage-deflate", code: websocket.CloseInvalidFramePayloadData,
				send: func(r *czRaw) error {
					p := czCompress(wstest.JSONText(5000, 2), 6)
					if err := r.writeFrame(false, frame.Rsv1, frame.OpBinary, p[:len(p)/2]); err != nil {
						return err
					}
					garbage := bytes.Repeat([]byte{0xff}, 64)
					return r.writeFrame(true, 0, frame.OpContinuation, garbage)
				},
			},
			{
				name: "InvalidUTF8", offer: "permessage-deflate", code: websocket.CloseInvalidFramePayloadData,
				send: func(r *czRaw) error {
					return r.writeFrame(true, frame.Rsv1, frame.OpText, czCompress([]byte("valid start \xff\xfe invalid"), 6))
				},
			},
			{
				name: "TruncatedUTF8", offer: "permessage-deflate", code: websocket.CloseInvalidFramePayloadData,
				send: func(r *czRaw) error {
					p := czCompress([]byte(strings.Repeat("abc", 100)+"\xe2\x82"), 6)
					if err := r.writeFrame(false, frame.Rsv1, frame.OpText, p[:2]); err != nil {
						return err
					}
					return r.writeFrame(true, 0, frame.OpContinuation, p[2:])
				},
			},
			{
				name: "InvalidUTF8AfterGoodMessage", offer: "permessage-deflate", code: websocket.CloseInvalidFramePayloadData,
				send: func(r *czRaw) error {
					if _, err := r.send(frame.OpText, wstest.JSONText(3000, 1), czSendOpts{compress: true}); err != nil {
						return err
					}
					if m, err := r.recv(); err != nil || !bytes.Equal(m.data, wstest.JSONText(3000, 1)) {
						return fmt.Errorf("echo before the bad message: %v", err)
					}
					// Refers to the first message, then breaks UTF-8.
					_, err := r.send(frame.OpText, append(wstest.JSONText(3000, 1), 0xc0, 0x80), czSendOpts{compress: true, fragments: 3})
					return err
				},
			},
		}
		for _, c := range cases {
			c := c
			t.Run(c.name, func(t *testing.T) {
				errs := make(chan error, 1)
				u := &websocket.HertzUpgrader{EnableCompression: !c.disabled}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czErrEcho(errs))
				r := czDialRaw(t, url, c.offer)
				if negotiated := r.ext != ""; negotiated != (c.offer != "" && !c.disabled) {
					t.Fatalf("offer %q: response %q", c.offer, r.ext)
				}
				if err := c.send(r); err != nil {
					t.Fatalf("send: %v", err)
				}
				r.expectClose(t, c.code)
				select {
				case err := <-errs:
					var pe *websocket.ProtocolError
					if !errors.As(err, &pe) || int(pe.Code) != c.code {
						t.Fatalf("server read error %v (%T), want a *websocket.ProtocolError with code %d", err, err, c.code)
					}
					t.Logf("server: %v", err)
				case <-time.After(czTimeout):
					t.Fatal("the handler's ReadMessage did not fail")
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 6. Decompression bomb.

// czHeapPeak samples HeapAlloc until stop is called and returns the peak
// growth over the baseline taken after a GC.
func czHeapPeak() (stop func() (peak uint64, base uint64)) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak {
				peak = ms.HeapAlloc
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-finished
		if peak < base {
			return 0, base
		}
		return peak - base, base
	}
}

// czSendBomb streams one compressed binary message of total zero bytes,
// compressed lazily by compress/flate into a pipe and sent in frames of up
// to 4 KiB, until the message ends, a write fails or stop is closed. It
// returns the compressed bytes sent and the uncompressed bytes generated.
func czSendBomb(r *czRaw, total int64, stop <-chan struct{}) (sent, generated int64, err error) {
	pr, pw := io.Pipe()
	var gen atomic.Int64
	go func() {
		fw, _ := flate.NewWriter(pw, flate.BestSpeed)
		zeros := make([]byte, 64<<10)
		for gen.Load() < total {
			if _, err := fw.Write(zeros); err != nil {
				pw.CloseWithError(err)
				return
			}
			gen.Add(int64(len(zeros)))
		}
		if err := fw.Flush(); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.Close()
	}()
	defer pr.CloseWithError(errors.New("sender stopped"))
	buf := make([]byte, 4096)
	var held []byte // the last 4 bytes, which may be the sync tail
	first := true
	for {
		select {
		case <-stop:
			return sent, gen.Load(), nil
		default:
		}
		n, rerr := io.ReadFull(pr, buf)
		chunk := append(held, buf[:n]...)
		end := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !end {
			return sent, gen.Load(), rerr
		}
		var out []byte
		if end {
			if !bytes.HasSuffix(chunk, czTail) {
				return sent, gen.Load(), errors.New("compressed stream without its sync tail")
			}
			out = chunk[:len(chunk)-len(czTail)]
		} else if len(chunk) > len(czTail) {
			out = chunk[:len(chunk)-len(czTail)]
			held = append([]byte(nil), chunk[len(chunk)-len(czTail):]...)
		} else {
			held = chunk
			continue
		}
		op, rsv := frame.OpContinuation, byte(0)
		if first {
			op, rsv, first = frame.OpBinary, frame.Rsv1, false
		}
		if err := r.writeFrame(end, rsv, op, out); err != nil {
			return sent, gen.Load(), err
		}
		sent += int64(len(out))
		if end {
			return sent, gen.Load(), nil
		}
	}
}

func TestCompressionBomb(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		modes := []struct {
			name       string
			limit      int64 // 0: the default
			nextReader bool
		}{
			{"ReadMessage/DefaultLimit", 0, false},
			{"NextReader/1MiB", 1 << 20, true},
		}
		for _, mode := range modes {
			mode := mode
			t.Run(mode.name, func(t *testing.T) {
				errs := make(chan error, 1)
				u := &websocket.HertzUpgrader{EnableCompression: true}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
					if mode.limit > 0 {
						c.SetReadLimit(mode.limit)
					}
					var err error
					if mode.nextReader {
						var r io.Reader
						if _, r, err = c.NextReader(); err == nil {
							_, err = io.Copy(io.Discard, r)
						}
					} else {
						_, _, err = c.ReadMessage()
					}
					errs <- err
				})
				r := czDialRaw(t, url, "permessage-deflate")

				stopHeap := czHeapPeak()
				closed := make(chan error, 1)
				stop := make(chan struct{})
				go func() {
					_, err := r.recv()
					close(stop)
					closed <- err
				}()
				start := time.Now()
				sent, generated, sendErr := czSendBomb(r, 1<<30, stop)
				var closeErr error
				select {
				case closeErr = <-closed:
				case <-time.After(czTimeout):
					t.Fatal("no close frame from the server")
				}
				var readErr error
				select {
				case readErr = <-errs:
				case <-time.After(czTimeout):
					t.Fatal("the handler's read did not fail")
				}
				peak, base := stopHeap()
				t.Logf("sent %d compressed bytes for %d MiB of zeros in %v (send error: %v); heap peak +%.1f MiB over %.1f MiB",
					sent, generated>>20, time.Since(start).Round(time.Millisecond), sendErr, float64(peak)/(1<<20), float64(base)/(1<<20))
				var ce *czCloseErr
				if !errors.As(closeErr, &ce) || ce.code != websocket.CloseMessageTooBig {
					t.Fatalf("client: %v, want close 1009", closeErr)
				}
				if !errors.Is(readErr, websocket.ErrReadLimit) {
					t.Fatalf("server read error %v, want ErrReadLimit", readErr)
				}
				if generated >= 1<<30 && sent == 0 {
					t.Fatal("nothing sent")
				}
				if peak > 64<<20 {
					t.Fatalf("heap grew by %.1f MiB during the bomb, want under 64 MiB", float64(peak)/(1<<20))
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 7. PreparedMessage.

// czHub collects the server side of every connection.
func czHub(t testing.TB, tc wstest.Transport, u *websocket.HertzUpgrader) (string, <-chan *websocket.Conn) {
	conns := make(chan *websocket.Conn, 16)
	url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
		conns <- c
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	return url, conns
}

func czNextConn(t testing.TB, conns <-chan *websocket.Conn) *websocket.Conn {
	t.Helper()
	select {
	case c := <-conns:
		return c
	case <-time.After(czTimeout):
		t.Fatal("connection never reached the handler")
		return nil
	}
}

// czPeer is a client of the broadcast tests: this package's Dialer with
// each compression setting, or the raw client. (The interop module has
// gorilla's and coder's clients read compressed messages.)
type czPeer struct {
	name       string
	server     *websocket.Conn
	read       func() ([]byte, error)
	sniff      *wstest.Sniffer // server-to-client traffic, nil for the raw client
	compressed bool            // expects compressed data frames
}

func czPeers(t *testing.T, tc wstest.Transport, withRaw bool) []*czPeer {
	u := &websocket.HertzUpgrader{EnableCompression: true}
	url, conns := czHub(t, tc, u)
	var peers []*czPeer

	dialers := []struct {
		name       string
		d          websocket.Dialer
		compressed bool
	}{
		{"hertzws+takeover", websocket.Dialer{EnableCompression: true}, true},
		{"hertzws+notakeover", websocket.Dialer{EnableCompression: true, Compression: websocket.CompressionOptions{
			ServerNoContextTakeover: true, ClientNoContextTakeover: true}}, true},
		{"hertzws-plain", websocket.Dialer{}, false},
	}
	for _, pd := range dialers {
		var sc *wstest.SniffedConn
		d := pd.d
		d.NetDial = func(network, addr string) (net.Conn, error) {
			c, err := net.DialTimeout(network, addr, czTimeout)
			if err != nil {
				return nil, err
			}
			sc = wstest.Sniff(c)
			return sc, nil
		}
		c, _ := wstest.Dial(t, &d, url, nil)
		peers = append(peers, &czPeer{name: pd.name, server: czNextConn(t, conns), sniff: sc.In, compressed: pd.compressed,
			read: func() ([]byte, error) {
				_ = c.SetReadDeadline(time.Now().Add(czTimeout))
				_, p, err := c.ReadMessage()
				return p, err
			}})
	}

	if withRaw {
		r := czDialRaw(t, url, "permessage-deflate")
		peers = append(peers, &czPeer{name: "raw+takeover", server: czNextConn(t, conns), compressed: true,
			read: func() ([]byte, error) {
				m, err := r.recv()
				if err == nil && !m.compressed && len(m.data) >= websocket.DefaultCompressionThreshold {
					err = errors.New("uncompressed message")
				}
				return m.data, err
			}})
	}
	return peers
}

func TestCompressionPreparedBroadcast(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		peers := czPeers(t, tc, true)
		send := func(p *czPeer, msg []byte, prepared *websocket.PreparedMessage) {
			t.Helper()
			var mark wstest.SniffMark
			if p.sniff != nil {
				mark = p.sniff.Mark()
			}
			var err error
			if prepared != nil {
				err = p.server.WritePreparedMessage(prepared)
			} else {
				err = p.server.WriteMessage(websocket.TextMessage, msg)
			}
			if err != nil {
				t.Fatalf("%s: write: %v", p.name, err)
			}
			got, err := p.read()
			if err != nil {
				t.Fatalf("%s: read: %v", p.name, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("%s: got %d B %.60q, want %d B %.60q", p.name, len(got), got, len(msg), msg)
			}
			if p.sniff != nil {
				_, frames := p.sniff.Since(mark)
				if len(frames) != 1 || (frames[0].Rsv == frame.Rsv1) != p.compressed {
					t.Fatalf("%s: frames %+v, compressed want %v", p.name, frames, p.compressed)
				}
			}
		}
		history := func(i int) []byte { return wstest.ChatMessage(i % 6) }
		big := bytes.Join([][]byte{wstest.ChatMessage(0), wstest.ChatMessage(1), wstest.ChatMessage(2), wstest.ChatMessage(3)}, []byte("\n"))
		pm1, err := websocket.NewPreparedMessage(websocket.TextMessage, big)
		if err != nil {
			t.Fatal(err)
		}
		pm2, _ := websocket.NewPreparedMessage(websocket.TextMessage, append(wstest.JSONText(4000, 9), big...))
		for round := 0; round < 3; round++ {
			// Fill the takeover windows with history the next messages
			// will refer to.
			for i := 0; i < 6; i++ {
				for _, p := range peers {
					send(p, history(i), nil)
				}
			}
			for _, p := range peers {
				send(p, big, pm1)
			}
			// A deflater that kept its window would now refer to bytes the
			// client's window no longer has where it expects them.
			for i := 0; i < 8; i++ {
				for _, p := range peers {
					send(p, history(i), nil)
					if i == 3 {
						send(p, big, nil)
						send(p, append(wstest.JSONText(4000, 9), big...), pm2)
						send(p, append(wstest.JSONText(4000, 9), big...), pm2)
					}
				}
			}
		}
	})
}

func TestCompressionPreparedConcurrent(t *testing.T) {
	const writers, perWriter = 6, 20
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		peers := czPeers(t, tc, true)
		msgs := [][]byte{[]byte("tiny prepared"), wstest.JSONText(1024, 1), wstest.JSONText(8192, 2)}
		var pms []*websocket.PreparedMessage
		for _, m := range msgs {
			pm, err := websocket.NewPreparedMessage(websocket.TextMessage, m)
			if err != nil {
				t.Fatal(err)
			}
			pms = append(pms, pm)
		}
		normal := func(g, k int) []byte {
			return []byte(fmt.Sprintf("normal g=%d k=%d %s", g, k, wstest.ChatMessage(g*perWriter+k)))
		}

		var wg sync.WaitGroup
		for _, p := range peers {
			p := p
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts := make([]int, len(msgs))
				seen := map[string]bool{}
				for i := 0; i < writers*perWriter; i++ {
					got, err := p.read()
					if err != nil {
						t.Errorf("%s: read %d: %v", p.name, i, err)
						return
					}
					matched := false
					for j, m := range msgs {
						if bytes.Equal(got, m) {
							counts[j]++
							matched = true
						}
					}
					if !matched {
						var g, k int
						if _, err := fmt.Sscanf(string(got), "normal g=%d k=%d", &g, &k); err != nil || !bytes.Equal(got, normal(g, k)) || seen[string(got)] {
							t.Errorf("%s: unexpected message %.80q", p.name, got)
							return
						}
						seen[string(got)] = true
					}
				}
				want := make([]int, len(msgs))
				for g := 0; g < writers; g++ {
					for k := 0; k < perWriter; k++ {
						if (g+k)%4 != 0 {
							want[(g+k)%3]++
						}
					}
				}
				if fmt.Sprint(counts) != fmt.Sprint(want) {
					t.Errorf("%s: prepared messages received %v, want %v", p.name, counts, want)
				}
			}()
		}
		var ww sync.WaitGroup
		for g := 0; g < writers; g++ {
			g := g
			ww.Add(1)
			go func() {
				defer ww.Done()
				for k := 0; k < perWriter; k++ {
					for _, p := range peers {
						var err error
						if (g+k)%4 == 0 {
							err = p.server.WriteMessage(websocket.TextMessage, normal(g, k))
						} else {
							err = p.server.WritePreparedMessage(pms[(g+k)%3])
						}
						if err != nil {
							t.Errorf("%s: write: %v", p.name, err)
							return
						}
					}
				}
			}()
		}
		ww.Wait()
		wg.Wait()
	})
}

// ---------------------------------------------------------------------------
// 8. Allocations in steady state, measured inside the handler.

// czAllocs are allocations per operation measured on the server.
type czAllocs struct {
	writeUncompressed, writeCompressed, nextWriter, prepared, read float64
	err                                                            error
}

// czDiscard reads and drops everything the server sends, without
// allocating, until the connection closes.
func czDiscard(r *czRaw) {
	buf := make([]byte, 64<<10)
	_ = r.cc.SetReadDeadline(time.Time{})
	for {
		if _, err := r.br.Read(buf); err != nil {
			return
		}
	}
}

func TestCompressionSteadyStateAllocs(t *testing.T) {
	const runs = 1000
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, takeover := range []bool{true, false} {
			takeover := takeover
			name := "Takeover"
			offer := "permessage-deflate"
			if !takeover {
				name = "NoTakeover"
				offer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
			}
			t.Run(name, func(t *testing.T) {
				msg := wstest.ChatMessage(1)
				for len(msg) < 1024 {
					msg = append(msg, wstest.ChatMessage(len(msg))...)
				}
				msg = msg[:1024]
				pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, msg)
				readPhase := make(chan struct{})
				res := make(chan czAllocs, 1)
				u := &websocket.HertzUpgrader{EnableCompression: true}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
					var a czAllocs
					defer func() { res <- a }()
					fail := func(err error) {
						if a.err == nil && err != nil {
							a.err = err
						}
					}
					write := func() { fail(c.WriteMessage(websocket.TextMessage, msg)) }
					nextWriter := func() {
						w, err := c.NextWriter(websocket.TextMessage)
						if err != nil {
							fail(err)
							return
						}
						_, err = w.Write(msg)
						fail(err)
						fail(w.Close())
					}
					prepared := func() { fail(c.WritePreparedMessage(pm)) }
					for i := 0; i < 200; i++ {
						write()
						nextWriter()
						prepared()
					}
					c.EnableWriteCompression(false)
					a.writeUncompressed = testing.AllocsPerRun(runs, write)
					c.EnableWriteCompression(true)
					a.writeCompressed = testing.AllocsPerRun(runs, write)
					a.nextWriter = testing.AllocsPerRun(runs, nextWriter)
					a.prepared = testing.AllocsPerRun(runs, prepared)

					close(readPhase)
					buf := make([]byte, 4096)
					read := func() {
						_, r, err := c.NextReader()
						if err != nil {
							fail(err)
							return
						}
						for {
							_, err := r.Read(buf)
							if err == io.EOF {
								return
							}
							if err != nil {
								fail(err)
								return
							}
						}
					}
					for i := 0; i < 200; i++ {
						read()
					}
					a.read = testing.AllocsPerRun(runs, read)
				})
				r := czDialRaw(t, url, offer)
				go czDiscard(r)
				// The client sends one message compressed as a fresh stream
				// over and over: valid with and without takeover.
				frameBytes := wstest.EncodeFrame(frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: frame.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, czCompress(msg, 6))
				batch := bytes.Repeat(frameBytes, 64)
				go func() {
					<-readPhase
					for {
						if _, err := r.cc.Write(batch); err != nil {
							return
						}
					}
				}()
				var a czAllocs
				select {
				case a = <-res:
				case <-time.After(4 * czTimeout):
					t.Fatal("handler did not finish")
				}
				if a.err != nil {
					t.Fatalf("handler: %v", a.err)
				}
				t.Logf("allocs/op: WriteMessage uncompressed %.2f, compressed %.2f; NextWriter %.2f; WritePreparedMessage %.2f; NextReader+Read %.2f",
					a.writeUncompressed, a.writeCompressed, a.nextWriter, a.prepared, a.read)
				// Buffers come from sync.Pools, which the race detector
				// makes drop items on purpose (see allocSlack). The
				// compressor's per-message state (with or without
				// takeover: a connection keeps only its window) and, for
				// reading, the inflate state are pooled too, and
				// rebuilding one costs several allocations: those paths
				// are checked only where pools keep what they get (make
				// test runs this test without the race detector as well).
				limit := allocSlack()
				strict := !poolsAreLossy()
				if a.writeUncompressed > limit || (strict && a.writeCompressed > limit) {
					t.Errorf("WriteMessage allocates in steady state: %.2f compressed, %.2f uncompressed", a.writeCompressed, a.writeUncompressed)
				}
				if a.prepared > limit || (strict && a.nextWriter > limit) {
					t.Errorf("allocations in steady state: NextWriter %.2f, WritePreparedMessage %.2f", a.nextWriter, a.prepared)
				}
				if !poolsAreLossy() && a.read != 0 {
					t.Errorf("NextReader+Read allocates %.2f per compressed message", a.read)
				}
			})
		}
	})
}
