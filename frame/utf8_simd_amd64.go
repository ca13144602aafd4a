//go:build amd64 && !purego

package frame

import (
	"unicode/utf8"

	"golang.org/x/sys/cpu"
)

// utf8VectorMin is the length from which validUTF8 uses the vector code.
// Below it the call and the final partial block cost more than utf8.Valid
// spends on the whole input.
const utf8VectorMin = 16

// utf8Use is the implementation validUTF8 uses from utf8VectorMin bytes on:
// AVX2 where the CPU has it, else SSSE3 (for PSHUFB and PALIGNR), else
// utf8.Valid. Tests set it to exercise each one.
var utf8Use = func() utf8Kernel {
	switch {
	case cpu.X86.HasAVX2:
		return utf8AVX2
	case cpu.X86.HasSSSE3:
		return utf8SSE
	}
	return utf8Generic
}()

// validUTF8Vector is validUTF8 for inputs of utf8VectorMin bytes or more.
// With AVX2, inputs shorter than one 32-byte block go to the SSE code,
// which checks them in one or two 16-byte blocks; every CPU with AVX2 has
// SSSE3.
func validUTF8Vector(p []byte) bool {
	switch utf8Use {
	case utf8AVX2:
		if len(p) < 32 {
			return validUTF8SSE(p)
		}
		return validUTF8AVX2(p)
	case utf8SSE:
		return validUTF8SSE(p)
	}
	return utf8.Valid(p)
}

// validUTF8AVX2 reports whether p is valid UTF-8, 32 bytes at a time. It
// accepts any length, reads no byte outside p and requires AVX2
// (utf8_simd_amd64.s).
//
//go:noescape
func validUTF8AVX2(p []byte) bool

// validUTF8SSE reports whether p is valid UTF-8, 16 bytes at a time. It
// accepts any length, reads no byte outside p and requires SSSE3
// (utf8_simd_amd64.s).
//
//go:noescape
func validUTF8SSE(p []byte) bool
