package frame

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"testing"
	"unicode/utf8"
)

func addHeaderSeeds(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x81})
	f.Add([]byte{0x81, 0x05})
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d})
	f.Add([]byte{0x82, 0x7e, 0x01, 0x00})
	f.Add([]byte{0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4})
	f.Add([]byte{0x02, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xc1, 0x7e, 0x00, 0x05}) // non-minimal length
	f.Add([]byte{0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9, 9, 9, 9, 0xaa})
}

// checkHeaderRoundTrip asserts that re-encoding a decoded header parses back
// to the same header.
func checkHeaderRoundTrip(t *testing.T, h Header) {
	t.Helper()
	if h.PayloadLen < 0 {
		t.Fatalf("decoded negative length %d", h.PayloadLen)
	}
	var buf [MaxHeaderSize]byte
	n := PutHeader(buf[:], h)
	if n != h.Size() {
		t.Fatalf("PutHeader wrote %d bytes, Size() = %d", n, h.Size())
	}
	h2, n2, err := ParseHeader(buf[:n])
	if err != nil || n2 != n || h2 != h {
		t.Fatalf("re-parse of %+v = %+v, %d, %v", h, h2, n2, err)
	}
}

func FuzzParseHeader(f *testing.F) {
	addHeaderSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := ParseHeader(data)
		if err != nil {
			var pe *ProtocolError
			if err != ErrShortHeader && !(errors.As(err, &pe) && pe.Code == CloseProtocolError) {
				t.Fatalf("unexpected error %v", err)
			}
			if n != 0 {
				t.Fatalf("n = %d on error", n)
			}
			return
		}
		if n < h.Size() || n > len(data) || n > MaxHeaderSize {
			t.Fatalf("n = %d, Size() = %d, len(data) = %d", n, h.Size(), len(data))
		}
		checkHeaderRoundTrip(t, h)
		_ = CheckHeader(h, State{Role: RoleServer})
		_ = CheckHeader(h, State{Role: RoleClient, AllowedRsv: Rsv1, InMessage: true})
	})
}

func FuzzReadHeader(f *testing.F) {
	addHeaderSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, strict := range []bool{false, true} {
			r := newTrickleReader(data, strict)
			h, err := ReadHeader(r)
			ph, n, perr := ParseHeader(data)
			switch {
			case perr == ErrShortHeader:
				want := io.ErrUnexpectedEOF
				if len(data) == 0 {
					want = io.EOF
				}
				if err != want {
					t.Fatalf("ReadHeader(% x) error = %v, want %v", data, err, want)
				}
			case perr != nil:
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != CloseProtocolError {
					t.Fatalf("ReadHeader(% x) error = %v, want *ProtocolError", data, err)
				}
			default:
				if err != nil || h != ph {
					t.Fatalf("ReadHeader(% x) = %+v, %v; ParseHeader = %+v", data, h, err, ph)
				}
				checkHeaderRoundTrip(t, h)
				// The reader must sit right after the header.
				if rest, _ := r.Peek(len(data) - n); !bytes.Equal(rest, data[n:]) {
					t.Fatalf("after ReadHeader, remaining = % x, want % x", rest, data[n:])
				}
			}
		}
	})
}

func FuzzParseClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xe8})
	f.Add(append([]byte{0x03, 0xe9}, "going away"...))
	f.Add(append([]byte{0x0f, 0xa0}, "ünïcødé 🙂"...))
	f.Add(append([]byte{0x03, 0xe8}, 0xff))
	f.Add([]byte{0x03, 0xed})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || (pe.Code != CloseProtocolError && pe.Code != CloseInvalidFramePayloadData) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if code != CloseNoStatusReceived && !code.ValidOnWire() {
			t.Fatalf("accepted code %d", code)
		}
		if !utf8.ValidString(reason) || len(reason) > MaxCloseReason {
			t.Fatalf("accepted reason %q", reason)
		}
		enc := AppendClosePayload(nil, code, reason)
		if !bytes.Equal(enc, p) {
			t.Fatalf("re-encoded % x, want % x", enc, p)
		}
		code2, reason2, err := ParseClosePayload(enc)
		if err != nil || code2 != code || reason2 != reason {
			t.Fatalf("re-parse = %d, %q, %v; want %d, %q", code2, reason2, err, code, reason)
		}
	})
}

func FuzzUTF8Validator(f *testing.F) {
	f.Add([]byte("hello"), uint8(2))
	f.Add([]byte("Grüße 🙂"), uint8(7))
	f.Add([]byte("\xf4\x90\x80\x80"), uint8(1))
	f.Add([]byte("\xed\xa0\x80"), uint8(2))
	f.Add([]byte("ab\xe2\x82"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		want := utf8.Valid(data)
		// One split point derived from split, then every split point, then
		// chunks of split bytes.
		s := 0
		if len(data) > 0 {
			s = int(split) % (len(data) + 1)
		}
		for _, cut := range []int{s, 0, len(data)} {
			var v UTF8Validator
			ok := v.Write(data[:cut])
			ok = v.Write(data[cut:]) && ok
			if ok && v.Complete() != want || !ok && want {
				t.Fatalf("split at %d: Write ok = %v, Complete = %v, utf8.Valid = %v", cut, ok, v.Complete(), want)
			}
		}
		// Every split point, checking fail-fast against the reference too.
		// Being a valid prefix is monotone in the length, so binary search
		// finds the first bad byte without quadratic work.
		bad := sort.Search(len(data), func(i int) bool { return !isValidPrefix(data[:i+1]) })
		for cut := 0; cut <= len(data); cut++ {
			var v UTF8Validator
			a := v.Write(data[:cut])
			b := v.Write(data[cut:])
			if a != (bad >= cut) || (a && b) != (bad == len(data)) || v.Complete() != want {
				t.Fatalf("split at %d: results %v %v, Complete %v, utf8.Valid %v", cut, a, b, v.Complete(), want)
			}
		}
		step := int(split%16) + 1
		var v UTF8Validator
		ok := true
		for i := 0; i < len(data); i += step {
			end := i + step
			if end > len(data) {
				end = len(data)
			}
			ok = v.Write(data[i:end])
		}
		if (ok && v.Complete()) != want {
			t.Fatalf("chunks of %d: ok = %v, Complete = %v, utf8.Valid = %v", step, ok, v.Complete(), want)
		}
	})
}

func FuzzMask(f *testing.F) {
	f.Add([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), uint32(0x37fa213d), 1, uint8(0))
	f.Add([]byte{}, uint32(0), 0, uint8(3))
	f.Add([]byte("x"), uint32(0xffffffff), -1, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos int, off uint8) {
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		o := int(off % 8)
		if o > len(data) {
			o = len(data)
		}
		src := data[o:]
		want := append([]byte(nil), src...)
		wantNext := naiveMask(key, pos&3, want)

		dst := make([]byte, len(src)+1)
		if next := MaskCopy(dst[1:], src, key, pos); next != wantNext || !bytes.Equal(dst[1:], want) {
			t.Fatalf("MaskCopy = % x (next %d), want % x (next %d)", dst[1:], next, want, wantNext)
		}
		inPlace := append([]byte(nil), src...)
		if next := Mask(key, pos, inPlace); next != wantNext || !bytes.Equal(inPlace, want) {
			t.Fatalf("Mask = % x (next %d), want % x (next %d)", inPlace, next, want, wantNext)
		}
	})
}
