package websocket

import (
	"runtime/debug"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// HertzHandler receives the WebSocket connection after a successful upgrade.
// The connection lives as long as the handler runs: when it returns, the
// connection is closed and the Conn can no longer be used.
type HertzHandler func(*Conn)

// HertzUpgrader specifies parameters for upgrading a Hertz HTTP request to
// the WebSocket protocol. Its zero value is ready to use, with safe
// defaults. It is safe to share one HertzUpgrader between handlers and
// goroutines; do not change its fields while it is in use.
type HertzUpgrader struct {
	// HandshakeTimeout bounds the writing of the handshake response. Zero
	// means DefaultHandshakeTimeout (10 s). Once upgraded, the read and
	// write deadlines the HTTP server had set are cleared.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize specify I/O buffer sizes in bytes.
	// If a buffer size is zero, then a default is used:
	// DefaultReadBufferSize and DefaultWriteBufferSize. On netpoll, where a
	// connection leaves Hertz's buffers after the upgrade, read buffers of
	// ReadBufferSize come from a shared pool and are held only while bytes
	// wait in them; on the standard transport Hertz's own input buffer is
	// used. WriteBufferSize is the buffer a NextWriter fills before it emits
	// a frame. The I/O buffer sizes do not limit the size of the messages
	// that can be sent or received.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is a pool of buffers for write operations. If the value
	// is not set, NextWriter takes its buffer from a pool this package keeps
	// for each WriteBufferSize, and gives it back when the writer is closed:
	// a connection holds a write buffer only while it writes a message.
	//
	// A pool is most useful when the application has a modest volume of
	// writes across a large number of connections.
	//
	// Applications should use a single pool for each unique value of
	// WriteBufferSize.
	WriteBufferPool BufferPool

	// Subprotocols specifies the server's supported protocols in order of
	// preference. If this field is not nil, then the Upgrade method negotiates
	// a subprotocol by selecting the first match in this list with a protocol
	// requested by the client. If there's no match, then no protocol is
	// negotiated (the Sec-Websocket-Protocol header is not included in the
	// handshake response). If this field is nil, a Sec-WebSocket-Protocol
	// the application set on the response before Upgrade is sent as is.
	Subprotocols []string

	// Error specifies the function for generating HTTP error responses. If
	// Error is nil, then a plain-text response with the status is sent.
	Error func(ctx *app.RequestContext, status int, reason error)

	// CheckOrigin returns true if the request Origin header is acceptable. If
	// CheckOrigin is nil, then CheckSameOrigin is used: it refuses a request
	// whose Origin header is present and does not name the request's host.
	//
	// A CheckOrigin function should carefully validate the request origin to
	// prevent cross-site request forgery; see AllowOrigins.
	CheckOrigin func(ctx *app.RequestContext) bool

	// EnableCompression specifies if the server should attempt to negotiate
	// per message compression (RFC 7692). Setting this value to true does not
	// guarantee that compression will be supported: the client must offer
	// permessage-deflate. Compression tunes it.
	EnableCompression bool

	// Compression sets context takeover, window sizes, the starting level
	// and the size threshold of permessage-deflate when EnableCompression
	// is true. The zero value suits most servers; see CompressionOptions.
	Compression CompressionOptions

	// CompressionFor, when set, decides compression for each request that
	// offers permessage-deflate while EnableCompression is true. It gets
	// the request and a copy of Compression, and returns the options for
	// this connection, or false to decline compression for it: the
	// connection is then upgraded uncompressed, never refused. Use it to
	// turn compression off for clients known to mishandle compressed
	// frames (matched on User-Agent, say), or to give some routes a
	// smaller window or no context takeover. It runs on the request's
	// goroutine before the 101 response, and must not keep ctx.
	CompressionFor func(ctx *app.RequestContext, opts CompressionOptions) (CompressionOptions, bool)

	// ReadLimit is the largest message, in bytes, a connection accepts; a
	// larger one is refused with close code 1009 and ErrReadLimit. Zero means
	// DefaultReadLimit (32 MiB); a negative value means no limit. The
	// handler can change it per connection with Conn.SetReadLimit.
	ReadLimit int64

	// KeepAlive, when above zero, pings each client every KeepAlive and
	// closes a connection on which nothing at all (no pong, no message)
	// arrived during the interval after a ping, sending it close code 1001
	// (Going Away) first, within a second; its reads then return
	// ErrKeepAliveTimeout. This finds dead peers that vanished without a
	// FIN or RST. Pongs are seen by the goroutine reading the connection,
	// so the handler must keep reading. Zero (the default) turns it off.
	KeepAlive time.Duration

	// MessageTimeout is the longest one incoming message may take to
	// arrive, from its first frame header to the last byte of its final
	// frame. A peer that is slower is sent close code 1008 (Policy
	// Violation) and the read returns ErrMessageTimeout. Zero means
	// DefaultMessageTimeout (one minute); a negative value turns it off.
	// Time between messages is not counted: see KeepAlive for idle peers.
	MessageTimeout time.Duration

	// WriteTimeout bounds every write on a connection: a message, or one
	// frame of a NextWriter, that the peer has not taken within
	// WriteTimeout fails with a timeout error (a net.Error whose Timeout
	// method reports true) and the connection is closed. Zero means
	// DefaultWriteTimeout (30 s); a negative value turns it off. A deadline
	// set with SetWriteDeadline, or given to WriteControl, replaces it.
	WriteTimeout time.Duration

	// CloseHandshakeTimeout is how long a connection that has sent a close
	// frame (Close's handshake, WriteControl with CloseMessage, a protocol
	// error) waits for the peer's close frame before it closes the TCP
	// connection (RFC 6455 §7.1.1). Zero means DefaultCloseHandshakeTimeout
	// (5 s); a negative value sets no timer, so the connection stays open
	// until the peer's close arrives, the peer hangs up or the handler
	// returns.
	CloseHandshakeTimeout time.Duration

	// ReceiveBudget bounds the memory, in bytes, that all the connections
	// of this upgrader hold at once for messages they are still receiving
	// through ReadMessage (and ReadJSON, which uses it). Each connection
	// receives the first 32 KiB of a message without drawing on the
	// budget. Past that, a message whose size is announced reserves that
	// size (up to an eighth more, for the smaller buffer it outgrows) while
	// its buffer keeps following the bytes that arrive; when the budget is
	// spent it waits, without reading its socket, so TCP pushes back on the
	// sender, until other messages are delivered. A message whose size is
	// not announced (fragmented or compressed) reserves as it grows, and is
	// refused with close code 1013 (Try Again Later) and ErrReceiveBudget
	// if the budget runs out midway: waiting while holding memory could
	// leave every connection waiting on the others.
	//
	// Zero means a quarter of the machine's memory (of GOMEMLIMIT, when
	// that is set, half), at least 128 MiB; a negative value turns the
	// budget off. A budget smaller than ReadLimit caps the largest message
	// a connection can receive at the budget. The budget bounds the live
	// message buffers; the garbage the collector has yet to reclaim comes
	// on top, which GOMEMLIMIT bounds.
	ReceiveBudget int64

	// EventWorkers is the largest number of EventHandler callbacks (see
	// UpgradeEvents) that run at once, across the upgrader's connections;
	// a connection whose callback must wait for a slot stops reading until
	// it gets one. On netpoll, a callback whose write waits for a peer that
	// does not read gives its slot up while it waits, so slow peers cannot
	// take every slot; on the standard transport and with TLS it keeps it.
	// Zero means DefaultEventWorkers (128 per GOMAXPROCS).
	// It has no effect on Upgrade's handlers.
	EventWorkers int

	// Observer, when set, receives the events of every handshake this
	// upgrader refuses and of every connection it upgrades: for metrics
	// (see Observer, and package metrics/prometheus). Nil costs nothing.
	Observer Observer

	// budget is ReceiveBudget in force, made on first use.
	budget receiveBudgetOnce
	// slots bounds the running event callbacks, made on first use.
	slots callbackSlots

	// live holds the connections being served, for Shutdown and
	// Connections.
	live liveConns
}

// Upgrade upgrades the HTTP server connection to the WebSocket protocol.
//
// On failure Upgrade answers the request with an HTTP error (through Error
// when set), leaves the connection an ordinary HTTP connection and returns
// the reason:
//
//   - 405 Method Not Allowed when the method is not GET;
//   - 400 Bad Request when the request is not HTTP/1.1, Connection lacks
//     the "upgrade" token, Upgrade lacks "websocket", Sec-WebSocket-Version
//     appears more than once, or Sec-WebSocket-Key is not exactly one
//     header holding 16 base64 bytes;
//   - 426 Upgrade Required, with Sec-WebSocket-Version: 13, when the
//     client's Sec-WebSocket-Version is missing or not 13;
//   - 403 Forbidden when the origin check refuses the request.
//
// On success it sets the 101 response (keeping the headers the application
// already set, such as Set-Cookie) and returns nil. The response goes out
// once the middleware chain has returned (with what middleware added to it;
// if middleware replaced the status, that answer is sent and handler does
// not run). Then handler runs: on the goroutine that served the request on
// the standard transport, on a goroutine of its own on netpoll, where the
// connection leaves netpoll for Go's runtime poller so that an idle
// WebSocket holds no buffer. The connection is closed when handler returns.
//
// The RequestContext stays this request's own until handler returns, on
// every transport: handler may read ctx (query, parameters, headers,
// cookies, body, values set by middleware) as it runs. Writing a response
// through ctx has no effect once the connection is upgraded. After handler
// returns, ctx is recycled (standard transport) or emptied (netpoll): a
// goroutine that outlives handler must copy what it needs from ctx first.
//
// A panic in handler is recovered: the peer receives close code 1011
// (Internal Error), the panic and its stack are logged through Hertz's
// logger, and the server keeps running.
func (u *HertzUpgrader) Upgrade(ctx *app.RequestContext, handler HertzHandler) error {
	return u.upgrade(ctx, session{handler: handler})
}

// UpgradeEvents upgrades the HTTP server connection to the WebSocket
// protocol as Upgrade does, with the same checks and answers, and serves
// it to handler's callbacks instead of a blocking HertzHandler.
//
// On Hertz's netpoll transport on Linux, a connection that has nothing to
// do holds no goroutine and no buffer: the library watches its socket with
// one epoll instance per process and starts a goroutine only when bytes
// arrive, which reads every message that has arrived, calls OnMessage for
// each, and ends. A message that arrives slowly keeps its goroutine until
// it is whole (within MessageTimeout). Elsewhere (the standard transport,
// TLS, other platforms) each connection is served by a goroutine that
// calls the same callbacks in the same order.
//
// Everything else is as in the blocking mode: limits, UTF-8 checks,
// compression, keepalive, Shutdown, close codes, and writes from any
// goroutine. Read deadlines bound the waits inside a message only: an idle
// connection is not being read, so use KeepAlive to find dead peers. The
// Conn must not be read by the application (its reads return an error);
// messages arrive in OnMessage.
//
// The RequestContext is this request's own until OnOpen returns; after
// that, on netpoll, it is emptied (never reused by Hertz for another
// request), so copy what the connection needs in OnOpen.
func (u *HertzUpgrader) UpgradeEvents(ctx *app.RequestContext, handler EventHandler) error {
	if handler == nil {
		return u.fail(ctx, consts.StatusInternalServerError, "UpgradeEvents needs an EventHandler")
	}
	return u.upgrade(ctx, session{events: newEventRunner(handler, u.slots.get(u.EventWorkers))})
}

// session is what runs on an upgraded connection: a blocking handler, or
// an EventHandler's callbacks.
type session struct {
	handler HertzHandler
	events  eventRunner
}

// blocking returns the session as a HertzHandler, for a connection served
// on a goroutine of its own.
func (s session) blocking() HertzHandler {
	if s.events.h == nil {
		return s.handler
	}
	return func(c *Conn) { s.events.readMessages(c, func() {}) }
}

// upgrade is Upgrade and UpgradeEvents.
func (u *HertzUpgrader) upgrade(ctx *app.RequestContext, s session) error {
	if !ctx.IsGet() {
		return u.fail(ctx, consts.StatusMethodNotAllowed, "request method is not GET")
	}
	if !ctx.Request.Header.IsHTTP11() {
		// RFC 6455 §4.2.1: the handshake is an HTTP/1.1 or higher GET;
		// HTTP/1.0 has no Upgrade mechanism.
		return u.fail(ctx, consts.StatusBadRequest, "the opening handshake must be HTTP/1.1")
	}
	if !headerHasToken(ctx.Request.Header.PeekAll("Connection"), "upgrade") {
		return u.fail(ctx, consts.StatusBadRequest, "'upgrade' token not found in 'Connection' header")
	}
	if !headerHasToken(ctx.Request.Header.PeekAll("Upgrade"), "websocket") {
		return u.fail(ctx, consts.StatusBadRequest, "'websocket' token not found in 'Upgrade' header")
	}
	// RFC 6455 §11.3.5: Sec-WebSocket-Version appears once in a request,
	// and §4.2.1 item 6: its value is 13.
	versions := ctx.Request.Header.PeekAll("Sec-Websocket-Version")
	if len(versions) > 1 {
		return u.fail(ctx, consts.StatusBadRequest, "'Sec-WebSocket-Version' header appears more than once")
	}
	if len(versions) == 0 || strings.Trim(string(versions[0]), " \t") != "13" {
		// RFC 6455 §4.2.2: tell the client which version we speak.
		ctx.Response.Header.Set("Sec-WebSocket-Version", "13")
		return u.fail(ctx, consts.StatusUpgradeRequired, "unsupported version: 'Sec-Websocket-Version' header is not 13")
	}
	// RFC 6455 §11.3.1: Sec-WebSocket-Key must not appear more than once.
	keys := ctx.Request.Header.PeekAll("Sec-Websocket-Key")
	if len(keys) != 1 || !validChallengeKey(keys[0]) {
		return u.fail(ctx, consts.StatusBadRequest, "'Sec-WebSocket-Key' header must appear once and be the base64 encoding of 16 bytes")
	}
	key := keys[0]
	checkOrigin := u.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = CheckSameOrigin
	}
	if !checkOrigin(ctx) {
		return u.fail(ctx, consts.StatusForbidden, "request origin not allowed by HertzUpgrader.CheckOrigin")
	}
	if u.live.isDraining() {
		return u.fail(ctx, consts.StatusServiceUnavailable, "the server is shutting down")
	}
	raw := ctx.GetConn()
	if raw == nil {
		return u.fail(ctx, consts.StatusInternalServerError, "request has no connection to hijack")
	}

	subprotocol := u.selectSubprotocol(ctx)
	opts := u.options()
	var agreed *frame.DeflateParams
	if u.EnableCompression {
		agreed = u.negotiateCompression(ctx, &opts.compression)
	}
	cfg := opts.config(subprotocol, agreed)
	cfg.budget = u.budget.get(u.ReceiveBudget)

	// Hertz may have read a request body in place, in the transport's
	// input buffer, which it releases before the hijack handler runs and
	// which the WebSocket then reads into: copy it now, so that handler
	// still reads this request's body.
	if body := ctx.Request.Body(); len(body) > 0 {
		ctx.Request.SetBody(body)
	}

	h := &ctx.Response.Header
	ctx.SetStatusCode(consts.StatusSwitchingProtocols)
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", computeAcceptKey(key))
	if subprotocol != "" {
		h.Set("Sec-WebSocket-Protocol", subprotocol)
	} else {
		h.Del("Sec-WebSocket-Protocol")
	}
	// Only extensions we run may be named in the response (RFC 6455 §9.1).
	if cfg.compression != nil {
		h.Set("Sec-WebSocket-Extensions", cfg.compression.String())
	} else {
		h.Del("Sec-WebSocket-Extensions")
	}
	h.SetNoDefaultContentType(true)
	ctx.Response.ResetBody()

	timeout := handshakeTimeoutOrDefault(u.HandshakeTimeout)
	np := transport.DetachableOf(raw)
	if np != nil {
		// The connection leaves netpoll before the 101 is sent (see
		// handover.go), so Hertz must not write the response.
		ctx.Response.HijackWriter(discardResponse{})
	}
	// Bound the writing of the 101 response; serveHijacked clears it.
	_ = raw.SetWriteTimeout(timeout)
	ctx.Hijack(func(hijacked network.Conn) {
		if _, ours := ctx.Response.GetHijackWriter().(discardResponse); np != nil && ours {
			handOver(ctx, raw, np, cfg, &u.live, s, timeout)
			return
		}
		// Hertz wrote the response: there is no handover, or middleware
		// reset the response after Upgrade.
		serveHijacked(ctx, raw, hijacked, cfg, &u.live, s.blocking())
	})
	return nil
}

// negotiateCompression answers the request's permessage-deflate offers
// (RFC 7692 §5): the first offer the options can honour is accepted, and
// the others are declined, never a reason to fail the handshake.
// CompressionFor, when set, first decides for this request, and may change
// opts. It returns nil when the connection runs uncompressed.
func (u *HertzUpgrader) negotiateCompression(ctx *app.RequestContext, opts *CompressionOptions) *frame.DeflateParams {
	offers := frame.ParseExtensions(ctx.Request.Header.PeekAll("Sec-Websocket-Extensions"))
	if !frame.OffersDeflate(offers) {
		return nil
	}
	if u.CompressionFor != nil {
		chosen, ok := u.CompressionFor(ctx, *opts)
		if !ok {
			return nil
		}
		*opts = chosen
	}
	agreed, ok := frame.NegotiateDeflate(offers, opts.policy())
	if !ok {
		return nil
	}
	return &agreed
}

// options are the upgrader's Conn settings.
func (u *HertzUpgrader) options() connOptions {
	return connOptions{
		readBufferSize: u.ReadBufferSize, writeBufferSize: u.WriteBufferSize, writeBufferPool: u.WriteBufferPool,
		readLimit: u.ReadLimit, compression: u.Compression, keepAlive: u.KeepAlive,
		messageTimeout: u.MessageTimeout, writeTimeout: u.WriteTimeout,
		closeHandshakeTimeout: u.CloseHandshakeTimeout, observer: u.Observer,
	}
}

// discardResponse stands in for Hertz's response writer during a handover,
// so that Hertz writes no response of its own: the 101 is sent once the
// connection has left netpoll.
type discardResponse struct{}

func (discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (discardResponse) Flush() error                { return nil }
func (discardResponse) Finalize() error             { return nil }

// serveHijacked runs the handler on a connection that stays on its Hertz
// transport (the standard one, or netpoll where the handover is not
// possible), on the goroutine that served the request, after Hertz has
// written the 101.
//
// It works on raw, the transport's connection captured before the hijack,
// never on hijacked, Hertz's wrapper: the wrapper may come from a pool and
// be handed to another client once this function returns (hertz issue
// #121), and its Close does nothing unless KeepHijackedConns is set. When
// the handler returns, the Conn is closed and release waits for every
// goroutine still inside a read or write, so nothing touches the connection
// after Hertz takes it back. Only then is the wrapper closed: with
// KeepHijackedConns that returns it to Hertz's pool and closes the socket;
// without, it does nothing and Hertz closes the connection itself.
func serveHijacked(ctx *app.RequestContext, raw, hijacked network.Conn, cfg connConfig, live *liveConns, handler HertzHandler) {
	defer func() { _ = hijacked.Close() }()
	if ctx.Response.StatusCode() != consts.StatusSwitchingProtocols {
		return // middleware replaced the 101 after Upgrade; Hertz sent that answer
	}
	// Deadlines the HTTP server set (read and write timeouts) do not apply
	// to a long-lived WebSocket.
	_ = raw.SetReadTimeout(0)
	_ = raw.SetWriteTimeout(0)
	_ = raw.SetReadDeadline(time.Time{})
	_ = raw.SetWriteDeadline(time.Time{})

	cfg.shutdown = transport.Shutdown(raw)
	serve(newConn(transport.FromHertz(raw, nil), frame.RoleServer, cfg, raw.LocalAddr(), raw.RemoteAddr()), live, handler)
}

// serve runs handler on c, then closes c and waits until no goroutine is
// inside one of its transport calls. A panic in handler is logged and
// answered with close code 1011.
func serve(c *Conn, live *liveConns, handler HertzHandler) {
	defer func() {
		if r := recover(); r != nil {
			hlog.SystemLogger().Errorf("websocket: panic in HertzHandler for %v: %v\n%s", c.remoteAddr, r, debug.Stack())
			_ = c.WriteControl(CloseMessage, FormatCloseMessage(CloseInternalServerErr, ""), time.Now().Add(closeWriteTimeout))
		}
		live.remove(c)
		c.release()
	}()
	if !live.add(c) {
		// Shutdown began between the 101 and now.
		_ = c.WriteControl(CloseMessage, FormatCloseMessage(CloseGoingAway, "server shutting down"), time.Now().Add(closeWriteTimeout))
		return
	}
	handler(c)
}

// fail answers a handshake that cannot succeed.
func (u *HertzUpgrader) fail(ctx *app.RequestContext, status int, reason string) error {
	err := HandshakeError{Status: status, Reason: reason, message: "websocket: the client is not using the websocket protocol: " + reason}
	observeHandshakeFailed(u.Observer, status)
	if status == consts.StatusForbidden || status == consts.StatusInternalServerError || status == consts.StatusServiceUnavailable {
		err.message = "websocket: " + reason
	}
	if u.Error != nil {
		u.Error(ctx, status, err)
	} else {
		ctx.AbortWithMsg(consts.StatusMessage(status), status)
		if status == consts.StatusUpgradeRequired {
			// AbortWithMsg resets the response, dropping the header
			// RFC 6455 §4.2.2 requires on a 426: set it again.
			ctx.Response.Header.Set("Sec-WebSocket-Version", "13")
		}
	}
	return err
}

// selectSubprotocol picks the first of u.Subprotocols the client offered.
// With no Subprotocols configured, a protocol the application set on the
// response stays.
func (u *HertzUpgrader) selectSubprotocol(ctx *app.RequestContext) string {
	if u.Subprotocols == nil {
		return string(ctx.Response.Header.Peek("Sec-WebSocket-Protocol"))
	}
	offered := Subprotocols(ctx)
	for _, server := range u.Subprotocols {
		for _, client := range offered {
			if client == server {
				return server
			}
		}
	}
	return ""
}

// IsWebSocketUpgrade returns true if the client requested upgrade to the
// WebSocket protocol: its Connection header holds the "upgrade" token and
// its Upgrade header the "websocket" token.
func IsWebSocketUpgrade(ctx *app.RequestContext) bool {
	return headerHasToken(ctx.Request.Header.PeekAll("Connection"), "upgrade") &&
		headerHasToken(ctx.Request.Header.PeekAll("Upgrade"), "websocket")
}

// Subprotocols returns the subprotocols requested by the client in the
// Sec-Websocket-Protocol header, in the order the client listed them, from
// every line of that header.
func Subprotocols(ctx *app.RequestContext) []string {
	var protocols []string
	for _, line := range ctx.Request.Header.PeekAll("Sec-Websocket-Protocol") {
		protocols = append(protocols, splitTokens(string(line))...)
	}
	return protocols
}
