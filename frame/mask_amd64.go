//go:build amd64 && !purego

package frame

import "golang.org/x/sys/cpu"

// useAVX2 selects the vector loop; the word loop in mask.go serves CPUs
// without AVX2 and the tail of every buffer.
var useAVX2 = cpu.X86.HasAVX2

// maskAVX2 XORs n bytes of src, n a multiple of 32, with key repeated,
// into dst, 32 bytes per instruction (mask_amd64.s).
//
//go:noescape
func maskAVX2(dst, src *byte, n int, key uint64)

// maskBlocks masks the longest prefix of src that the vector loop handles,
// into dst, with the key word k, and returns its length: a multiple of 32,
// so the key position after it is that of the start. Short buffers are
// left to the word loop, for which the call would not pay.
func maskBlocks(dst, src []byte, k uint64) int {
	n := len(src) &^ 31
	if !useAVX2 || n < 64 {
		return 0
	}
	_ = dst[n-1]
	maskAVX2(&dst[0], &src[0], n, k)
	return n
}
