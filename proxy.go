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
)

// dialProxy opens a tunnel to addr through an HTTP or HTTPS proxy with the
// CONNECT method (RFC 9110 §9.3.6). User information in the proxy URL is
// sent as basic Proxy-Authorization.
func (d *Dialer) dialProxy(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	if proxyURL.Scheme != "http" && proxyURL.Scheme != "https" {
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
