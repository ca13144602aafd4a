//go:build arm64 && !purego

package frame

import "unicode/utf8"

// utf8VectorMin is the length from which validUTF8 uses the vector code,
// one 16-byte block. Below it the call and the copy of the input to a
// padded buffer cost more than utf8.Valid spends on the whole input.
const utf8VectorMin = 16

// utf8Use is the implementation validUTF8 uses from utf8VectorMin bytes on.
// Every arm64 CPU Go runs on has Advanced SIMD (NEON), so it is always
// utf8NEON unless a test sets it to utf8Generic.
var utf8Use = utf8NEON

// validUTF8Vector is validUTF8 for inputs of utf8VectorMin bytes or more.
func validUTF8Vector(p []byte) bool {
	if utf8Use == utf8NEON {
		return validUTF8NEON(p)
	}
	return utf8.Valid(p)
}

// validUTF8NEON reports whether p is valid UTF-8, 16 bytes at a time. It
// accepts any length and reads no byte outside p (utf8_simd_arm64.s).
//
//go:noescape
func validUTF8NEON(p []byte) bool
