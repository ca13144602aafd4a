package websocket

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/proxy"
)

// dialProxy opens a tunnel to addr through an HTTP or HTTPS proxy with the
// CONNECT method (RFC 9110 §9.3.6), or through a SOCKS5 proxy. User
// information in the proxy URL is sent as basic Proxy-Authorization, or as
// SOCKS5 username and password.
func (d *Dialer) dialProxy(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	switch proxyURL.Scheme {
	case "http", "https":
	case "socks5", "socks5h":
		return d.dialSOCKS5(ctx, proxyURL, addr)
	default:
		return nil, errors.New("websocket: unsupported proxy scheme " + proxyURL.Scheme)
	}
	conn, err := d.netDial(ctx, hostPortWithDefault(proxyURL))
	if err != nil {
		return nil, err
	}
	if proxyURL.Scheme == "https" {
		if conn, err = d.tlsClient(ctx, conn, proxyURL.Hostname(), true); err != nil {
			return nil, err
		}
	}

	stop := closeOnCancel(ctx, conn)
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: make(http.Header),
	}
	if user := proxyURL.User; user != nil {
		password, _ := user.Password()
		credentials := base64.StdEncoding.EncodeToString([]byte(user.Username() + ":" + password))
		req.Header.Set("Proxy-Authorization", "Basic "+credentials)
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, ctxErr(ctx, err)
	}
	// The server behind the tunnel says nothing until it gets our
	// handshake, so any byte buffered past the proxy's response is an
	// error, not tunnel data to keep.
	br := bufio.NewReaderSize(conn, 1024)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, ctxErr(ctx, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, errors.New("websocket: proxy CONNECT failed: " + resp.Status)
	}
	if br.Buffered() > 0 {
		conn.Close()
		return nil, errors.New("websocket: proxy sent bytes after its CONNECT response")
	}
	stop()
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

// dialSOCKS5 opens a connection to addr through a SOCKS5 proxy (RFC 1928),
// with golang.org/x/net/proxy: the proxy is reached with the Dialer's own
// dial function, the target's host name goes to the proxy to resolve (for
// socks5:// as for socks5h://), and the URL's user and password are sent
// with the username/password method (RFC 1929).
func (d *Dialer) dialSOCKS5(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	dialer, err := proxy.FromURL(proxyURL, proxyForward{d})
	if err != nil {
		return nil, err
	}
	cd, ok := dialer.(proxy.ContextDialer)
	if !ok {
		return nil, errors.New("websocket: the SOCKS5 dialer cannot take a context")
	}
	conn, err := cd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	return conn, nil
}

// proxyForward is how the SOCKS5 dialer reaches its proxy: through the
// Dialer's NetDialContext or NetDial.
type proxyForward struct{ d *Dialer }

func (f proxyForward) Dial(network, addr string) (net.Conn, error) {
	return f.DialContext(context.Background(), network, addr)
}

func (f proxyForward) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	return f.d.netDial(ctx, addr)
}
