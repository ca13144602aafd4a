//go:build linux || darwin

package frame

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// TestValidUTF8Guarded checks that no implementation reads outside its
// input: each input is placed right after and right before an inaccessible
// page, where a read past either end faults.
func TestValidUTF8Guarded(t *testing.T) {
	ps := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 3*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer unix.Munmap(mem)
	if err := unix.Mprotect(mem[:ps], unix.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	if err := unix.Mprotect(mem[2*ps:], unix.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	page := mem[ps : 2*ps : 2*ps]
	texts := [][]byte{
		utf8Filler(ps, 0),
		utf8Filler(ps, 1),
		append(utf8Filler(ps-4, 2), "\xf0\x9f\x99\x82"...),
	}
	var lengths []int
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 1000, 1023, 1024, 1025, ps-1, ps)
	for _, impl := range testUTF8Impls(t) {
		for _, text := range texts {
			for _, n := range lengths {
				// At the start of the page, the first n bytes of text;
				// at its end, the last n.
				copy(page, text)
				checkGuarded(t, impl, page[:n:n], "start")
				copy(page[ps-n:], text[len(text)-n:])
				checkGuarded(t, impl, page[ps-n:], "end")
				// The same with the last byte replaced by a lead byte,
				// and the first by a continuation byte.
				if n > 0 {
					page[n-1] = 0xf0
					checkGuarded(t, impl, page[:n:n], "start")
					page[ps-n] = 0x80
					checkGuarded(t, impl, page[ps-n:], "end")
				}
			}
		}
	}
}

func checkGuarded(t *testing.T, impl utf8TestImpl, p []byte, where string) {
	t.Helper()
	if got, want := impl.valid(p), utf8.Valid(p); got != want {
		t.Fatalf("%s: % x at the %s of a page: valid = %v, utf8.Valid = %v", impl.name, p, where, got, want)
	}
}
