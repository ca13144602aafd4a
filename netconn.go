package websocket

import (
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/network"

	"github.com/hertzws/websocket/internal/transport"
)

// netConnView is what NetConn hands out: the raw byte stream under the
// WebSocket, seen through the Conn's locks and lifecycle. It never exposes
// Hertz's pooled hijack wrapper, so a reference kept past the handler fails
// with ErrConnClosed instead of reaching another client's connection.
//
// It satisfies network.Conn, so code written for hertz-contrib/websocket,
// such as conn.NetConn().(network.Conn).SetReadTimeout(d), keeps working.
type netConnView struct{ c *Conn }

var _ network.Conn = (*netConnView)(nil)

// NetConn returns the underlying connection as a net.Conn that is also a
// Hertz network.Conn. Reading or writing it bypasses the WebSocket framing;
// it is meant for timeouts and for inspecting addresses. It is safe to use
// from any goroutine, and every method fails with ErrConnClosed once the
// Conn is closed or its handler has returned.
func (c *Conn) NetConn() net.Conn {
	if v := c.netConn.Load(); v != nil {
		return v
	}
	c.netConn.CompareAndSwap(nil, &netConnView{c: c})
	return c.netConn.Load()
}

// UnderlyingConn returns the underlying connection; it is NetConn, kept for
// code written against gorilla/websocket.
//
// Deprecated: Use the NetConn method.
func (c *Conn) UnderlyingConn() net.Conn { return c.NetConn() }

func (v *netConnView) LocalAddr() net.Addr  { return v.c.localAddr }
func (v *netConnView) RemoteAddr() net.Addr { return v.c.remoteAddr }
func (v *netConnView) Close() error         { return v.c.Close() }

func (v *netConnView) SetDeadline(t time.Time) error {
	if err := v.c.SetReadDeadline(t); err != nil {
		return err
	}
	return v.c.SetWriteDeadline(t)
}
func (v *netConnView) SetReadDeadline(t time.Time) error  { return v.c.SetReadDeadline(t) }
func (v *netConnView) SetWriteDeadline(t time.Time) error { return v.c.SetWriteDeadline(t) }

// SetReadTimeout makes every wait for incoming bytes, one already blocked
// included, time out after d; zero removes the timeout. A deadline set
// with SetReadDeadline wins.
func (v *netConnView) SetReadTimeout(d time.Duration) error {
	if v.c.closed.Load() {
		return ErrConnClosed
	}
	return v.c.closedOr(v.c.rd.setTimeout(v.c.t, true, v.c.liveDeadlines, d))
}

// SetWriteTimeout makes every frame write, one already blocked included,
// time out after d; zero removes the timeout. A deadline set with
// SetWriteDeadline wins.
func (v *netConnView) SetWriteTimeout(d time.Duration) error {
	if v.c.closed.Load() {
		return ErrConnClosed
	}
	return v.c.closedOr(v.c.wd.setTimeout(v.c.t, false, v.c.liveDeadlines, d))
}

// withReader runs f under the read lock if the Conn is still open.
func (v *netConnView) withReader(f func(t transport.Conn) error) error {
	c := v.c
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.closed.Load() {
		return ErrConnClosed
	}
	if err := c.applyReadDeadline(); err != nil {
		return err
	}
	return c.closedOr(f(c.t))
}

// withWriter runs f under the frame lock if the Conn is still open.
func (v *netConnView) withWriter(f func(t transport.Conn) error) error {
	c := v.c
	if err := c.acquire(&c.frameLock); err != nil {
		return err
	}
	defer c.frameLock.unlock()
	if c.closed.Load() {
		return ErrConnClosed
	}
	if err := c.applyWriteDeadline(0); err != nil {
		return err
	}
	return c.closedOr(f(c.t))
}

// closedOr reports a transport error that Close caused (the call was in
// flight when another goroutine closed the Conn) as ErrConnClosed.
func (c *Conn) closedOr(err error) error {
	if err != nil && c.closed.Load() {
		return ErrConnClosed
	}
	return err
}

func (v *netConnView) Read(p []byte) (n int, err error) {
	err = v.withReader(func(t transport.Conn) error {
		buffered, err := v.c.waitBuffered()
		if err != nil {
			return err
		}
		if buffered > len(p) {
			buffered = len(p)
		}
		b, err := t.Peek(buffered)
		n = copy(p, b)
		if err != nil {
			return err
		}
		return t.Skip(n)
	})
	return n, err
}

func (v *netConnView) Peek(n int) (b []byte, err error) {
	err = v.withReader(func(t transport.Conn) error { b, err = t.Peek(n); return err })
	return b, err
}

func (v *netConnView) Skip(n int) error {
	return v.withReader(func(t transport.Conn) error { return t.Skip(n) })
}

func (v *netConnView) Release() error {
	return v.withReader(func(t transport.Conn) error { return t.Release() })
}

func (v *netConnView) Len() (n int) {
	_ = v.withReader(func(t transport.Conn) error { n = t.Len(); return nil })
	return n
}

func (v *netConnView) ReadByte() (b byte, err error) {
	err = v.withReader(func(t transport.Conn) error {
		p, err := t.Peek(1)
		if err != nil {
			return err
		}
		b = p[0]
		return t.Skip(1)
	})
	return b, err
}

func (v *netConnView) ReadBinary(n int) (p []byte, err error) {
	err = v.withReader(func(t transport.Conn) error {
		b, err := t.Peek(n)
		if err != nil {
			return err
		}
		p = append([]byte(nil), b...)
		return t.Skip(n)
	})
	return p, err
}

func (v *netConnView) Write(p []byte) (n int, err error) {
	err = v.withWriter(func(t transport.Conn) error {
		if _, err := t.WriteBinary(p); err != nil {
			return err
		}
		if err := t.Flush(); err != nil {
			return err
		}
		n = len(p)
		return nil
	})
	return n, err
}

func (v *netConnView) Malloc(n int) (b []byte, err error) {
	err = v.withWriter(func(t transport.Conn) error { b, err = t.Malloc(n); return err })
	return b, err
}

func (v *netConnView) WriteBinary(p []byte) (n int, err error) {
	err = v.withWriter(func(t transport.Conn) error { n, err = t.WriteBinary(p); return err })
	return n, err
}

func (v *netConnView) Flush() error {
	return v.withWriter(func(t transport.Conn) error { return t.Flush() })
}
