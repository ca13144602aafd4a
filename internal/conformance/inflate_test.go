package conformance

import (
	"bytes"
	stdflate "compress/flate"
	"math/rand"
	"strings"
	"testing"
)

// deflateSync compresses msgs in one stream (context takeover), each ended
// by a sync flush whose tail is removed, as RFC 7692 §7.2.1 says.
func deflateSync(t *testing.T, level int, msgs [][]byte, reset bool) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := stdflate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		buf.Reset()
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		b := bytes.TrimSuffix(append([]byte(nil), buf.Bytes()...), []byte{0, 0, 0xff, 0xff})
		out = append(out, b)
		if reset {
			buf.Reset()
			w.Reset(&buf)
		}
	}
	return out
}

func testMessages() [][]byte {
	r := rand.New(rand.NewSource(1))
	var msgs [][]byte
	msgs = append(msgs, nil, []byte("a"), []byte(strings.Repeat("abc", 1000)))
	for i := 0; i < 20; i++ {
		n := r.Intn(70000)
		b := make([]byte, n)
		switch i % 3 {
		case 0:
			r.Read(b) // incompressible: stored blocks
		case 1:
			for k := range b {
				b[k] = "websocket deflate "[r.Intn(18)]
			}
		default:
			copy(b, genJSON()[r.Intn(1000):])
		}
		msgs = append(msgs, b)
	}
	return msgs
}

// TestInflaterMatchesFlate checks the fuzzer's decoder against
// compress/flate's encoder, at every level, with and without context
// takeover.
func TestInflaterMatchesFlate(t *testing.T) {
	msgs := testMessages()
	for _, level := range []int{stdflate.HuffmanOnly, 0, 1, 5, 9} {
		for _, reset := range []bool{false, true} {
			z := deflateSync(t, level, msgs, reset)
			f := newInflater(15, reset)
			for i, m := range msgs {
				got, err := f.inflate(z[i], 1<<20)
				if err != nil {
					t.Fatalf("level %d reset %v message %d: %v", level, reset, i, err)
				}
				if !bytes.Equal(got, m) {
					t.Fatalf("level %d reset %v message %d: content differs", level, reset, i)
				}
			}
		}
	}
}

// TestInflaterWindowChecks checks that the decoder refuses what the
// negotiation forbids: a back-reference beyond the window, and, without
// context takeover, one into an earlier message.
func TestInflaterWindowChecks(t *testing.T) {
	// Repeats 1000 bytes apart: fine in a 1024-byte window, not in 256.
	block := make([]byte, 1000)
	rand.New(rand.NewSource(2)).Read(block)
	msg := append(append([]byte(nil), block...), block...)
	z := deflateSync(t, 9, [][]byte{msg}, false)
	if _, err := newInflater(10, false).inflate(z[0], 1<<20); err != nil {
		t.Fatalf("10-bit window: %v", err)
	}
	if _, err := newInflater(8, false).inflate(z[0], 1<<20); err == nil || !strings.Contains(err.Error(), "window") {
		t.Fatalf("8-bit window: got %v, want a window error", err)
	}

	// The second message refers to the first: needs context takeover.
	zz := deflateSync(t, 9, [][]byte{block, block}, false)
	f := newInflater(15, true)
	if _, err := f.inflate(zz[0], 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.inflate(zz[1], 1<<20); err == nil {
		t.Fatal("no context takeover: a reference into the previous message was accepted")
	}
	f = newInflater(15, false)
	for i := range zz {
		if got, err := f.inflate(zz[i], 1<<20); err != nil || !bytes.Equal(got, block) {
			t.Fatalf("context takeover, message %d: %v", i, err)
		}
	}

	// The output limit holds.
	big := deflateSync(t, 9, [][]byte{bytes.Repeat([]byte("x"), 100000)}, false)
	if _, err := newInflater(15, false).inflate(big[0], 1000); err != errInflateLimit {
		t.Fatalf("limit: got %v", err)
	}
}

// TestCompressorWindow checks that the fuzzer's own compressor keeps to
// the window it agreed to.
func TestCompressorWindow(t *testing.T) {
	src := genHTML()
	for _, bits := range []int{8, 9, 12, 15} {
		c := newCompressor(bits, false)
		f := newInflater(bits, false)
		for i := 0; i < 5; i++ {
			m := src[i*20000 : i*20000+20000]
			got, err := f.inflate(c.compress(m), 1<<20)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("%d bits, message %d: %v", bits, i, err)
			}
		}
	}
}

func TestSelect(t *testing.T) {
	all := append(Cases(), ExtraCases()...)
	if n := len(Cases()); n != 517 {
		t.Errorf("Cases() has %d cases, Autobahn has 517", n)
	}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		seen[c.ID] = true
	}
	for _, tc := range []struct {
		pat  string
		want int
	}{
		{"6.4.*", 4}, {"6", 145}, {"7.9.*", 9}, {"1.1.1", 1}, {"12.*,13.*", 216}, {"*", 521}, {"9.7.*", 6}, {"X", 4},
	} {
		if got := len(Select(all, SplitPatterns(tc.pat), nil)); got != tc.want {
			t.Errorf("Select(%q) = %d cases, want %d", tc.pat, got, tc.want)
		}
	}
	if got := len(Select(all, []string{"6.*"}, []string{"6.2.*", "6.22.*"})); got != 145-4-34 {
		t.Errorf("Select with exclusions = %d cases, want %d", got, 145-4-34)
	}
	// Autobahn's numbering of the UTF-8 groups.
	for id, want := range map[string]string{"6.5.1": "hello$world", "6.6.11": string(kosme), "6.22.34": "\U0010ffff", "6.23.7": "\uffff"} {
		var found bool
		for _, c := range all {
			if c.ID == id {
				found = strings.Contains(c.Description, "0x"+hexOf(want))
			}
		}
		if !found {
			t.Errorf("case %s does not send %q", id, want)
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}
