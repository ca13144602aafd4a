// Package websocket implements the WebSocket protocol of RFC 6455, with
// permessage-deflate compression (RFC 7692), for servers built on the Hertz
// HTTP framework (github.com/cloudwego/hertz), and a client. Its API follows
// gorilla/websocket and hertz-contrib/websocket, so code written for either
// moves over with few changes.
//
// # The model in one screen
//
//	var upgrader websocket.HertzUpgrader // the zero value is ready to use
//
//	func echo(_ context.Context, ctx *app.RequestContext) {
//		user := ctx.Query("user") // copy request data before Upgrade
//		err := upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
//			for { // the connection lives while this function runs
//				mt, msg, err := conn.ReadMessage()
//				if err != nil {
//					return // a *CloseError once the peer has closed
//				}
//				if err := conn.WriteMessage(mt, msg); err != nil {
//					return
//				}
//			}
//		})
//		if err != nil {
//			hlog.Warnf("upgrade for %s: %v", user, err) // already answered with an HTTP error
//		}
//	}
//
// Upgrader → hijack → Conn. [HertzUpgrader.Upgrade] checks the opening
// handshake; on success it sets the 101 response, asks Hertz to hijack the
// connection, and returns. The 101 goes out once the middleware chain has
// returned, and the [HertzHandler] runs with a [Conn]: on the standard
// transport on the goroutine that served the request, on netpoll on a
// goroutine of its own, once the connection has left netpoll for Go's
// runtime poller (so that an idle connection holds no buffer and no
// goroutine of Hertz's). The app.RequestContext is recycled before
// that: copy what the handler needs from it first. When the handler returns,
// the connection is closed and every later use of the Conn, from any
// goroutine, fails with [ErrConnClosed]. To keep a connection, keep the
// handler running, usually in its read loop.
//
// One reader, any number of writers. NextReader, ReadMessage, ReadJSON and
// the reader NextReader returns are for one goroutine at a time.
// WriteMessage, WriteJSON, WritePreparedMessage, WriteControl, Close and the
// Set*Deadline methods are safe from any number of goroutines at once;
// messages never interleave. A writer from NextWriter holds the data side
// until its Close (other data writes wait), while control frames still go
// out between its frames. As in gorilla/websocket, NextWriter closes a
// writer still open, so NextWriter and its writers are for one goroutine
// at a time.
//
// Control frames are handled by the reader. Pings, pongs and close messages
// that arrive are processed inside the read methods, by the handlers set with
// [Conn.SetPingHandler], [Conn.SetPongHandler] and [Conn.SetCloseHandler]:
// by default a ping is answered with a pong carrying the same data, a pong is
// ignored, and a close is answered with a close echoing its code. Keep
// reading, even when incoming messages do not matter, or none of this
// happens. Send control messages with [Conn.WriteControl] from anywhere.
//
// Closing. When the peer closes, the read returns a *[CloseError] with its
// code; [IsUnexpectedCloseError] tells an ordinary goodbye from the rest. A
// connection that ends without a close message reads as code 1006
// ([CloseAbnormalClosure]). To close politely, send a close message and keep
// reading until the peer's answer arrives as a *CloseError (after
// the CloseHandshakeTimeout of the upgrader or Dialer, 5 s by default, the
// library drops the connection anyway):
//
//	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
//	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
//
// [Conn.Close] drops the connection at once, without a close message, and
// wakes goroutines blocked reading or writing. A handler that panics sends
// close code 1011 (Internal Error); the panic is logged, not propagated.
//
// # Corked writes
//
// Messages that arrive together are answered together. While the reading
// goroutine still has received messages waiting in its buffer, a data
// message of up to 4 KiB written to the connection (by WriteMessage,
// WriteJSON, a NextWriter, from any goroutine) is copied into the output
// buffer and held there, and the held messages go out in one system call:
// with the first write made when no input is waiting (the answer to the
// last message of the batch), when the reader finds its buffer empty, with
// any control frame or larger message, past 32 KiB held, when the
// connection is closed with [Conn.Close], and 500 µs after the first was
// held at the latest, whatever the handler does meanwhile. A message
// written when no input is waiting goes out at once, so a lone request, as
// in ping-pong, is answered without delay. The event-driven mode holds the
// writes of its callbacks in the same way, per batch of messages.
//
// A write that returns nil has thus handed its message to the kernel, or
// to the output buffer, from which it leaves within that bound. If sending
// a held message fails, the next write returns the error, as with any
// buffered writer. [Conn.WriteMessages] sends a batch of the
// application's own with as few system calls.
//
// # Many idle connections
//
// [HertzUpgrader.UpgradeEvents] serves a connection to an [EventHandler]
// (OnOpen, OnMessage, OnClose; [EventFuncs] builds one from functions)
// instead of a blocking handler. On netpoll on Linux the library watches
// the socket with an epoll instance of its own and starts a goroutine only
// while there are bytes to read, so an idle connection holds no goroutine
// and no buffer; elsewhere a goroutine per connection calls the same
// callbacks. Messages arrive in order, one at a time per connection, with
// the same limits, checks and close codes as in the blocking mode.
//
// # Limits
//
// A message larger than the read limit is refused with close code 1009
// (Message Too Big) and the read returns [ErrReadLimit]. The limit is
// [DefaultReadLimit] (32 MiB) unless HertzUpgrader.ReadLimit or
// [Conn.SetReadLimit] sets another; it is checked against frame headers
// before any payload is read, and counts inflated bytes of compressed
// messages. Bytes that break the protocol, invalid UTF-8 in a text message
// included, get close code 1002 or 1007 and a *[ProtocolError]. Buffer sizes
// never limit message sizes.
//
// Memory follows what a peer sends, not what it announces: [Conn.ReadMessage]
// runs at most 32 KiB ahead of the bytes that arrived, and past that draws on
// HertzUpgrader.ReceiveBudget, a bound on all the messages a server is
// receiving at once (a quarter of the machine's memory by default). A
// message must arrive within HertzUpgrader.MessageTimeout ([DefaultMessageTimeout],
// one minute) of its first frame, or the peer gets close code 1008 and the
// read [ErrMessageTimeout]; a write the peer does not take within
// HertzUpgrader.WriteTimeout ([DefaultWriteTimeout], 30 s) fails and closes
// the connection.
//
// # Origin
//
// Browsers send an Origin header with every WebSocket handshake, and
// WebSocket requests are not bound by the same-origin policy. When
// HertzUpgrader.CheckOrigin is nil, [CheckSameOrigin] accepts requests
// without an Origin header and requests from the host they were sent to
// (403 otherwise). [AllowOrigins] admits a fixed list of other origins.
//
// # Compression, keepalive and shutdown
//
// With EnableCompression, the upgrader (or [Dialer]) negotiates
// permessage-deflate with peers that offer it; [CompressionOptions] sets
// context takeover, window bits, the level and the size below which messages
// go out uncompressed. A [PreparedMessage] is framed and compressed once for
// any number of connections. HertzUpgrader.KeepAlive pings every interval
// and closes connections that stay silent, with close code 1001, whose
// reads then return
// [ErrKeepAliveTimeout]. Registering [HertzUpgrader.Shutdown] as a Hertz
// OnShutdown hook sends close code 1001 (Going Away) to every connection
// when the engine stops.
//
// # Contexts, pings and a polite close
//
// [Conn.ReadMessageContext], [Conn.NextReaderContext],
// [Conn.ReadJSONContext], [Conn.WriteMessageContext] and
// [Conn.WriteJSONContext] bind a call to a context: one that has ended
// before the call returns ctx.Err() and leaves the connection alone; one
// that ends while the call waits closes the connection (the peer gets
// close code 1001) and the call returns ctx.Err(). [Conn.Ping] measures a
// round trip while another goroutine reads. [Conn.CloseHandshake] sends a
// close frame, waits for the peer's and closes, reporting whether the peer
// answered. HertzUpgrader.CompressionFor decides compression per request.
//
// # Byte streams
//
// [NetConnOf] turns a Conn into a net.Conn whose bytes travel in binary
// (or text) messages, to tunnel HTTP, gRPC or any TCP protocol over a
// WebSocket: each Write is a message, Read crosses message boundaries,
// deadlines and Close behave as a net.Conn's, and a context bounds the
// stream's life.
//
// # Client
//
// [Dialer] connects to ws:// and wss:// URLs, through HTTP proxies, with
// cookies and compression, and returns the same *Conn as the server.
// [ClientUpgrader] upgrades a request made with Hertz's own HTTP client, as
// in hertz-contrib/websocket.
//
// # Metrics
//
// An [Observer] set on HertzUpgrader.Observer, Dialer.Observer or
// ClientUpgrader.Observer hears of refused handshakes, connections opened
// and closed (with their close code), and every data message read and
// written, with its size before and after compression. The module
// github.com/hertzws/websocket/metrics/prometheus exports these events as
// Prometheus metrics. Without an Observer each hook is one nil check.
//
// # Hertz settings
//
// Hertz takes the wrapper it passes to hijack handlers from a pool unless the
// engine's NoHijackConnPool field is true, and reuses it for another client
// once the handler returns (cloudwego/hertz issue #121). This package never
// exposes that wrapper: [Conn.NetConn] returns a view that fails with
// ErrConnClosed once the handler has returned, so the package is correct with
// either setting, and with KeepHijackedConns. Setting
//
//	h.NoHijackConnPool = true
//
// as Hertz's WebSocket documentation recommends costs one small allocation
// per upgrade and protects other code in the server that hijacks
// connections. Upgraded connections work on both of Hertz's transports,
// netpoll and the standard library's net. After the upgrade the HTTP
// server's read and write timeouts no longer apply.
package websocket
