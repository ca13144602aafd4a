package frame

import (
	"bytes"
	"flag"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"
)

var utf8ImplFlag = flag.String("utf8impl", "", "test only this implementation of validUTF8 (generic, SSE, AVX2 or NEON); default all this CPU can run")

// utf8TestImpl is one implementation of validUTF8: the value of utf8Use that
// selects it, and the function itself, which the tests also call directly
// so that it sees inputs shorter than utf8VectorMin too.
type utf8TestImpl struct {
	name  string
	use   utf8Kernel
	valid func([]byte) bool
}

// testUTF8Impls returns the implementations to test: those the CPU can run,
// or only the one named by -utf8impl.
func testUTF8Impls(tb testing.TB) []utf8TestImpl {
	impls := utf8TestImpls()
	if *utf8ImplFlag == "" {
		return impls
	}
	for _, impl := range impls {
		if strings.EqualFold(impl.name, *utf8ImplFlag) {
			return []utf8TestImpl{impl}
		}
	}
	tb.Skipf("-utf8impl=%s: not available on this CPU", *utf8ImplFlag)
	return nil
}

// useUTF8Impl makes validUTF8, and so UTF8Validator and ValidUTF8, use impl
// until the end of the test.
func useUTF8Impl(tb testing.TB, impl utf8TestImpl) {
	saved := utf8Use
	utf8Use = impl.use
	tb.Cleanup(func() { utf8Use = saved })
}

// checkValidUTF8 compares impl, called directly and through validUTF8, with
// utf8.Valid on p.
func checkValidUTF8(t testing.TB, impl utf8TestImpl, p []byte) {
	t.Helper()
	want := utf8.Valid(p)
	if got := impl.valid(p); got != want {
		t.Fatalf("%s: valid(% x) [len %d] = %v, utf8.Valid = %v", impl.name, p, len(p), got, want)
	}
	saved := utf8Use
	utf8Use = impl.use
	got := validUTF8(p)
	utf8Use = saved
	if got != want {
		t.Fatalf("%s: validUTF8(% x) [len %d] = %v, utf8.Valid = %v", impl.name, p, len(p), got, want)
	}
}

// utf8BoundaryCases holds one example of each valid extreme and each class of
// invalid input, as defined by RFC 3629 §4.
var utf8BoundaryCases = []string{
	// Valid: the first and last code point of every row of the table in
	// utf8.go, and a few common ones.
	"\x00", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xe0\xbf\xbf",
	"\xe1\x80\x80", "\xec\xbf\xbf", "\xed\x80\x80", "\xed\x9f\xbf",
	"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\xbf\xbf\xbf",
	"\xf1\x80\x80\x80", "\xf3\xbf\xbf\xbf", "\xf4\x80\x80\x80", "\xf4\x8f\xbf\xbf",
	"é", "€", "世", "🙂", "\xef\xbb\xbf",

	// Stray continuation bytes.
	"\x80", "\xbf", "a\x80", "\xc2\x80\x80", "\xe1\x80\x80\x80", "\xf1\x80\x80\x80\x80",
	// Overlong forms.
	"\xc0\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
	"\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
	// Surrogates U+D800..U+DFFF.
	"\xed\xa0\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80",
	// Above U+10FFFF.
	"\xf4\x90\x80\x80", "\xf4\xbf\xbf\xbf", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf",
	// Bytes that never appear.
	"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff", "\xc0", "\xc1", "\xf5",
	// Lead bytes followed by ASCII or by another lead byte.
	"\xc2a", "\xe1\x80a", "\xe1a\x80", "\xf1\x80\x80a", "\xf1\x80a\x80", "\xc2\xc2\x80",
	"\xe1\xe1\x80\x80", "\xf0\xf0\x90\x80\x80",
	// Truncated sequences (invalid at the end of the input; elsewhere
	// followed by whatever comes next).
	"\xc2", "\xdf", "\xe0", "\xe0\xa0", "\xe1\x80", "\xed\x9f", "\xef\xbf",
	"\xf0", "\xf0\x90", "\xf0\x90\x80", "\xf1\x80\x80", "\xf4", "\xf4\x8f", "\xf4\x8f\xbf",
}

// utf8Filler returns n bytes of valid UTF-8 in one of several styles, so that
// the bytes around a test case are ASCII or multibyte text.
func utf8Filler(n, style int) []byte {
	b := make([]byte, 0, n)
	runes := [...]string{"a", "é", "€", "🙂"}
	for i := 0; len(b) < n; i++ {
		var s string
		switch style {
		case 0:
			s = "a"
		case 1:
			s = runes[i%4]
		default:
			s = runes[3-i%4]
		}
		if len(b)+len(s) > n {
			s = "a"
		}
		b = append(b, s...)
	}
	return b
}

// TestValidUTF8Boundaries places every case of utf8BoundaryCases at every
// offset 0..70 from the start and from the end of buffers of 0..200 bytes,
// so that each one straddles every block boundary the implementations have
// and meets the end of the input in every block position.
func TestValidUTF8Boundaries(t *testing.T) {
	for _, impl := range testUTF8Impls(t) {
		impl := impl
		t.Run(impl.name, func(t *testing.T) {
			buf := make([]byte, 0, 256)
			for _, c := range utf8BoundaryCases {
				for n := len(c); n <= 200; n++ {
					for off := 0; off <= 70 && off+len(c) <= n; off++ {
						style := (n + off) % 3
						{
							for _, at := range [2]int{off, n - len(c) - off} {
								buf = append(buf[:0], utf8Filler(at, style)...)
								buf = append(buf, c...)
								buf = append(buf, utf8Filler(n-len(buf), style)...)
								checkValidUTF8(t, impl, buf)
							}
						}
					}
				}
			}
		})
	}
}

// utf8Edges holds the bytes at the edges of the ranges of RFC 3629 §4, and
// bytes that never appear in UTF-8.
var utf8Edges = []byte{0x00, 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
	0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xff}

// forEachString calls f with every string of n bytes drawn from alphabet.
func forEachString(alphabet []byte, n int, f func([]byte)) {
	idx := make([]int, n)
	b := make([]byte, n)
	for {
		for i, k := range idx {
			b[i] = alphabet[k]
		}
		f(b)
		i := 0
		for ; i < n; i++ {
			if idx[i]++; idx[i] < len(alphabet) {
				break
			}
			idx[i] = 0
		}
		if i == n {
			return
		}
	}
}

// TestValidUTF8Short checks every input of up to 2 bytes, every 3-byte input
// whose last two bytes are in utf8Edges, every 4-byte input over utf8Edges
// and 5-byte inputs over a smaller set. Each is checked alone and after 13,
// 29 and 61 bytes of ASCII (so that it ends the first 16-, 32- or 64-byte
// block) and after 62 bytes (so that it crosses into the next).
func TestValidUTF8Short(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	small := []byte{0x00, 0x80, 0x9f, 0xa0, 0xbf, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff}
	pad := bytes.Repeat([]byte("a"), 62)
	for _, impl := range testUTF8Impls(t) {
		impl := impl
		t.Run(impl.name, func(t *testing.T) {
			buf := make([]byte, 0, 80)
			check := func(b []byte) {
				for _, lead := range [...]int{0, 13, 29, 61, 62} {
					buf = append(append(buf[:0], pad[:lead]...), b...)
					checkValidUTF8(t, impl, buf)
				}
			}
			check(nil)
			forEachString(all, 1, check)
			forEachString(all, 2, check)
			for _, c := range all {
				forEachString(utf8Edges, 2, func(b []byte) { check(append([]byte{c}, b...)) })
			}
			forEachString(utf8Edges, 4, check)
			forEachString(small, 5, check)
		})
	}
}

// randomUTF8 appends valid UTF-8 text to b until it holds n bytes, with
// runes drawn from all four lengths (or ASCII only).
func randomUTF8(rng *rand.Rand, b []byte, n int, asciiOnly bool) []byte {
	for len(b) < n {
		var r rune
		k := rng.Intn(4)
		if asciiOnly || len(b)+4 > n {
			k = 0
		}
		switch k {
		case 0:
			r = rune(rng.Intn(0x80))
		case 1:
			r = rune(0x80 + rng.Intn(0x800-0x80))
		case 2:
			r = rune(0x800 + rng.Intn(0x10000-0x800))
			if utf8.ValidRune(r) {
				break
			}
			r = 0xfffd
		default:
			r = rune(0x10000 + rng.Intn(utf8.MaxRune+1-0x10000))
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// TestValidUTF8Differential compares every implementation with utf8.Valid on
// random valid text, ASCII, random bytes and mutations of them (a byte
// replaced, removed or inserted, the text cut short) at every length from
// 0 to 1024.
func TestValidUTF8Differential(t *testing.T) {
	edges := utf8Edges
	for _, impl := range testUTF8Impls(t) {
		impl := impl
		t.Run(impl.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			var b, m []byte
			for n := 0; n <= 1024; n++ {
				for k := 0; k < 8; k++ {
					b = randomUTF8(rng, b[:0], n, k%4 == 0)
					checkValidUTF8(t, impl, b)
					if n == 0 {
						continue
					}
					// One byte replaced by an edge byte or a random one.
					m = append(m[:0], b...)
					if k%2 == 0 {
						m[rng.Intn(n)] = edges[rng.Intn(len(edges))]
					} else {
						m[rng.Intn(n)] = byte(rng.Intn(256))
					}
					checkValidUTF8(t, impl, m)
					// One byte removed, one inserted.
					i := rng.Intn(n)
					m = append(append(m[:0], b[:i]...), b[i+1:]...)
					checkValidUTF8(t, impl, m)
					m = append(append(append(m[:0], b[:i]...), edges[rng.Intn(len(edges))]), b[i:]...)
					checkValidUTF8(t, impl, m)
					// The text cut at an arbitrary byte.
					checkValidUTF8(t, impl, b[:rng.Intn(n)])
				}
				// Random bytes, mostly ASCII and mostly edges.
				m = m[:0]
				for len(m) < n {
					if rng.Intn(8) == 0 {
						m = append(m, edges[rng.Intn(len(edges))])
					} else {
						m = append(m, byte(rng.Intn(0x80)))
					}
				}
				checkValidUTF8(t, impl, m)
				for i := range m {
					m[i] = edges[rng.Intn(len(edges))]
				}
				checkValidUTF8(t, impl, m)
			}
		})
	}
}

// TestValidUTF8Validator runs the UTF8Validator tests of utf8_test.go with
// every implementation of validUTF8 behind Write.
func TestValidUTF8Validator(t *testing.T) {
	for _, impl := range testUTF8Impls(t) {
		impl := impl
		t.Run(impl.name, func(t *testing.T) {
			useUTF8Impl(t, impl)
			t.Run("UTF8Validator", TestUTF8Validator)
			t.Run("Differential", TestUTF8ValidatorDifferential)
			t.Run("LongRuns", TestUTF8ValidatorLongRuns)
			// Long chunks, so that Write uses the vector code, with a
			// defect at every position of a 200-byte multibyte text.
			rng := rand.New(rand.NewSource(2))
			base := randomUTF8(rng, nil, 200, false)
			for bad := 0; bad < len(base); bad++ {
				p := append([]byte(nil), base...)
				p[bad] = []byte{0x80, 0xc0, 0xed, 0xf4, 0xff}[bad%5]
				for _, chunk := range []int{33, 64, 100} {
					var cuts []int
					for c := chunk; c < len(p); c += chunk {
						cuts = append(cuts, c)
					}
					checkIncremental(t, p, cuts)
				}
			}
		})
	}
}

// runeStart returns the largest i <= n at which a rune of p starts, or len(p).
func runeStart(p []byte, n int) int {
	for n < len(p) && n > 0 && !utf8.RuneStart(p[n]) {
		n--
	}
	return n
}

func TestValidUTF8Allocs(t *testing.T) {
	text := []byte(strings.Repeat("Grüße, 世界! 🙂 ", 50))
	for _, impl := range testUTF8Impls(t) {
		impl := impl
		for _, n := range []int{0, 7, 31, 33, 100, len(text)} {
			allocs := testing.AllocsPerRun(100, func() {
				if !impl.valid(text[:runeStart(text, n)]) {
					t.Fatal("valid text rejected")
				}
			})
			if allocs != 0 {
				t.Errorf("%s: %d bytes: allocations per run = %v, want 0", impl.name, n, allocs)
			}
		}
	}
}
