package websocket

import (
	"net/url"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
)

func requestWithOrigin(host, origin string) *app.RequestContext {
	ctx := app.NewContext(0)
	ctx.Request.Header.SetHost(host)
	if origin != "" {
		ctx.Request.Header.Set("Origin", origin)
	}
	return ctx
}

func TestCheckSameOrigin(t *testing.T) {
	tests := []struct {
		name, host, origin string
		want               bool
	}{
		{"no origin", "example.com", "", true},
		{"same host", "example.com", "http://example.com", true},
		{"host case", "Example.COM", "http://example.com", true},
		{"same port", "example.com:8080", "http://example.com:8080", true},
		{"other port", "example.com:8080", "http://example.com:9090", false},
		{"default http port on origin", "example.com", "http://example.com:80", true},
		{"default http port on host", "example.com:80", "http://example.com", true},
		{"default https port", "example.com", "https://example.com:443", true},
		{"https origin, host port 80", "example.com:80", "https://example.com", false},
		{"other host", "example.com", "http://evil.example", false},
		{"suffix attack", "example.com", "http://example.com.evil.example", false},
		{"userinfo does not fool", "example.com", "http://example.com@evil.example", false},
		{"null origin", "example.com", "null", false},
		{"malformed", "example.com", "http://[::1", false},
		{"no scheme", "example.com", "example.com", false},
		{"ipv6 same", "[::1]:8080", "http://[::1]:8080", true},
		{"ipv6 other port", "[::1]:8080", "http://[::1]:8081", false},
		{"ipv6 default port", "[::1]", "http://[::1]", true},
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

func TestAllowOrigins(t *testing.T) {
	check := AllowOrigins("https://app.example.com", "http://localhost:3000", "not a url")
	tests := []struct {
		name, host, origin string
		want               bool
	}{
		{"listed", "api.example.com", "https://app.example.com", true},
		{"listed, explicit default port", "api.example.com", "https://app.example.com:443", true},
		{"listed, case", "api.example.com", "https://APP.example.com", true},
		{"scheme differs", "api.example.com", "http://app.example.com", false},
		{"listed with port", "api.example.com", "http://localhost:3000", true},
		{"port differs", "api.example.com", "http://localhost:3001", false},
		{"same origin still allowed", "api.example.com", "http://api.example.com", true},
		{"no origin", "api.example.com", "", true},
		{"unlisted", "api.example.com", "https://evil.example", false},
		{"null", "api.example.com", "null", false},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			if got := check(requestWithOrigin(tt.host, tt.origin)); got != tt.want {
				t.Fatalf("AllowOrigins check(host %q, origin %q) = %v, want %v", tt.host, tt.origin, got, tt.want)
			}
		})
	}
}

// FuzzCheckSameOrigin: any Host and Origin pair is judged without a panic;
// an origin naming exactly the request's host (with the scheme's default
// port or the same explicit port) is accepted, and AllowOrigins never
// accepts less than CheckSameOrigin.
func FuzzCheckSameOrigin(f *testing.F) {
	for _, s := range [][2]string{
		{"example.com", "http://example.com"},
		{"example.com:8080", "http://example.com:8080"},
		{"EXAMPLE.com", "https://example.COM:443"},
		{"[::1]:8080", "http://[::1]:8080"},
		{"example.com", "null"},
		{"example.com", "http://evil.com"},
		{"example.com", "http://example.com.evil.com"},
		{"example.com", "://bad"},
		{"example.com", "http://user@example.com"},
	} {
		f.Add(s[0], s[1])
	}
	allow := AllowOrigins("https://app.example.com", "http://localhost:3000")
	f.Fuzz(func(t *testing.T, host, origin string) {
		ctx := requestWithOrigin(host, origin)
		same := CheckSameOrigin(ctx)
		if same && !allow(ctx) {
			t.Fatalf("AllowOrigins refused %q for host %q, which CheckSameOrigin accepts", origin, host)
		}
		if origin == "" && !same {
			t.Fatal("a request without Origin was refused")
		}
		if h := string(ctx.Request.Header.Host()); h != "" && !containsAny(h, "/?#@ \t\r\n%\\") && len(origin) == 0 {
			if !CheckSameOrigin(requestWithOrigin(host, "http://"+h)) && validHostPort(h) {
				t.Fatalf("origin http://%s refused for host %q", h, h)
			}
		}
	})
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}

// validHostPort reports whether hostPort is a plain host name or address
// with an optional numeric port, as a browser would put in an Origin.
func validHostPort(hostPort string) bool {
	u, err := url.Parse("http://" + hostPort)
	return err == nil && u.Host == hostPort && u.User == nil && u.Path == ""
}
