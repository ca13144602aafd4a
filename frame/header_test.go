package frame

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

func TestHeaderEncoding(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		want string // hex
	}{
		{"len0", Header{Fin: true, Opcode: OpText}, "81 00"},
		{"len1", Header{Fin: true, Opcode: OpText, PayloadLen: 1}, "81 01"},
		{"len125", Header{Fin: true, Opcode: OpBinary, PayloadLen: 125}, "82 7d"},
		{"len126", Header{Fin: true, Opcode: OpBinary, PayloadLen: 126}, "82 7e 00 7e"},
		{"len127", Header{Fin: true, Opcode: OpBinary, PayloadLen: 127}, "82 7e 00 7f"},
		{"len65535", Header{Fin: true, Opcode: OpBinary, PayloadLen: 65535}, "82 7e ff ff"},
		{"len65536", Header{Fin: true, Opcode: OpBinary, PayloadLen: 65536}, "82 7f 00 00 00 00 00 01 00 00"},
		{"len2^32", Header{Fin: true, Opcode: OpBinary, PayloadLen: 1 << 32}, "82 7f 00 00 00 01 00 00 00 00"},
		{"len2^63-1", Header{Fin: true, Opcode: OpBinary, PayloadLen: math.MaxInt64}, "82 7f 7f ff ff ff ff ff ff ff"},
		{"masked len0", Header{Fin: true, Opcode: OpText, Masked: true, Mask: testMask}, "81 80 37 fa 21 3d"},
		{"masked len5", Header{Fin: true, Opcode: OpText, Masked: true, Mask: testMask, PayloadLen: 5}, "81 85 37 fa 21 3d"},
		{"masked len125", Header{Fin: true, Opcode: OpText, Masked: true, Mask: testMask, PayloadLen: 125}, "81 fd 37 fa 21 3d"},
		{"masked len126", Header{Fin: true, Opcode: OpText, Masked: true, Mask: testMask, PayloadLen: 126}, "81 fe 00 7e 37 fa 21 3d"},
		{"masked len65535", Header{Opcode: OpText, Masked: true, Mask: testMask, PayloadLen: 65535}, "01 fe ff ff 37 fa 21 3d"},
		{"masked len65536", Header{Opcode: OpText, Masked: true, Mask: testMask, PayloadLen: 65536}, "01 ff 00 00 00 00 00 01 00 00 37 fa 21 3d"},
		{"masked len2^63-1", Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: testMask, PayloadLen: math.MaxInt64}, "82 ff 7f ff ff ff ff ff ff ff 37 fa 21 3d"},
		{"continuation nofin", Header{Opcode: OpContinuation, PayloadLen: 3}, "00 03"},
		{"continuation fin", Header{Fin: true, Opcode: OpContinuation, PayloadLen: 3}, "80 03"},
		{"close", Header{Fin: true, Opcode: OpClose, PayloadLen: 2}, "88 02"},
		{"ping", Header{Fin: true, Opcode: OpPing}, "89 00"},
		{"pong", Header{Fin: true, Opcode: OpPong, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, "8a 80 01 02 03 04"},
		{"reserved 0x3", Header{Fin: true, Opcode: 0x3}, "83 00"},
		{"reserved 0xF", Header{Fin: true, Opcode: 0xF}, "8f 00"},
		{"rsv1", Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, "c1 00"},
		{"rsv2", Header{Fin: true, Rsv: Rsv2, Opcode: OpText}, "a1 00"},
		{"rsv3", Header{Fin: true, Rsv: Rsv3, Opcode: OpText}, "91 00"},
		{"rsv1|rsv3 nofin", Header{Rsv: Rsv1 | Rsv3, Opcode: OpBinary}, "52 00"},
		{"rsv all", Header{Fin: true, Rsv: Rsv1 | Rsv2 | Rsv3, Opcode: OpBinary}, "f2 00"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			want := mustHex(t, tt.want)
			if got := tt.h.Size(); got != len(want) {
				t.Errorf("Size() = %d, want %d", got, len(want))
			}

			var buf [MaxHeaderSize + 2]byte
			for i := range buf {
				buf[i] = 0xEE // PutHeader must not write past Size()
			}
			n := PutHeader(buf[:], tt.h)
			if n != len(want) || !bytes.Equal(buf[:n], want) {
				t.Errorf("PutHeader = % x (n=%d), want % x", buf[:n], n, want)
			}
			for i := n; i < len(buf); i++ {
				if buf[i] != 0xEE {
					t.Fatalf("PutHeader wrote byte %d beyond its size %d", i, n)
				}
			}
			if got := AppendHeader([]byte("xy"), tt.h); !bytes.Equal(got, append([]byte("xy"), want...)) {
				t.Errorf("AppendHeader = % x, want 78 79 % x", got, want)
			}

			// ParseHeader round trip, with trailing bytes present.
			h, n, err := ParseHeader(append(append([]byte(nil), want...), 0xAA, 0xBB))
			if err != nil || n != len(want) || h != tt.h {
				t.Errorf("ParseHeader = %+v, %d, %v; want %+v, %d, nil", h, n, err, tt.h, len(want))
			}
			// Every truncation is ErrShortHeader with n == 0.
			for i := 0; i < len(want); i++ {
				if _, n, err := ParseHeader(want[:i]); n != 0 || err != ErrShortHeader {
					t.Errorf("ParseHeader(%d of %d bytes) = %d, %v; want 0, ErrShortHeader", i, len(want), n, err)
				}
			}

			// ReadHeader round trip through readers that trickle one byte at
			// a time; the payload byte after the header must remain.
			stream := append(append([]byte(nil), want...), 0x5A)
			readers := map[string]Reader{
				"bufio":   newOneByteBufio(stream),
				"trickle": newTrickleReader(stream, false),
				"strict":  newTrickleReader(stream, true),
			}
			for name, r := range readers {
				h, err := ReadHeader(r)
				if err != nil || h != tt.h {
					t.Errorf("%s: ReadHeader = %+v, %v; want %+v", name, h, err, tt.h)
					continue
				}
				if p, err := r.Peek(1); err != nil || p[0] != 0x5A {
					t.Errorf("%s: after ReadHeader, Peek(1) = % x, %v; want 5a", name, p, err)
				}
			}
		})
	}
}

func TestReadHeaderTruncated(t *testing.T) {
	full := mustHex(t, "82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d") // 14 bytes
	short := mustHex(t, "81 fe 00 7e 37 fa 21 3d")                  // 8 bytes
	type mk func([]byte) Reader
	makers := map[string]mk{
		"bufio":   func(b []byte) Reader { return newOneByteBufio(b) },
		"trickle": func(b []byte) Reader { return newTrickleReader(b, false) },
		"strict":  func(b []byte) Reader { return newTrickleReader(b, true) },
	}
	for name, m := range makers {
		m := m
		t.Run(name, func(t *testing.T) {
			if _, err := ReadHeader(m(nil)); err != io.EOF {
				t.Errorf("empty input: err = %v, want io.EOF", err)
			}
			for _, hdr := range [][]byte{full, short} {
				for i := 1; i < len(hdr); i++ {
					if _, err := ReadHeader(m(hdr[:i])); err != io.ErrUnexpectedEOF {
						t.Errorf("header % x cut to %d bytes: err = %v, want io.ErrUnexpectedEOF", hdr, i, err)
					}
				}
			}
		})
	}
}

// errReader fails every call with err.
type errReader struct{ err error }

func (r errReader) Peek(int) ([]byte, error) { return nil, r.err }
func (r errReader) Skip(int) error           { return r.err }

// failAfter serves data, then fails with err instead of io.EOF.
type failAfter struct {
	data []byte
	err  error
}

func (r *failAfter) Peek(n int) ([]byte, error) {
	if n > len(r.data) {
		return r.data, r.err
	}
	return r.data[:n], nil
}

func (r *failAfter) Skip(n int) error {
	if n > len(r.data) {
		return r.err
	}
	r.data = r.data[n:]
	return nil
}

func TestReadHeaderErrorsPassThrough(t *testing.T) {
	boom := errors.New("boom")
	if _, err := ReadHeader(errReader{boom}); err != boom {
		t.Errorf("ReadHeader = %v, want %v", err, boom)
	}
	if _, err := ReadHeader(&failAfter{data: []byte{0x82, 0x7e, 0x01}, err: boom}); err != boom {
		t.Errorf("ReadHeader mid-header = %v, want %v", err, boom)
	}
	if _, err := ReadHeader(&failAfter{data: []byte{0x82}, err: boom}); err != boom {
		t.Errorf("ReadHeader after one byte = %v, want %v", err, boom)
	}
}

func TestHeaderLengthTopBit(t *testing.T) {
	for _, s := range []string{
		"82 7f 80 00 00 00 00 00 00 00",
		"82 7f ff ff ff ff ff ff ff ff",
		"82 ff 80 00 00 00 00 00 00 01 01 02 03 04",
	} {
		s := s
		t.Run(s, func(t *testing.T) {
			b := mustHex(t, s)
			_, n, err := ParseHeader(b)
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != CloseProtocolError || n != 0 {
				t.Errorf("ParseHeader = %d, %v; want 0, *ProtocolError 1002", n, err)
			}
			_, err = ReadHeader(newOneByteBufio(b))
			if !errors.As(err, &pe) || pe.Code != CloseProtocolError {
				t.Errorf("ReadHeader = %v, want *ProtocolError 1002", err)
			}
		})
	}
}

// RFC 6455 §5.2 says the minimal number of bytes MUST be used to encode the
// length, but that is a rule for senders; it gives receivers no instruction,
// and the length is unambiguous, so non-minimal forms are simply decoded.
func TestHeaderNonMinimalLength(t *testing.T) {
	tests := []struct {
		name string
		in   string
		len  int64
	}{
		{"16-bit form carrying 5", "81 7e 00 05", 5},
		{"16-bit form carrying 0", "81 7e 00 00", 0},
		{"64-bit form carrying 5", "81 7f 00 00 00 00 00 00 00 05", 5},
		{"64-bit form carrying 126", "81 7f 00 00 00 00 00 00 00 7e", 126},
		{"64-bit form carrying 65535", "81 7f 00 00 00 00 00 00 ff ff", 65535},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			b := mustHex(t, tt.in)
			want := Header{Fin: true, Opcode: OpText, PayloadLen: tt.len}
			h, n, err := ParseHeader(b)
			if err != nil || n != len(b) || h != want {
				t.Errorf("ParseHeader = %+v, %d, %v; want %+v, %d", h, n, err, want, len(b))
			}
			h, err = ReadHeader(newOneByteBufio(b))
			if err != nil || h != want {
				t.Errorf("ReadHeader = %+v, %v; want %+v", h, err, want)
			}
		})
	}
}

func TestReadHeaderSequence(t *testing.T) {
	var stream []byte
	hs := []Header{
		{Fin: false, Opcode: OpText, Masked: true, Mask: testMask, PayloadLen: 3},
		{Fin: true, Opcode: OpPing, Masked: true, Mask: [4]byte{9, 8, 7, 6}},
		{Fin: true, Opcode: OpContinuation, Masked: true, Mask: testMask, PayloadLen: 300},
	}
	for _, h := range hs {
		stream = AppendHeader(stream, h)
		stream = append(stream, make([]byte, h.PayloadLen)...)
	}
	r := newOneByteBufio(stream)
	for i, want := range hs {
		h, err := ReadHeader(r)
		if err != nil || h != want {
			t.Fatalf("frame %d: ReadHeader = %+v, %v; want %+v", i, h, err, want)
		}
		if err := r.Skip(int(h.PayloadLen)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadHeader(r); err != io.EOF {
		t.Fatalf("at end: err = %v, want io.EOF", err)
	}
}

func TestHeaderAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: testMask, PayloadLen: 70000}
	enc := AppendHeader(nil, h)
	var buf [MaxHeaderSize]byte
	dst := make([]byte, 0, 64)
	stream := bytes.Repeat(enc, 1)
	br := &failAfter{}
	allocs := testing.AllocsPerRun(100, func() {
		PutHeader(buf[:], h)
		dst = AppendHeader(dst[:0], h)
		if _, _, err := ParseHeader(enc); err != nil {
			t.Fatal(err)
		}
		br.data = stream
		if _, err := ReadHeader(br); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per run = %v, want 0", allocs)
	}
}

func TestOpcode(t *testing.T) {
	tests := []struct {
		op                      Opcode
		control, data, reserved bool
		str                     string
	}{
		{OpContinuation, false, true, false, "continuation"},
		{OpText, false, true, false, "text"},
		{OpBinary, false, true, false, "binary"},
		{0x3, false, false, true, "Opcode(0x3)"},
		{0x7, false, false, true, "Opcode(0x7)"},
		{OpClose, true, false, false, "close"},
		{OpPing, true, false, false, "ping"},
		{OpPong, true, false, false, "pong"},
		{0xB, true, false, true, "Opcode(0xb)"},
		{0xF, true, false, true, "Opcode(0xf)"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.op.IsControl(); got != tt.control {
				t.Errorf("IsControl = %v", got)
			}
			if got := tt.op.IsData(); got != tt.data {
				t.Errorf("IsData = %v", got)
			}
			if got := tt.op.IsReserved(); got != tt.reserved {
				t.Errorf("IsReserved = %v", got)
			}
			if got := tt.op.String(); got != tt.str {
				t.Errorf("String = %q", got)
			}
		})
	}
}

// TestHeaderRoundTripMatrix crosses every length boundary with every opcode,
// RSV combination, FIN and mask setting.
func TestHeaderRoundTripMatrix(t *testing.T) {
	lengths := []int64{0, 1, 125, 126, 127, 65535, 65536, 1 << 32, math.MaxInt64}
	for op := Opcode(0); op <= 0xF; op++ {
		op := op
		t.Run(op.String(), func(t *testing.T) {
			for _, l := range lengths {
				for rsv := byte(0); rsv <= 0x70; rsv += 0x10 {
					for _, fin := range []bool{false, true} {
						for _, masked := range []bool{false, true} {
							h := Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, PayloadLen: l}
							if masked {
								h.Mask = [4]byte{byte(l), rsv, byte(op), 0xC3}
							}
							want := 2
							switch {
							case l > 65535:
								want = 10
							case l > 125:
								want = 4
							}
							if masked {
								want += 4
							}
							enc := AppendHeader(nil, h)
							if h.Size() != want || len(enc) != want {
								t.Fatalf("%+v: Size() = %d, len(enc) = %d, want %d", h, h.Size(), len(enc), want)
							}
							got, n, err := ParseHeader(enc)
							if err != nil || n != want || got != h {
								t.Fatalf("%+v: ParseHeader = %+v, %d, %v", h, got, n, err)
							}
							got, err = ReadHeader(newTrickleReader(enc, true))
							if err != nil || got != h {
								t.Fatalf("%+v: ReadHeader = %+v, %v", h, got, err)
							}
						}
					}
				}
			}
		})
	}
}

// loopReader serves the same bytes over and over, for benchmarks of the
// header decoder.
type loopReader struct {
	b   []byte
	off int
}

func (r *loopReader) Peek(n int) ([]byte, error) {
	if r.off == len(r.b) {
		r.off = 0
	}
	return r.b[r.off : r.off+n], nil
}

func (r *loopReader) Skip(n int) error { r.off += n; return nil }

// benchHeaders are the three length encodings, masked as a server reads
// them and unmasked as a client does.
var benchHeaders = []struct {
	name string
	h    Header
}{
	{"7bit", Header{Fin: true, Opcode: OpText, PayloadLen: 100}},
	{"16bit-masked", Header{Fin: true, Opcode: OpBinary, PayloadLen: 16 << 10, Masked: true, Mask: [4]byte{1, 2, 3, 4}}},
	{"64bit-masked", Header{Fin: true, Opcode: OpBinary, PayloadLen: 1 << 20, Masked: true, Mask: [4]byte{1, 2, 3, 4}}},
}

func BenchmarkPutHeader(b *testing.B) {
	var buf [MaxHeaderSize]byte
	for _, tt := range benchHeaders {
		h := tt.h
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				PutHeader(buf[:], h)
			}
		})
	}
}

func BenchmarkReadHeader(b *testing.B) {
	for _, tt := range benchHeaders {
		r := &loopReader{b: AppendHeader(nil, tt.h)}
		state := State{Role: RoleClient} // a client reads unmasked frames
		if tt.h.Masked {
			state.Role = RoleServer
		}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				h, err := ReadHeader(r)
				if err != nil {
					b.Fatal(err)
				}
				if err := CheckHeader(h, state); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
