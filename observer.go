package websocket

import (
	"encoding/binary"
	"time"

	"github.com/hertzws/websocket/frame"
)

// Observer receives the events of connections and handshakes, for metrics.
// Set one as HertzUpgrader.Observer for the connections a server accepts,
// and as Dialer.Observer or ClientUpgrader.Observer for the connections a
// client makes; one value may serve all of them. The package
// github.com/hertzws/websocket/metrics/prometheus exports the events as
// Prometheus metrics.
//
// The methods are called synchronously by the goroutine doing the work (a
// read, a write, a Close), some of them while the connection's locks are
// held: they must be fast, must not block, must not call the connection's
// methods, and must be safe for concurrent use, since every connection
// calls them. Counters and atomic adds are what they are for.
//
// A nil Observer costs nothing: no call is made and nothing is counted.
// Embed NopObserver to implement only some of the methods.
type Observer interface {
	// HandshakeFailed is called when an opening handshake fails with an
	// HTTP status: on a server, the status HertzUpgrader answered a request
	// it refused with (400, 403, 405, 426, 503, ...); on a client, the
	// status of a response that did not complete the handshake (a 101 with
	// wrong headers included). A client that got no response at all
	// reports nothing.
	HandshakeFailed(status int)

	// ConnOpened is called once per connection, when it is upgraded
	// (server) or dialled (client), before any other of its events.
	ConnOpened()

	// ConnClosed is called once per connection, by its Close (which ends
	// every server connection when its handler returns or its events end,
	// and which a client must call). code is the close code the peer
	// sent, else the one this side sent, else CloseAbnormalClosure (1006)
	// when no close frame went either way; CloseNoStatusReceived (1005)
	// stands for a close frame without a code.
	ConnClosed(code int)

	// MessageRead is called for each data message received whole:
	// messageType is TextMessage or BinaryMessage, payload its size after
	// decompression, wire the payload bytes of its frames as they
	// arrived (compressed, when it was). It is called whatever the API
	// that read it (ReadMessage, ReadMessageInto, ReadJSON, a NextReader
	// read to io.EOF, the messages of an EventHandler), and also for a
	// message the application left unread, which the next NextReader
	// discards: then payload counts what was decompressed of it, all of it
	// unless it was compressed without context takeover.
	MessageRead(messageType int, payload, wire int64)

	// MessageWritten is called for each data message sent whole, by any
	// API (WriteMessage, WriteMessages, WriteJSON, WritePreparedMessage and
	// WritePreparedMessages, a NextWriter's Close), with the same
	// meaning of payload and wire as MessageRead. A message held for a
	// corked write counts when its write returns nil.
	MessageWritten(messageType int, payload, wire int64)

	// PingRTT is called with the round trip a ping measured, from its
	// sending to its pong's arrival: each Conn.Ping that got its pong,
	// and each KeepAlive ping that did (with an Observer set, KeepAlive
	// numbers its pings so that their pongs can be matched).
	PingRTT(d time.Duration)
}

// NopObserver is an Observer whose methods do nothing. Embed it in a type
// that implements only the events it needs:
//
//	type opened struct {
//		websocket.NopObserver
//		n atomic.Int64
//	}
//
//	func (o *opened) ConnOpened() { o.n.Add(1) }
type NopObserver struct{}

// HandshakeFailed does nothing.
func (NopObserver) HandshakeFailed(int) {}

// ConnOpened does nothing.
func (NopObserver) ConnOpened() {}

// ConnClosed does nothing.
func (NopObserver) ConnClosed(int) {}

// MessageRead does nothing.
func (NopObserver) MessageRead(int, int64, int64) {}

// MessageWritten does nothing.
func (NopObserver) MessageWritten(int, int64, int64) {}

// PingRTT does nothing.
func (NopObserver) PingRTT(time.Duration) {}

// The helpers below are the Conn's only ways to reach its observer, which
// is nil when none is set: each costs one comparison without one.

// observeHandshakeFailed reports a failed handshake to o, if set.
func observeHandshakeFailed(o Observer, status int) {
	if o != nil {
		o.HandshakeFailed(status)
	}
}

// observeRead reports the message being read, received whole, with payload
// bytes after decompression. The caller holds readMu.
func (c *Conn) observeRead(payload int64) {
	if c.observer != nil {
		c.observer.MessageRead(messageTypeOf(c.messageText), payload, c.messageLen)
	}
}

// observeWritten reports a data message sent whole.
func (c *Conn) observeWritten(opcode frame.Opcode, payload, wire int64) {
	if c.observer != nil {
		c.observer.MessageWritten(int(opcode), payload, wire)
	}
}

// observePingRTT reports the round trip of a ping.
func (c *Conn) observePingRTT(d time.Duration) {
	if c.observer != nil {
		c.observer.PingRTT(d)
	}
}

// observeClosed reports the end of the connection; Close calls it once.
func (c *Conn) observeClosed() {
	if c.observer == nil {
		return
	}
	code := int(c.closeCode.Load())
	if code == 0 {
		// RFC 6455 §7.1.5: no close frame went either way.
		code = CloseAbnormalClosure
	}
	c.observer.ConnClosed(code)
}

// closeFrameReceived records the code of the peer's close frame, which
// ConnClosed reports in preference to any other.
func (c *Conn) closeFrameReceived(code int) { c.closeCode.Store(int32(code)) }

// closeFrameSent records the code of the close frame this side sent,
// which ConnClosed reports unless the peer's close arrives.
func (c *Conn) closeFrameSent(payload []byte) {
	code := CloseNoStatusReceived
	if len(payload) >= 2 {
		code = int(binary.BigEndian.Uint16(payload))
	}
	c.closeCode.CompareAndSwap(0, int32(code))
}

// messageTypeOf returns the message type of a data message.
func messageTypeOf(text bool) int {
	if text {
		return TextMessage
	}
	return BinaryMessage
}
