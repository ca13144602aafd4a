// Package websocket implements the WebSocket protocol of RFC 6455 for
// servers built on the Hertz HTTP framework (github.com/cloudwego/hertz).
// Its API follows gorilla/websocket and hertz-contrib/websocket, so code
// written for either moves over with few changes.
//
// # Overview
//
// A Hertz handler upgrades a request with a [HertzUpgrader] and passes
// Upgrade a [HertzHandler], the function that owns the connection:
//
//	var upgrader websocket.HertzUpgrader // the zero value is ready to use
//
//	func echo(_ context.Context, ctx *app.RequestContext) {
//		err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
//			for {
//				mt, msg, err := conn.ReadMessage()
//				if err != nil {
//					return
//				}
//				if err := conn.WriteMessage(mt, msg); err != nil {
//					return
//				}
//			}
//		})
//		if err != nil {
//			hlog.Warnf("upgrade: %v", err) // the request was already answered
//		}
//	}
//
// Upgrade validates the opening handshake and, when it is acceptable, sets
// the 101 response and asks Hertz to hijack the connection; then it returns.
// Hertz writes the 101 once the middleware chain has returned and calls the
// handler on the goroutine that served the request. The connection lives as
// long as the handler runs: when the handler returns, the connection is
// closed and every later use of the [Conn] fails with [ErrConnClosed]. A
// handler that wants the connection kept open keeps running, usually in its
// read loop.
//
// The app.RequestContext is recycled before the handler runs. Copy whatever
// the handler needs from it (headers, path and query parameters, values set
// by middleware) into local variables before calling Upgrade, and use only
// those copies in the handler.
//
// # Concurrency
//
// A connection supports one concurrent reader: NextReader, ReadMessage,
// ReadJSON and the io.Reader returned by NextReader must be used by one
// goroutine at a time. Writers need no such care: WriteMessage, WriteJSON,
// WritePreparedMessage, WriteControl, Close and the Set*Deadline methods are
// safe to call from any number of goroutines at once, and messages are
// never interleaved. A writer from NextWriter holds the data side of the
// connection until its Close; control frames may still be sent between its
// frames.
//
// # Control messages
//
// RFC 6455 defines three control messages: close, ping and pong. Send them
// with [Conn.WriteControl] from any goroutine. Received control messages are
// handled on the reading goroutine, while it is inside NextReader,
// ReadMessage or a message reader's Read, by the functions set with
// [Conn.SetCloseHandler], [Conn.SetPingHandler] and [Conn.SetPongHandler].
// The defaults answer a ping with a pong carrying the same data, ignore a
// pong, and answer a close with a close echoing its code. The application
// must therefore keep reading the connection, even when it does not care
// about incoming messages, or control messages are not processed.
//
// # Closing
//
// When the peer starts the close handshake, the default close handler
// answers it, the server closes the TCP connection, and the read returns a
// *[CloseError] with the peer's code. [IsCloseError] and
// [IsUnexpectedCloseError] tell an ordinary goodbye from anything else. A
// connection that ends without a close message reads as code
// [CloseAbnormalClosure] (1006).
//
// To end a connection politely from the server, send a close message, then
// keep reading until the peer's answer arrives as a *CloseError:
//
//	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
//	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
//
// [Conn.Close] closes the network connection at once, without a close
// message, and wakes any goroutine blocked reading or writing. Returning
// from the handler does the same; a handler that panics sends close code
// 1011 (Internal Error) first, and the panic is logged, not propagated.
//
// # Limits
//
// A message larger than the read limit is refused: the peer receives close
// code 1009 (Message Too Big) and the read returns [ErrReadLimit]. The limit
// is [DefaultReadLimit] (32 MiB) unless HertzUpgrader.ReadLimit or
// [Conn.SetReadLimit] sets another. The limit is checked against the frame
// headers before any payload is read. Bytes that break the protocol,
// including invalid UTF-8 in a text message, are answered with close code
// 1002 or 1007 and reported as a *[ProtocolError]. Buffer sizes never limit
// message sizes.
//
// # Origin
//
// Browsers send an Origin header with every WebSocket handshake, and
// WebSocket requests are not bound by the same-origin policy. When
// HertzUpgrader.CheckOrigin is nil, [CheckSameOrigin] accepts only requests
// without an Origin header and requests from the host they were sent to.
// Use [AllowOrigins] to admit a fixed list of other origins.
//
// # Hertz settings
//
// Hertz takes the wrapper it passes to hijack handlers from a pool unless
// the engine's NoHijackConnPool field is true, and reuses it for another
// client once the handler returns (cloudwego/hertz issue #121). This package
// never exposes that wrapper: [Conn.NetConn] returns a view that fails with
// ErrConnClosed once the handler has returned, so the package works with
// either setting, and with KeepHijackedConns. Setting
//
//	h.NoHijackConnPool = true
//
// as Hertz's WebSocket documentation recommends costs one small allocation
// per upgrade and protects other code in the server that hijacks
// connections. Upgraded connections work on both of Hertz's transports,
// netpoll and the standard library's net.
package websocket
