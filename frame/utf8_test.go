package frame

import (
	"bytes"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// validPrefixes holds every proper, non-empty prefix of the UTF-8 encoding
// of every Unicode scalar value. It is built from unicode/utf8 alone, so it
// is an independent reference for what an incomplete trailing sequence may
// look like.
var (
	validPrefixesOnce sync.Once
	validPrefixes     map[string]bool
)

func prefixSet() map[string]bool {
	validPrefixesOnce.Do(func() {
		validPrefixes = make(map[string]bool)
		var buf [utf8.UTFMax]byte
		for r := rune(0); r <= utf8.MaxRune; r++ {
			if !utf8.ValidRune(r) {
				continue
			}
			n := utf8.EncodeRune(buf[:], r)
			for i := 1; i < n; i++ {
				validPrefixes[string(buf[:i])] = true
			}
		}
	})
	return validPrefixes
}

// isValidPrefix reports whether p can be extended to valid UTF-8: a valid
// string followed by at most 3 bytes that begin some rune's encoding.
func isValidPrefix(p []byte) bool {
	set := prefixSet()
	for t := 0; t <= 3 && t <= len(p); t++ {
		if utf8.Valid(p[:len(p)-t]) && (t == 0 || set[string(p[len(p)-t:])]) {
			return true
		}
	}
	return false
}

// firstBad returns the index of the first byte at which p stops being a
// valid prefix, or -1 if p is a valid prefix. The prefixes of a valid prefix
// are valid prefixes, so a binary search finds it.
func firstBad(p []byte) int {
	i := sort.Search(len(p), func(i int) bool { return !isValidPrefix(p[:i+1]) })
	if i == len(p) {
		return -1
	}
	return i
}

func TestUTF8Validator(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		write    bool // result of a single Write
		complete bool
	}{
		{"empty", "", true, true},
		{"ascii", "hello, world", true, true},
		{"long ascii", strings.Repeat("abcdefgh", 100), true, true},
		{"2-byte", "\xc2\x80 é \xdf\xbf", true, true},
		{"3-byte", "\xe0\xa0\x80 € \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf", true, true},
		{"4-byte", "\xf0\x90\x80\x80 😀 \xf4\x8f\xbf\xbf", true, true},
		{"mixed", "Grüße, 世界! 🙂", true, true},
		{"NUL", "\x00", true, true},

		{"overlong C0 80", "\xc0\x80", false, false},
		{"overlong C1 BF", "\xc1\xbf", false, false},
		{"overlong E0 80 80", "\xe0\x80\x80", false, false},
		{"overlong E0 9F BF", "\xe0\x9f\xbf", false, false},
		{"overlong F0 80 80 80", "\xf0\x80\x80\x80", false, false},
		{"overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", false, false},
		{"surrogate ED A0 80", "\xed\xa0\x80", false, false},
		{"surrogate ED BF BF", "\xed\xbf\xbf", false, false},
		{"surrogate pair", "\xed\xa0\xbd\xed\xb8\x80", false, false},
		{"above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80", false, false},
		{"stray continuation 80", "\x80", false, false},
		{"stray continuation after ascii", "ab\xbf", false, false},
		{"continuation after complete rune", "é\x80", false, false},
		{"F5", "\xf5\x80\x80\x80", false, false},
		{"F8", "\xf8", false, false},
		{"FE", "a\xfe", false, false},
		{"FF", "\xff", false, false},
		{"lead then ascii", "\xc3a", false, false},
		{"3-byte lead then ascii", "\xe2\x82a", false, false},
		{"4-byte lead then lead", "\xf0\x9f\xf0", false, false},
		{"5-byte form", "\xf8\x88\x80\x80\x80", false, false},
		{"invalid in middle", "hello\xffworld", false, false},

		{"truncated 2-byte", "ab\xc3", true, false},
		{"truncated 3-byte after 1", "\xe2", true, false},
		{"truncated 3-byte after 2", "x\xe2\x82", true, false},
		{"truncated 4-byte after 1", "\xf0", true, false},
		{"truncated 4-byte after 2", "\xf0\x9f", true, false},
		{"truncated 4-byte after 3", "\xf0\x9f\x98", true, false},
		{"truncated F4 8F", "\xf4\x8f", true, false},

		// Invalid already before the sequence is complete (fail fast).
		{"incomplete F4 90", "\xf4\x90", false, false},
		{"incomplete ED A0", "\xed\xa0", false, false},
		{"incomplete E0 80", "\xe0\x80", false, false},
		{"incomplete F0 8F", "\xf0\x8f", false, false},
		{"incomplete C0", "abc\xc0", false, false},
		{"incomplete F5", "\xf5", false, false},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var v UTF8Validator
			if got := v.Write(in); got != tt.write {
				t.Errorf("Write(% x) = %v, want %v", in, got, tt.write)
			}
			if got := v.Complete(); got != tt.complete {
				t.Errorf("Complete() = %v, want %v", got, tt.complete)
			}
			// The table must agree with the references.
			if utf8.Valid(in) != tt.complete || isValidPrefix(in) != tt.write {
				t.Fatalf("bad table entry: utf8.Valid = %v, isValidPrefix = %v", utf8.Valid(in), isValidPrefix(in))
			}
			if got := ValidUTF8(in); got != tt.complete {
				t.Errorf("ValidUTF8 = %v, want %v", got, tt.complete)
			}
			// Byte by byte gives the same answers.
			v.Reset()
			ok := true
			for i := range in {
				ok = v.Write(in[i : i+1])
			}
			if ok != tt.write || v.Complete() != tt.complete {
				t.Errorf("byte-at-a-time: Write = %v, Complete = %v; want %v, %v", ok, v.Complete(), tt.write, tt.complete)
			}
		})
	}
}

func TestUTF8ValidatorSticky(t *testing.T) {
	var v UTF8Validator
	if v.Write([]byte("a\xffb")) {
		t.Fatal("Write accepted invalid input")
	}
	if v.Write([]byte("valid")) || v.Complete() {
		t.Fatal("validator recovered from an error without Reset")
	}
	v.Reset()
	if !v.Write([]byte("valid")) || !v.Complete() {
		t.Fatal("validator not usable after Reset")
	}
	// Reset also clears a pending incomplete sequence.
	v.Write([]byte("\xe2\x82"))
	v.Reset()
	if !v.Write([]byte("a")) || !v.Complete() {
		t.Fatal("Reset did not clear a pending sequence")
	}
}

// checkIncremental feeds p in the given chunks and checks the results against
// the references: Write returns true up to the chunk holding the first bad
// byte and false from that chunk on, and Complete equals utf8.Valid.
func checkIncremental(t testing.TB, p []byte, cuts []int) {
	t.Helper()
	bad := firstBad(p)
	var v UTF8Validator
	start := 0
	for ci := 0; ci <= len(cuts); ci++ {
		end := len(p)
		if ci < len(cuts) {
			end = cuts[ci]
		}
		got := v.Write(p[start:end])
		want := bad < 0 || bad >= end
		if got != want {
			t.Fatalf("input % x, chunks at %v: Write(p[%d:%d]) = %v, want %v (first bad byte at %d)", p, cuts, start, end, got, want, bad)
		}
		start = end
	}
	if got, want := v.Complete(), utf8.Valid(p); got != want {
		t.Fatalf("input % x, chunks at %v: Complete() = %v, utf8.Valid = %v", p, cuts, got, want)
	}
}

// utf8Samples returns crafted and random byte strings for the differential
// tests.
func utf8Samples(rng *rand.Rand) [][]byte {
	var samples [][]byte
	for _, s := range []string{
		"", "a", "héllo wörld", "日本語テキスト", "🙂🙃 emoji 🚀", "\xf4\x8f\xbf\xbf\xf0\x90\x80\x80",
		"abc\xed\xa0\x80def", "abc\xf4\x90\x80\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xc0\x80",
		"ok\x80", "ok\xc3", "ok\xe2\x82", "ok\xf0\x9f\x98", "\xf5\x80", "\xff\xfe", "é\xa9",
		strings.Repeat("x", 40) + "\xed\xa0" + strings.Repeat("y", 10),
		strings.Repeat("€", 20) + "\xe2\x28\xa1",
	} {
		samples = append(samples, []byte(s))
	}
	// Interesting bytes: ASCII, boundaries of every lead and continuation
	// range, and never-valid bytes.
	alphabet := []byte{0x00, 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
		0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xff}
	for i := 0; i < 400; i++ {
		n := rng.Intn(24)
		b := make([]byte, n)
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		samples = append(samples, b)
	}
	// Valid text with one random corruption, and valid text built from
	// random runes.
	for i := 0; i < 300; i++ {
		var b []byte
		for n := rng.Intn(12); n >= 0; n-- {
			var r rune
			switch rng.Intn(4) {
			case 0:
				r = rune(rng.Intn(0x80))
			case 1:
				r = rune(0x80 + rng.Intn(0x800-0x80))
			case 2:
				r = rune(0x800 + rng.Intn(0x10000-0x800))
			default:
				r = rune(0x10000 + rng.Intn(utf8.MaxRune+1-0x10000))
			}
			b = utf8.AppendRune(b, r)
		}
		samples = append(samples, b)
		if len(b) > 0 && i%2 == 0 {
			c := append([]byte(nil), b...)
			c[rng.Intn(len(c))] = byte(rng.Intn(256))
			samples = append(samples, c)
		}
	}
	return samples
}

func TestUTF8ValidatorDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	samples := utf8Samples(rng)
	for _, p := range samples {
		// Whole, every single split point, and one byte at a time.
		checkIncremental(t, p, nil)
		for i := 0; i <= len(p); i++ {
			checkIncremental(t, p, []int{i})
		}
		ones := make([]int, 0, len(p))
		for i := 1; i < len(p); i++ {
			ones = append(ones, i)
		}
		checkIncremental(t, p, ones)
		// A few random multi-way splits.
		for k := 0; k < 5 && len(p) > 1; k++ {
			var cuts []int
			for c := rng.Intn(3) + 1; c < len(p); c += rng.Intn(5) + 1 {
				cuts = append(cuts, c)
			}
			checkIncremental(t, p, cuts)
		}
	}
}

// TestUTF8ValidatorLongRuns makes the utf8.Valid fast path cover long
// stretches with a defect near chunk boundaries.
func TestUTF8ValidatorLongRuns(t *testing.T) {
	base := []byte(strings.Repeat("ascii text ", 30) + strings.Repeat("многобайтовый текст ", 10) + strings.Repeat("🙂", 20))
	for _, bad := range []int{0, 1, 100, len(base) / 2, len(base) - 1} {
		p := append([]byte(nil), base...)
		p[bad] = 0xff
		for _, chunk := range []int{1, 3, 7, 64, 1000} {
			var cuts []int
			for c := chunk; c < len(p); c += chunk {
				cuts = append(cuts, c)
			}
			checkIncremental(t, base, cuts)
			checkIncremental(t, p, cuts)
		}
	}
}

func TestUTF8ValidatorAllocs(t *testing.T) {
	text := []byte(strings.Repeat("Grüße, 世界! 🙂 ", 50))
	var v UTF8Validator
	allocs := testing.AllocsPerRun(100, func() {
		v.Reset()
		for i := 0; i < len(text); i += 7 {
			end := i + 7
			if end > len(text) {
				end = len(text)
			}
			v.Write(text[i:end])
		}
		if !v.Complete() {
			t.Fatal("valid text rejected")
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per run = %v, want 0", allocs)
	}
}

func BenchmarkUTF8Validator(b *testing.B) {
	inputs := []struct {
		name string
		text []byte
	}{
		{"ASCII", bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 16<<10/45)},
		{"Multibyte", bytes.Repeat([]byte("Grüße aus Köln! Привет, мир! 日本語のテキスト。🙂🚀 "), 16<<10/90)},
	}
	for _, in := range inputs {
		in := in
		// The yardsticks: the standard library's check, and a plain copy
		// of the same bytes.
		b.Run(in.name+"/utf8.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for i := 0; i < b.N; i++ {
				if !utf8.Valid(in.text) {
					b.Fatal("valid text rejected")
				}
			}
		})
		b.Run(in.name+"/copy", func(b *testing.B) {
			dst := make([]byte, len(in.text))
			b.SetBytes(int64(len(in.text)))
			for i := 0; i < b.N; i++ {
				copy(dst, in.text)
			}
		})
		// ValidUTF8 and each implementation of validUTF8 at message
		// sizes: 256 B and 1 KiB (cut at a rune boundary) and the whole
		// text, the "16KiB" of the benchmarks below (16380 bytes of
		// ASCII, 14014 of multibyte text).
		for _, size := range []int{256, 1 << 10, len(in.text)} {
			text := in.text[:runeStart(in.text, size)]
			sizeName := "/size=" + strconv.Itoa(size)
			if size == len(in.text) {
				sizeName = "/size=16KiB"
			}
			b.Run(in.name+"/ValidUTF8"+sizeName, func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for i := 0; i < b.N; i++ {
					if !ValidUTF8(text) {
						b.Fatal("valid text rejected")
					}
				}
			})
			for _, impl := range testUTF8Impls(b) {
				impl := impl
				b.Run(in.name+"/validUTF8"+sizeName+"/impl="+impl.name, func(b *testing.B) {
					useUTF8Impl(b, impl)
					b.SetBytes(int64(len(text)))
					for i := 0; i < b.N; i++ {
						if !validUTF8(text) {
							b.Fatal("valid text rejected")
						}
					}
				})
			}
		}
		for _, chunk := range []int{0, 1000} {
			chunk := chunk
			name := in.name + "/whole"
			if chunk > 0 {
				name = in.name + "/chunks1000"
			}
			b.Run(name, func(b *testing.B) {
				var v UTF8Validator
				b.SetBytes(int64(len(in.text)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					v.Reset()
					if chunk == 0 {
						v.Write(in.text)
					} else {
						for j := 0; j < len(in.text); j += chunk {
							end := j + chunk
							if end > len(in.text) {
								end = len(in.text)
							}
							v.Write(in.text[j:end])
						}
					}
					if !v.Complete() {
						b.Fatal("valid text rejected")
					}
				}
			})
		}
	}
}
