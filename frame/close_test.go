package frame

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCloseCodeValidOnWire(t *testing.T) {
	tests := []struct {
		code CloseCode
		want bool
	}{
		{0, false},
		{999, false},
		{1000, true},
		{1001, true},
		{1002, true},
		{1003, true},
		{1004, false}, // reserved
		{1005, false}, // no status received: never sent
		{1006, false}, // abnormal closure: never sent
		{1007, true},
		{1008, true},
		{1009, true},
		{1010, true},
		{1011, true},
		{1012, true},
		{1013, true},
		{1014, true},
		{1015, false}, // TLS handshake: never sent
		{1016, false},
		{1100, false},
		{2000, false},
		{2999, false},
		{3000, true},
		{3999, true},
		{4000, true},
		{4999, true},
		{5000, false},
		{65535, false},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(strconv.Itoa(int(tt.code)), func(t *testing.T) {
			if got := tt.code.ValidOnWire(); got != tt.want {
				t.Errorf("CloseCode(%d).ValidOnWire() = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestCloseCodeString(t *testing.T) {
	tests := []struct {
		code CloseCode
		want string
	}{
		{CloseNormalClosure, "normal closure"},
		{CloseProtocolError, "protocol error"},
		{CloseInvalidFramePayloadData, "invalid frame payload data"},
		{CloseTLSHandshake, "TLS handshake"},
		{3000, "close code 3000"},
		{1004, "close code 1004"},
	}
	for _, tt := range tests {
		if got := tt.code.String(); got != tt.want {
			t.Errorf("CloseCode(%d).String() = %q, want %q", tt.code, got, tt.want)
		}
	}
	// Every named code has a name of its own.
	seen := map[string]CloseCode{}
	for c := CloseCode(1000); c <= 1015; c++ {
		s := c.String()
		if prev, dup := seen[s]; dup {
			t.Errorf("codes %d and %d share the name %q", prev, c, s)
		}
		seen[s] = c
	}
}

func TestParseClosePayload(t *testing.T) {
	reason123 := strings.Repeat("r", 123)
	tests := []struct {
		name     string
		in       []byte
		code     CloseCode
		reason   string
		wantCode CloseCode // close code of the expected *ProtocolError; 0 for none
	}{
		{"empty", nil, CloseNoStatusReceived, "", 0},
		{"one byte", []byte{0x03}, 0, "", CloseProtocolError},
		{"code only", []byte{0x03, 0xe8}, CloseNormalClosure, "", 0},
		{"code and reason", append([]byte{0x03, 0xe9}, "bye"...), CloseGoingAway, "bye", 0},
		{"multibyte reason", append([]byte{0x0f, 0xa0}, "až 🙂"...), 4000, "až 🙂", 0},
		{"application code", []byte{0x0b, 0xb8}, 3000, "", 0},
		{"code 1005 on wire", []byte{0x03, 0xed}, 0, "", CloseProtocolError},
		{"code 1006 on wire", []byte{0x03, 0xee}, 0, "", CloseProtocolError},
		{"code 999", []byte{0x03, 0xe7}, 0, "", CloseProtocolError},
		{"code 1004", append([]byte{0x03, 0xec}, "x"...), 0, "", CloseProtocolError},
		{"code 1015", []byte{0x03, 0xf7}, 0, "", CloseProtocolError},
		{"code 2999", []byte{0x0b, 0xb7}, 0, "", CloseProtocolError},
		{"code 5000", []byte{0x13, 0x88}, 0, "", CloseProtocolError},
		{"code 0", []byte{0, 0}, 0, "", CloseProtocolError},
		{"invalid UTF-8 reason", append([]byte{0x03, 0xe8}, "ab\xffcd"...), 0, "", CloseInvalidFramePayloadData},
		{"truncated rune reason", append([]byte{0x03, 0xe8}, "ab\xe2\x82"...), 0, "", CloseInvalidFramePayloadData},
		{"surrogate reason", append([]byte{0x03, 0xe8}, "\xed\xa0\x80"...), 0, "", CloseInvalidFramePayloadData},
		{"125-byte payload", append([]byte{0x03, 0xe8}, reason123...), CloseNormalClosure, reason123, 0},
		{"126-byte payload", append([]byte{0x03, 0xe8}, reason123+"r"...), 0, "", CloseProtocolError},
		{"126-byte payload invalid UTF-8", append([]byte{0x03, 0xe8}, reason123+"\xff"...), 0, "", CloseProtocolError},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClosePayload(tt.in)
			if tt.wantCode != 0 {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != tt.wantCode {
					t.Fatalf("ParseClosePayload(% x) error = %v, want *ProtocolError with code %d", tt.in, err, tt.wantCode)
				}
				return
			}
			if err != nil || code != tt.code || reason != tt.reason {
				t.Fatalf("ParseClosePayload(% x) = %d, %q, %v; want %d, %q, nil", tt.in, code, reason, err, tt.code, tt.reason)
			}
		})
	}
}

func TestAppendClosePayload(t *testing.T) {
	tests := []struct {
		name   string
		code   CloseCode
		reason string
		want   []byte
	}{
		{"no status", CloseNoStatusReceived, "ignored", nil},
		{"normal", CloseNormalClosure, "", []byte{0x03, 0xe8}},
		{"with reason", CloseGoingAway, "bye", append([]byte{0x03, 0xe9}, "bye"...)},
		{"application code", 4321, "x", append([]byte{0x10, 0xe1}, "x"...)},
		{"123-byte reason kept", CloseNormalClosure, strings.Repeat("a", 123), append([]byte{0x03, 0xe8}, strings.Repeat("a", 123)...)},
		{"124-byte reason cut", CloseNormalClosure, strings.Repeat("a", 124), append([]byte{0x03, 0xe8}, strings.Repeat("a", 123)...)},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			got := AppendClosePayload([]byte("hdr"), tt.code, tt.reason)
			if want := append([]byte("hdr"), tt.want...); !bytes.Equal(got, want) {
				t.Fatalf("AppendClosePayload = % x, want % x", got, want)
			}
			if tt.code == CloseNoStatusReceived {
				return
			}
			code, reason, err := ParseClosePayload(got[3:])
			if err != nil || code != tt.code || reason != string(tt.want[2:]) {
				t.Fatalf("round trip = %d, %q, %v", code, reason, err)
			}
		})
	}
}

// TestAppendClosePayloadTruncation cuts long reasons made of runes of every
// width at every offset and checks the result is the longest whole-rune
// prefix that fits.
func TestAppendClosePayloadTruncation(t *testing.T) {
	for _, unit := range []string{"a", "é", "€", "🙂", "a€🙂é"} {
		for pad := 0; pad < 4; pad++ {
			reason := strings.Repeat("x", pad) + strings.Repeat(unit, 200)
			unit, pad := unit, pad
			t.Run(unit+"/pad"+strconv.Itoa(pad), func(t *testing.T) {
				p := AppendClosePayload(nil, CloseGoingAway, reason)
				got := p[2:]
				if len(got) > MaxCloseReason {
					t.Fatalf("reason is %d bytes, want at most %d", len(got), MaxCloseReason)
				}
				if !utf8.Valid(got) || !strings.HasPrefix(reason, string(got)) {
					t.Fatalf("reason %q is not a valid prefix of the input", got)
				}
				// Longest: the next rune would not have fitted.
				_, size := utf8.DecodeRuneInString(reason[len(got):])
				if len(got)+size <= MaxCloseReason {
					t.Fatalf("reason cut to %d bytes, but the next %d-byte rune fits", len(got), size)
				}
				code, r, err := ParseClosePayload(p)
				if err != nil || code != CloseGoingAway || r != string(got) {
					t.Fatalf("ParseClosePayload = %d, %q, %v", code, r, err)
				}
			})
		}
	}
}

func TestAppendClosePayloadAllocs(t *testing.T) {
	dst := make([]byte, 0, 128)
	reason := strings.Repeat("€", 60)
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendClosePayload(dst[:0], CloseNormalClosure, reason)
	})
	if allocs != 0 {
		t.Errorf("allocations per run = %v, want 0", allocs)
	}
}
