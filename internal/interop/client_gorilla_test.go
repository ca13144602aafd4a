package interop_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// The Dialer as gorilla/websocket's users know it: what its fields mean,
// the headers it sends, SOCKS5 proxies, httptrace hooks and NewClient.

// TestDialerSendsNoOrigin: no Origin header unless the caller sets one, so
// that a gorilla server whose CheckOrigin refuses unknown origins accepts
// the client, as it accepts gorilla's own.
func TestDialerSendsNoOrigin(t *testing.T) {
	origins := make(chan []string, 2)
	up := gorilla.Upgrader{CheckOrigin: func(r *http.Request) bool {
		origins <- r.Header.Values("Origin")
		return len(r.Header.Values("Origin")) == 0 // programmatic clients only
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		mt, p, err := c.ReadMessage()
		if err == nil {
			_ = c.WriteMessage(mt, p)
		}
	}))
	defer srv.Close()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http")

	c, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("a gorilla server that refuses any Origin refused our Dialer: %v", err)
	}
	wstest.CheckEcho(t, c, websocket.TextMessage, []byte("no origin"))
	c.Close()
	if got := <-origins; len(got) != 0 {
		t.Fatalf("Origin sent: %q", got)
	}

	// One the caller sets is sent as given.
	_, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {"https://app.example"}})
	if err != websocket.ErrBadHandshake || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("with an Origin: %v, %v", err, resp)
	}
	if got := <-origins; len(got) != 1 || got[0] != "https://app.example" {
		t.Fatalf("Origin sent: %q", got)
	}
}

// TestDialerHandshakeTimeoutSign: zero means no timeout of the Dialer's
// own, a negative value a deadline already passed, as in gorilla.
func TestDialerHandshakeTimeoutSign(t *testing.T) {
	wsURL := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, wstest.Echo)
	for _, tc := range []struct {
		timeout time.Duration
		wantErr error
	}{
		{0, nil},
		{time.Minute, nil},
		{-time.Second, context.DeadlineExceeded},
	} {
		d := &websocket.Dialer{HandshakeTimeout: tc.timeout}
		c, _, err := d.Dial(wsURL, nil)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("HandshakeTimeout %v: %v, want %v", tc.timeout, err, tc.wantErr)
		}
		if c != nil {
			wstest.CheckEcho(t, c, websocket.TextMessage, []byte("ok"))
			c.Close()
		}
		// gorilla agrees.
		gd := &gorilla.Dialer{HandshakeTimeout: tc.timeout}
		gc, _, gerr := gd.Dial(wsURL, nil)
		if !errors.Is(gerr, tc.wantErr) {
			t.Errorf("gorilla with HandshakeTimeout %v: %v, want %v", tc.timeout, gerr, tc.wantErr)
		}
		if gc != nil {
			gc.Close()
		}
	}
}

// socks5Server is a SOCKS5 proxy (RFC 1928, CONNECT only) with optional
// username/password authentication (RFC 1929), for tests on 127.0.0.1.
type socks5Server struct {
	addr           string
	user, password string // authentication required when user is set

	mu      sync.Mutex
	targets []string // CONNECT targets, as the client named them
	users   []string // user names offered
}

func startSOCKS5(t *testing.T, user, password string) *socks5Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{addr: ln.Addr().String(), user: user, password: password}
	var wg sync.WaitGroup
	var conns sync.Map
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ interface{}) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(c, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s.serve(c, &conns)
			}()
		}
	}()
	return s
}

func (s *socks5Server) serve(c net.Conn, conns *sync.Map) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var head [2]byte
	if _, err := io.ReadFull(c, head[:]); err != nil || head[0] != 5 {
		return
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	want := byte(0x00) // no authentication
	if s.user != "" {
		want = 0x02 // username/password
	}
	if !strings.ContainsRune(string(methods), rune(want)) {
		_, _ = c.Write([]byte{5, 0xff})
		return
	}
	_, _ = c.Write([]byte{5, want})
	if want == 0x02 {
		// RFC 1929: VER=1, ULEN, UNAME, PLEN, PASSWD.
		var b [2]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return
		}
		name := make([]byte, b[1])
		if _, err := io.ReadFull(c, name); err != nil {
			return
		}
		if _, err := io.ReadFull(c, b[:1]); err != nil {
			return
		}
		pass := make([]byte, b[0])
		if _, err := io.ReadFull(c, pass); err != nil {
			return
		}
		s.mu.Lock()
		s.users = append(s.users, string(name))
		s.mu.Unlock()
		if string(name) != s.user || string(pass) != s.password {
			_, _ = c.Write([]byte{1, 1})
			return
		}
		_, _ = c.Write([]byte{1, 0})
	}
	// VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT.
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		ip := make([]byte, 4)
		if _, err := io.ReadFull(c, ip); err != nil {
			return
		}
		host = net.IP(ip).String()
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(c, name); err != nil {
			return
		}
		host = string(name)
	case 4:
		ip := make([]byte, 16)
		if _, err := io.ReadFull(c, ip); err != nil {
			return
		}
		host = net.IP(ip).String()
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(c, port[:]); err != nil {
		return
	}
	target := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
	s.mu.Lock()
	s.targets = append(s.targets, target)
	s.mu.Unlock()
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}) // connection refused
		return
	}
	conns.Store(up, nil)
	defer up.Close()
	_, _ = c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0})
	_ = c.SetDeadline(time.Time{})
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

func (s *socks5Server) seen() (targets, users []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.targets...), append([]string(nil), s.users...)
}

// TestDialerSOCKS5 dials through a SOCKS5 proxy started by the test, with
// and without authentication, for socks5:// and socks5h://.
func TestDialerSOCKS5(t *testing.T) {
	wsURL := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, wstest.Echo)
	port := wsURL[strings.LastIndex(wsURL, ":")+1 : strings.LastIndex(wsURL, "/")]
	byName := "ws://localhost:" + port + "/ws"

	for _, tc := range []struct {
		name, scheme, user, password string
		wrongPassword                bool
	}{
		{name: "socks5", scheme: "socks5"},
		{name: "socks5h", scheme: "socks5h"},
		{name: "user-password", scheme: "socks5", user: "alice", password: "s3cret"},
		{name: "wrong-password", scheme: "socks5h", user: "alice", password: "s3cret", wrongPassword: true},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			s := startSOCKS5(t, tc.user, tc.password)
			proxyURL := &url.URL{Scheme: tc.scheme, Host: s.addr}
			if tc.user != "" {
				password := tc.password
				if tc.wrongPassword {
					password = "wrong"
				}
				proxyURL.User = url.UserPassword(tc.user, password)
			}
			d := &websocket.Dialer{Proxy: http.ProxyURL(proxyURL), HandshakeTimeout: 10 * time.Second}
			start := time.Now()
			c, _, err := d.Dial(byName, nil)
			targets, users := s.seen()
			if tc.wrongPassword {
				if err == nil {
					c.Close()
					t.Fatal("dialled through the proxy with a wrong password")
				}
				if time.Since(start) > 5*time.Second {
					t.Fatalf("refusal took %v", time.Since(start))
				}
				if len(targets) != 0 {
					t.Fatalf("CONNECT after a refused login: %q", targets)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wstest.CheckEcho(t, c, websocket.TextMessage, []byte("through "+tc.scheme))
			// x/net's SOCKS5 dialer hands the proxy the host name to
			// resolve, for both schemes.
			if len(targets) != 1 || targets[0] != "localhost:"+port {
				t.Fatalf("proxy was asked for %q, want localhost:%s", targets, port)
			}
			if tc.user != "" && (len(users) != 1 || users[0] != tc.user) {
				t.Fatalf("proxy saw users %q", users)
			}
		})
	}

	t.Run("NetDialContext-reaches-the-proxy", func(t *testing.T) {
		s := startSOCKS5(t, "", "")
		var dialled []string
		d := &websocket.Dialer{
			Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: s.addr}),
			NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dialled = append(dialled, addr)
				var nd net.Dialer
				return nd.DialContext(ctx, network, addr)
			},
		}
		c, _, err := d.Dial(wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if len(dialled) != 1 || dialled[0] != s.addr {
			t.Fatalf("NetDialContext dialled %q, want the proxy %s", dialled, s.addr)
		}
	})
}

// TestDialerTrace checks the httptrace hooks gorilla fires, in order, for
// ws:// by host name and for wss://.
func TestDialerTrace(t *testing.T) {
	record := func() (*httptrace.ClientTrace, func() []string) {
		var mu sync.Mutex
		var events []string
		add := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
		trace := &httptrace.ClientTrace{
			GetConn:              func(string) { add("GetConn") },
			DNSStart:             func(httptrace.DNSStartInfo) { add("DNSStart") },
			DNSDone:              func(httptrace.DNSDoneInfo) { add("DNSDone") },
			ConnectStart:         func(string, string) { add("ConnectStart") },
			ConnectDone:          func(string, string, error) { add("ConnectDone") },
			GotConn:              func(httptrace.GotConnInfo) { add("GotConn") },
			TLSHandshakeStart:    func() { add("TLSHandshakeStart") },
			TLSHandshakeDone:     func(tls.ConnectionState, error) { add("TLSHandshakeDone") },
			WroteHeaders:         func() { add("WroteHeaders") },
			WroteRequest:         func(httptrace.WroteRequestInfo) { add("WroteRequest") },
			GotFirstResponseByte: func() { add("GotFirstResponseByte") },
		}
		return trace, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), events...) }
	}
	check := func(t *testing.T, got, want []string) {
		t.Helper()
		// A host name may resolve to more than one address: keep the
		// first of each event.
		var firsts []string
		seen := map[string]bool{}
		for _, e := range got {
			if !seen[e] {
				seen[e] = true
				firsts = append(firsts, e)
			}
		}
		if fmt.Sprint(firsts) != fmt.Sprint(want) {
			t.Fatalf("hooks fired %v, want %v", got, want)
		}
	}

	t.Run("ws-by-name", func(t *testing.T) {
		wsURL := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{}, nil, wstest.Echo)
		port := wsURL[strings.LastIndex(wsURL, ":")+1 : strings.LastIndex(wsURL, "/")]
		trace, events := record()
		ctx := httptrace.WithClientTrace(context.Background(), trace)
		d := &websocket.Dialer{
			// localhost may resolve to ::1 too, where nothing listens.
			NetDialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				var nd net.Dialer
				return nd.DialContext(ctx, "tcp4", addr)
			},
		}
		c, _, err := d.DialContext(ctx, "ws://localhost:"+port+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		check(t, events(), []string{"GetConn", "DNSStart", "DNSDone", "ConnectStart", "ConnectDone", "GotConn", "WroteHeaders", "WroteRequest", "GotFirstResponseByte"})
	})

	t.Run("wss", func(t *testing.T) {
		cert, pool := wstest.SelfSigned(t)
		wsURL := wstest.StartTLSHandler(t, cert, &websocket.HertzUpgrader{}, wstest.Echo)
		trace, events := record()
		ctx := httptrace.WithClientTrace(context.Background(), trace)
		d := &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}
		c, _, err := d.DialContext(ctx, wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		check(t, events(), []string{"GetConn", "ConnectStart", "ConnectDone", "GotConn", "TLSHandshakeStart", "TLSHandshakeDone", "WroteHeaders", "WroteRequest", "GotFirstResponseByte"})

		// gorilla fires the same hooks on the same dial.
		gtrace, gevents := record()
		gctx := httptrace.WithClientTrace(context.Background(), gtrace)
		gd := &gorilla.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}
		gc, _, err := gd.DialContext(gctx, wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		gc.Close()
		check(t, gevents(), []string{"GetConn", "ConnectStart", "ConnectDone", "GotConn", "TLSHandshakeStart", "TLSHandshakeDone", "WroteHeaders", "WroteRequest", "GotFirstResponseByte"})
	})
}

// TestNewClient runs the client handshake over a connection the caller
// dialled: a working one, and a server that refuses the upgrade.
func TestNewClient(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		refuse := &websocket.HertzUpgrader{CheckOrigin: func(*app.RequestContext) bool { return false }}
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nil, wstest.Echo)
		refusing := wstest.StartHandler(t, tc, wstest.EngineSettings{}, refuse, wstest.Echo)
		for _, c := range []struct {
			name   string
			url    string
			status int
		}{
			{"ok", wsURL, http.StatusSwitchingProtocols},
			{"refused", refusing, http.StatusForbidden},
		} {
			u, _ := url.Parse(c.url)
			netConn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			//lint:ignore SA1019 NewClient is kept for gorilla code; this tests it
			conn, resp, err := websocket.NewClient(netConn, u, http.Header{"X-Test": {c.name}}, 1024, 1024)
			if resp == nil || resp.StatusCode != c.status {
				t.Fatalf("%s: response %v, error %v", c.name, resp, err)
			}
			if c.status != http.StatusSwitchingProtocols {
				if err != websocket.ErrBadHandshake {
					t.Fatalf("%s: %v, want ErrBadHandshake", c.name, err)
				}
				body, _ := io.ReadAll(resp.Body)
				if len(body) == 0 {
					t.Fatalf("%s: the refusal's body was not kept", c.name)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			wstest.CheckEcho(t, conn, websocket.BinaryMessage, []byte("over a caller's connection"))
			conn.Close()
		}
	})
}
