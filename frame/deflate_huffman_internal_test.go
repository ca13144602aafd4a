package frame

import (
	"bytes"
	stdflate "compress/flate"
	"container/heap"
	"io"
	"math/rand"
	"testing"
)

// refHeap is a min-heap of subtree weights for the reference Huffman code.
type refHeap []uint64

func (h refHeap) Len() int            { return len(h) }
func (h refHeap) Less(i, j int) bool  { return h[i] < h[j] }
func (h refHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x interface{}) { *h = append(*h, x.(uint64)) }
func (h *refHeap) Pop() interface{} {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// refCost is the total coded size of an optimal (unlimited) Huffman code
// for freq: the sum of the weights of the internal nodes.
func refCost(freq []uint32) uint64 {
	h := &refHeap{}
	for _, f := range freq {
		if f != 0 {
			*h = append(*h, uint64(f))
		}
	}
	if h.Len() < 2 {
		return uint64(h.Len()) * uint64(sumFreq(freq))
	}
	heap.Init(h)
	var cost uint64
	for h.Len() > 1 {
		a, b := heap.Pop(h).(uint64), heap.Pop(h).(uint64)
		cost += a + b
		heap.Push(h, a+b)
	}
	return cost
}

func sumFreq(freq []uint32) uint32 {
	var s uint32
	for _, f := range freq {
		s += f
	}
	return s
}

func TestHuffmanLengths(t *testing.T) {
	fib := make([]uint32, 40)
	fib[0], fib[1] = 1, 1
	for i := 2; i < len(fib); i++ {
		fib[i] = fib[i-1] + fib[i-2]
	}
	r := rand.New(rand.NewSource(1))
	random := make([]uint32, numLitLen)
	for i := range random {
		if r.Intn(3) > 0 {
			random[i] = uint32(r.Intn(1000))
		}
	}
	skewed := make([]uint32, numLitLen)
	for i := range skewed {
		skewed[i] = 1 << (uint(i) % 20)
	}
	cases := []struct {
		name    string
		freq    []uint32
		maxBits int
		limited bool // the optimal code is deeper than maxBits
	}{
		{"none", make([]uint32, 19), 7, false},
		{"one symbol", []uint32{0, 0, 5, 0}, 15, false},
		{"two symbols", []uint32{3, 0, 1}, 15, false},
		{"uniform", []uint32{4, 4, 4, 4, 4, 4, 4, 4}, 15, false},
		{"random litlen", random, 15, false},
		{"fibonacci, 15 bits", fib, 15, true},
		{"fibonacci, 7 bits", fib[:19], 7, true},
		{"powers of two", skewed, 15, true},
	}
	var b huffmanBuilder
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lengths := make([]uint8, len(tc.freq))
			b.lengths(tc.freq, tc.maxBits, lengths)
			var kraft float64
			var cost uint64
			symbols := 0
			for s, f := range tc.freq {
				l := lengths[s]
				if f == 0 {
					if l != 0 {
						t.Fatalf("symbol %d has no count and length %d", s, l)
					}
					continue
				}
				symbols++
				if l < 1 || int(l) > tc.maxBits {
					t.Fatalf("symbol %d: length %d, want 1..%d", s, l, tc.maxBits)
				}
				kraft += 1 / float64(uint64(1)<<l)
				cost += uint64(f) * uint64(l)
			}
			if symbols >= 2 && kraft != 1 {
				t.Fatalf("Kraft sum %v: the code is not complete", kraft)
			}
			ref := refCost(tc.freq)
			if !tc.limited && cost != ref {
				t.Fatalf("coded size %d, optimal %d", cost, ref)
			}
			if tc.limited && cost < ref {
				t.Fatalf("coded size %d below the optimum %d", cost, ref)
			}
		})
	}
}

// TestBlockWriterForms writes each kind of data as one block and checks
// that compress/flate decodes it, and that the form chosen is the one
// expected for it.
func TestBlockWriterForms(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	noise := make([]byte, 3000)
	r.Read(noise)
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 60)
	cases := []struct {
		name  string
		data  []byte
		btype uint8 // of the first block
	}{
		{"noise is stored", noise, 0},
		{"a few bytes use the fixed code", []byte("hi!"), 1},
		{"text uses a dynamic code", text, 2},
		{"one byte repeated", bytes.Repeat([]byte{'z'}, 5000), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newLZState(15)
			m := getLZMessage()
			defer m.release()
			st.write(m, tc.data)
			out := st.finish(m)
			if got := out[0] >> 1 & 3; got != tc.btype {
				t.Errorf("first block of type %d, want %d", got, tc.btype)
			}
			dec, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(append(out, 1, 0, 0, 0xff, 0xff))))
			if err != nil || !bytes.Equal(dec, tc.data) {
				t.Fatalf("compress/flate decoded %d bytes, %v; want %d", len(dec), err, len(tc.data))
			}
		})
	}
}

// FuzzHuffmanLengths checks the code lengths of any counts: within the
// limit, zero exactly for absent symbols, and a complete code.
func FuzzHuffmanLengths(f *testing.F) {
	f.Add([]byte{1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233}, uint8(7))
	f.Add([]byte{0, 0, 9}, uint8(15))
	f.Fuzz(func(t *testing.T, counts []byte, limitSeed uint8) {
		maxBits := 7 + int(limitSeed%9) // 7..15
		// Alphabets no larger than DEFLATE's, and that fit the limit.
		if n := minInt(numLitLen, 1<<maxBits); len(counts) > n {
			counts = counts[:n]
		}
		freq := make([]uint32, len(counts))
		for i, c := range counts {
			// Exponential counts reach the depth limit.
			freq[i] = uint32(c) << (c % 16)
		}
		lengths := make([]uint8, len(freq))
		var b huffmanBuilder
		b.lengths(freq, maxBits, lengths)
		kraft, symbols := 0.0, 0
		for s, f := range freq {
			if (f == 0) != (lengths[s] == 0) || int(lengths[s]) > maxBits {
				t.Fatalf("symbol %d: count %d, length %d (limit %d)", s, f, lengths[s], maxBits)
			}
			if f != 0 {
				symbols++
				kraft += 1 / float64(uint64(1)<<lengths[s])
			}
		}
		if symbols >= 2 && kraft != 1 {
			t.Fatalf("Kraft sum %v for %d symbols", kraft, symbols)
		}
	})
}
