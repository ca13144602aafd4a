package frame

// RFC 6455 §8.1: when an endpoint is to interpret a byte stream as UTF-8 but
// finds that the byte stream is not, in fact, a valid UTF-8 stream, that
// endpoint MUST _Fail the WebSocket Connection_. Text messages may arrive in
// many fragments, so validation has to be incremental, and it should fail as
// early as possible.
//
// Well-formed UTF-8 is defined by RFC 3629 §4 (and Unicode Table 3-7):
//
//	U+0000..U+007F     00..7F
//	U+0080..U+07FF     C2..DF  80..BF
//	U+0800..U+0FFF     E0      A0..BF  80..BF
//	U+1000..U+CFFF     E1..EC  80..BF  80..BF
//	U+D000..U+D7FF     ED      80..9F  80..BF
//	U+E000..U+FFFF     EE..EF  80..BF  80..BF
//	U+10000..U+3FFFF   F0      90..BF  80..BF  80..BF
//	U+40000..U+FFFFF   F1..F3  80..BF  80..BF  80..BF
//	U+100000..U+10FFFF F4      80..8F  80..BF  80..BF
//
// Only the second byte of a sequence has a range narrower than 80..BF, which
// is what rules out overlong forms, surrogates and code points over U+10FFFF.

// UTF8Validator checks UTF-8 text that arrives in pieces, such as the
// fragments of a text message. The zero value is ready to use.
//
// Write fails fast: it reports false as soon as the bytes written so far
// cannot be the beginning of valid UTF-8, even when the offending sequence is
// not complete yet. Complete reports whether the text ends on a code point
// boundary.
type UTF8Validator struct {
	need   uint8 // continuation bytes still expected in the current sequence
	lo, hi byte  // allowed range of the next continuation byte
	bad    bool  // an invalid byte has been seen
}

// Reset returns v to its zero state, ready for a new message.
func (v *UTF8Validator) Reset() {
	*v = UTF8Validator{}
}

// Write feeds p to the validator. It returns false as soon as the bytes
// written so far can no longer be a prefix of valid UTF-8: an invalid lead or
// continuation byte, an overlong form, a surrogate (U+D800-U+DFFF) or a code
// point above U+10FFFF, including when that is already visible from an
// incomplete sequence at the end of p (for example 0xF4 0x90 or 0xED 0xA0).
// Once Write has returned false it keeps returning false until Reset.
// Write does not allocate.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.bad {
		return false
	}
	// Finish a sequence left open by an earlier Write.
	i := 0
	for v.need > 0 {
		if i == len(p) {
			return true
		}
		if !v.step(p[i]) {
			return false
		}
		i++
	}
	p = p[i:]
	// p now starts on a code point boundary. Everything up to the start of
	// an incomplete trailing sequence goes to validUTF8, which checks 16 or
	// 32 bytes at a time where the CPU allows; only the at most 3 trailing
	// bytes take the byte at a time path.
	cut := completePrefix(p)
	if !validUTF8(p[:cut]) {
		v.bad = true
		return false
	}
	for _, c := range p[cut:] {
		if !v.step(c) {
			return false
		}
	}
	return true
}

// Complete reports whether everything written since the last Reset is valid
// UTF-8 that ends on a complete code point.
func (v *UTF8Validator) Complete() bool {
	return !v.bad && v.need == 0
}

// step advances the state machine by one byte. It returns false, and marks v
// bad, if c cannot follow the bytes seen so far.
func (v *UTF8Validator) step(c byte) bool {
	if v.need > 0 {
		if c < v.lo || c > v.hi {
			v.bad = true
			return false
		}
		v.lo, v.hi = 0x80, 0xBF
		v.need--
		return true
	}
	switch {
	case c < 0x80:
		return true
	case c < 0xC2: // continuation byte, or C0/C1 which only start overlongs
		v.bad = true
		return false
	case c < 0xE0:
		v.need, v.lo, v.hi = 1, 0x80, 0xBF
	case c == 0xE0: // exclude overlong 3-byte forms
		v.need, v.lo, v.hi = 2, 0xA0, 0xBF
	case c == 0xED: // exclude surrogates U+D800..U+DFFF
		v.need, v.lo, v.hi = 2, 0x80, 0x9F
	case c < 0xF0:
		v.need, v.lo, v.hi = 2, 0x80, 0xBF
	case c == 0xF0: // exclude overlong 4-byte forms
		v.need, v.lo, v.hi = 3, 0x90, 0xBF
	case c < 0xF4:
		v.need, v.lo, v.hi = 3, 0x80, 0xBF
	case c == 0xF4: // exclude code points above U+10FFFF
		v.need, v.lo, v.hi = 3, 0x80, 0x8F
	default: // F5..FF never appear in UTF-8
		v.bad = true
		return false
	}
	return true
}

// completePrefix returns the length of the longest prefix of p, which starts
// on a code point boundary, that does not end inside a sequence whose lead
// byte announces more bytes than p holds. If p[:cut] is not valid UTF-8, no
// continuation of p can be: p[cut], if any, is not a continuation byte, so it
// cannot complete a sequence left open in p[:cut].
func completePrefix(p []byte) int {
	n := len(p)
	// A sequence is at most 4 bytes, so an incomplete one starts within the
	// last 3 bytes.
	for j := n - 1; j >= 0 && j >= n-3; j-- {
		c := p[j]
		if c < 0x80 {
			return n
		}
		if c >= 0xC0 { // a lead byte (possibly an invalid one)
			w := 4
			switch {
			case c < 0xE0:
				w = 2
			case c < 0xF0:
				w = 3
			}
			if j+w > n {
				return j
			}
			return n
		}
	}
	return n
}

// ValidUTF8 reports whether p is entirely valid UTF-8 as defined by RFC 3629
// §4, for callers holding a whole message. Its answer is always that of
// [unicode/utf8.Valid]. On amd64 with SSSE3 or AVX2 and on arm64, inputs of
// 16 bytes or more are checked 16 or 32 bytes at a time with vector
// instructions, which is several times faster on text that is not ASCII.
// It does not allocate.
func ValidUTF8(p []byte) bool {
	return validUTF8(p)
}
