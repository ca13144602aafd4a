package hubtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hertzws/websocket"
)

// DialOptions shapes a test client.
type DialOptions struct {
	// ReceiveBuffer, when positive, is the client socket's kernel receive
	// buffer (SO_RCVBUF): with a small one, a client that stops reading
	// stops the server's writes to it soon.
	ReceiveBuffer int
	// Paused leaves the client not reading until Resume.
	Paused bool
	// KeepBytes, when positive, keeps only the first KeepBytes bytes of
	// each message, for tests that send large ones.
	KeepBytes int
	// ReadBufferSize is the Dialer's read buffer; zero means its default.
	ReadBufferSize int
	// Compression offers permessage-deflate.
	Compression bool
	// WireBytes, when not nil, counts the bytes the client receives from
	// the network, to tell compressed traffic from plain.
	WireBytes *atomic.Int64
	// Counter, when not nil, is incremented for every message read: one
	// counter shared by many clients tells when all have read a message.
	Counter *atomic.Int64
}

// Client is a client made with this package's Dialer, the peer of the
// hub's tests, that records what it reads.
type Client struct {
	Conn *websocket.Conn
	opts DialOptions

	resume chan struct{}
	mu     sync.Mutex
	msgs   []string
	err    error // the read error that ended the client
	done   chan struct{}
}

// Dial connects to url and starts reading (unless opts.Paused). The
// connection is closed when the test ends.
func Dial(t testing.TB, url string, opts DialOptions) *Client {
	t.Helper()
	d := websocket.Dialer{
		HandshakeTimeout:  5 * time.Second,
		ReadBufferSize:    opts.ReadBufferSize,
		EnableCompression: opts.Compression,
		NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.DialTimeout(network, addr, 5*time.Second)
			if err != nil {
				return nil, err
			}
			if opts.ReceiveBuffer > 0 {
				if err := c.(*net.TCPConn).SetReadBuffer(opts.ReceiveBuffer); err != nil {
					c.Close()
					return nil, err
				}
			}
			if opts.WireBytes != nil {
				return &countingConn{Conn: c, n: opts.WireBytes}, nil
			}
			return c, nil
		},
	}
	conn, resp, err := d.Dial(url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	c := &Client{Conn: conn, opts: opts, resume: make(chan struct{}), done: make(chan struct{})}
	if !opts.Paused {
		close(c.resume)
	}
	go c.read()
	t.Cleanup(func() {
		conn.Close()
		c.Resume()
		<-c.done
	})
	return c
}

// Resume starts a paused client reading.
func (c *Client) Resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.resume:
	default:
		close(c.resume)
	}
}

func (c *Client) read() {
	defer close(c.done)
	<-c.resume
	for {
		_, r, err := c.Conn.NextReader()
		var b []byte
		if err == nil {
			b, err = io.ReadAll(r)
		}
		c.mu.Lock()
		if err != nil {
			c.err = err
			c.mu.Unlock()
			return
		}
		if c.opts.KeepBytes > 0 && len(b) > c.opts.KeepBytes {
			b = b[:c.opts.KeepBytes]
		}
		c.msgs = append(c.msgs, string(b))
		c.mu.Unlock()
		if c.opts.Counter != nil {
			c.opts.Counter.Add(1)
		}
	}
}

// Messages returns what the client has read so far.
func (c *Client) Messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// Count returns how many messages the client has read.
func (c *Client) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// WaitCount waits up to timeout until the client has read at least n
// messages, and returns them; it fails the test if they do not come.
func (c *Client) WaitCount(t testing.TB, n int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := c.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("client read %d messages within %v, want %d (read error: %v)", len(got), timeout, n, c.Err())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitEnd waits up to timeout for the client's reading to end and returns
// the error that ended it.
func (c *Client) WaitEnd(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.Err()
	case <-time.After(timeout):
		t.Fatalf("client still open after %v", timeout)
		return nil
	}
}

// Err returns the read error that ended the client, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Say sends a text message to the server.
func (c *Client) Say(t testing.TB, text string) {
	t.Helper()
	if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// WaitCounter waits up to timeout until counter reaches n.
func WaitCounter(t testing.TB, counter *atomic.Int64, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for counter.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("counter at %d after %v, want %d", counter.Load(), timeout, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
