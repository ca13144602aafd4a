package conformance

import (
	"errors"
	"fmt"
)

// inflater decompresses the messages of one direction of a
// permessage-deflate connection (RFC 7692 §7.2.2) with a DEFLATE decoder
// (RFC 1951) of its own, which, unlike a general-purpose one, checks what
// the negotiation promised: no back-reference reaches further than
// 2^windowBits bytes (server_max_window_bits / client_max_window_bits),
// and, without context takeover, none reaches into an earlier message.
type inflater struct {
	maxDist  int
	takeover bool
	history  []byte // the last 32 KiB of earlier messages (takeover only)
}

func newInflater(windowBits int, noTakeover bool) *inflater {
	if windowBits < 8 || windowBits > 15 {
		windowBits = 15
	}
	return &inflater{maxDist: 1 << windowBits, takeover: !noTakeover}
}

const maxHistory = 1 << 15

var errInflateLimit = errors.New("decompressed message exceeds the limit")

// inflate decompresses one message's payload, after appending the
// 0x00 0x00 0xff 0xff tail that RFC 7692 §7.2.1 removes.
func (f *inflater) inflate(payload []byte, limit int) ([]byte, error) {
	in := make([]byte, 0, len(payload)+4)
	in = append(in, payload...)
	in = append(in, 0x00, 0x00, 0xff, 0xff)
	d := decoder{br: bitReader{in: in}, maxDist: f.maxDist, limit: limit}
	if f.takeover {
		d.out = append(d.out, f.history...)
		d.base = len(f.history)
	}
	final, err := d.run()
	if err != nil {
		return nil, err
	}
	msg := d.out[d.base:]
	if f.takeover {
		if final {
			// A final block ends the DEFLATE stream: the next message
			// starts a new one, with an empty window.
			f.history = f.history[:0]
		} else {
			h := d.out
			if len(h) > maxHistory {
				h = h[len(h)-maxHistory:]
			}
			f.history = append(f.history[:0], h...)
		}
	}
	return append([]byte(nil), msg...), nil
}

// bitReader reads DEFLATE's LSB-first bit stream.
type bitReader struct {
	in  []byte
	pos int
	buf uint64
	cnt uint
}

var errTruncated = errors.New("compressed data ends in the middle of a block")

// fill loads whole bytes into buf while there is room and input.
func (b *bitReader) fill() {
	for b.cnt <= 56 && b.pos < len(b.in) {
		b.buf |= uint64(b.in[b.pos]) << b.cnt
		b.pos++
		b.cnt += 8
	}
}

func (b *bitReader) bits(n uint) (int, error) {
	if b.cnt < n {
		b.fill()
		if b.cnt < n {
			return 0, errTruncated
		}
	}
	v := int(b.buf & (1<<n - 1))
	b.buf >>= n
	b.cnt -= n
	return v, nil
}

// alignByte drops the bits up to the next byte boundary.
func (b *bitReader) alignByte() {
	drop := b.cnt % 8
	b.buf >>= drop
	b.cnt -= drop
}

// exhausted reports whether every input byte has been used.
func (b *bitReader) exhausted() bool { return b.pos >= len(b.in) && b.cnt < 8 }

// huffman is a canonical Huffman code: a 9-bit lookup table for short
// codes, and counts and symbols for the slow path.
type huffman struct {
	count  [16]uint16
	symbol []uint16
	table  [1 << fastBits]uint16 // symbol<<4 | length, 0 when longer
}

const fastBits = 9

func (h *huffman) build(lengths []uint8) error {
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l <= 15; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return errors.New("over-subscribed Huffman code")
		}
	}
	var offs [16]uint16
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = make([]uint16, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	// Lookup table: canonical codes in order of length then symbol.
	h.table = [1 << fastBits]uint16{}
	code, idx := 0, 0
	for l := 1; l <= 15; l++ {
		for i := 0; i < int(h.count[l]); i++ {
			if l <= fastBits {
				rev := reverseBits(code, l)
				entry := h.symbol[idx]<<4 | uint16(l)
				for k := rev; k < 1<<fastBits; k += 1 << l {
					h.table[k] = entry
				}
			}
			code++
			idx++
		}
		code <<= 1
	}
	return nil
}

func reverseBits(v, n int) int {
	r := 0
	for i := 0; i < n; i++ {
		r = r<<1 | v&1
		v >>= 1
	}
	return r
}

func (b *bitReader) decode(h *huffman) (int, error) {
	b.fill()
	if e := h.table[b.buf&(1<<fastBits-1)]; e != 0 {
		n := uint(e & 15)
		if n > b.cnt {
			return 0, errTruncated
		}
		b.buf >>= n
		b.cnt -= n
		return int(e >> 4), nil
	}
	// Slow path, one bit at a time (puff's canonical decoding).
	code, first, index := 0, 0, 0
	for l := 1; l <= 15; l++ {
		bit, err := b.bits(1)
		if err != nil {
			return 0, err
		}
		code |= bit
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("invalid Huffman code")
}

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	fixedLit, fixedDist huffman
)

func init() {
	var l [288]uint8
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
	_ = fixedLit.build(l[:])
	var d [30]uint8
	for i := range d {
		d[i] = 5
	}
	_ = fixedDist.build(d[:])
}

// decoder decodes one message's blocks into out, which starts with the
// history (base bytes) when the context is taken over.
type decoder struct {
	br       bitReader
	out      []byte
	base     int
	maxDist  int
	limit    int
	lit, dst huffman
}

// run decodes blocks until the input is used up or a final block ends
// the stream; it reports whether a final block was seen.
func (d *decoder) run() (bool, error) {
	for {
		final, err := d.br.bits(1)
		if err != nil {
			return false, err
		}
		typ, err := d.br.bits(2)
		if err != nil {
			return false, err
		}
		switch typ {
		case 0:
			err = d.stored()
		case 1:
			err = d.codes(&fixedLit, &fixedDist)
		case 2:
			if err = d.dynamic(); err == nil {
				err = d.codes(&d.lit, &d.dst)
			}
		default:
			err = errors.New("invalid block type 3")
		}
		if err != nil {
			return false, err
		}
		if final == 1 {
			return true, nil
		}
		if d.br.exhausted() {
			return false, nil
		}
	}
}

func (d *decoder) stored() error {
	d.br.alignByte()
	n, err := d.br.bits(16)
	if err != nil {
		return err
	}
	nn, err := d.br.bits(16)
	if err != nil {
		return err
	}
	if n != ^nn&0xFFFF {
		return errors.New("stored block length does not match its complement")
	}
	// Whole bytes may still sit in the bit buffer.
	for n > 0 && d.br.cnt >= 8 {
		v, _ := d.br.bits(8)
		d.out = append(d.out, byte(v))
		n--
	}
	if d.br.pos+n > len(d.br.in) {
		return errTruncated
	}
	d.out = append(d.out, d.br.in[d.br.pos:d.br.pos+n]...)
	d.br.pos += n
	return d.checkLimit()
}

func (d *decoder) checkLimit() error {
	if d.limit > 0 && len(d.out)-d.base > d.limit {
		return errInflateLimit
	}
	return nil
}

func (d *decoder) dynamic() error {
	hlit, err := d.br.bits(5)
	if err != nil {
		return err
	}
	hdist, err := d.br.bits(5)
	if err != nil {
		return err
	}
	hclen, err := d.br.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist := hlit+257, hdist+1
	if nlen > 286 || ndist > 30 {
		return errors.New("bad code counts in dynamic block")
	}
	var cl [19]uint8
	for i := 0; i < hclen+4; i++ {
		v, err := d.br.bits(3)
		if err != nil {
			return err
		}
		cl[clOrder[i]] = uint8(v)
	}
	var clh huffman
	if err := clh.build(cl[:]); err != nil {
		return err
	}
	lengths := make([]uint8, nlen+ndist)
	for i := 0; i < nlen+ndist; {
		sym, err := d.br.decode(&clh)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return errors.New("repeat with no previous length")
			}
			val = lengths[i-1]
			v, err := d.br.bits(2)
			if err != nil {
				return err
			}
			rep = 3 + v
		case 17:
			v, err := d.br.bits(3)
			if err != nil {
				return err
			}
			rep = 3 + v
		default:
			v, err := d.br.bits(7)
			if err != nil {
				return err
			}
			rep = 11 + v
		}
		if i+rep > nlen+ndist {
			return errors.New("too many code lengths")
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return errors.New("no end-of-block code")
	}
	if err := d.lit.build(lengths[:nlen]); err != nil {
		return err
	}
	return d.dst.build(lengths[nlen:])
}

func (d *decoder) codes(lit, dist *huffman) error {
	for {
		sym, err := d.br.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			d.out = append(d.out, byte(sym))
			continue
		case sym == 256:
			return d.checkLimit()
		case sym > 285:
			return fmt.Errorf("invalid length symbol %d", sym)
		}
		sym -= 257
		extra, err := d.br.bits(uint(lengthExtra[sym]))
		if err != nil {
			return err
		}
		length := int(lengthBase[sym]) + extra
		ds, err := d.br.decode(dist)
		if err != nil {
			return err
		}
		if ds > 29 {
			return fmt.Errorf("invalid distance symbol %d", ds)
		}
		extra, err = d.br.bits(uint(distExtra[ds]))
		if err != nil {
			return err
		}
		distance := int(distBase[ds]) + extra
		if distance > d.maxDist {
			return fmt.Errorf("back-reference of %d bytes exceeds the negotiated window of %d bytes", distance, d.maxDist)
		}
		if distance > len(d.out) {
			if d.base == 0 {
				return fmt.Errorf("back-reference of %d bytes reaches before the message (%d bytes so far; no context takeover, or none to take over)", distance, len(d.out))
			}
			return fmt.Errorf("back-reference of %d bytes reaches before the history (%d bytes)", distance, len(d.out))
		}
		start := len(d.out) - distance
		for length > 0 {
			n := length
			if n > distance {
				n = distance
			}
			d.out = append(d.out, d.out[start:start+n]...)
			start += n
			length -= n
		}
		if len(d.out)-d.base > d.limit && d.limit > 0 {
			return errInflateLimit
		}
	}
}
