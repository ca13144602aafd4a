package websocket

import (
	"net"
	"net/url"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"
)

// CheckSameOrigin is the origin check HertzUpgrader uses when CheckOrigin is
// nil. It accepts a request that carries no Origin header (a non-browser
// client) and a request whose Origin names the host the request was sent to
// (the Host header): same host, compared without regard to ASCII case, and
// same port, where a missing port means the default port of the Origin's
// scheme. It refuses everything else, including the "null" origin and
// origins that do not parse.
//
// Browsers send Origin with every WebSocket handshake, and a WebSocket
// request is not subject to the same-origin policy, so this check is what
// stops another site from opening a connection with the user's cookies
// (cross-site WebSocket hijacking).
func CheckSameOrigin(ctx *app.RequestContext) bool {
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		return true
	}
	u, err := url.Parse(string(origin))
	if err != nil || u.Host == "" {
		return false
	}
	return sameHostPort(u.Scheme, u.Host, string(ctx.Host()))
}

// AllowOrigins returns a CheckOrigin function that accepts requests without
// an Origin header, requests from the same origin (see CheckSameOrigin), and
// requests whose Origin is one of origins. Each allowed origin is written as
// a browser sends it: scheme, host and optional port, as in
// "https://app.example.com" or "http://localhost:3000"; paths are ignored,
// and the comparison ignores ASCII case and default ports.
//
// Prefer a fixed list like this to a function that returns true: a check
// that accepts any origin lets every web page the user visits talk to your
// server with the user's cookies.
func AllowOrigins(origins ...string) func(ctx *app.RequestContext) bool {
	type origin struct{ scheme, hostPort string }
	allowed := make([]origin, 0, len(origins))
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			allowed = append(allowed, origin{strings.ToLower(u.Scheme), u.Host})
		}
	}
	return func(ctx *app.RequestContext) bool {
		if CheckSameOrigin(ctx) {
			return true
		}
		u, err := url.Parse(string(ctx.Request.Header.Peek("Origin")))
		if err != nil || u.Host == "" {
			return false
		}
		scheme := strings.ToLower(u.Scheme)
		for _, a := range allowed {
			if a.scheme == scheme && sameHostPort(scheme, a.hostPort, u.Host) {
				return true
			}
		}
		return false
	}
}

// sameHostPort reports whether two host[:port] strings name the same host
// and port, filling a missing port with the default port of scheme.
func sameHostPort(scheme, a, b string) bool {
	hostA, portA := splitHostPort(a)
	hostB, portB := splitHostPort(b)
	if !strings.EqualFold(hostA, hostB) {
		return false
	}
	def := defaultPort(scheme)
	if portA == "" {
		portA = def
	}
	if portB == "" {
		portB = def
	}
	return portA == portB
}

// splitHostPort splits "host:port", "[v6]:port", "host" and "[v6]".
func splitHostPort(hostPort string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostPort); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostPort, "["), "]"), ""
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "https", "wss":
		return "443"
	default:
		return "80"
	}
}
