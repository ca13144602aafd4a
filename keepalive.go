package websocket

import (
	"sync/atomic"
	"time"
)

// ErrKeepAliveTimeout is returned by reads on a connection that keepalive
// closed because the peer sent nothing, not even the pong to a ping, for a
// whole interval. The peer has been sent close code 1001 (Going Away). It
// is a net.Error with Timeout() == true.
var ErrKeepAliveTimeout error = &timeoutError{codedError{
	code: CloseGoingAway,
	text: "websocket: keepalive timeout: no frame from the peer since the last ping",
}}

// keepAlive pings the peer every interval and closes the connection when
// no frame at all arrived in the interval that followed a ping. It runs on
// a timer, not a goroutine of its own, so an idle connection costs none.
type keepAlive struct {
	interval time.Duration
	timer    *time.Timer
	expired  atomic.Bool
	// Touched only by the timer's callback, whose runs never overlap:
	// the next one is scheduled at the end of the current one.
	seen   uint64
	pinged bool
}

// startKeepAlive turns keepalive on for c; interval must be above zero.
func (c *Conn) startKeepAlive(interval time.Duration) {
	ka := &keepAlive{interval: interval}
	ka.timer = time.AfterFunc(time.Hour, func() { c.keepAliveTick(ka) })
	ka.timer.Stop()
	c.keepAlive = ka
	ka.timer.Reset(interval)
}

func (c *Conn) keepAliveTick(ka *keepAlive) {
	if c.closed.Load() {
		return
	}
	n := c.framesSeen.Load()
	if ka.pinged && n == ka.seen {
		// A dead peer (no FIN, no RST) or one that stopped talking:
		// nothing, not even a pong, came back in a whole interval.
		// Say why before dropping it (RFC 6455 §7.1.2 would have the
		// close frame go out first); a peer that is gone costs at most
		// closeWriteTimeout here, on the timer's goroutine.
		ka.expired.Store(true)
		_ = c.WriteControl(CloseMessage, FormatCloseMessage(CloseGoingAway, "keepalive timeout"), time.Now().Add(closeWriteTimeout))
		_ = c.Close()
		return
	}
	ka.seen, ka.pinged = n, true
	var payload []byte
	if c.observer != nil {
		// A numbered ping, whose pong reports the round trip.
		p := c.pingWaiters().addKeepAlive()
		payload = p[:]
	}
	_ = c.WriteControl(PingMessage, payload, time.Now().Add(ka.interval))
	ka.timer.Reset(ka.interval)
}

// stopKeepAlive stops the timer; called by Close.
func (c *Conn) stopKeepAlive() {
	if c.keepAlive != nil {
		c.keepAlive.timer.Stop()
	}
}

// keepAliveExpired reports whether keepalive closed the connection.
func (c *Conn) keepAliveExpired() bool {
	return c.keepAlive != nil && c.keepAlive.expired.Load()
}
