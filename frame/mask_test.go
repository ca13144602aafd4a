package frame

import (
	"bytes"
	"math/rand"
	"strconv"
	"testing"
)

// naiveMask is the reference: RFC 6455 §5.3 byte by byte.
func naiveMask(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

func TestMaskWord(t *testing.T) {
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	want := []uint64{0x4433221144332211, 0x1144332211443322, 0x2211443322114433, 0x3322114433221144}
	for pos := 0; pos < 8; pos++ {
		if got := maskWord(key, pos); got != want[pos&3] {
			t.Errorf("maskWord(pos=%d) = %#x, want %#x", pos, got, want[pos&3])
		}
	}
}

func TestMaskDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(6455))
	const maxLen = 300
	// Extra room so sub-slices at offsets 1 and 3 are also maxLen long.
	orig := make([]byte, maxLen+8)
	for _, off := range []int{0, 1, 3} {
		off := off
		t.Run("offset"+strconv.Itoa(off), func(t *testing.T) {
			for n := 0; n <= maxLen; n++ {
				for pos := 0; pos < 4; pos++ {
					var key [4]byte
					rng.Read(key[:])
					rng.Read(orig)

					want := append([]byte(nil), orig...)
					wantNext := naiveMask(key, pos, want[off:off+n])

					got := append([]byte(nil), orig...)
					if next := Mask(key, pos, got[off:off+n]); next != wantNext {
						t.Fatalf("Mask(len=%d, pos=%d) next = %d, want %d", n, pos, next, wantNext)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("Mask(len=%d, pos=%d, off=%d) mismatch\n got % x\nwant % x", n, pos, off, got, want)
					}

					// MaskCopy into a separate buffer at a different
					// alignment; bytes outside dst[:n] must be untouched.
					dst := bytes.Repeat([]byte{0xEE}, len(orig))
					dOff := (off + 2) % 4
					if next := MaskCopy(dst[dOff:dOff+n+2], orig[off:off+n], key, pos); next != wantNext {
						t.Fatalf("MaskCopy(len=%d, pos=%d) next = %d, want %d", n, pos, next, wantNext)
					}
					if !bytes.Equal(dst[dOff:dOff+n], want[off:off+n]) {
						t.Fatalf("MaskCopy(len=%d, pos=%d, off=%d) mismatch\n got % x\nwant % x", n, pos, off, dst[dOff:dOff+n], want[off:off+n])
					}
					for i, c := range dst {
						if (i < dOff || i >= dOff+n) && c != 0xEE {
							t.Fatalf("MaskCopy(len=%d) wrote outside dst[:len(src)] at %d", n, i-dOff)
						}
					}

					// MaskCopy in place.
					inPlace := append([]byte(nil), orig...)
					MaskCopy(inPlace[off:off+n], inPlace[off:off+n], key, pos)
					if !bytes.Equal(inPlace, want) {
						t.Fatalf("MaskCopy in place (len=%d, pos=%d, off=%d) mismatch", n, pos, off)
					}
				}
			}
		})
	}
}

// TestMaskPieces checks that masking a payload in arbitrary pieces, passing
// the returned position along, equals masking it whole.
func TestMaskPieces(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	payload := make([]byte, 1000)
	rng.Read(payload)
	want := append([]byte(nil), payload...)
	naiveMask(key, 0, want)
	for trial := 0; trial < 50; trial++ {
		got := append([]byte(nil), payload...)
		cp := make([]byte, len(payload))
		pos, cpos := 0, 0
		for i := 0; i < len(got); {
			n := rng.Intn(40)
			if i+n > len(got) {
				n = len(got) - i
			}
			pos = Mask(key, pos, got[i:i+n])
			cpos = MaskCopy(cp[i:], payload[i:i+n], key, cpos)
			i += n
		}
		if !bytes.Equal(got, want) || !bytes.Equal(cp, want) {
			t.Fatalf("trial %d: piecewise masking differs from whole", trial)
		}
	}
}

func TestMaskCopyShortDstPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MaskCopy with short dst did not panic")
		}
	}()
	MaskCopy(make([]byte, 3), make([]byte, 4), [4]byte{}, 0)
}

func TestMaskAllocs(t *testing.T) {
	buf := make([]byte, 4099)
	dst := make([]byte, 4099)
	key := [4]byte{1, 2, 3, 4}
	allocs := testing.AllocsPerRun(100, func() {
		p := Mask(key, 1, buf[1:])
		MaskCopy(dst, buf, key, p)
	})
	if allocs != 0 {
		t.Errorf("allocations per run = %v, want 0", allocs)
	}
}

var benchSizes = []int{16, 128, 1 << 10, 16 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + "M"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + "K"
	}
	return strconv.Itoa(n)
}

func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, size := range benchSizes {
		size := size
		b.Run(sizeName(size), func(b *testing.B) {
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Mask(key, 0, buf)
			}
		})
	}
}

func BenchmarkMaskCopy(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, size := range benchSizes {
		size := size
		b.Run(sizeName(size), func(b *testing.B) {
			src := make([]byte, size)
			dst := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				MaskCopy(dst, src, key, 0)
			}
		})
	}
}

// BenchmarkCopy is the baseline for BenchmarkMaskCopy: a plain copy.
func BenchmarkCopy(b *testing.B) {
	for _, size := range benchSizes {
		size := size
		b.Run(sizeName(size), func(b *testing.B) {
			src := make([]byte, size)
			dst := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				copy(dst, src)
			}
		})
	}
}

// BenchmarkMaskNaive shows what the word-at-a-time loop buys.
func BenchmarkMaskNaive(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, size := range benchSizes {
		size := size
		b.Run(sizeName(size), func(b *testing.B) {
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				naiveMask(key, 0, buf)
			}
		})
	}
}
