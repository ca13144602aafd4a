package frame

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// The lean encoder compresses at BestSpeed with a per-connection state no
// larger than RFC 7692 makes necessary. Context takeover obliges a sender
// to keep only the last 2^windowBits bytes it sent, so that later messages
// may refer to them; everything else a DEFLATE encoder uses (token
// buffers, symbol counts, Huffman tables, the output) lives for one
// message and comes from a pool. What a connection keeps between messages
// is:
//
//   - its history: the window plus an eighth of it of slack, so that the
//     window slides once per eighth of a window of input instead of at
//     every write;
//   - a match table of 2-byte entries, one per hash of 4 bytes, holding
//     the low 16 bits of the last position with that hash. An entry is
//     only a hint: a candidate must lie within the history and the window
//     and its bytes are compared before a match is taken, so a stale or
//     aliased entry costs a comparison, never a wrong reference.
//
// At 15-bit windows that is 36 KiB of history and 16 KiB of table, against
// the ~800 KiB klauspost/compress keeps in a level-1 writer (see the
// README's table). The matcher is greedy, as a level-1 encoder is: at each
// position it tries the distance of the previous match, then the table's
// candidate, and takes the first that matches 4 bytes, extended as far as
// it goes; no lazy evaluation. Trying the previous distance first finds
// the runs of a repeated message, or of a repeated record within one, that
// a small table loses to collisions.

// lzState is what a connection keeps between messages.
type lzState struct {
	window int    // 2^windowBits
	hist   []byte // the last bytes compressed; cap window + window/8
	base   int64  // stream offset of hist[0]
	table  []uint16
	shift  uint // 32 - log2(len(table))
}

// newLZState returns the state of an encoder with a window of 2^windowBits
// bytes, allocated on first use.
func newLZState(windowBits int) lzState {
	return lzState{window: 1 << windowBits}
}

// tableBitsFor sizes the match table: a slot per 4 bytes of window, from
// 2^8 to 2^12 slots.
func tableBitsFor(window int) uint {
	b := bits.Len(uint(window)) - 1 - 2
	switch {
	case b < 8:
		return 8
	case b > 12:
		return 12
	}
	return uint(b)
}

func (s *lzState) allocate() {
	if s.hist != nil {
		return
	}
	s.hist = make([]byte, 0, s.window+s.window/4)
	tb := tableBitsFor(s.window)
	s.table = make([]uint16, 1<<tb)
	s.shift = 32 - tb
}

// forget empties the history: the next message refers to nothing before
// it. The table keeps its entries, which can no longer pass the checks.
func (s *lzState) forget() {
	s.base += int64(len(s.hist))
	s.hist = s.hist[:0]
}

func (s *lzState) hash(u uint32) uint32 { return (u * 0x1e35a7bd) >> s.shift }

// lzMessage is the state of one message in progress, from a pool.
type lzMessage struct {
	// lastDist is the distance of the last match, tried first at the
	// next position.
	lastDist int
	tokens   []lzToken
	raw      []byte // the bytes the tokens encode, for a stored block
	bw       blockWriter
}

// Block size: a block ends when it holds this many tokens or raw bytes.
const (
	maxBlockTokens = 1 << 14
	maxBlockRaw    = 1 << 16
	// maxSkip bounds the literals emitted at once through data that does
	// not repeat.
	maxSkip = 32
)

var lzMessagePool = sync.Pool{New: func() any {
	return &lzMessage{
		tokens: make([]lzToken, 0, maxBlockTokens),
		// A block's bytes reach maxBlockRaw plus one match or skip.
		raw: make([]byte, 0, maxBlockRaw+maxMatch),
	}
}}

// maxIdleMessageBuffer bounds the buffers a pooled lzMessage keeps.
const maxIdleMessageBuffer = 64 << 10

func getLZMessage() *lzMessage {
	m := lzMessagePool.Get().(*lzMessage)
	m.tokens, m.raw, m.bw.out, m.lastDist = m.tokens[:0], m.raw[:0], m.bw.out[:0], 0
	m.bw.bits, m.bw.nbits = 0, 0
	return m
}

func (m *lzMessage) release() {
	if cap(m.bw.out) > maxIdleMessageBuffer {
		m.bw.out = nil
	}
	lzMessagePool.Put(m)
}

// flushBlock writes the tokens gathered so far as a block.
func (m *lzMessage) flushBlock() {
	m.bw.writeBlock(m.tokens, m.raw)
	m.tokens, m.raw = m.tokens[:0], m.raw[:0]
}

// write compresses p as the continuation of the message in m.
func (s *lzState) write(m *lzMessage, p []byte) {
	s.allocate()
	slack := cap(s.hist) - s.window
	for len(p) > 0 {
		if len(s.hist) == cap(s.hist) {
			// Slide: keep the last window of bytes.
			drop := len(s.hist) - s.window
			s.hist = s.hist[:copy(s.hist, s.hist[drop:])]
			s.base += int64(drop)
		}
		n := minInt(len(p), minInt(cap(s.hist)-len(s.hist), slack))
		start := len(s.hist)
		s.hist = append(s.hist, p[:n]...)
		p = p[n:]
		s.encode(m, start)
	}
}

// encode emits tokens for hist[start:], matching against the history.
func (s *lzState) encode(m *lzMessage, start int) {
	h := s.hist
	end := len(h)
	i := start
	misses := 0
	for i < end {
		if len(m.tokens)+maxSkip+1 > maxBlockTokens || len(m.raw) >= maxBlockRaw {
			m.flushBlock()
		}
		cand, length := s.longestAt(m, i, end)
		if cand >= 0 && length < lazyBelow && i+1+4 <= end {
			// One step of lazy evaluation: a longer match one byte on
			// is worth a literal first.
			if c2, l2 := s.longestAt(m, i+1, end); l2 > length+1 {
				m.tokens = append(m.tokens, literalToken(h[i]))
				m.raw = append(m.raw, h[i])
				i++
				cand, length = c2, l2
			}
		}
		if cand >= 0 {
			m.tokens = append(m.tokens, matchToken(length, i-cand))
			m.raw = append(m.raw, h[i:i+length]...)
			m.lastDist = i - cand
			// Remember positions inside the match, so that what follows
			// them can be found again: all of them in a short match,
			// the last two of a long one.
			j := i + 1
			if length > insertAllBelow {
				j = i + length - 2
			}
			for ; j < i+length && j+4 <= end; j++ {
				s.table[s.hash(binary.LittleEndian.Uint32(h[j:]))] = uint16(s.base + int64(j))
			}
			i += length
			misses = 0
			continue
		}
		// No match: a literal, and after many of them in a row, skip
		// ahead faster through data that does not repeat.
		step := minInt(1+misses>>5, maxSkip)
		misses++
		for k := 0; k < step && i < end; k++ {
			m.tokens = append(m.tokens, literalToken(h[i]))
			m.raw = append(m.raw, h[i])
			i++
		}
	}
}

// Matcher effort: matches shorter than lazyBelow are checked against the
// next position's, and every position inside a match shorter than
// insertAllBelow enters the table.
const (
	lazyBelow      = 32
	insertAllBelow = 8
)

// longestAt returns the start in hist of the longest match for position i
// among its two candidates (the last match's distance and the table's
// hint), and its length; -1 when neither matches 4 bytes. It enters i in
// the table.
func (s *lzState) longestAt(m *lzMessage, i, end int) (cand, length int) {
	h := s.hist
	if i+4 > end {
		return -1, 0
	}
	cur := binary.LittleEndian.Uint32(h[i:])
	slot := s.hash(cur)
	pos := s.base + int64(i)
	limit := minInt(end, i+maxMatch)
	cand = -1
	if d := m.lastDist; d > 0 && i-d >= 0 && binary.LittleEndian.Uint32(h[i-d:]) == cur {
		cand, length = i-d, 4+matchLength(h[i-d+4:], h[i+4:limit])
	}
	if c := s.candidate(s.table[slot], pos); c >= 0 && c != cand && binary.LittleEndian.Uint32(h[c:]) == cur {
		if l := 4 + matchLength(h[c+4:], h[i+4:limit]); l > length {
			cand, length = c, l
		}
	}
	s.table[slot] = uint16(pos)
	return cand, length
}

// candidate turns a table entry into an index of hist, or -1 when the
// position it names is before the history, outside the window, or not
// before pos.
func (s *lzState) candidate(entry uint16, pos int64) int {
	c := pos&^0xffff | int64(entry)
	if c >= pos {
		c -= 0x10000
	}
	if c < s.base || pos-c > int64(s.window) {
		return -1
	}
	return int(c - s.base)
}

// matchLength returns how many leading bytes of b equal those of a; a is
// at least as long as b.
func matchLength(a, b []byte) int {
	n := 0
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b)
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b = a[8:], b[8:]
		n += 8
	}
	for i := range b {
		if a[i] != b[i] {
			return n
		}
		n++
	}
	return n
}

// finish ends the message with a sync flush and returns its compressed
// bytes, tail included.
func (s *lzState) finish(m *lzMessage) []byte {
	m.flushBlock()
	m.bw.syncFlush()
	return m.bw.out
}
