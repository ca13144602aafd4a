package websocket

import (
	"encoding/base64"
	"testing"
)

func TestHeaderHasToken(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		token string
		want  bool
	}{
		{"exact", []string{"Upgrade"}, "upgrade", true},
		{"list", []string{"keep-alive, Upgrade"}, "upgrade", true},
		{"tabs and spaces", []string{"keep-alive,\t Upgrade \t"}, "upgrade", true},
		{"second line", []string{"keep-alive", "upgrade"}, "upgrade", true},
		{"absent", []string{"keep-alive"}, "upgrade", false},
		{"substring is not a token", []string{"upgraded"}, "upgrade", false},
		{"empty items", []string{",,websocket,"}, "websocket", true},
		{"no header", nil, "websocket", false},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			var lines [][]byte
			for _, l := range tt.lines {
				lines = append(lines, []byte(l))
			}
			if got := headerHasToken(lines, tt.token); got != tt.want {
				t.Fatalf("headerHasToken(%q, %q) = %v, want %v", tt.lines, tt.token, got, tt.want)
			}
		})
	}
}

func TestValidChallengeKey(t *testing.T) {
	enc := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		key  string
		want bool
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", true},
		{enc(16), true},
		{enc(15), false},
		{enc(17), false},
		{"", false},
		{"dGhlIHNhbXBsZSBub25jZQ", false},   // padding missing
		{"dGhlIHNhbXBsZSBub25jZ!==", false}, // not base64
	}
	for _, tt := range tests {
		if got := validChallengeKey([]byte(tt.key)); got != tt.want {
			t.Errorf("validChallengeKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

// The sample handshake of RFC 6455 §1.3.
func TestComputeAcceptKey(t *testing.T) {
	if got, want := computeAcceptKey([]byte("dGhlIHNhbXBsZSBub25jZQ==")), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("computeAcceptKey = %q, want %q", got, want)
	}
}

func TestGrowTrustsAnnouncedLengthOnlySoFar(t *testing.T) {
	tests := []struct {
		len, cap         int
		remaining, limit int64
		wantCap          int
	}{
		{0, 0, 5, 0, 5},              // small message: exact
		{0, 0, 0, 0, 512},            // unknown: a small start
		{0, 0, 32 << 20, 0, 1 << 20}, // huge announcement: 1 MiB at first
		{100, 100, 10, 0, 200},       // at least double
		{1 << 20, 1 << 20, 15 << 20, 0, 2 << 20},
		{100, 100, 10, 150, 150},                    // never past the read limit
		{16 << 20, 16 << 20, 0, 32 << 20, 32 << 20}, // doubling stops at the limit
		{0, 0, 0, 100, 100},
	}
	for _, tt := range tests {
		p := make([]byte, tt.len, tt.cap)
		for i := range p {
			p[i] = byte(i)
		}
		g := grow(p, tt.remaining, tt.limit)
		if cap(g) != tt.wantCap || len(g) != tt.len {
			t.Errorf("grow(len %d cap %d, remaining %d, limit %d): len %d cap %d, want len %d cap %d", tt.len, tt.cap, tt.remaining, tt.limit, len(g), cap(g), tt.len, tt.wantCap)
		}
		for i := range p {
			if g[i] != p[i] {
				t.Fatalf("grow lost byte %d", i)
			}
		}
	}
}
