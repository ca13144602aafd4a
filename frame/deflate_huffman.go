package frame

import "sort"

// This file writes DEFLATE blocks (RFC 1951 §3.2) from LZ77 tokens: the
// entropy coder of the lean encoder (deflate_lz.go). For each block it
// counts the symbols, builds length-limited Huffman codes, and writes
// whichever of a stored, a fixed-code and a dynamic-code block is
// smallest. Its state lives for one message and comes from a pool; a
// connection keeps none of it.

// lzToken is a literal byte (below 256) or a match: matchFlag, the length
// less 3 in bits 16..23 and the distance less 1 in bits 0..15.
type lzToken uint32

const matchFlag lzToken = 1 << 31

func literalToken(b byte) lzToken { return lzToken(b) }

func matchToken(length, distance int) lzToken {
	return matchFlag | lzToken(length-minMatch)<<16 | lzToken(distance-1)
}

const (
	minMatch = 3   // RFC 1951 §3.2.5: lengths 3..258
	maxMatch = 258 // and distances 1..32768

	endOfBlock   = 256
	numLitLen    = 286 // literal/length symbols that may appear
	numDist      = 30  // distance symbols that may appear
	numCodeLen   = 19  // code length symbols of the dynamic header
	maxCodeBits  = 15
	maxCLenBits  = 7
	maxStoredLen = 65535
)

// Length symbols 257..285 (RFC 1951 §3.2.5): base length less 3 and extra
// bits, by symbol less 257.
var (
	lengthBase  = [29]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// codeLenOrder is the order of the code length code lengths in a
	// dynamic block header.
	codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// lengthSymbol maps a length less 3 to its symbol less 257; distSymbol a
// distance less 1 to its symbol, the first 256 directly and the rest by
// the distance shifted right by 7.
var (
	lengthSymbol [256]uint8
	distSymbol   [512]uint8
)

func init() {
	for sym := 0; sym < 28; sym++ {
		for l := int(lengthBase[sym]); l < int(lengthBase[sym])+1<<lengthExtra[sym]; l++ {
			lengthSymbol[l] = uint8(sym)
		}
	}
	lengthSymbol[255] = 28 // length 258 has a symbol of its own
	for sym := 0; sym < numDist; sym++ {
		for d := int(distBase[sym]); d < int(distBase[sym])+1<<distExtra[sym]; d++ {
			if d < 256 {
				distSymbol[d] = uint8(sym)
			} else {
				distSymbol[256+d>>7] = uint8(sym)
			}
		}
	}
}

func distCode(d uint32) uint8 { // d is the distance less 1
	if d < 256 {
		return distSymbol[d]
	}
	return distSymbol[256+d>>7]
}

// huffCode is a symbol's code, bit-reversed for LSB-first output, and its
// length; a length of zero means the symbol does not occur.
type huffCode struct {
	code uint16
	len  uint8
}

// fixedLitLen and fixedDist are the codes of RFC 1951 §3.2.6.
var fixedLitLen, fixedDist = func() ([288]huffCode, [numDist]huffCode) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	var lit [288]huffCode
	canonicalCodes(lens[:], lit[:])
	var dl [numDist]uint8
	for i := range dl {
		dl[i] = 5
	}
	var dist [numDist]huffCode
	canonicalCodes(dl[:], dist[:])
	return lit, dist
}()

// canonicalCodes assigns the canonical codes of RFC 1951 §3.2.2 to lengths,
// bit-reversed.
func canonicalCodes(lengths []uint8, codes []huffCode) {
	var count [maxCodeBits + 1]uint16
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeBits + 1]uint16
	code := uint16(0)
	for bits := 1; bits <= maxCodeBits; bits++ {
		code = (code + count[bits-1]) << 1
		next[bits] = code
	}
	for sym, l := range lengths {
		codes[sym] = huffCode{len: l}
		if l != 0 {
			codes[sym].code = reverseBits(next[l], l)
			next[l]++
		}
	}
}

func reverseBits(v uint16, n uint8) uint16 {
	var r uint16
	for i := uint8(0); i < n; i++ {
		r = r<<1 | v&1
		v >>= 1
	}
	return r
}

// symFreq is a symbol and its count, for building a code.
type symFreq struct {
	sym  uint16
	freq uint32
}

// huffmanBuilder builds length-limited Huffman code lengths; its scratch
// space is reused from block to block.
type huffmanBuilder struct {
	syms  []symFreq
	depth []uint32
}

// Len, Less and Swap sort syms by ascending count, then symbol.
func (b *huffmanBuilder) Len() int      { return len(b.syms) }
func (b *huffmanBuilder) Swap(i, j int) { b.syms[i], b.syms[j] = b.syms[j], b.syms[i] }
func (b *huffmanBuilder) Less(i, j int) bool {
	x, y := b.syms[i], b.syms[j]
	return x.freq < y.freq || x.freq == y.freq && x.sym < y.sym
}

// lengths sets lengths[s] to the code length of each symbol s with a
// non-zero count in freq, at most maxBits, and zero for the others. A
// single symbol gets length 1 (a one-code alphabet, as RFC 1951 allows for
// distances and decoders accept).
func (b *huffmanBuilder) lengths(freq []uint32, maxBits int, lengths []uint8) {
	b.syms = b.syms[:0]
	for s, f := range freq {
		lengths[s] = 0
		if f != 0 {
			b.syms = append(b.syms, symFreq{uint16(s), f})
		}
	}
	n := len(b.syms)
	switch n {
	case 0:
		return
	case 1:
		lengths[b.syms[0].sym] = 1
		return
	}
	sort.Sort(b) // b is a pointer already: no allocation
	// Optimal lengths in place (Moffat and Katajainen, "In-place
	// calculation of minimum-redundancy codes", 1995), on the counts in
	// ascending order.
	a := b.depth[:0]
	for _, s := range b.syms {
		a = append(a, s.freq)
	}
	b.depth = a
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	avail, used, depth := 1, 0, uint32(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail, used = 2*used, 0
		depth++
	}
	// a[i] is now the length of the i-th least frequent symbol. Count the
	// lengths, clamping them to maxBits, which leaves the code
	// over-subscribed by excess units of 2^-maxBits. Each step of zlib's
	// fix takes away one unit: a leaf moves one level down, where it and a
	// leaf taken from the deepest level become brothers.
	var count [maxCodeBits + 1]int
	for _, d := range a {
		count[minInt(int(d), maxBits)]++
	}
	excess := -(1 << maxBits)
	for l := 1; l <= maxBits; l++ {
		excess += count[l] << (maxBits - l)
	}
	for ; excess > 0; excess-- {
		bits := maxBits - 1
		for count[bits] == 0 {
			bits--
		}
		count[bits]--
		count[bits+1] += 2
		count[maxBits]--
	}
	// The longest lengths go to the least frequent symbols.
	i := 0
	for bits := maxBits; bits >= 1; bits-- {
		for k := 0; k < count[bits]; k++ {
			lengths[b.syms[i].sym] = uint8(bits)
			i++
		}
	}
}

// blockWriter turns tokens into DEFLATE blocks, appended to out.
type blockWriter struct {
	out   []byte
	bits  uint64
	nbits uint

	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32
	clFreq   [numCodeLen]uint32
	litLen   [numLitLen]uint8
	distLen  [numDist]uint8
	clLen    [numCodeLen]uint8
	litCode  [numLitLen]huffCode
	distCode [numDist]huffCode
	clCode   [numCodeLen]huffCode
	// codeLens is the run-length coded code lengths of a dynamic header:
	// a symbol 0..18, then for 16, 17 and 18 the repeat count.
	codeLens []uint8
	huff     huffmanBuilder
}

func (w *blockWriter) writeBits(v uint64, n uint) {
	w.bits |= v << w.nbits
	w.nbits += n
	if w.nbits >= 48 {
		w.out = append(w.out, byte(w.bits), byte(w.bits>>8), byte(w.bits>>16), byte(w.bits>>24), byte(w.bits>>32), byte(w.bits>>40))
		w.bits >>= 48
		w.nbits -= 48
	}
}

func (w *blockWriter) writeCode(c huffCode) { w.writeBits(uint64(c.code), uint(c.len)) }

// alignByte writes the pending bits, padded with zeros to a byte boundary.
func (w *blockWriter) alignByte() {
	for w.nbits > 0 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		if w.nbits < 8 {
			w.nbits = 0
		} else {
			w.nbits -= 8
		}
	}
	w.bits = 0
}

// writeStored writes raw as stored blocks (RFC 1951 §3.2.4), none final.
func (w *blockWriter) writeStored(raw []byte) {
	for {
		n := len(raw)
		if n > maxStoredLen {
			n = maxStoredLen
		}
		w.writeBits(0, 3) // BFINAL 0, BTYPE 00
		w.alignByte()
		w.out = append(w.out, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		w.out = append(w.out, raw[:n]...)
		raw = raw[n:]
		if len(raw) == 0 {
			return
		}
	}
}

// syncFlush ends the output on a byte boundary with an empty stored
// block, whose last four bytes are 00 00 ff ff (RFC 7692 §7.2.1).
func (w *blockWriter) syncFlush() { w.writeStored(nil) }

// writeBlock writes tokens, which encode raw, as one block that is not
// final, in whichever form is smallest.
func (w *blockWriter) writeBlock(tokens []lzToken, raw []byte) {
	if len(tokens) == 0 {
		return
	}
	w.litFreq = [numLitLen]uint32{}
	w.distFreq = [numDist]uint32{}
	var extraBits int
	for _, t := range tokens {
		if t&matchFlag == 0 {
			w.litFreq[t]++
			continue
		}
		ls := lengthSymbol[(t>>16)&0xff]
		ds := distCode(uint32(t & 0xffff))
		w.litFreq[257+int(ls)]++
		w.distFreq[ds]++
		extraBits += int(lengthExtra[ls]) + int(distExtra[ds])
	}
	w.litFreq[endOfBlock] = 1

	// Fixed codes.
	fixedBits := 3 + extraBits
	for s, f := range w.litFreq {
		fixedBits += int(f) * int(fixedLitLen[s].len)
	}
	for _, f := range w.distFreq {
		fixedBits += int(f) * 5
	}

	// Dynamic codes. A block without matches still needs one distance
	// code for the header to describe.
	dynDist := w.distFreq
	hasDist := false
	for _, f := range dynDist {
		if f != 0 {
			hasDist = true
			break
		}
	}
	if !hasDist {
		dynDist[0] = 1
	}
	w.huff.lengths(w.litFreq[:], maxCodeBits, w.litLen[:])
	w.huff.lengths(dynDist[:], maxCodeBits, w.distLen[:])
	nlit, ndist := numLitLen, numDist
	for nlit > 257 && w.litLen[nlit-1] == 0 {
		nlit--
	}
	for ndist > 1 && w.distLen[ndist-1] == 0 {
		ndist--
	}
	w.runLengths(nlit, ndist)
	w.clFreq = [numCodeLen]uint32{}
	for i := 0; i < len(w.codeLens); i++ {
		s := w.codeLens[i]
		w.clFreq[s]++
		if s >= 16 {
			i++ // the repeat count
		}
	}
	w.huff.lengths(w.clFreq[:], maxCLenBits, w.clLen[:])
	nclen := numCodeLen
	for nclen > 4 && w.clLen[codeLenOrder[nclen-1]] == 0 {
		nclen--
	}
	dynBits := 3 + 5 + 5 + 4 + 3*nclen + extraBits
	for s, f := range w.clFreq {
		dynBits += int(f) * int(w.clLen[s])
	}
	dynBits += 2*int(w.clFreq[16]) + 3*int(w.clFreq[17]) + 7*int(w.clFreq[18])
	for s, f := range w.litFreq[:nlit] {
		dynBits += int(f) * int(w.litLen[s])
	}
	for s, f := range w.distFreq[:ndist] {
		dynBits += int(f) * int(w.distLen[s])
	}

	// Stored: the header, padding to a byte and LEN/NLEN per 64 KiB.
	storedBits := (len(raw)/maxStoredLen+1)*(3+32) + 7 + 8*len(raw)

	switch {
	case storedBits <= fixedBits && storedBits <= dynBits:
		w.writeStored(raw)
	case fixedBits <= dynBits:
		w.writeBits(1<<1, 3) // BFINAL 0, BTYPE 01
		w.writeTokens(tokens, fixedLitLen[:numLitLen], fixedDist[:])
	default:
		w.writeBits(2<<1, 3) // BFINAL 0, BTYPE 10
		w.writeDynamicHeader(nlit, ndist, nclen)
		canonicalCodes(w.litLen[:], w.litCode[:])
		canonicalCodes(w.distLen[:], w.distCode[:])
		w.writeTokens(tokens, w.litCode[:], w.distCode[:])
	}
}

// runLengths fills codeLens with the code lengths of the first nlit
// literal/length and ndist distance symbols, run-length coded with
// symbols 16, 17 and 18 (RFC 1951 §3.2.7).
func (w *blockWriter) runLengths(nlit, ndist int) {
	w.codeLens = w.codeLens[:0]
	all := make([]uint8, 0, numLitLen+numDist) // on the stack: its size is fixed
	all = append(all, w.litLen[:nlit]...)
	all = append(all, w.distLen[:ndist]...)
	for i := 0; i < len(all); {
		l := all[i]
		run := 1
		for i+run < len(all) && all[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				n := minInt(run, 138)
				w.codeLens = append(w.codeLens, 18, uint8(n-11))
				run -= n
			}
			if run >= 3 {
				w.codeLens = append(w.codeLens, 17, uint8(run-3))
				run = 0
			}
		} else {
			w.codeLens = append(w.codeLens, l)
			run--
			for run >= 3 {
				n := minInt(run, 6)
				w.codeLens = append(w.codeLens, 16, uint8(n-3))
				run -= n
			}
		}
		for ; run > 0; run-- {
			w.codeLens = append(w.codeLens, l)
		}
	}
}

func (w *blockWriter) writeDynamicHeader(nlit, ndist, nclen int) {
	w.writeBits(uint64(nlit-257), 5)
	w.writeBits(uint64(ndist-1), 5)
	w.writeBits(uint64(nclen-4), 4)
	for i := 0; i < nclen; i++ {
		w.writeBits(uint64(w.clLen[codeLenOrder[i]]), 3)
	}
	canonicalCodes(w.clLen[:], w.clCode[:])
	for i := 0; i < len(w.codeLens); i++ {
		s := w.codeLens[i]
		w.writeCode(w.clCode[s])
		switch s {
		case 16:
			i++
			w.writeBits(uint64(w.codeLens[i]), 2)
		case 17:
			i++
			w.writeBits(uint64(w.codeLens[i]), 3)
		case 18:
			i++
			w.writeBits(uint64(w.codeLens[i]), 7)
		}
	}
}

func (w *blockWriter) writeTokens(tokens []lzToken, lit, dist []huffCode) {
	for _, t := range tokens {
		if t&matchFlag == 0 {
			w.writeCode(lit[t])
			continue
		}
		l := uint32(t>>16) & 0xff
		ls := lengthSymbol[l]
		w.writeCode(lit[257+int(ls)])
		if e := lengthExtra[ls]; e > 0 {
			w.writeBits(uint64(l-uint32(lengthBase[ls])), uint(e))
		}
		d := uint32(t & 0xffff)
		ds := distCode(d)
		w.writeCode(dist[ds])
		if e := distExtra[ds]; e > 0 {
			w.writeBits(uint64(d-uint32(distBase[ds])), uint(e))
		}
	}
	w.writeCode(lit[endOfBlock])
}
