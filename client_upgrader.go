package websocket

import (
	"time"

	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// ClientUpgrader upgrades a connection made by Hertz's own HTTP client
// (github.com/cloudwego/hertz/pkg/app/client) to a WebSocket client Conn,
// as in hertz-contrib/websocket:
//
//	req, resp := protocol.AcquireRequest(), protocol.AcquireResponse()
//	req.SetRequestURI("http://127.0.0.1:8080/echo")
//	req.SetMethod("GET")
//	u := &websocket.ClientUpgrader{}
//	u.PrepareRequest(req)
//	if err := hertzClient.Do(ctx, req, resp); err != nil { ... }
//	conn, err := u.UpgradeResponse(req, resp)
//
// Use Dialer instead when nothing ties the client to Hertz.
type ClientUpgrader struct {
	// ReadBufferSize and WriteBufferSize specify I/O buffer sizes in bytes,
	// as for Dialer. Reading uses the Hertz connection's own buffer.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is a pool of buffers for write operations.
	WriteBufferPool BufferPool

	// Subprotocols specifies the client's requested subprotocols, in order
	// of preference.
	Subprotocols []string

	// EnableCompression specifies if the client should attempt to negotiate
	// per message compression (RFC 7692); Compression tunes it.
	EnableCompression bool

	// Compression sets the permessage-deflate options; see
	// CompressionOptions.
	Compression CompressionOptions

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

// PrepareRequest sets the headers of the opening handshake on req: Upgrade,
// Connection, a fresh Sec-WebSocket-Key, Sec-WebSocket-Version, and the
// subprotocol and extension offers.
func (p *ClientUpgrader) PrepareRequest(req *protocol.Request) {
	offer := newClientOffer(p.Subprotocols, p.EnableCompression, &p.Compression)
	offer.requestHeaders(req.Header.Set)
}

// UpgradeResponse checks the server's response to a request made ready by
// PrepareRequest (RFC 6455 §4.1) and returns the WebSocket connection. The
// response must come from a Hertz client that has not read past the
// headers; Hertz hands over the connection for a 101 response.
//
// On failure it returns ErrBadHandshake (a status other than 101) or a
// HandshakeError that wraps it, and leaves the connection to Hertz's
// client.
func (p *ClientUpgrader) UpgradeResponse(req *protocol.Request, resp *protocol.Response) (*Conn, error) {
	offer := &clientOffer{key: string(req.Header.Peek("Sec-Websocket-Key"))}
	for _, line := range req.Header.PeekAll("Sec-Websocket-Protocol") {
		offer.protocols = append(offer.protocols, splitTokens(string(line))...)
	}
	if exts := frame.ParseExtensions(req.Header.PeekAll("Sec-Websocket-Extensions")); len(exts) > 0 {
		if params, err := frame.ParseDeflateParams(exts[0]); err == nil {
			offer.deflate = &params
		}
	}
	subprotocol, agreed, err := offer.check(resp.StatusCode(), resp.Header.PeekAll)
	if err != nil {
		observeHandshakeFailed(p.Observer, resp.StatusCode())
		return nil, err
	}
	conn, err := resp.Hijack()
	if err != nil {
		observeHandshakeFailed(p.Observer, resp.StatusCode())
		return nil, HandshakeError{Status: resp.StatusCode(), Reason: "the Hertz response holds no connection to take over: " + err.Error()}
	}
	// The client's read and write timeouts bound the HTTP exchange, not
	// the WebSocket that follows.
	_ = conn.SetReadTimeout(0)
	_ = conn.SetWriteTimeout(0)
	cfg := p.options().config(subprotocol, agreed)
	// The response's body stream, Hertz's upgradeConn, must stay reachable
	// for as long as the Conn is: it has a finalizer that closes the
	// connection, which would otherwise run once the caller releases the
	// response.
	t := transport.FromHertz(conn, resp.BodyStream())
	return newConn(t, frame.RoleClient, cfg, conn.LocalAddr(), conn.RemoteAddr()), nil
}

// options are the ClientUpgrader's Conn settings.
func (p *ClientUpgrader) options() connOptions {
	return connOptions{
		readBufferSize: p.ReadBufferSize, writeBufferSize: p.WriteBufferSize, writeBufferPool: p.WriteBufferPool,
		readLimit: p.ReadLimit, compression: p.Compression, keepAlive: p.KeepAlive,
		messageTimeout: p.MessageTimeout, writeTimeout: p.WriteTimeout,
		closeHandshakeTimeout: p.CloseHandshakeTimeout, observer: p.Observer,
	}
}
