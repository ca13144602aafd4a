package main

import (
	"net"
	"sync"
	"sync/atomic"
)

// counts is how many bytes one TCP connection has read and written.
type counts struct{ read, written int64 }

// countingListener counts the bytes of every connection it accepts, so
// that the handler can tell how many bytes its messages took on the wire.
// It wraps a plain net.Listener, which Hertz's standard transport accepts
// (netpoll needs a listener of its own kind).
type countingListener struct {
	net.Listener

	mu    sync.Mutex
	conns map[string]*countingConn // by remote address
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c, owner: l, key: c.RemoteAddr().String()}
	l.mu.Lock()
	if l.conns == nil {
		l.conns = make(map[string]*countingConn)
	}
	l.conns[cc.key] = cc
	l.mu.Unlock()
	return cc, nil
}

// lookup returns the open connection whose peer is at addr, or nil.
func (l *countingListener) lookup(addr net.Addr) *countingConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[addr.String()]
}

// forget removes c, unless a newer connection from the same address has
// taken its place.
func (l *countingListener) forget(c *countingConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[c.key] == c {
		delete(l.conns, c.key)
	}
}

type countingConn struct {
	net.Conn
	owner         *countingListener
	key           string
	read, written atomic.Int64
	closeOnce     sync.Once
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

func (c *countingConn) Close() error {
	c.closeOnce.Do(func() { c.owner.forget(c) })
	return c.Conn.Close()
}

func (c *countingConn) counts() counts {
	return counts{read: c.read.Load(), written: c.written.Load()}
}
