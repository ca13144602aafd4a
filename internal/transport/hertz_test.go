package transport

import "testing"

// TestCopiesPayload pins which transports want a payload copied behind its
// frame header: those whose Flush sends each buffer node with a call of
// its own (Hertz's standard transport, plain or TLS), up to copiedPayload.
func TestCopiesPayload(t *testing.T) {
	tests := []struct {
		name string
		conn Conn
		n    int
		want bool
	}{
		{"standard, 16 KiB", &standardConn{}, 16 << 10, true},
		{"standard, at the bound", &standardConn{}, copiedPayload, true},
		{"standard, past the bound", &standardConn{}, copiedPayload + 1, false},
		{"standard TLS, 16 KiB", &hertzConn{live: true}, 16 << 10, true},
		{"standard TLS, past the bound", &hertzConn{live: true}, copiedPayload + 1, false},
		{"netpoll, 16 KiB", &hertzConn{}, 16 << 10, false},
		{"socket, 16 KiB", &Socket{}, 16 << 10, false},
	}
	for _, tt := range tests {
		if got := tt.conn.CopiesPayload(tt.n); got != tt.want {
			t.Errorf("%s: CopiesPayload(%d) = %v, want %v", tt.name, tt.n, got, tt.want)
		}
	}
}
