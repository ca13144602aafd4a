package wstest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/network/standard"

	"github.com/hertzws/websocket"
)

// Dial dials wsURL with d (websocket.DefaultDialer when nil) within
// Guard, failing the test on error, and closes the connection when the
// test ends.
func Dial(t testing.TB, d *websocket.Dialer, wsURL string, h http.Header) (*websocket.Conn, *http.Response) {
	t.Helper()
	if d == nil {
		d = websocket.DefaultDialer
	}
	ctx, cancel := context.WithTimeout(context.Background(), Guard)
	defer cancel()
	c, resp, err := d.DialContext(ctx, wsURL, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", wsURL, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp
}

// CheckEcho writes msg as a message of type mt and checks that the same
// message comes back. The write runs on its own goroutine, so that a
// message larger than the socket buffers cannot deadlock against the
// server's echo.
func CheckEcho(t testing.TB, c *websocket.Conn, mt int, msg []byte) {
	t.Helper()
	werr := make(chan error, 1)
	go func() { werr <- c.WriteMessage(mt, msg) }()
	_ = c.SetReadDeadline(time.Now().Add(Guard))
	gotType, got, err := c.ReadMessage()
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		t.Fatalf("echo of %d bytes: read: %v", len(msg), err)
	}
	if err := Receive(t, werr, "write"); err != nil {
		t.Fatalf("echo of %d bytes: write: %v", len(msg), err)
	}
	if gotType != mt || !bytes.Equal(got, msg) {
		t.Fatalf("echo of %d bytes (type %d): got %d bytes of type %d", len(msg), mt, len(got), gotType)
	}
}

// SelfSigned makes a self-signed ECDSA certificate for 127.0.0.1, ::1 and
// localhost, and a pool that trusts it.
func SelfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "hertzws test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// StartTLSHandler serves handler at /ws with upgrader u over TLS with
// cert, on 127.0.0.1, and returns the wss:// URL.
//
// Hertz serves TLS only on its standard (net) transport: netpoll has no
// TLS (pkg/network/netpoll/dial.go: "not support tls"), and
// server.WithTLS switches to the standard transport only when no
// transport was chosen before it. WithTransport(standard.NewTransporter)
// is therefore passed explicitly; the upgrade then runs on Hertz's
// standard TLS connection, whose hijack works like the plain one.
func StartTLSHandler(t testing.TB, cert tls.Certificate, u *websocket.HertzUpgrader, handler websocket.HertzHandler) string {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	opts := []config.Option{server.WithTransport(standard.NewTransporter), server.WithTLS(cfg)}
	addr := Serve(t, "127.0.0.1:0", opts, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = u.Upgrade(ctx, handler)
		})
	})
	return "wss://" + addr + "/ws"
}
