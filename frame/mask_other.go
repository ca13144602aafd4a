//go:build !amd64 || purego

package frame

// maskBlocks leaves every byte to the word loop in mask.go on platforms
// without a vector implementation.
func maskBlocks(dst, src []byte, k uint64) int { return 0 }
