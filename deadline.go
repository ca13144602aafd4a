package websocket

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hertzws/websocket/internal/transport"
)

// Deadlines follow net.Conn's contract: a deadline set from any goroutine
// applies to calls already blocked, which then return a timeout error at
// the new deadline (a *net.OpError with Op "read" or "write" that matches
// os.ErrDeadlineExceeded).
//
// Each direction keeps its deadline in a deadline value. Set*Deadline store
// it and, on transports whose deadlines may be changed while another
// goroutine is blocked in them (a net.Conn underneath: the socket transport
// of a handed-over netpoll connection or of a Dialer connection, and
// Hertz's standard transport), hand it to the transport at once, which
// wakes a blocked call. On the others (a connection that stays on netpoll,
// whose read timer belongs to the reading goroutine) the reading or writing
// goroutine hands it over before its next wait.

// deadline is the deadline state of one direction of a Conn.
type deadline struct {
	// mu orders changes of the transport's deadline, so that a deadline
	// computed from an older value never replaces a newer one.
	mu sync.Mutex
	// at is the deadline from Set*Deadline, in Unix nanoseconds; 0 for
	// none.
	at atomic.Int64
	// timeout, from NetConn's SetReadTimeout or SetWriteTimeout, applies
	// to every wait when at is 0; in nanoseconds, 0 for none.
	timeout atomic.Int64
	// applied is the deadline the transport has, in Unix nanoseconds.
	applied atomic.Int64
	// fallback (WriteTimeout, in nanoseconds; 0 for none) applies to every
	// wait when neither at nor timeout is set. Set before the Conn is in
	// use. fromFallback records that the transport's deadline came from it.
	fallback     int64
	fromFallback atomic.Bool
}

// want returns the deadline the next wait should have: override when not
// zero, else at, else now plus timeout.
func (dl *deadline) want(override int64) int64 {
	if override != 0 {
		return override
	}
	if d := dl.at.Load(); d != 0 {
		return d
	}
	if timeout := dl.timeout.Load(); timeout > 0 {
		return time.Now().UnixNano() + timeout
	}
	if dl.fallback > 0 {
		return coarseNow() + dl.fallback // see clock.go
	}
	return 0
}

// byFallback reports whether a wait with this override has the fallback
// deadline.
func (dl *deadline) byFallback(override int64) bool {
	return override == 0 && dl.fallback > 0 && dl.at.Load() == 0 && dl.timeout.Load() == 0
}

// fallbackStillGood reports whether the fallback deadline the transport
// has (applied) is close enough to the one a wait would get now (want):
// within an eighth of the fallback. Moving a socket's deadline costs more
// than a write, so the deadline is moved only every fallback/8: a write
// then has between 7/8 of the fallback and all of it.
func (dl *deadline) fallbackStillGood(override, want, applied int64) bool {
	return dl.byFallback(override) && dl.fromFallback.Load() && applied <= want && want-applied < dl.fallback/8
}

// beforeWait gives the transport the deadline for the wait about to start,
// unless it has it already.
func (dl *deadline) beforeWait(t transport.Conn, read bool, override int64) error {
	want, applied := dl.want(override), dl.applied.Load()
	if want == applied || dl.fallbackStillGood(override, want, applied) {
		return nil // the common case: no deadline, or the one set already
	}
	dl.mu.Lock()
	defer dl.mu.Unlock()
	d := dl.want(override)
	if d == dl.applied.Load() {
		return nil
	}
	dl.applied.Store(d)
	dl.fromFallback.Store(dl.byFallback(override))
	return setTransportDeadline(t, read, d)
}

// set records a new deadline (Unix nanoseconds, 0 for none) and, when live,
// hands it to the transport at once.
func (dl *deadline) set(t transport.Conn, read, live bool, d int64) error {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	dl.at.Store(d)
	if !live {
		return nil
	}
	if d == 0 {
		d = dl.want(0) // the per-wait timeout, if any
	}
	dl.applied.Store(d)
	dl.fromFallback.Store(dl.byFallback(0))
	return setTransportDeadline(t, read, d)
}

// setTimeout records a per-wait timeout (see NetConn) and, when live and
// no deadline is set, starts it at once for a call already waiting.
func (dl *deadline) setTimeout(t transport.Conn, read, live bool, timeout time.Duration) error {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	dl.timeout.Store(int64(timeout))
	if !live || dl.at.Load() != 0 {
		return nil
	}
	d := dl.want(0)
	dl.applied.Store(d)
	dl.fromFallback.Store(dl.byFallback(0))
	return setTransportDeadline(t, read, d)
}

// applyReadDeadline hands the transport the deadline for the next wait for
// incoming bytes. It runs on the reading goroutine.
// While a message is being received, its deadline (MessageTimeout) applies
// when it is the earlier.
func (c *Conn) applyReadDeadline() error {
	var override int64
	if md := c.currentMessageDeadline(); md != 0 {
		if want := c.rd.want(0); want == 0 || md < want {
			override = md
		}
	}
	return c.rd.beforeWait(c.t, true, override)
}

// currentMessageDeadline returns the deadline of the message being
// received (Unix nanoseconds), or 0 between messages and when there is no
// MessageTimeout. The deadline is set by the first wait inside a message,
// from the coarse clock: a message whose bytes have all arrived when it is
// read never needs one, so reading the clock costs it nothing.
func (c *Conn) currentMessageDeadline() int64 {
	if c.messageDeadline == 0 && !c.messageDone && c.messageTimeout > 0 {
		c.messageDeadline = coarseNow() + int64(c.messageTimeout)
	}
	return c.messageDeadline
}

// applyWriteDeadline hands the transport the deadline for the next write:
// override (Unix nanoseconds) when not zero, else the deadline from
// SetWriteDeadline, else now plus the timeout from NetConn's
// SetWriteTimeout. The caller holds frameLock.
func (c *Conn) applyWriteDeadline(override int64) error {
	return c.wd.beforeWait(c.t, false, override)
}

// setTransportDeadline gives a transport a read or write deadline in Unix
// nanoseconds, 0 for none.
func setTransportDeadline(t transport.Conn, read bool, d int64) error {
	if read {
		return t.SetReadDeadline(nanosDeadline(d))
	}
	return t.SetWriteDeadline(nanosDeadline(d))
}

// writeTimeoutError is the error of a write whose deadline passed before it
// could start (while it waited for another writer), shaped as the error of
// a write that timed out on the socket.
func (c *Conn) writeTimeoutError() error {
	return &net.OpError{Op: "write", Net: addrNetwork(c.remoteAddr), Source: c.localAddr, Addr: c.remoteAddr, Err: os.ErrDeadlineExceeded}
}

func addrNetwork(a net.Addr) string {
	if a == nil {
		return "tcp"
	}
	return a.Network()
}

func deadlineNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func nanosDeadline(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
