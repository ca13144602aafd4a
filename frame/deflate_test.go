package frame_test

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hertzws/websocket/frame"
)

// ---------------------------------------------------------------------------
// Test data, deterministic for a seed.

var dflWords = strings.Fields(`the quick brown fox jumps over a lazy dog while
websocket frames carry compressed messages between client and server across
one long lived connection sending text binary ping pong close payload window
history context takeover deflate inflate block huffman literal length distance
stored fixed dynamic header mask opcode continuation fragment extension
negotiation parameter server_max_window_bits client_no_context_takeover`)

// dflText returns n bytes of English-like text.
func dflText(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n+32)
	for len(b) < n {
		b = append(b, dflWords[r.Intn(len(dflWords))]...)
		switch r.Intn(14) {
		case 0:
			b = append(b, ".\n"...)
		case 1:
			b = append(b, ", "...)
		default:
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// dflJSON returns n bytes of JSON-like records (the last one cut short).
func dflJSON(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n+128)
	b = append(b, '[')
	for len(b) < n {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, r.Int63n(1000000), 10)
		b = append(b, `,"user":"`...)
		b = append(b, dflWords[r.Intn(len(dflWords))]...)
		b = append(b, `","active":`...)
		b = strconv.AppendBool(b, r.Intn(2) == 0)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, r.Float64()*100, 'f', 3, 64)
		b = append(b, `,"tags":["`...)
		b = append(b, dflWords[r.Intn(len(dflWords))]...)
		b = append(b, `","`...)
		b = append(b, dflWords[r.Intn(len(dflWords))]...)
		b = append(b, `"]},`...)
	}
	return b[:n]
}

// dflRandom returns n incompressible bytes.
func dflRandom(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// dflMixed returns n bytes made of runs of text, JSON, random bytes, zeros
// and copies of earlier runs at distances near and beyond the 32 KiB window.
func dflMixed(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n+(64<<10))
	for len(b) < n {
		size := 1 + r.Intn(64<<10)
		switch r.Intn(5) {
		case 0:
			b = append(b, dflText(size, r.Int63())...)
		case 1:
			b = append(b, dflJSON(size, r.Int63())...)
		case 2:
			b = append(b, dflRandom(size, r.Int63())...)
		case 3:
			b = append(b, make([]byte, size)...)
		case 4:
			if len(b) == 0 {
				continue
			}
			from := len(b) - 1 - r.Intn(minInt(len(b), 100<<10))
			if size > len(b)-from {
				size = len(b) - from
			}
			b = append(b, b[from:from+size]...)
		}
	}
	return b[:n]
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// ---------------------------------------------------------------------------
// Helpers.

func dflNewDeflater(t testing.TB, level, bits int, takeover bool) *frame.Deflater {
	t.Helper()
	d, err := frame.NewDeflater(level, bits, takeover)
	if err != nil {
		t.Fatalf("NewDeflater(%d, %d, %v): %v", level, bits, takeover, err)
	}
	return d
}

// dflCompress compresses msg as one message and returns a copy of its
// payload.
func dflCompress(t testing.TB, d *frame.Deflater, msg []byte) []byte {
	t.Helper()
	if n, err := d.Write(msg); err != nil || n != len(msg) {
		t.Fatalf("Deflater.Write = %d, %v; want %d, nil", n, err, len(msg))
	}
	b, err := d.Finish()
	if err != nil {
		t.Fatalf("Deflater.Finish: %v", err)
	}
	out := append([]byte(nil), b...)
	d.EndMessage()
	return out
}

// dflCompressChunked writes msg in chunks of the given size and frames it
// the way a streaming writer does: after each Write it takes Pending and
// consumes it (all or, every other time, half of it), then appends Finish.
func dflCompressChunked(t testing.TB, d *frame.Deflater, msg []byte, chunk int) []byte {
	t.Helper()
	var out []byte
	for i, k := 0, 0; i < len(msg); i, k = i+chunk, k+1 {
		end := minInt(i+chunk, len(msg))
		if _, err := d.Write(msg[i:end]); err != nil {
			t.Fatalf("Deflater.Write: %v", err)
		}
		p := d.Pending()
		if k%2 == 1 {
			p = p[:len(p)/2]
		}
		out = append(out, p...)
		if len(p) > 0 {
			d.Consume(len(p))
		}
	}
	last, err := d.Finish()
	if err != nil {
		t.Fatalf("Deflater.Finish: %v", err)
	}
	out = append(out, last...)
	d.EndMessage()
	return out
}

var errDflLimit = errors.New("test: output limit reached")

// dflDecode decodes one message read from payload, stopping with
// errDflLimit once more than limit bytes came out (limit > 0).
func dflDecode(f *frame.Inflater, payload io.Reader, limit int) ([]byte, error) {
	f.Begin(payload)
	defer f.EndMessage()
	var out []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if limit > 0 && len(out) > limit {
			return out, errDflLimit
		}
	}
}

func dflMustDecode(t testing.TB, f *frame.Inflater, payload []byte, want []byte) {
	t.Helper()
	got, err := dflDecode(f, bytes.NewReader(payload), 0)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decoded %d bytes (%s), want %d bytes (%s)", len(got), dflShort(got), len(want), dflShort(want))
	}
}

func dflShort(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%q...", b[:24])
	}
	return fmt.Sprintf("%q", b)
}

// dflStdStream turns the payloads of a run of messages into one DEFLATE
// stream: each payload with the 00 00 ff ff tail put back, then an empty
// final stored block.
func dflStdStream(payloads [][]byte) []byte {
	var s []byte
	for _, p := range payloads {
		s = append(s, p...)
		s = append(s, 0x00, 0x00, 0xff, 0xff)
	}
	return append(s, 0x01, 0x00, 0x00, 0xff, 0xff)
}

// raceEnabled reports whether the test binary was built with -race, in
// which sync.Pool drops items at random and allocation counts mean little.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// 1. Round trips.

type dflMsg struct {
	name string
	data []byte
}

func dflStandardMessages() []dflMsg {
	return []dflMsg{
		{"0B", nil},
		{"1B", []byte{'x'}},
		{"100B", dflText(100, 1)},
		{"1KiB-json", dflJSON(1<<10, 2)},
		{"64KiB-text", dflText(64<<10, 3)},
		{"1MiB-random", dflRandom(1<<20, 4)},
	}
}

func TestDeflaterRoundTrip(t *testing.T) {
	msgs := dflStandardMessages()
	type cfg struct{ level, bits int }
	var cfgs []cfg
	for level := frame.HuffmanOnly; level <= frame.BestCompression; level++ {
		cfgs = append(cfgs, cfg{level, frame.MaxWindowBits})
	}
	for bits := frame.MinWindowBits; bits < frame.MaxWindowBits; bits++ {
		cfgs = append(cfgs, cfg{frame.BestSpeed, bits}, cfg{frame.BestCompression, bits})
	}
	for _, c := range cfgs {
		for _, takeover := range []bool{false, true} {
			c, takeover := c, takeover
			t.Run(fmt.Sprintf("level=%d/bits=%d/takeover=%v", c.level, c.bits, takeover), func(t *testing.T) {
				d := dflNewDeflater(t, c.level, c.bits, takeover)
				defer d.Close()
				if d.Level() != c.level || d.WindowBits() != c.bits {
					t.Fatalf("Level, WindowBits = %d, %d; want %d, %d", d.Level(), d.WindowBits(), c.level, c.bits)
				}
				f := frame.NewInflater(c.bits, takeover)
				if f.Takeover() != takeover {
					t.Fatalf("Takeover() = %v", f.Takeover())
				}
				// Two rounds: with takeover the second can refer to the first.
				for round := 0; round < 2; round++ {
					for _, m := range msgs {
						if round > 0 && len(m.data) > 64<<10 {
							continue // keep the run short
						}
						p := dflCompress(t, d, m.data)
						if bound := len(m.data) + len(m.data)/256 + 16; len(p) > bound {
							t.Errorf("%s: compressed to %d bytes, more than %d", m.name, len(p), bound)
						}
						if c.level > 0 && m.name == "64KiB-text" && len(p) > len(m.data)*6/10 {
							t.Errorf("%s: compressed to %d bytes, poor for level %d", m.name, len(p), c.level)
						}
						got, err := dflDecode(f, bytes.NewReader(p), 0)
						if err != nil {
							t.Fatalf("round %d, %s: decode: %v", round, m.name, err)
						}
						if !bytes.Equal(got, m.data) {
							t.Fatalf("round %d, %s: decoded %d bytes, want %d (equal prefix %d)",
								round, m.name, len(got), len(m.data), dflCommonPrefix(got, m.data))
						}
					}
				}
			})
		}
	}
}

func dflCommonPrefix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func TestDeflaterRoundTripLarge(t *testing.T) {
	size := 16 << 20
	if testing.Short() {
		size = 4 << 20
	}
	full := dflMixed(size, 16)
	for _, c := range []struct {
		level, bits int
		takeover    bool
		size        int
	}{
		{frame.DefaultCompressionLevel, 15, true, size},
		{frame.BestSpeed, 11, false, 4 << 20},
	} {
		c := c
		msg := full[:c.size]
		t.Run(fmt.Sprintf("level=%d/bits=%d/takeover=%v", c.level, c.bits, c.takeover), func(t *testing.T) {
			d := dflNewDeflater(t, c.level, c.bits, c.takeover)
			defer d.Close()
			f := frame.NewInflater(c.bits, c.takeover)
			p := dflCompressChunked(t, d, msg, 1<<20)
			t.Logf("%d bytes -> %d", len(msg), len(p))
			dflMustDecode(t, f, p, msg)
			// And a short message after it, still in the same context.
			tail := msg[len(msg)-5000:]
			dflMustDecode(t, f, dflCompress(t, d, tail), tail)
		})
	}
}

// dflRepetitiveMessages returns count messages made from a few templates so
// that messages repeat, exactly or in part, and back-references across
// messages pay off.
func dflRepetitiveMessages(count int) [][]byte {
	msgs := make([][]byte, count)
	for i := range msgs {
		var m []byte
		switch i % 4 {
		case 0:
			m = dflJSON(600+37*(i%5), int64(i%5))
		case 1:
			m = dflText(2000, int64(i%3))
		case 2:
			m = append(dflJSON(300, 7), dflText(150+i, int64(i))...)
		case 3:
			m = dflText(130+i, 9)
		}
		msgs[i] = m
	}
	return msgs
}

func TestDeflaterMessageSequence(t *testing.T) {
	msgs := dflRepetitiveMessages(20)
	var total int
	for _, m := range msgs {
		total += len(m)
	}
	for _, bits := range []int{8, 9, 10, 12, 15} {
		for _, level := range []int{frame.HuffmanOnly, frame.NoCompression, frame.BestSpeed, frame.DefaultCompressionLevel, 6, 7, frame.BestCompression} {
			sizes := map[bool]int{}
			for _, takeover := range []bool{false, true} {
				d := dflNewDeflater(t, level, bits, takeover)
				f := frame.NewInflater(bits, takeover)
				for i, m := range msgs {
					p := dflCompress(t, d, m)
					sizes[takeover] += len(p)
					got, err := dflDecode(f, bytes.NewReader(p), 0)
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("bits=%d level=%d takeover=%v message %d: got %d bytes, %v; want %d bytes",
							bits, level, takeover, i, len(got), err, len(m))
					}
				}
				d.Close()
			}
			t.Logf("bits=%2d level=%2d: %d bytes -> %d without takeover, %d with", bits, level, total, sizes[false], sizes[true])
			if level > 0 && bits == 15 && sizes[true] > sizes[false]*3/4 {
				t.Errorf("bits=%d level=%d: takeover saved too little: %d vs %d", bits, level, sizes[true], sizes[false])
			}
		}
	}
}

// TestDeflaterTakeoverShrinksRepeats sends a message that fits the window
// twice: with takeover the second copy is a back-reference, without it the
// message is compressed from scratch again.
func TestDeflaterTakeoverShrinksRepeats(t *testing.T) {
	for bits := frame.MinWindowBits; bits <= frame.MaxWindowBits; bits++ {
		for _, level := range []int{frame.BestSpeed, 5, frame.BestCompression} {
			msg := dflRandom((1<<bits)*3/4, int64(bits))
			size := map[bool]int{}
			for _, takeover := range []bool{false, true} {
				d := dflNewDeflater(t, level, bits, takeover)
				f := frame.NewInflater(bits, takeover)
				dflMustDecode(t, f, dflCompress(t, d, msg), msg)
				p := dflCompress(t, d, msg)
				dflMustDecode(t, f, p, msg)
				size[takeover] = len(p)
				d.Close()
			}
			if size[true]*10 > size[false] {
				t.Errorf("bits=%d level=%d: repeated %d-byte message compressed to %d bytes with takeover, %d without",
					bits, level, len(msg), size[true], size[false])
			}
		}
	}
}

// ---------------------------------------------------------------------------
// 2. Streaming.

func TestDeflaterStreaming(t *testing.T) {
	msg := dflMixed(256<<10, 21)
	for _, takeover := range []bool{false, true} {
		for _, bits := range []int{9, 15} {
			d := dflNewDeflater(t, frame.BestSpeed, bits, takeover)
			f := frame.NewInflater(bits, takeover)
			for _, chunk := range []int{1 << 20, 70000, 4096, 1000, 7, 1} {
				m := msg
				if chunk < 100 {
					m = msg[:20000]
				}
				p := dflCompressChunked(t, d, m, chunk)
				dflMustDecode(t, f, p, m)
			}
			d.Close()
		}
	}
}

func TestDeflaterPendingHoldsBackTail(t *testing.T) {
	d := dflNewDeflater(t, frame.BestSpeed, 15, true)
	defer d.Close()
	if p := d.Pending(); p != nil {
		t.Fatalf("Pending on a new Deflater = %d bytes", len(p))
	}
	msg := dflRandom(200<<10, 5)
	if _, err := d.Write(msg); err != nil {
		t.Fatal(err)
	}
	p := d.Pending()
	if len(p) == 0 {
		t.Fatal("no pending output after 200 KiB")
	}
	sent := append([]byte(nil), p...)
	d.Consume(len(p))
	if p := d.Pending(); len(p) != 0 {
		t.Fatalf("Pending right after Consume = %d bytes", len(p))
	}
	last, err := d.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if len(last) < 1 {
		t.Fatal("Finish returned nothing after pending bytes")
	}
	sent = append(sent, last...)
	d.EndMessage()
	dflMustDecode(t, frame.NewInflater(15, true), sent, msg)
}

func TestInflaterPayloadReaders(t *testing.T) {
	msgs := dflRepetitiveMessages(8)
	msgs = append(msgs, dflMixed(100<<10, 3))
	d := dflNewDeflater(t, 5, 15, true)
	defer d.Close()
	payloads := make([][]byte, len(msgs))
	for i, m := range msgs {
		payloads[i] = dflCompress(t, d, m)
	}
	wrap := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data-eof": iotest.DataErrReader,
	}
	for name, w := range wrap {
		f := frame.NewInflater(15, true)
		for i, p := range payloads {
			got, err := dflDecode(f, w(bytes.NewReader(p)), 0)
			if err != nil || !bytes.Equal(got, msgs[i]) {
				t.Fatalf("%s: message %d: got %d bytes, %v; want %d bytes", name, i, len(got), err, len(msgs[i]))
			}
		}
	}
	// Reading into a 1-byte buffer.
	f := frame.NewInflater(15, true)
	for i, p := range payloads[:4] {
		f.Begin(iotest.OneByteReader(bytes.NewReader(p)))
		var got []byte
		var one [1]byte
		for {
			n, err := f.Read(one[:])
			got = append(got, one[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		f.EndMessage()
		if !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d decoded byte by byte differs", i)
		}
	}
}

// ---------------------------------------------------------------------------
// 3. Independent check with the standard library.

func TestDeflaterTakeoverStdlibDecodes(t *testing.T) {
	msgs := dflRepetitiveMessages(20)
	msgs = append(msgs, nil, dflMixed(80<<10, 8), []byte("z"), dflText(5000, 1))
	want := bytes.Join(msgs, nil)
	for _, bits := range []int{8, 9, 12, 14, 15} {
		for _, level := range []int{frame.HuffmanOnly, frame.NoCompression, frame.BestSpeed, 5, frame.BestCompression} {
			d := dflNewDeflater(t, level, bits, true)
			payloads := make([][]byte, len(msgs))
			for i, m := range msgs {
				payloads[i] = dflCompress(t, d, m)
			}
			d.Close()
			got, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(dflStdStream(payloads))))
			if err != nil {
				t.Fatalf("bits=%d level=%d: compress/flate: %v", bits, level, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("bits=%d level=%d: compress/flate decoded %d bytes, want %d (equal prefix %d)",
					bits, level, len(got), len(want), dflCommonPrefix(got, want))
			}
		}
	}
}

// ---------------------------------------------------------------------------
// 4. Window bound, checked with an independent DEFLATE decoder.

// dflInflater is a plain RFC 1951 decoder that records the longest
// back-reference distance used and where each block starts and ends.
type dflInflater struct {
	in      []byte
	pos     int // next byte of in
	bitBuf  uint64
	bitCnt  uint
	out     []byte
	maxDist int
	blocks  []dflBlock
}

type dflBlock struct {
	typ        int
	start, end int // bit offsets in the input
}

func (z *dflInflater) bitPos() int { return z.pos*8 - int(z.bitCnt) }

func (z *dflInflater) bits(n uint) (int, error) {
	for z.bitCnt < n {
		if z.pos >= len(z.in) {
			return 0, io.ErrUnexpectedEOF
		}
		z.bitBuf |= uint64(z.in[z.pos]) << z.bitCnt
		z.pos++
		z.bitCnt += 8
	}
	v := int(z.bitBuf & (1<<n - 1))
	z.bitBuf >>= n
	z.bitCnt -= n
	return v, nil
}

// dflHuffman is a canonical Huffman code in the form puff.c uses.
type dflHuffman struct {
	count  [16]int
	symbol []int
}

func dflNewHuffman(lengths []int) (*dflHuffman, error) {
	h := &dflHuffman{symbol: make([]int, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	if h.count[0] == len(lengths) {
		return h, nil // no codes: fine until a symbol is decoded
	}
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= h.count[l]
		if left < 0 {
			return nil, errors.New("over-subscribed code")
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return h, nil
}

func (z *dflInflater) decode(h *dflHuffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := z.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
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

var (
	dflLenBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	dflLenExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	dflDstBase  = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	dflDstExtra = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	dflClOrder  = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// dflDecodeStream decodes a whole DEFLATE stream, which must end with a
// final block.
func dflDecodeStream(in []byte) (*dflInflater, error) {
	z := &dflInflater{in: in}
	for {
		start := z.bitPos()
		final, err := z.bits(1)
		if err != nil {
			return z, err
		}
		typ, err := z.bits(2)
		if err != nil {
			return z, err
		}
		switch typ {
		case 0:
			err = z.stored()
		case 1:
			err = z.fixed()
		case 2:
			err = z.dynamic()
		default:
			err = errors.New("reserved block type")
		}
		if err != nil {
			return z, err
		}
		z.blocks = append(z.blocks, dflBlock{typ: typ, start: start, end: z.bitPos()})
		if final == 1 {
			return z, nil
		}
	}
}

func (z *dflInflater) stored() error {
	z.bitBuf, z.bitCnt = 0, 0 // drop to a byte boundary; bits hold < 8 here
	if z.pos+4 > len(z.in) {
		return io.ErrUnexpectedEOF
	}
	n := int(z.in[z.pos]) | int(z.in[z.pos+1])<<8
	nn := int(z.in[z.pos+2]) | int(z.in[z.pos+3])<<8
	if n != ^nn&0xffff {
		return errors.New("stored length mismatch")
	}
	z.pos += 4
	if z.pos+n > len(z.in) {
		return io.ErrUnexpectedEOF
	}
	z.out = append(z.out, z.in[z.pos:z.pos+n]...)
	z.pos += n
	return nil
}

var dflFixedLit, dflFixedDist *dflHuffman

func (z *dflInflater) fixed() error {
	if dflFixedLit == nil {
		l := make([]int, 288)
		for i := range l {
			switch {
			case i < 144:
				l[i] = 8
			case i < 256:
				l[i] = 9
			case i < 280:
				l[i] = 7
			default:
				l[i] = 8
			}
		}
		dflFixedLit, _ = dflNewHuffman(l)
		d := make([]int, 30)
		for i := range d {
			d[i] = 5
		}
		dflFixedDist, _ = dflNewHuffman(d)
	}
	return z.codes(dflFixedLit, dflFixedDist)
}

func (z *dflInflater) dynamic() error {
	nlen, err := z.bits(5)
	if err != nil {
		return err
	}
	ndist, err := z.bits(5)
	if err != nil {
		return err
	}
	ncode, err := z.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return errors.New("bad counts")
	}
	cl := make([]int, 19)
	for i := 0; i < ncode; i++ {
		if cl[dflClOrder[i]], err = z.bits(3); err != nil {
			return err
		}
	}
	clh, err := dflNewHuffman(cl)
	if err != nil {
		return err
	}
	lengths := make([]int, nlen+ndist)
	for i := 0; i < len(lengths); {
		sym, err := z.decode(clh)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		var rep, val int
		switch sym {
		case 16:
			if i == 0 {
				return errors.New("repeat with no previous length")
			}
			val = lengths[i-1]
			rep, err = z.bits(2)
			rep += 3
		case 17:
			rep, err = z.bits(3)
			rep += 3
		default:
			rep, err = z.bits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+rep > len(lengths) {
			return errors.New("too many lengths")
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return errors.New("no end-of-block code")
	}
	lit, err := dflNewHuffman(lengths[:nlen])
	if err != nil {
		return err
	}
	dist, err := dflNewHuffman(lengths[nlen:])
	if err != nil {
		return err
	}
	return z.codes(lit, dist)
}

func (z *dflInflater) codes(lit, dist *dflHuffman) error {
	for {
		sym, err := z.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			z.out = append(z.out, byte(sym))
			continue
		case sym == 256:
			return nil
		case sym > 285:
			return errors.New("bad length symbol")
		}
		sym -= 257
		extra, err := z.bits(dflLenExtra[sym])
		if err != nil {
			return err
		}
		length := dflLenBase[sym] + extra
		dsym, err := z.decode(dist)
		if err != nil {
			return err
		}
		if dsym > 29 {
			return errors.New("bad distance symbol")
		}
		if extra, err = z.bits(dflDstExtra[dsym]); err != nil {
			return err
		}
		d := dflDstBase[dsym] + extra
		if d > len(z.out) {
			return errors.New("distance too far back")
		}
		if d > z.maxDist {
			z.maxDist = d
		}
		for i := 0; i < length; i++ {
			z.out = append(z.out, z.out[len(z.out)-d])
		}
	}
}

// dflLongRangeData repeats random pieces at distances just under and just
// over 2^bits, and a 40 KiB block beyond any window, so that an encoder
// ignoring its window would use longer distances. Text between the pieces
// keeps the encoders matching: after a long run without matches the fast
// encoders skip ahead and would not even try.
func dflLongRangeData(seed int64, bits int) []byte {
	const sep = 20
	r := rand.New(rand.NewSource(seed))
	block := dflRandom(40<<10, seed)
	data := dflText(8<<10, seed)
	data = append(data, block...)
	data = append(data, dflText(1000, seed+1)...)
	data = append(data, block...)
	for _, delta := range []int{-64, -1, 1, 64} {
		// The second copy of x starts 2^bits+delta bytes after the first.
		x := dflRandom(1<<bits+delta-sep, r.Int63())
		data = append(data, dflText(300, r.Int63())...)
		data = append(data, x...)
		data = append(data, dflText(sep, r.Int63())...)
		data = append(data, x...)
	}
	return append(data, dflText(2000, seed+2)...)
}

func TestDeflaterWindowBound(t *testing.T) {
	for bits := frame.MinWindowBits; bits <= frame.MaxWindowBits; bits++ {
		data := dflLongRangeData(40, bits)
		// The first message is the long-range data; the next ones, with
		// takeover, repeat pieces of it so distances can also cross message
		// boundaries.
		msgs := [][]byte{data, data[len(data)-3000:], data[1000:1300], data[:5000]}
		want := bytes.Join(msgs, nil)
		longest := 0
		for level := frame.HuffmanOnly; level <= frame.BestCompression; level++ {
			for _, takeover := range []bool{false, true} {
				d := dflNewDeflater(t, level, bits, takeover)
				var payloads [][]byte
				for _, m := range msgs {
					payloads = append(payloads, dflCompress(t, d, m))
				}
				d.Close()
				var z *dflInflater
				var err error
				if takeover {
					z, err = dflDecodeStream(dflStdStream(payloads))
					if err == nil && !bytes.Equal(z.out, want) {
						err = errors.New("output differs")
					}
				} else {
					// Each message is a stream of its own.
					for i, p := range payloads {
						var zi *dflInflater
						zi, err = dflDecodeStream(dflStdStream([][]byte{p}))
						if err == nil && !bytes.Equal(zi.out, msgs[i]) {
							err = errors.New("output differs")
						}
						if err != nil {
							break
						}
						if z == nil || zi.maxDist > z.maxDist {
							z = zi
						}
					}
				}
				if err != nil {
					t.Fatalf("bits=%d level=%d takeover=%v: test decoder: %v", bits, level, takeover, err)
				}
				if z.maxDist > longest {
					longest = z.maxDist
				}
				if z.maxDist > 1<<bits {
					t.Errorf("bits=%d level=%d takeover=%v: back-reference of %d bytes, window is %d",
						bits, level, takeover, z.maxDist, 1<<bits)
				}
				if (level == frame.HuffmanOnly || level == frame.NoCompression) && z.maxDist != 0 {
					t.Errorf("level %d used a back-reference (%d)", level, z.maxDist)
				}
			}
		}
		t.Logf("bits=%2d: longest distance used %5d (window %5d)", bits, longest, 1<<bits)
		// The data is built to need long distances: make sure the encoder
		// came close to the limit, so the check above is not vacuous.
		if longest <= (1<<bits)*3/4 {
			t.Errorf("bits=%d: longest distance %d; the test data did not exercise the window", bits, longest)
		}
	}
}

// TestDflDecoderSelfCheck shows the test decoder against compress/flate,
// and that the window check can fail: a full-window stream of the same data
// uses distances far beyond the small windows.
func TestDflDecoderSelfCheck(t *testing.T) {
	data := dflLongRangeData(41, 15)
	for _, level := range []int{stdflate.HuffmanOnly, 0, 1, 5, 9} {
		var buf bytes.Buffer
		w, _ := stdflate.NewWriter(&buf, level)
		w.Write(data[:len(data)/2])
		w.Flush()
		w.Write(data[len(data)/2:])
		w.Close()
		z, err := dflDecodeStream(buf.Bytes())
		if err != nil || !bytes.Equal(z.out, data) {
			t.Fatalf("level %d: test decoder: %v", level, err)
		}
		t.Logf("compress/flate level %d: longest distance %d", level, z.maxDist)
		// A full-window encoder reaches far beyond the small windows, so the
		// bound checked in TestDeflaterWindowBound can fail.
		if level >= 5 && (z.maxDist <= 1<<14 || z.maxDist > 1<<15) {
			t.Errorf("level %d: longest distance %d; want it in (16384, 32768]", level, z.maxDist)
		}
	}
	// Corrupt streams are rejected rather than decoded.
	for _, bad := range [][]byte{{0x07}, {0x00, 0x01, 0x00, 0x00, 0x00}, {0x03, 0x02}} {
		if _, err := dflDecodeStream(bad); err == nil {
			t.Errorf("test decoder accepted %x", bad)
		}
	}
}

// ---------------------------------------------------------------------------
// 5. ForgetContext.

func TestDeflaterForgetContext(t *testing.T) {
	a := dflText(3000, 51)
	b := dflRandom(1000, 52)
	p := dflRandom(1000, 53) // the prepared message, same length as b
	c := append(append([]byte(nil), b...), a[:500]...)

	run := func(t *testing.T, level, bits int, forget bool) ([]byte, error) {
		d := dflNewDeflater(t, level, bits, true)
		defer d.Close()
		f := frame.NewInflater(bits, true)
		dflMustDecode(t, f, dflCompress(t, d, a), a)
		dflMustDecode(t, f, dflCompress(t, d, b), b)
		if forget {
			d.ForgetContext()
		}
		prepared, err := frame.AppendCompressed(nil, p, level, bits)
		if err != nil {
			t.Fatal(err)
		}
		dflMustDecode(t, f, prepared, p)
		return dflDecode(f, bytes.NewReader(dflCompress(t, d, c)), 0)
	}
	for _, bits := range []int{11, 12, 15} {
		for _, level := range []int{frame.BestSpeed, 5, frame.BestCompression} {
			got, err := run(t, level, bits, true)
			if err != nil || !bytes.Equal(got, c) {
				t.Errorf("bits=%d level=%d: with ForgetContext got %d bytes, %v; want %d bytes", bits, level, len(got), err, len(c))
			}
			// Without ForgetContext the Deflater refers to b at the distance
			// where the peer now has p: the message decodes wrongly.
			got, err = run(t, level, bits, false)
			if err == nil && bytes.Equal(got, c) {
				t.Errorf("bits=%d level=%d: without ForgetContext the message still decoded; the scenario does not test anything", bits, level)
			}
		}
	}
	// ForgetContext on a fresh Deflater, without takeover, or twice is harmless.
	for _, takeover := range []bool{false, true} {
		d := dflNewDeflater(t, 1, 15, takeover)
		f := frame.NewInflater(15, takeover)
		d.ForgetContext()
		dflMustDecode(t, f, dflCompress(t, d, a), a)
		d.ForgetContext()
		d.ForgetContext()
		dflMustDecode(t, f, dflCompress(t, d, a), a)
		d.Close()
	}
}

// ---------------------------------------------------------------------------
// 6. SetLevel.

func TestDeflaterSetLevel(t *testing.T) {
	msgs := dflRepetitiveMessages(30)
	for _, bits := range []int{9, 15} {
		d := dflNewDeflater(t, frame.BestSpeed, bits, true)
		f := frame.NewInflater(bits, true)
		levels := []int{1, 9, 9, -2, 0, 5, -1, 3, 7, 1}
		var payloads [][]byte
		for i, m := range msgs {
			if err := d.SetLevel(levels[i%len(levels)]); err != nil {
				t.Fatal(err)
			}
			if d.Level() != levels[i%len(levels)] {
				t.Fatalf("Level() = %d after SetLevel(%d)", d.Level(), levels[i%len(levels)])
			}
			pl := dflCompress(t, d, m)
			payloads = append(payloads, pl)
			dflMustDecode(t, f, pl, m)
		}
		d.Close()
		got, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(dflStdStream(payloads))))
		if err != nil || !bytes.Equal(got, bytes.Join(msgs, nil)) {
			t.Fatalf("bits=%d: compress/flate: %v", bits, err)
		}
	}
	d := dflNewDeflater(t, 1, 15, true)
	for _, bad := range []int{-3, 10, 100} {
		if err := d.SetLevel(bad); err != frame.ErrInvalidCompressionLevel {
			t.Errorf("SetLevel(%d) = %v", bad, err)
		}
		if _, err := frame.NewDeflater(bad, 15, true); err != frame.ErrInvalidCompressionLevel {
			t.Errorf("NewDeflater(%d) = %v", bad, err)
		}
		if _, err := frame.AppendCompressed(nil, []byte("x"), bad, 15); err != frame.ErrInvalidCompressionLevel {
			t.Errorf("AppendCompressed(level %d) = %v", bad, err)
		}
	}
	if d.Level() != 1 {
		t.Errorf("invalid SetLevel changed the level to %d", d.Level())
	}
}

func TestDeflaterClampsWindowBits(t *testing.T) {
	for _, c := range []struct{ in, want int }{{0, 8}, {7, 8}, {8, 8}, {15, 15}, {16, 15}} {
		if d := dflNewDeflater(t, 1, c.in, false); d.WindowBits() != c.want {
			t.Errorf("NewDeflater(1, %d).WindowBits() = %d, want %d", c.in, d.WindowBits(), c.want)
		}
	}
}

func TestDeflaterEndMessageAbandon(t *testing.T) {
	// A message abandoned half written: the next one starts afresh and
	// still decodes on a takeover Inflater that has seen the earlier ones.
	a, b := dflText(5000, 1), dflText(5000, 2)
	d := dflNewDeflater(t, 1, 15, true)
	f := frame.NewInflater(15, true)
	dflMustDecode(t, f, dflCompress(t, d, a), a)
	if _, err := d.Write(dflRandom(100<<10, 3)); err != nil {
		t.Fatal(err)
	}
	d.EndMessage()
	dflMustDecode(t, f, dflCompress(t, d, b), b)
	d.Close()
	// Close, then use again as if new.
	dflMustDecode(t, frame.NewInflater(15, true), dflCompress(t, d, a), a)
}

func TestAppendCompressed(t *testing.T) {
	for _, m := range dflStandardMessages() {
		for _, bits := range []int{8, 12, 15} {
			for _, level := range []int{-2, 0, 1, 9} {
				prefix := []byte("prefix")
				p, err := frame.AppendCompressed(prefix, m.data, level, bits)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(p, prefix) {
					t.Fatal("AppendCompressed lost dst")
				}
				p = p[len(prefix):]
				// Valid with and without takeover, after other messages.
				for _, takeover := range []bool{false, true} {
					f := frame.NewInflater(bits, takeover)
					dflMustDecode(t, f, dflCompress(t, dflNewDeflater(t, 1, bits, takeover), dflText(3000, 4)), dflText(3000, 4))
					dflMustDecode(t, f, p, m.data)
				}
				if len(m.data) == 0 && !bytes.Equal(p, []byte{0}) {
					t.Errorf("empty message compressed to %x", p)
				}
			}
		}
	}
}

// ---------------------------------------------------------------------------
// 7. Errors.

// dflBitWriter writes a DEFLATE bit stream by hand.
type dflBitWriter struct {
	b    []byte
	acc  uint64
	nacc uint
}

func (w *dflBitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.b = append(w.b, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes a Huffman code, most significant bit first.
func (w *dflBitWriter) code(c uint64, n uint) {
	var r uint64
	for i := uint(0); i < n; i++ {
		r = r<<1 | (c>>i)&1
	}
	w.bits(r, n)
}

func (w *dflBitWriter) flush() []byte {
	if w.nacc > 0 {
		w.b = append(w.b, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
	return w.b
}

func dflCheckInvalid(t *testing.T, name string, err error) {
	t.Helper()
	if !errors.Is(err, frame.ErrInvalidCompressedData) {
		t.Errorf("%s: err = %v, want ErrInvalidCompressedData", name, err)
		return
	}
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != frame.CloseInvalidFramePayloadData {
		t.Errorf("%s: err = %#v, want a *ProtocolError with code 1007", name, err)
	}
}

func TestInflaterInvalidData(t *testing.T) {
	// A fixed block whose first symbol is a match of distance 1.
	var far dflBitWriter
	far.bits(0, 1)
	far.bits(1, 2)
	far.code(0x01, 7) // length symbol 257: 3 bytes
	far.code(0, 5)    // distance 1
	farFirst := far.flush()
	// A fixed block referring 5000 bytes back.
	var far2 dflBitWriter
	far2.bits(0, 1)
	far2.bits(1, 2)
	far2.code(0x30+'a', 8)
	far2.code(0x01, 7)
	far2.code(24, 5) // distance base 4097, 11 extra bits
	far2.bits(5000-4097, 11)
	farLater := far2.flush()

	cases := []struct {
		name     string
		payload  []byte
		takeover bool
		history  []byte // a message decoded before, with takeover
	}{
		{"reserved block type", []byte{0x06}, false, nil},
		{"reserved block type, final", []byte{0x07, 0x00}, false, nil},
		{"stored length mismatch", []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'}, false, nil},
		{"stored block cut short", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 'h', 'e'}, false, nil},
		{"distance before start", farFirst, false, nil},
		{"distance before start, takeover", farFirst, true, nil},
		{"distance beyond history", farLater, true, dflText(1000, 1)},
		{"distance beyond window", farLater, false, dflText(8000, 1)},
		{"bad dynamic header counts", []byte{0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false, nil},
	}
	for _, c := range cases {
		f := frame.NewInflater(15, c.takeover)
		if c.history != nil {
			d := dflNewDeflater(t, 1, 15, c.takeover)
			dflMustDecode(t, f, dflCompress(t, d, c.history), c.history)
		}
		_, err := dflDecode(f, bytes.NewReader(c.payload), 1<<20)
		dflCheckInvalid(t, c.name, err)
	}
	if !strings.Contains(frame.ErrInvalidCompressedData.Error(), "compressed") {
		t.Errorf("ErrInvalidCompressedData.Error() = %q", frame.ErrInvalidCompressedData.Error())
	}
}

func TestInflaterCorruptedPayloads(t *testing.T) {
	msg := dflText(64<<10, 71)
	d := dflNewDeflater(t, 5, 15, false)
	p := dflCompress(t, d, msg)
	r := rand.New(rand.NewSource(72))
	f := frame.NewInflater(15, false)
	var invalid, wrong int
	for i := 0; i < 300; i++ {
		q := append([]byte(nil), p...)
		for k := 0; k < 1+r.Intn(3); k++ {
			q[r.Intn(len(q))] ^= byte(1 + r.Intn(255))
		}
		got, err := dflDecode(f, bytes.NewReader(q), 4<<20)
		switch {
		case err == nil:
			if !bytes.Equal(got, msg) {
				wrong++ // DEFLATE has no checksum: some flips go unnoticed
			}
		case errors.Is(err, frame.ErrInvalidCompressedData):
			invalid++
		default:
			t.Fatalf("flip %d: unexpected error %v", i, err)
		}
	}
	// DEFLATE has no checksum: a flipped bit inside a literal's code often
	// just gives another literal. What matters is that nothing panics and
	// the only error is ErrInvalidCompressedData.
	t.Logf("300 corrupted payloads: %d rejected, %d decoded to other bytes", invalid, wrong)
	if invalid < 60 {
		t.Errorf("only %d of 300 corrupted payloads rejected", invalid)
	}
}

// TestInflaterTruncated cuts a payload inside its first dynamic block.
//
// Most cuts fail. Some cannot: RFC 7692 §7.2.2 puts 00 00 ff ff back after
// the payload, and when the payload stops inside a Huffman block those bits
// are read as codes; 0xff 0xff can end in the block's end-of-block code
// (often all ones, being the rarest symbol) exactly at a byte boundary, and
// then the stream is well formed. zlib or compress/flate fed the same bytes
// accept it too. So the test demands that the Inflater rejects every cut
// that compress/flate rejects on payload+tail+final block, decodes the others
// to what compress/flate decodes, and that most cuts are rejected.
func TestInflaterTruncated(t *testing.T) {
	msg := dflText(24<<10, 81)
	for _, level := range []int{1, 5, 9} {
		d := dflNewDeflater(t, level, 15, false)
		p := dflCompress(t, d, msg)
		z, err := dflDecodeStream(dflStdStream([][]byte{p}))
		if err != nil {
			t.Fatal(err)
		}
		blk := z.blocks[0]
		if blk.typ != 2 {
			t.Fatalf("level %d: first block has type %d, want dynamic", level, blk.typ)
		}
		// Cuts strictly inside the first dynamic block: the byte of its
		// first bit kept, the byte of its last bit dropped.
		first, last := blk.start/8+1, (blk.end-1)/8
		if last-first < 100 {
			t.Fatalf("level %d: first block too short (%d..%d)", level, first, last)
		}
		step := 2
		if testing.Short() || raceEnabled() {
			step = 13
		}
		f := frame.NewInflater(15, false)
		var cuts, accepted int
		for cut := first; cut < last; cut += step {
			cuts++
			got, err := dflDecode(f, bytes.NewReader(p[:cut]), 0)
			ref, refErr := io.ReadAll(stdflate.NewReader(bytes.NewReader(dflStdStream([][]byte{p[:cut]}))))
			switch {
			case err == nil:
				accepted++
				if refErr != nil || !bytes.Equal(got, ref) {
					t.Errorf("level %d, cut %d: Inflater accepted %d bytes; compress/flate: %d bytes, %v", level, cut, len(got), len(ref), refErr)
				}
				if bytes.Equal(got, msg) {
					t.Errorf("level %d, cut %d: the whole message decoded from a cut payload", level, cut)
				}
			case errors.Is(err, frame.ErrInvalidCompressedData):
				if refErr == nil {
					t.Errorf("level %d, cut %d: Inflater rejected a payload compress/flate decodes", level, cut)
				}
			default:
				t.Errorf("level %d, cut %d: err = %v, want ErrInvalidCompressedData", level, cut, err)
			}
		}
		t.Logf("level %d: %d cuts inside a dynamic block: %d rejected, %d decode as a shorter message like with compress/flate",
			level, cuts, cuts-accepted, accepted)
		if accepted*4 > cuts {
			t.Errorf("level %d: %d of %d cuts accepted", level, accepted, cuts)
		}
	}
	// A cut in the middle of the block, through a payload reader that ends
	// there: io.EOF from the reader is the end of the payload, not an error
	// to pass on, and the result is ErrInvalidCompressedData.
	p := dflCompress(t, dflNewDeflater(t, 5, 15, false), msg)
	_, err := dflDecode(frame.NewInflater(15, false), iotest.OneByteReader(bytes.NewReader(p[:len(p)/2])), 0)
	dflCheckInvalid(t, "cut in half", err)
}

var errDflSentinel = errors.New("test: payload reader failed")

// dflFailingReader serves data, then fails with err.
type dflFailingReader struct {
	data []byte
	err  error
}

func (r *dflFailingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestInflaterPayloadReaderError(t *testing.T) {
	msg := dflText(64<<10, 91)
	p := dflCompress(t, dflNewDeflater(t, 5, 15, true), msg)
	for _, cut := range []int{0, 1, 10, len(p) / 2, len(p) - 1, len(p)} {
		for _, takeover := range []bool{false, true} {
			f := frame.NewInflater(15, takeover)
			got, err := dflDecode(f, &dflFailingReader{data: p[:cut], err: errDflSentinel}, 0)
			if err != errDflSentinel {
				t.Errorf("cut %d: err = %v, want the reader's own error unchanged", cut, err)
			}
			if !bytes.HasPrefix(msg, got) {
				t.Errorf("cut %d: output before the error is not a prefix of the message", cut)
			}
			// The Inflater is usable for the next message (with takeover the
			// next message must not depend on the broken one).
			dflMustDecode(t, f, dflCompress(t, dflNewDeflater(t, 1, 15, false), msg[:3000]), msg[:3000])
		}
	}
	// io.ErrUnexpectedEOF from the reader is the reader's error too.
	f := frame.NewInflater(15, false)
	if _, err := dflDecode(f, &dflFailingReader{data: p[:100], err: io.ErrUnexpectedEOF}, 0); err != io.ErrUnexpectedEOF {
		t.Errorf("err = %v, want io.ErrUnexpectedEOF from the reader", err)
	}
}

func TestInflaterFinalBlock(t *testing.T) {
	msg := dflText(20000, 101)
	for _, level := range []int{0, 1, 9, stdflate.HuffmanOnly} {
		var buf bytes.Buffer
		w, _ := stdflate.NewWriter(&buf, level)
		w.Write(msg)
		w.Close() // ends with a BFINAL=1 block
		for _, takeover := range []bool{false, true} {
			f := frame.NewInflater(15, takeover)
			dflMustDecode(t, f, buf.Bytes(), msg)
			// Read after the end keeps returning io.EOF.
			f.Begin(bytes.NewReader(buf.Bytes()))
			if _, err := io.Copy(io.Discard, f); err != nil {
				t.Fatal(err)
			}
			if n, err := f.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Errorf("Read after the end = %d, %v", n, err)
			}
			f.EndMessage()
			if n, err := f.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Errorf("Read after EndMessage = %d, %v", n, err)
			}
		}
	}
	// With takeover, a message with a final block still seeds the window:
	// the Deflater compressed the same bytes, so its next message refers
	// back into them.
	d := dflNewDeflater(t, 1, 15, true)
	f := frame.NewInflater(15, true)
	_ = dflCompress(t, d, msg)
	var buf bytes.Buffer
	w, _ := stdflate.NewWriter(&buf, 9)
	w.Write(msg)
	w.Close()
	dflMustDecode(t, f, buf.Bytes(), msg)
	p := dflCompress(t, d, msg)
	// 20,000 bytes as matches of 258 bytes at most, at 2 to 4 bytes each:
	// under 300 bytes; without the window it takes thousands.
	if len(p) > 300 {
		t.Fatalf("repeat compressed to %d bytes; expected a back-reference", len(p))
	}
	dflMustDecode(t, f, p, msg)
}

// ---------------------------------------------------------------------------
// 8. Empty messages.

func TestDeflaterEmptyMessage(t *testing.T) {
	for level := frame.HuffmanOnly; level <= frame.BestCompression; level++ {
		for _, bits := range []int{8, 12, 15} {
			for _, takeover := range []bool{false, true} {
				d := dflNewDeflater(t, level, bits, takeover)
				f := frame.NewInflater(bits, takeover)
				for i, m := range [][]byte{nil, dflText(3000, 1), nil, nil, []byte("ab"), {}, dflText(3000, 1)} {
					p := dflCompress(t, d, m)
					if len(m) == 0 && !bytes.Equal(p, []byte{0x00}) {
						t.Errorf("level=%d bits=%d takeover=%v message %d: empty message compressed to %x, want 00",
							level, bits, takeover, i, p)
					}
					dflMustDecode(t, f, p, m)
				}
				d.Close()
			}
		}
	}
}

func TestInflaterEmptyPayload(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		f := frame.NewInflater(15, takeover)
		d := dflNewDeflater(t, 1, 15, takeover)
		msg := dflText(2000, 111)
		for i := 0; i < 3; i++ {
			for _, p := range [][]byte{{}, {0x00}} {
				got, err := dflDecode(f, bytes.NewReader(p), 0)
				if err != nil || len(got) != 0 {
					t.Errorf("takeover=%v: payload %x decoded to %d bytes, %v; want an empty message", takeover, p, len(got), err)
				}
			}
			// The window is unaffected by the empty messages.
			dflMustDecode(t, f, dflCompress(t, d, msg), msg)
		}
	}
}

// ---------------------------------------------------------------------------
// 9. Decompression bomb.

// dflBombReader is a fixed-Huffman block of a zero literal and then matches
// of 258 bytes at distance 1, served lazily: about 1 GiB of zeros from
// 6.5 MB of payload it never holds in memory.
type dflBombReader struct {
	prefix  []byte
	pattern []byte // 8 matches of 13 bits
	left    int    // patterns still to serve
	off     int    // position in prefix, then in pattern
	inPat   bool
}

func newDflBombReader(outBytes int64) *dflBombReader {
	var w dflBitWriter
	w.bits(0, 1) // not final
	w.bits(1, 2) // fixed Huffman
	w.code(0x30, 8)
	w.code(0xc5, 8) // length symbol 285: 258 bytes
	w.code(0, 5)    // distance 1
	prefix := append([]byte(nil), w.flush()...)
	var p dflBitWriter
	for i := 0; i < 8; i++ {
		p.code(0xc5, 8)
		p.code(0, 5)
	}
	if p.nacc != 0 || len(p.b) != 13 {
		panic("bomb pattern not byte aligned")
	}
	return &dflBombReader{prefix: prefix, pattern: p.b, left: int(outBytes / (8 * 258))}
}

func (r *dflBombReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if !r.inPat {
			k := copy(b[n:], r.prefix[r.off:])
			n += k
			r.off += k
			if r.off == len(r.prefix) {
				r.inPat, r.off = true, 0
			}
			continue
		}
		if r.left == 0 {
			break
		}
		k := copy(b[n:], r.pattern[r.off:])
		n += k
		r.off += k
		if r.off == len(r.pattern) {
			r.off = 0
			r.left--
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func TestInflaterBomb(t *testing.T) {
	const limit = 32 << 20
	for _, takeover := range []bool{false, true} {
		f := frame.NewInflater(15, takeover)
		// Warm up the pooled state so that only per-byte costs are measured.
		dflMustDecode(t, f, dflCompress(t, dflNewDeflater(t, 1, 15, false), dflText(5000, 1)), dflText(5000, 1))
		buf := make([]byte, 32<<10)
		bomb := newDflBombReader(1 << 30)

		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f.Begin(bomb)
		total := 0
		for total < limit {
			n, err := f.Read(buf)
			for _, c := range buf[:n] {
				if c != 0 {
					t.Fatalf("non-zero byte in the output at %d", total)
				}
			}
			total += n
			if err != nil {
				t.Fatalf("after %d bytes: %v", total, err)
			}
		}
		runtime.ReadMemStats(&after)
		f.EndMessage()
		alloc := after.TotalAlloc - before.TotalAlloc
		inuse := int64(after.HeapInuse) - int64(before.HeapInuse)
		t.Logf("takeover=%v: read %d MiB, payload consumed %d KiB; allocated %d KiB, heap in use %+d KiB",
			takeover, total>>20, (bomb.left0()-bomb.left)*13>>10, alloc>>10, inuse>>10)
		if alloc > 8<<20 || inuse > 8<<20 {
			t.Errorf("takeover=%v: decompressing %d MiB allocated %d bytes, heap in use grew by %d", takeover, total>>20, alloc, inuse)
		}
	}
}

func (r *dflBombReader) left0() int { return (1 << 30) / (8 * 258) }

// ---------------------------------------------------------------------------
// 10. Allocations.

func TestDeflateInflateAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("sync.Pool drops items at random under -race")
	}
	msg := dflJSON(1<<10, 121)
	for _, takeover := range []bool{false, true} {
		d := dflNewDeflater(t, 1, 15, takeover)
		var payload []byte
		compress := func() {
			if _, err := d.Write(msg); err != nil {
				t.Fatal(err)
			}
			b, err := d.Finish()
			if err != nil {
				t.Fatal(err)
			}
			payload = append(payload[:0], b...)
			d.EndMessage()
		}
		for i := 0; i < 10; i++ {
			compress()
		}
		if a := testing.AllocsPerRun(200, compress); a != 0 {
			t.Errorf("takeover=%v: Deflater: %v allocations per message, want 0", takeover, a)
		}

		// A fresh-stream payload decodes the same on either kind of Inflater.
		payload, _ = frame.AppendCompressed(payload[:0], msg, 1, 15)
		f := frame.NewInflater(15, takeover)
		out := make([]byte, 4096)
		r := bytes.NewReader(payload)
		decode := func() {
			r.Reset(payload)
			f.Begin(r)
			n := 0
			for {
				k, err := f.Read(out[n:])
				n += k
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			f.EndMessage()
			if n != len(msg) {
				t.Fatalf("decoded %d bytes", n)
			}
		}
		for i := 0; i < 10; i++ {
			decode()
		}
		if a := testing.AllocsPerRun(200, decode); a != 0 {
			t.Errorf("takeover=%v: Inflater: %v allocations per message, want 0", takeover, a)
		}

		var dst []byte
		appendCompressed := func() { dst, _ = frame.AppendCompressed(dst[:0], msg, 1, 15) }
		appendCompressed()
		if a := testing.AllocsPerRun(200, appendCompressed); a != 0 {
			t.Errorf("AppendCompressed: %v allocations per message, want 0", a)
		}
		d.Close()
	}
}

// ---------------------------------------------------------------------------
// 11. Benchmarks.

func dflBenchMessages(kind string) [][]byte {
	msgs := make([][]byte, 64)
	for i := range msgs {
		if kind == "json-1KiB" {
			msgs[i] = dflJSON(1<<10, int64(i))
		} else {
			msgs[i] = dflText(64<<10, int64(i))
		}
	}
	return msgs
}

func BenchmarkDeflate(b *testing.B) {
	for _, kind := range []string{"json-1KiB", "text-64KiB"} {
		msgs := dflBenchMessages(kind)
		for _, takeover := range []bool{false, true} {
			name := kind + "/no-takeover"
			if takeover {
				name = kind + "/takeover"
			}
			takeover := takeover
			b.Run(name, func(b *testing.B) {
				d := dflNewDeflater(b, 1, 15, takeover)
				defer d.Close()
				for _, m := range msgs[:2] {
					dflCompress(b, d, m) // warm up
				}
				b.SetBytes(int64(len(msgs[0])))
				b.ReportAllocs()
				b.ResetTimer()
				var out int
				for i := 0; i < b.N; i++ {
					d.Write(msgs[i%len(msgs)])
					p, err := d.Finish()
					if err != nil {
						b.Fatal(err)
					}
					out += len(p)
					d.EndMessage()
				}
				b.ReportMetric(float64(out)/float64(b.N)/float64(len(msgs[0])), "ratio")
			})
		}
	}
}

func BenchmarkInflate(b *testing.B) {
	for _, kind := range []string{"json-1KiB", "text-64KiB"} {
		msgs := dflBenchMessages(kind)
		for _, takeover := range []bool{false, true} {
			name := kind + "/no-takeover"
			if takeover {
				name = kind + "/takeover"
			}
			takeover := takeover
			// With takeover the payloads refer to earlier messages. The
			// cycle is compressed twice: after the first pass (and after
			// every pass of the second) the Inflater's window holds what
			// the second pass was compressed against, so the second pass
			// can be decoded over and over.
			d := dflNewDeflater(b, 1, 15, takeover)
			f := frame.NewInflater(15, takeover)
			payloads := make([][]byte, len(msgs))
			for pass := 0; pass < 2; pass++ {
				for i, m := range msgs {
					payloads[i] = dflCompress(b, d, m)
					if pass == 0 {
						dflMustDecode(b, f, payloads[i], m)
					}
				}
			}
			d.Close()
			for i, m := range msgs {
				dflMustDecode(b, f, payloads[i], m)
			}
			b.Run(name, func(b *testing.B) {
				out := make([]byte, 32<<10)
				r := bytes.NewReader(nil)
				b.SetBytes(int64(len(msgs[0])))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r.Reset(payloads[i%len(payloads)])
					f.Begin(r)
					for {
						_, err := f.Read(out)
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					f.EndMessage()
				}
				// The function runs again with another b.N, starting at the
				// first payload: finish the pass so the window is in step.
				b.StopTimer()
				for k := b.N % len(payloads); k != 0 && k < len(payloads); k++ {
					dflMustDecode(b, f, payloads[k], msgs[k])
				}
			})
		}
	}
}

func BenchmarkAppendCompressed(b *testing.B) {
	for _, kind := range []string{"json-1KiB", "text-64KiB"} {
		msg := dflBenchMessages(kind)[0]
		b.Run(kind, func(b *testing.B) {
			dst, _ := frame.AppendCompressed(nil, msg, 1, 15) // warm up
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if dst, err = frame.AppendCompressed(dst[:0], msg, 1, 15); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
