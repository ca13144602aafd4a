package transport

import "testing"

// TestCopiesPayload pins which transports want a payload copied behind its
// frame header: those whose Flush sends each buffer node with a call of
// its own (Hertz's standard transport, plain or TLS), up to copiedPayload
// plain and up to one TLS record's worth with TLS.
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
		{"standard TLS, 8 KiB", &hertzConn{live: true}, 8 << 10, true},
		{"standard TLS, one record with its header", &hertzConn{live: true}, tlsCopiedPayload, true},
		{"standard TLS, past one record", &hertzConn{live: true}, tlsCopiedPayload + 1, false},
		{"netpoll, 16 KiB", &hertzConn{}, 16 << 10, false},
		{"socket, 16 KiB", &Socket{}, 16 << 10, false},
	}
	for _, tt := range tests {
		if got := tt.conn.CopiesPayload(tt.n); got != tt.want {
			t.Errorf("%s: CopiesPayload(%d) = %v, want %v", tt.name, tt.n, got, tt.want)
		}
	}
}
