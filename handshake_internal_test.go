package websocket

import (
	"encoding/base64"
	"errors"
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

func TestNextMessageSizeFollowsWhatArrived(t *testing.T) {
	const (
		kib = 1 << 10
		mib = 1 << 20
	)
	tests := []struct {
		name                      string
		have, remaining, buffered int64
		known                     bool
		limit                     int64
		wantSize, wantReserve     int64
		wantStaged                bool
	}{
		{"small announced message: exact", 0, 5, 5, true, 0, 5, 0, false},
		{"announced up to the allowance: exact", 0, 32 * kib, 0, true, 0, 32 * kib, 0, false},
		{"huge announcement, one byte: the allowance, nothing reserved", 0, 32*mib - 1, 1, true, 32 * mib, 32 * kib, 0, true},
		{"staged buffers double with what arrived", 64 * kib, 32 * mib, 4 * kib, true, 0, 128 * kib, (32*mib + 64*kib) * 9 / 8, true},
		{"exact once 1/16 has arrived", 2 * mib, 30 * mib, 0, true, 0, 32 * mib, 32 * mib, false},
		{"buffered bytes count as arrived", 1 * mib, 16 * mib, 1 * mib, true, 0, 17 * mib, 17 * mib, false},
		{"the last allowance of a big message: exact", 10 * mib, 32 * kib, 0, true, 0, 10*mib + 32*kib, 10*mib + 32*kib, false},
		{"fragment: what is left of the frame", 0, 5, 0, false, 0, 5, 0, false},
		{"between fragments: a small start", 0, 0, 0, false, 0, 512, 0, false},
		{"big fragment: the allowance", 0, 32 * mib, 0, false, 0, 32 * kib, 0, false},
		{"unknown size: at least double", 100, 10, 0, false, 0, 200, 0, false},
		{"unknown size: never past the limit", 100, 10, 0, false, 150, 150, 0, false},
		{"doubling stops at the limit", 16 * mib, 0, 0, false, 20 * mib, 20 * mib, 20 * mib, false},
		{"just short of the limit: the limit", 16*mib + 16*kib, 0, 0, false, 32*mib + 64*kib, 32*mib + 64*kib, 32*mib + 64*kib, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := nextMessageSize(tt.have, tt.remaining, tt.known, tt.buffered, tt.limit)
			if g.size != tt.wantSize || g.reserve != tt.wantReserve || g.staged != tt.wantStaged {
				t.Errorf("nextMessageSize(have %d, remaining %d, known %v, buffered %d, limit %d) = %+v, want size %d reserve %d staged %v",
					tt.have, tt.remaining, tt.known, tt.buffered, tt.limit, g, tt.wantSize, tt.wantReserve, tt.wantStaged)
			}
			if g.size < tt.have {
				t.Errorf("size %d is below the %d bytes held", g.size, tt.have)
			}
		})
	}
}

// TestClientCheckErrors: a status other than 101 is ErrBadHandshake itself
// (gorilla users compare it with ==); a switching response the client
// refuses is a HandshakeError with status 101 and the reason, which wraps
// ErrBadHandshake.
func TestClientCheckErrors(t *testing.T) {
	offer := &clientOffer{key: "dGhlIHNhbXBsZSBub25jZQ=="}
	good := map[string][]string{
		"Upgrade":              {"websocket"},
		"Connection":           {"Upgrade"},
		"Sec-WebSocket-Accept": {"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
	}
	with := func(name, value string) map[string][]string {
		h := map[string][]string{}
		for k, v := range good {
			h[k] = v
		}
		h[name] = []string{value}
		return h
	}
	tests := []struct {
		name       string
		status     int
		header     map[string][]string
		wantReason string // "" for ErrBadHandshake itself
	}{
		{"forbidden", 403, good, ""},
		{"ok instead of switching", 200, good, ""},
		{"wrong accept", 101, with("Sec-WebSocket-Accept", "AAAA"), "'Sec-WebSocket-Accept' does not match the key sent"},
		{"no upgrade token", 101, with("Upgrade", "h2c"), "'websocket' token not found in the 'Upgrade' response header"},
		{"subprotocol not offered", 101, with("Sec-WebSocket-Protocol", "chat"), `the server chose subprotocol "chat", which the client did not offer`},
		{"extension not offered", 101, with("Sec-WebSocket-Extensions", "permessage-deflate"), `the server accepted extension "permessage-deflate", which the client did not offer`},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := offer.check(tt.status, func(name string) [][]byte {
				var lines [][]byte
				for _, l := range tt.header[name] {
					lines = append(lines, []byte(l))
				}
				return lines
			})
			if !errors.Is(err, ErrBadHandshake) {
				t.Fatalf("err = %v, want one that wraps ErrBadHandshake", err)
			}
			if tt.wantReason == "" {
				if err != ErrBadHandshake {
					t.Fatalf("err = %#v, want ErrBadHandshake itself", err)
				}
				return
			}
			he, ok := err.(HandshakeError)
			if !ok {
				t.Fatalf("err = %#v, want a HandshakeError", err)
			}
			if he.Status != 101 || he.Reason != tt.wantReason {
				t.Fatalf("HandshakeError{Status: %d, Reason: %q}, want {101, %q}", he.Status, he.Reason, tt.wantReason)
			}
			if want := "websocket: bad handshake: " + tt.wantReason; err.Error() != want {
				t.Fatalf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
	if err := (HandshakeError{}); !errors.Is(err, ErrBadHandshake) {
		t.Fatal("the zero HandshakeError does not wrap ErrBadHandshake")
	}
}
