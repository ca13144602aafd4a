package browsertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nginxPath is Debian's nginx (apt-get install nginx), which .ci/run
// installs; $NGINX overrides it.
func nginxPath(t *testing.T) string {
	return programPath(t, "NGINX", "/usr/sbin/nginx", "nginx")
}

// testCert is a self-signed certificate for 127.0.0.1, ::1 and localhost,
// made for one test.
type testCert struct {
	certFile, keyFile string
	pool              *x509.CertPool // trusts the certificate alone
	spki              string         // base64 SHA-256 of its public key, as Chromium's --ignore-certificate-errors-spki-list takes it
}

// newTestCert makes a certificate valid for an hour and writes it and its
// key as PEM into dir.
func newTestCert(t *testing.T, dir string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "browsertest nginx"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := testCert{
		certFile: filepath.Join(dir, "cert.pem"),
		keyFile:  filepath.Join(dir, "key.pem"),
		pool:     x509.NewCertPool(),
	}
	c.pool.AddCert(cert)
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	c.spki = base64.StdEncoding.EncodeToString(sum[:])
	if err := os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// nginxSite is one server block: nginx terminates TLS on listen and hands
// every request to the plain-HTTP upstream with proxyBlock (the
// directives of its location /, with {{upstream}} standing for the
// upstream's host:port).
type nginxSite struct {
	name       string
	upstream   string // host:port of the example
	proxyBlock string
	listen     string // host:port, chosen by startNginx
}

// port is the port nginx listens on for the site, as the access log
// shows it.
func (s *nginxSite) port() string { return s.listen[strings.LastIndexByte(s.listen, ':')+1:] }

// url is the site's https:// address.
func (s *nginxSite) url() string { return "https://" + s.listen }

// nginxServer is a running nginx of the test's own.
type nginxServer struct {
	dir   string
	sites map[string]*nginxSite
	out   *lockedBuffer
}

// accessLog returns nginx's access log so far (see nginxConf's log_format).
func (n *nginxServer) accessLog(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.dir, "access.log"))
	if err != nil {
		t.Fatalf("read nginx access log: %v", err)
	}
	return string(b)
}

// waitAccessLog waits until a line of the access log contains every one of
// parts, for at most 10 s (nginx writes a proxied WebSocket's line when the
// connection ends), and returns that line.
func (n *nginxServer) waitAccessLog(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(n.accessLog(t), "\n") {
			all := line != ""
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx access log has no line with %q after 10 s:\n%s", parts, n.accessLog(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startNginx writes a configuration with sites into a temporary directory
// and runs nginx on it in the foreground, as a child of the test, with
// every file it writes (pid, logs, temporary files) in that directory, so
// that it needs neither root nor the system's nginx service. It returns
// once every site answers GET / through the proxy with 200, and stops
// nginx when the test ends.
func startNginx(t *testing.T, cert testCert, sites ...*nginxSite) *nginxServer {
	t.Helper()
	bin := nginxPath(t)
	var lastErr error
	// A free port can be taken before nginx binds it: try again then.
	for attempt := 0; attempt < 3; attempt++ {
		n, err := tryNginx(t, bin, cert, sites)
		if err == nil {
			return n
		}
		lastErr = err
	}
	t.Fatalf("start nginx: %v", lastErr)
	return nil
}

func tryNginx(t *testing.T, bin string, cert testCert, sites []*nginxSite) (*nginxServer, error) {
	n := &nginxServer{dir: t.TempDir(), sites: map[string]*nginxSite{}, out: new(lockedBuffer)}
	for _, s := range sites {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s.listen = addr
		n.sites[s.name] = s
	}
	conf := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(n.dir, cert, sites)), 0o644); err != nil {
		return nil, err
	}
	errorLog := filepath.Join(n.dir, "error.log")
	// -e: the error log from the start, before the configuration names
	// it (the compiled-in default would be stderr here, /var/log elsewhere).
	cmd := exec.Command(bin, "-p", n.dir, "-c", conf, "-e", errorLog)
	cmd.Stdout, cmd.Stderr = n.out, n.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		// SIGTERM: nginx's fast shutdown, which also drops upgraded
		// connections at once (SIGQUIT would wait for them).
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("nginx did not exit within 5 s of SIGTERM")
		}
	}
	logs := func() string {
		e, _ := os.ReadFile(errorLog)
		return fmt.Sprintf("--- nginx output:\n%s--- nginx error log:\n%s--- nginx.conf:\n%s", n.out.String(), e, nginxConf(n.dir, cert, sites))
	}

	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.pool}},
	}
	defer client.CloseIdleConnections()
	for _, s := range sites {
		if err := waitServing(client, s.url()+"/", exited, 10*time.Second); err != nil {
			stop()
			return nil, fmt.Errorf("site %s: %v (exit: %v)\n%s", s.name, err, waitErr, logs())
		}
	}
	t.Cleanup(func() {
		stop()
		e, _ := os.ReadFile(errorLog)
		for _, bad := range []string{"[emerg]", "[alert]", "[crit]"} {
			if strings.Contains(string(e), bad) {
				t.Errorf("nginx error log contains %q", bad)
			}
		}
		if t.Failed() {
			t.Log(logs())
		}
	})
	return n, nil
}

// nginxConf is the configuration startNginx runs: one process in the
// foreground, its files in dir, the WebSocket map, and a TLS server block
// per site. The access log records, for each request, the site's port,
// the status nginx answered and the one the upstream gave, and the Host
// and Origin the browser sent.
func nginxConf(dir string, cert testCert, sites []*nginxSite) string {
	var b strings.Builder
	fmt.Fprintf(&b, `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;

events {
    worker_connections 128;
}

http {
    log_format browsertest '$server_port "$request" status=$status upstream=$upstream_status http_host=$http_host origin=$http_origin';
    access_log %[1]s/access.log browsertest;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
`, dir)
	for _, s := range sites {
		block := strings.ReplaceAll(s.proxyBlock, "{{upstream}}", s.upstream)
		fmt.Fprintf(&b, `
    # %s
    server {
        listen %s ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;

        location / {
%s        }
    }
`, s.name, s.listen, cert.certFile, cert.keyFile, indent(block, "            "))
	}
	b.WriteString("}\n")
	return b.String()
}

// indent puts prefix before every line of s.
func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	return b.String()
}
