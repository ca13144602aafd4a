//go:build amd64 && !purego

package frame

import (
	"unicode/utf8"

	"golang.org/x/sys/cpu"
)

// utf8TestImpls lists the implementations of validUTF8 this CPU can run.
func utf8TestImpls() []utf8TestImpl {
	impls := []utf8TestImpl{{"generic", utf8Generic, utf8.Valid}}
	if cpu.X86.HasSSSE3 {
		impls = append(impls, utf8TestImpl{"SSE", utf8SSE, validUTF8SSE})
	}
	if cpu.X86.HasAVX2 {
		impls = append(impls, utf8TestImpl{"AVX2", utf8AVX2, validUTF8AVX2})
	}
	return impls
}
