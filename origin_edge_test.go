package websocket

import "testing"

// Origins a browser never sends but an attacker or a broken client may,
// and Host headers in the forms clients write them. Each row says what
// the default check (CSWSH defence, RFC 6455 §10.2) must decide.
func TestCheckSameOriginEdgeCases(t *testing.T) {
	tests := []struct {
		name, host, origin string
		want               bool
	}{
		{"scheme in capitals", "example.com", "HTTP://EXAMPLE.COM", true},
		{"ws scheme, default port 80", "example.com", "ws://example.com", true},
		{"wss scheme, default port 443", "example.com:443", "wss://example.com", true},
		// Host names no scheme: without a port it means the default port
		// of the scheme the page used (TLS may end at a proxy).
		{"https origin, Host without port", "example.com", "https://example.com", true},
		{"http on explicit 443 is another origin", "example.com:443", "http://example.com", false},
		{"port with a leading zero", "example.com:80", "http://example.com:080", false},
		{"empty port means the default", "example.com", "http://example.com:", true},
		{"other port on the same host", "example.com", "http://example.com:8080", false},
		{"subdomain", "example.com", "http://www.example.com", false},
		{"parent domain", "www.example.com", "http://example.com", false},
		{"lookalike prefix", "example.com", "http://evil-example.com", false},
		{"trailing dot is another name", "example.com", "http://example.com.", false},
		{"IPv4 for a name", "localhost:8080", "http://127.0.0.1:8080", false},
		{"IPv6 hex case", "[::a]:8080", "http://[::A]:8080", true},
		{"IPv6 written another way", "[::1]:8080", "http://[0:0:0:0:0:0:0:1]:8080", false},
		{"IPv6 origin, IPv4 host", "127.0.0.1:8080", "http://[::1]:8080", false},
		{"IPv6 without brackets", "[::1]:8080", "http://::1:8080", false},
		{"IPv6 explicit default port", "[2001:db8::1]", "https://[2001:db8::1]:443", true},
		{"IPv6 https default port", "[2001:db8::1]:443", "https://[2001:db8::1]", true},
		{"space in the host", "example.com", "http://exa mple.com", false},
		{"file URL", "example.com", "file://", false},
		{"scheme only", "example.com", "http://", false},
		{"null in capitals", "example.com", "NULL", false},
		{"opaque data URL", "example.com", "data:text/html,hi", false},
		{"percent-encoded host", "example.com", "http://%65xample.com", false},
		{"no Host header, with Origin", "", "http://example.com", false},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckSameOrigin(requestWithOrigin(tt.host, tt.origin)); got != tt.want {
				t.Fatalf("CheckSameOrigin(host %q, origin %q) = %v, want %v", tt.host, tt.origin, got, tt.want)
			}
		})
	}
}

// AllowOrigins is safe with the lists people write by mistake: a wildcard,
// "null", entries without a scheme admit nothing, and listed origins admit
// only themselves.
func TestAllowOriginsEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		origin  string
		want    bool
	}{
		{"wildcard admits nothing", []string{"*"}, "https://evil.example", false},
		{"null cannot be allowed", []string{"null"}, "null", false},
		{"entry without a scheme admits nothing", []string{"app.example.com"}, "https://app.example.com", false},
		{"path and query of an entry are ignored", []string{"https://app.example.com/login?x=1"}, "https://app.example.com", true},
		{"subdomain of a listed origin", []string{"https://example.com"}, "https://www.example.com", false},
		{"listed name as a prefix", []string{"https://example.com"}, "https://example.com.evil.example", false},
		{"listed name as a suffix", []string{"https://example.com"}, "https://evil-example.com", false},
		{"IPv6 listed", []string{"http://[::1]:3000"}, "http://[::1]:3000", true},
		{"IPv6 listed, other port", []string{"http://[::1]:3000"}, "http://[::1]:3001", false},
		{"scheme case in the list", []string{"HTTPS://App.Example.com"}, "https://app.example.com", true},
		{"explicit default port in the list", []string{"https://app.example.com:443"}, "https://app.example.com", true},
		{"second entry of several", []string{"https://a.example", "https://b.example"}, "https://b.example", true},
		{"malformed origin against a list", []string{"https://a.example"}, "https://a.example:bad", false},
		{"empty list keeps same-origin", nil, "http://api.example.com", true},
		{"empty list refuses others", nil, "http://a.example", false},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			check := AllowOrigins(tt.allowed...)
			if got := check(requestWithOrigin("api.example.com", tt.origin)); got != tt.want {
				t.Fatalf("AllowOrigins(%q) on origin %q = %v, want %v", tt.allowed, tt.origin, got, tt.want)
			}
		})
	}
}
