package frame

import (
	"bytes"
	"math/rand"
	"testing"
)

// FuzzValidUTF8 compares every implementation of validUTF8 (or the one named
// by -utf8impl), called directly and through validUTF8, with utf8.Valid: on
// the fuzzer's bytes, and on the same bytes after shift%64 bytes of ASCII,
// which moves them across the block boundaries.
func FuzzValidUTF8(f *testing.F) {
	for _, s := range utf8Samples(rand.New(rand.NewSource(1))) {
		f.Add(s, uint8(0))
	}
	for i, c := range utf8BoundaryCases {
		f.Add(append(utf8Filler(40, i%3), c...), uint8(i))
	}
	pad := bytes.Repeat([]byte("a"), 63)
	f.Fuzz(func(t *testing.T, p []byte, shift uint8) {
		shifted := append(pad[:shift%64:shift%64], p...)
		for _, impl := range testUTF8Impls(t) {
			checkValidUTF8(t, impl, p)
			checkValidUTF8(t, impl, shifted)
		}
	})
}

// FuzzUTF8ValidatorStream writes p to a UTF8Validator in pieces whose lengths
// are the bytes of sizes (0 to 255, the rest of p after the last) and checks
// every Write and the final Complete against the references of utf8_test.go,
// once with each implementation of validUTF8 (or the one named by
// -utf8impl) behind Write. Unlike FuzzUTF8Validator (fuzz_test.go), which
// splits at one point or into equal pieces of at most 16 bytes, the pieces
// here are many, of any length the fuzzer picks, and long enough for Write
// to reach the vector code.
func FuzzUTF8ValidatorStream(f *testing.F) {
	rng := rand.New(rand.NewSource(1))
	for i, s := range utf8Samples(rng) {
		f.Add(s, []byte{byte(i % 7), byte(i % 40)})
	}
	for i, c := range utf8BoundaryCases {
		text := append(append(utf8Filler(30+i%40, i%3), c...), utf8Filler(20, (i+1)%3)...)
		f.Add(text, []byte{byte(16 + i%20), 0, byte(i % 5), 33})
	}
	f.Fuzz(func(t *testing.T, p, sizes []byte) {
		var cuts []int
		at := 0
		for _, s := range sizes {
			if at += int(s); at > len(p) {
				break
			}
			cuts = append(cuts, at)
		}
		for _, impl := range testUTF8Impls(t) {
			useUTF8Impl(t, impl)
			checkIncremental(t, p, cuts)
		}
	})
}
