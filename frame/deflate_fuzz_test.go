package frame_test

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"testing"

	"github.com/hertzws/websocket/frame"
)

// dflFuzzLimit caps what one fuzzed message may decode to.
const dflFuzzLimit = 1 << 20

// dflFuzzDecode reads one message from payload into a capped buffer. It
// fails the test if Read stalls (returns nothing and no error) or returns an
// error other than ErrInvalidCompressedData; it stops at dflFuzzLimit.
func dflFuzzDecode(t *testing.T, f *frame.Inflater, payload []byte) (out []byte, ok bool) {
	f.Begin(bytes.NewReader(payload))
	defer f.EndMessage()
	buf := make([]byte, 4096)
	stalls := 0
	for reads := 0; ; reads++ {
		if reads > dflFuzzLimit/len(buf)+1000 {
			t.Fatalf("no end after %d reads", reads)
		}
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		switch {
		case err == io.EOF:
			return out, true
		case err != nil:
			if !errors.Is(err, frame.ErrInvalidCompressedData) {
				t.Fatalf("Read: unexpected error %v", err)
			}
			return out, false
		case n == 0:
			if stalls++; stalls > 10 {
				t.Fatal("Read keeps returning 0, nil")
			}
		}
		if len(out) >= dflFuzzLimit {
			return out, false
		}
	}
}

func FuzzInflate(f *testing.F) {
	// Seeds: valid payloads of several kinds, and some broken ones.
	d, _ := frame.NewDeflater(5, 15, false)
	for _, m := range [][]byte{nil, []byte("hello"), dflText(3000, 1), dflJSON(1000, 2), dflRandom(500, 3)} {
		_, _ = d.Write(m)
		p, _ := d.Finish()
		f.Add(append([]byte(nil), p...), uint8(7), false)
		f.Add(append([]byte(nil), p...), uint8(3), true)
		d.EndMessage()
	}
	var buf bytes.Buffer
	w, _ := stdflate.NewWriter(&buf, 9)
	_, _ = w.Write(dflText(2000, 4))
	_ = w.Close()
	f.Add(buf.Bytes(), uint8(7), true)
	f.Add([]byte{}, uint8(0), false)
	f.Add([]byte{0x00}, uint8(0), true)
	f.Add([]byte{0x06}, uint8(0), false)
	f.Add([]byte{0x04, 0xff, 0xff}, uint8(0), false)
	f.Add(newDflBombReader(1<<20).prefix, uint8(7), false)

	history := dflText(5000, 5)
	historyPayload, _ := frame.AppendCompressed(nil, history, 1, 15)

	f.Fuzz(func(t *testing.T, payload []byte, bitsSeed uint8, takeover bool) {
		bits := frame.MinWindowBits + int(bitsSeed%8)
		inf := frame.NewInflater(bits, takeover)
		if takeover {
			// A known message first, so the payload can refer back into it.
			if got, ok := dflFuzzDecode(t, inf, historyPayload); !ok || !bytes.Equal(got, history) {
				t.Fatal("history message did not decode")
			}
		}
		out, ok := dflFuzzDecode(t, inf, payload)
		if !takeover && ok && len(out) < dflFuzzLimit {
			// Whatever decodes must decode the same with compress/flate, given
			// the tail and final block the Inflater adds (an empty payload
			// is the one thing the Inflater accepts on its own).
			ref, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(dflStdStream([][]byte{payload}))))
			if len(payload) > 0 && err == nil && !bytes.Equal(out, ref) {
				t.Fatalf("Inflater decoded %d bytes, compress/flate %d", len(out), len(ref))
			}
		}
		// The Inflater still works afterwards.
		msg := []byte("after the fuzzed message")
		p, err := frame.AppendCompressed(nil, msg, 1, bits)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := dflFuzzDecode(t, inf, p); !ok || !bytes.Equal(got, msg) {
			t.Fatalf("message after the fuzzed one: %q, %v", got, ok)
		}
	})
}

func FuzzDeflateRoundTrip(f *testing.F) {
	f.Add([]byte(""), int8(1), uint8(7), false, uint16(100))
	f.Add([]byte("a"), int8(-2), uint8(0), true, uint16(0))
	f.Add(dflText(4000, 1), int8(9), uint8(1), true, uint16(1000))
	f.Add(dflJSON(2000, 2), int8(0), uint8(4), false, uint16(7))
	f.Add(dflLongRangeData(3, 8)[8<<10:(8<<10)+3000], int8(5), uint8(0), true, uint16(4095))
	f.Add(bytes.Repeat([]byte("abcabcabd"), 500), int8(-1), uint8(2), true, uint16(33))

	f.Fuzz(func(t *testing.T, data []byte, levelSeed int8, bitsSeed uint8, takeover bool, chunkSeed uint16) {
		if len(data) > 256<<10 {
			data = data[:256<<10]
		}
		level := (int(levelSeed)%12+12)%12 + frame.HuffmanOnly
		bits := frame.MinWindowBits + int(bitsSeed%8)
		chunk := int(chunkSeed%4096) + 1
		d, err := frame.NewDeflater(level, bits, takeover)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		inf := frame.NewInflater(bits, takeover)

		var payloads [][]byte
		for round := 0; round < 2; round++ {
			// The same data twice: with takeover the second copy refers back.
			p := dflCompressChunked(t, d, data, chunk)
			payloads = append(payloads, p)
			got, ok := dflFuzzDecode(t, inf, p)
			if !ok || !bytes.Equal(got, data) {
				t.Fatalf("level=%d bits=%d takeover=%v round %d: decoded %d bytes (ok %v), want %d",
					level, bits, takeover, round, len(got), ok, len(data))
			}
		}
		prepared, err := frame.AppendCompressed(nil, data, level, bits)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := dflFuzzDecode(t, inf, prepared); !ok || !bytes.Equal(got, data) {
			t.Fatalf("AppendCompressed: decoded %d bytes (ok %v), want %d", len(got), ok, len(data))
		}
		d.ForgetContext()
		p := dflCompressChunked(t, d, data, chunk)
		if got, ok := dflFuzzDecode(t, inf, p); !ok || !bytes.Equal(got, data) {
			t.Fatalf("after ForgetContext: decoded %d bytes (ok %v), want %d", len(got), ok, len(data))
		}

		if takeover {
			// The run as one stream: compress/flate agrees, and no
			// back-reference reaches beyond the window.
			want := append(append([]byte(nil), data...), data...)
			stream := dflStdStream(payloads)
			ref, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(stream)))
			if err != nil || !bytes.Equal(ref, want) {
				t.Fatalf("compress/flate: %d bytes, %v", len(ref), err)
			}
			z, err := dflDecodeStream(stream)
			if err != nil || !bytes.Equal(z.out, want) {
				t.Fatalf("test decoder: %v", err)
			}
			if z.maxDist > 1<<bits {
				t.Fatalf("level=%d bits=%d: back-reference of %d bytes", level, bits, z.maxDist)
			}
		}
	})
}
