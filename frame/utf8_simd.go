package frame

import "unicode/utf8"

// Vector UTF-8 validation, after J. Keiser and D. Lemire, "Validating UTF-8
// In Less Than One Instruction Per Byte", Software: Practice and Experience
// 51(5), 2021 (arXiv:2010.03090).
//
// Whether a byte is allowed depends only on that byte and the three bytes
// before it, so a whole block can be checked at once. For every position the
// vector code looks at the byte (cur) and its predecessors prev1, prev2 and
// prev3 (zero before the start of the input, which reads as ASCII):
//
//   - Three 16-entry tables, indexed by the high nibble of prev1, the low
//     nibble of prev1 and the high nibble of cur, give a bit set each. Every
//     bit stands for one class of invalid two-byte pair (listed with the
//     tables in the assembly files); a pair is in a class exactly when the
//     bit is set in all three entries, so the AND of the three lookups is
//     non-zero exactly when (prev1, cur) is an invalid pair. With the byte
//     ranges of RFC 3629 §4 this covers a lead byte not followed by a
//     continuation byte, a continuation byte after ASCII, the overlong forms
//     (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF), code points
//     above U+10FFFF (F4 90..BF, F5..FF) and a continuation byte after a
//     continuation byte.
//   - The last class is only an error when cur is not the third or fourth
//     byte of a sequence, that is unless prev2 is E0..FF or prev3 is
//     F0..FF. That condition is computed with saturating subtractions as a
//     mask of 0x80, which is the bit of that class, and XORed in: a third or
//     fourth byte that is a continuation byte cancels the bit, one that is
//     not sets it.
//
// Any non-zero result anywhere means invalid. The input must also not end
// inside a sequence: with a byte C0..FF last, E0..FF second to last or
// F0..FF third to last. The same test, done with one more saturating
// subtraction, lets a block of ASCII skip the lookups: it only has to check
// that the block before it does not end inside a sequence. The bytes after
// the last full block are checked as part of the last block-sized stretch
// of the input; only an input shorter than one block is copied instead, to
// a zeroed buffer, where the zeros that follow it expose a sequence cut
// short like any other byte that should have been a continuation byte.

// utf8Kernel names one implementation of validUTF8.
type utf8Kernel uint8

const (
	utf8Generic utf8Kernel = iota // unicode/utf8.Valid
	utf8SSE                       // amd64 with SSSE3, 16 bytes a step
	utf8AVX2                      // amd64 with AVX2, 32 bytes a step
	utf8NEON                      // arm64 Advanced SIMD, 16 bytes a step
)

// validUTF8 reports whether p consists entirely of valid UTF-8 as defined by
// RFC 3629 §4. Its answer is always that of utf8.Valid; on amd64 and arm64
// inputs of utf8VectorMin bytes or more are checked with vector instructions
// (utf8_simd_amd64.s, utf8_simd_arm64.s), shorter ones by utf8.Valid, which
// is faster on them. It does not allocate.
func validUTF8(p []byte) bool {
	if len(p) < utf8VectorMin {
		return utf8.Valid(p)
	}
	return validUTF8Vector(p)
}
