package frame

import "encoding/binary"

// RFC 6455 §5.3: octet i of the transformed data is octet i of the original
// data XOR octet at index i modulo 4 of the masking key. Masking and
// unmasking are the same operation.
//
// Both functions below work eight bytes at a time: the key, rotated to start
// at the current position, is repeated into a 64-bit word, which is XORed
// with little-endian loads of the data. On amd64 with AVX2, maskBlocks first
// does the same 32 bytes at a time with that word repeated four times. Since 8 is a multiple of 4 the key
// position does not change across a word, so only the last len%8 bytes need
// the byte loop. encoding/binary's fixed-offset loads and stores compile to
// single unaligned memory operations on the common architectures.

// maskWord returns the key rotated to start at position pos&3, repeated into
// a 64-bit little-endian word.
func maskWord(key [4]byte, pos int) uint64 {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	// Rotate right by 8 bits per position so that the byte at key[pos&3]
	// becomes the lowest, i.e. the first in memory order.
	s := uint(pos&3) * 8
	k = (k>>s | k<<(32-s)) & 0xFFFFFFFF
	return k | k<<32
}

// Mask XORs b in place with key, starting at key byte pos&3, and returns the
// key position for the byte that follows b, (pos+len(b))&3. Passing that
// position to the next call masks a payload that arrives in pieces. Mask
// does not allocate.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	n := len(b)
	i := 0
	if n >= 8 {
		k := maskWord(key, pos)
		i = maskBlocks(b, b, k)
		for ; i <= n-32; i += 32 {
			w := b[i : i+32 : i+32]
			binary.LittleEndian.PutUint64(w[0:8], binary.LittleEndian.Uint64(w[0:8])^k)
			binary.LittleEndian.PutUint64(w[8:16], binary.LittleEndian.Uint64(w[8:16])^k)
			binary.LittleEndian.PutUint64(w[16:24], binary.LittleEndian.Uint64(w[16:24])^k)
			binary.LittleEndian.PutUint64(w[24:32], binary.LittleEndian.Uint64(w[24:32])^k)
		}
		for ; i <= n-8; i += 8 {
			binary.LittleEndian.PutUint64(b[i:i+8], binary.LittleEndian.Uint64(b[i:i+8])^k)
		}
	}
	for ; i < n; i++ {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + n) & 3
}

// MaskCopy sets dst[i] = src[i] ^ key[(pos+i)&3] for every i < len(src), so
// copying and masking happen in one pass, and returns the key position for
// the byte that follows, (pos+len(src))&3. It panics if dst is shorter than
// src. dst and src may be the same slice but must not otherwise overlap.
// MaskCopy does not allocate.
func MaskCopy(dst, src []byte, key [4]byte, pos int) int {
	pos &= 3
	n := len(src)
	dst = dst[:n]
	i := 0
	if n >= 8 {
		k := maskWord(key, pos)
		i = maskBlocks(dst, src, k)
		for ; i <= n-32; i += 32 {
			s := src[i : i+32 : i+32]
			d := dst[i : i+32 : i+32]
			binary.LittleEndian.PutUint64(d[0:8], binary.LittleEndian.Uint64(s[0:8])^k)
			binary.LittleEndian.PutUint64(d[8:16], binary.LittleEndian.Uint64(s[8:16])^k)
			binary.LittleEndian.PutUint64(d[16:24], binary.LittleEndian.Uint64(s[16:24])^k)
			binary.LittleEndian.PutUint64(d[24:32], binary.LittleEndian.Uint64(s[24:32])^k)
		}
		for ; i <= n-8; i += 8 {
			binary.LittleEndian.PutUint64(dst[i:i+8], binary.LittleEndian.Uint64(src[i:i+8])^k)
		}
	}
	for ; i < n; i++ {
		dst[i] = src[i] ^ key[(pos+i)&3]
	}
	return (pos + n) & 3
}
