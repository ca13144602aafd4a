package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// A Dialer contains options for connecting to a WebSocket server. Its zero
// value dials directly, without a proxy, with no handshake timeout beyond
// the context's. It is safe to call Dialer's methods concurrently.
//
// The connection it returns speaks the client side of RFC 6455: every frame
// it sends is masked with a key from a cryptographically seeded source, and
// a masked frame from the server fails the connection with close code 1002.
type Dialer struct {
	// NetDial specifies the dial function for creating TCP connections. If
	// NetDial is nil, net.Dial is used. NetDialContext takes precedence.
	NetDial func(network, addr string) (net.Conn, error)

	// NetDialContext specifies the dial function for creating TCP
	// connections. If NetDialContext is nil, NetDial is used.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// NetDialTLSContext specifies the dial function for creating TLS/TCP
	// connections to wss:// URLs. If it is nil, the TCP connection is made
	// as above and TLS is negotiated over it with TLSClientConfig. It is not
	// used when a proxy is in the way.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy specifies a function to return a proxy for a given request. If
	// the function returns a non-nil error, the request is aborted with the
	// provided error. If Proxy is nil or returns a nil *url.URL, no proxy is
	// used. HTTP and HTTPS proxies are reached with CONNECT; user
	// information in the proxy URL becomes Proxy-Authorization (basic).
	// SOCKS5 proxies (socks5:// and socks5h://, RFC 1928) get the target's
	// host name to resolve, and the URL's user and password (RFC 1929).
	// Set it to http.ProxyFromEnvironment to honour HTTP_PROXY,
	// HTTPS_PROXY and NO_PROXY.
	Proxy func(*http.Request) (*url.URL, error)

	// TLSClientConfig specifies the TLS configuration to use with tls.Client.
	// If nil, the default configuration is used. If ServerName is empty, the
	// host of the URL is used.
	TLSClientConfig *tls.Config

	// HandshakeTimeout specifies the duration for the handshake to complete,
	// dialling, proxy and TLS included. Zero means no timeout beyond the
	// context's; a negative value, as in gorilla/websocket, a deadline
	// already passed, so that every dial fails with
	// context.DeadlineExceeded.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize specify I/O buffer sizes in bytes.
	// If a buffer size is zero, then a default of 4096 is used. The I/O
	// buffer sizes do not limit the size of the messages that can be sent
	// or received.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is a pool of buffers for write operations. If the value
	// is not set, NextWriter takes its buffer from a pool this package keeps
	// for each WriteBufferSize, and gives it back when the writer is closed:
	// a connection holds a write buffer only while it writes a message.
	WriteBufferPool BufferPool

	// Subprotocols specifies the client's requested subprotocols, in order of
	// preference.
	Subprotocols []string

	// EnableCompression specifies if the client should attempt to negotiate
	// per message compression (RFC 7692). Setting this value to true does not
	// guarantee that compression will be supported. Compression tunes it.
	EnableCompression bool

	// Compression sets context takeover, window sizes, the starting level
	// and the threshold of permessage-deflate when EnableCompression is
	// true. See CompressionOptions.
	Compression CompressionOptions

	// Jar specifies the cookie jar. If Jar is nil, cookies are not sent in
	// requests and ignored in responses.
	Jar http.CookieJar

	// ReadLimit is the largest message, in bytes, the connection accepts.
	// Zero means DefaultReadLimit (32 MiB); a negative value means no
	// limit.
	ReadLimit int64

	// KeepAlive, when above zero, pings the server every KeepAlive and
	// closes the connection when nothing arrived during the interval after
	// a ping, as HertzUpgrader.KeepAlive does. Zero turns it off.
	KeepAlive time.Duration

	// MessageTimeout is the longest one incoming message may take to
	// arrive, as HertzUpgrader.MessageTimeout: zero means
	// DefaultMessageTimeout, a negative value none.
	MessageTimeout time.Duration

	// WriteTimeout bounds every write, as HertzUpgrader.WriteTimeout: zero
	// means DefaultWriteTimeout, a negative value none.
	WriteTimeout time.Duration

	// CloseHandshakeTimeout is how long the connection waits for the
	// server's close frame after sending its own, as
	// HertzUpgrader.CloseHandshakeTimeout: zero means
	// DefaultCloseHandshakeTimeout, a negative value no timer.
	CloseHandshakeTimeout time.Duration

	// Observer, when set, receives the events of the connection: a failed
	// handshake's status, its opening and closing, its messages (see
	// Observer). Nil costs nothing.
	Observer Observer
}

// DefaultDialer is a dialer with all fields set to the default values: the
// proxy from the environment and a 45 second handshake timeout.
var DefaultDialer = &Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: 45 * time.Second,
}

var errMalformedURL = errors.New("websocket: malformed ws or wss URL")

// Dial creates a new client connection by calling DialContext with a
// background context.
func (d *Dialer) Dial(urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	return d.DialContext(context.Background(), urlStr, requestHeader)
}

// DialContext creates a new client connection. Use requestHeader to specify
// the origin (Origin), subprotocols (Sec-WebSocket-Protocol) and cookies
// (Cookie). The Host header defaults to the URL's host; no Origin header is
// sent unless requestHeader has one, as with gorilla/websocket (browsers
// send one; a server's origin check accepts a request without it). The
// headers of the handshake itself (Upgrade, Connection, Sec-WebSocket-Key,
// Sec-WebSocket-Version, Sec-WebSocket-Extensions) may not be set.
//
// The context bounds dialling and the handshake, not the connection once
// it is established. An httptrace.ClientTrace in the context sees the
// dial (GetConn, DNSStart and DNSDone, ConnectStart and ConnectDone,
// GotConn), the TLS handshake (TLSHandshakeStart, TLSHandshakeDone), the
// request (WroteHeaders, WroteRequest) and GotFirstResponseByte.
//
// If the WebSocket handshake fails, ErrBadHandshake (for a status other
// than 101, as gorilla/websocket returns it) or a HandshakeError naming the
// reason (which wraps ErrBadHandshake) is returned along with a non-nil
// *http.Response, whose body holds up to 1 KiB of what the server sent, so
// that callers can see why: a redirect, an authentication failure, and so
// on.
func (d *Dialer) DialContext(ctx context.Context, urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	if d == nil {
		d = &Dialer{}
	}
	u, err := url.Parse(urlStr)
	if err != nil {
		return nil, nil, err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return nil, nil, errMalformedURL
	}
	if u.User != nil || u.Host == "" {
		// RFC 6455 §3: a WebSocket URI has no user information.
		return nil, nil, errMalformedURL
	}

	offer := newClientOffer(d.Subprotocols, d.EnableCompression, &d.Compression)
	req, err := d.newRequest(u, requestHeader, offer)
	if err != nil {
		return nil, nil, err
	}

	if d.HandshakeTimeout != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.HandshakeTimeout)
		defer cancel()
	}
	req = req.WithContext(ctx) // for WroteHeaders and WroteRequest
	conn, err := d.dialConn(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	c, resp, err := d.handshake(ctx, conn, req, offer)
	if err != nil {
		conn.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

// newRequest builds the opening handshake request (RFC 6455 §4.1).
func (d *Dialer) newRequest(u *url.URL, requestHeader http.Header, offer *clientOffer) (*http.Request, error) {
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       u.Host,
	}
	for k, vs := range requestHeader {
		// Compare and store keys in canonical form, so that a key written
		// in another case can neither slip past the checks below nor be
		// sent twice.
		k = http.CanonicalHeaderKey(k)
		switch {
		case k == "Host":
			if len(vs) > 0 {
				req.Host = vs[0]
			}
		case k == "Upgrade" || k == "Connection" || k == "Sec-Websocket-Key" ||
			k == "Sec-Websocket-Version" || k == "Sec-Websocket-Extensions" ||
			(k == "Sec-Websocket-Protocol" && len(offer.protocols) > 0):
			return nil, errors.New("websocket: duplicate header not allowed: " + k)
		case k == "Sec-Websocket-Protocol":
			// Subprotocols given as a header count as offered.
			for _, v := range vs {
				offer.protocols = append(offer.protocols, splitTokens(v)...)
			}
			req.Header[k] = append(req.Header[k], vs...)
		default:
			req.Header[k] = append(req.Header[k], vs...)
		}
	}
	offer.requestHeaders(req.Header.Set)
	if d.Jar != nil {
		for _, cookie := range d.Jar.Cookies(u) {
			req.AddCookie(cookie)
		}
	}
	return req, nil
}

// dialConn opens the connection the handshake runs on: through the proxy
// when there is one, and with TLS for wss.
func (d *Dialer) dialConn(ctx context.Context, req *http.Request) (net.Conn, error) {
	u := req.URL
	hostPort := hostPortWithDefault(u)

	var proxyURL *url.URL
	if d.Proxy != nil {
		var err error
		if proxyURL, err = d.Proxy(req); err != nil {
			return nil, err
		}
	}
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(hostPort)
	}
	var conn net.Conn
	var err error
	switch {
	case u.Scheme == "https" && proxyURL == nil && d.NetDialTLSContext != nil:
		conn, err = d.NetDialTLSContext(ctx, "tcp", hostPort)
	case proxyURL != nil:
		conn, err = d.dialProxy(ctx, proxyURL, hostPort)
	default:
		conn, err = d.netDial(ctx, hostPort)
	}
	if err != nil {
		return nil, err
	}
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: conn})
	}
	if u.Scheme == "https" && (proxyURL != nil || d.NetDialTLSContext == nil) {
		if trace != nil && trace.TLSHandshakeStart != nil {
			trace.TLSHandshakeStart()
		}
		tlsConn, err := d.tlsClient(ctx, conn, u.Hostname(), false)
		if trace != nil && trace.TLSHandshakeDone != nil {
			var state tls.ConnectionState
			if tlsConn != nil {
				state = tlsConn.ConnectionState()
			}
			trace.TLSHandshakeDone(state, err)
		}
		if err != nil {
			return nil, err
		}
		return tlsConn, nil
	}
	return conn, nil
}

// tlsClient runs the TLS handshake over conn with TLSClientConfig, naming
// serverName unless the configuration names a server and override is
// false. On failure conn is closed.
func (d *Dialer) tlsClient(ctx context.Context, conn net.Conn, serverName string, override bool) (*tls.Conn, error) {
	cfg := d.TLSClientConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if override || cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	// The handshake is HTTP/1.1 (RFC 6455 §4.1), never h2.
	cfg.NextProtos = nil
	tlsConn := tls.Client(conn, cfg)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tlsConn, nil
}

// netDial makes a TCP connection with the configured dial function.
func (d *Dialer) netDial(ctx context.Context, addr string) (net.Conn, error) {
	switch {
	case d.NetDialContext != nil:
		return d.NetDialContext(ctx, "tcp", addr)
	case d.NetDial != nil:
		return d.NetDial("tcp", addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", addr)
}

// hostPortWithDefault returns the URL's host and port, the port defaulting
// to 80 for http (ws) and 443 for https (wss). IPv6 literals keep their
// brackets.
func hostPortWithDefault(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// handshake sends the request on conn and judges the response. It returns
// the response in every case where one arrived.
func (d *Dialer) handshake(ctx context.Context, conn net.Conn, req *http.Request, offer *clientOffer) (*Conn, *http.Response, error) {
	stop := closeOnCancel(ctx, conn)
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if err := req.Write(conn); err != nil {
		return nil, nil, ctxErr(ctx, err)
	}
	br := bufio.NewReaderSize(conn, readBufferSizeOrDefault(d.ReadBufferSize))
	if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.GotFirstResponseByte != nil {
		if _, err := br.Peek(1); err == nil {
			trace.GotFirstResponseByte()
		}
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, ctxErr(ctx, err)
	}
	if d.Jar != nil {
		if cookies := resp.Cookies(); len(cookies) > 0 {
			d.Jar.SetCookies(req.URL, cookies)
		}
	}
	subprotocol, agreed, err := offer.check(resp.StatusCode, func(name string) [][]byte {
		return stringsToBytes(resp.Header.Values(name))
	})
	if err != nil {
		observeHandshakeFailed(d.Observer, resp.StatusCode)
		keepBody(resp)
		return nil, resp, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(nil))
	stop()
	if err := ctx.Err(); err != nil {
		return nil, resp, err
	}
	_ = conn.SetDeadline(time.Time{})

	cfg := d.options().config(subprotocol, agreed)
	// Bytes the server sent right after its 101 are in br; the transport
	// starts with them.
	pending, _ := br.Peek(br.Buffered())
	t := transport.NewSocket(conn, pending, cfg.readBufferSize, clientWriteBufferSize)
	c := newConn(t, frame.RoleClient, cfg, conn.LocalAddr(), conn.RemoteAddr())
	return c, resp, nil
}

// options are the Dialer's Conn settings.
func (d *Dialer) options() connOptions {
	return connOptions{
		readBufferSize: d.ReadBufferSize, writeBufferSize: d.WriteBufferSize, writeBufferPool: d.WriteBufferPool,
		readLimit: d.ReadLimit, compression: d.Compression, keepAlive: d.KeepAlive,
		messageTimeout: d.MessageTimeout, writeTimeout: d.WriteTimeout,
		closeHandshakeTimeout: d.CloseHandshakeTimeout, observer: d.Observer,
	}
}

// clientWriteBufferSize is the size of a client's pooled output buffer:
// a frame header and one chunk of masked payload (see writeFrameLocked).
const clientWriteBufferSize = frame.MaxHeaderSize + maskChunk

// keepBody replaces a failed handshake's body with its first KiB, read now
// while the connection is still open.
func keepBody(resp *http.Response) {
	const maxBody = 1024
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
}

// closeOnCancel puts conn's deadline in the past if ctx ends before stop is
// called, which unblocks a handshake stuck on a silent server. stop may be
// called more than once; once it returns, the deadline is left alone.
func closeOnCancel(ctx context.Context, conn net.Conn) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ctx.Done():
			_ = conn.SetDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

// ctxErr prefers the context's error to the I/O error it caused. The
// connection's deadline is the context's, and may fire a moment before the
// context's own timer: a timeout at or past the deadline is the context's
// too.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	if deadline, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return err
}

func stringsToBytes(values []string) [][]byte {
	out := make([][]byte, len(values))
	for i, v := range values {
		out[i] = []byte(v)
	}
	return out
}
