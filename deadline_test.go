package websocket_test

import (
	"errors"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/network"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// A deadline set from another goroutine applies to a call already blocked,
// as net.Conn's contract and gorilla's behaviour have it.

const (
	// wakeAfter is how long the blocked call runs before the other
	// goroutine sets a deadline wakeAfter ahead.
	wakeAfter = 100 * time.Millisecond
	// wakeBound is how long a blocked call may take to return after the
	// deadline before the test calls it stuck.
	wakeBound = 3 * time.Second
)

// deadlineSetter is one way a program sets a deadline on a Conn from
// another goroutine; d is the time from now.
type deadlineSetter struct {
	name string
	set  func(c *websocket.Conn, d time.Duration) error
}

var readDeadlineSetters = []deadlineSetter{
	{"SetReadDeadline", func(c *websocket.Conn, d time.Duration) error { return c.SetReadDeadline(time.Now().Add(d)) }},
	{"NetConn.SetDeadline", func(c *websocket.Conn, d time.Duration) error { return c.NetConn().SetDeadline(time.Now().Add(d)) }},
	{"NetConn.SetReadDeadline", func(c *websocket.Conn, d time.Duration) error {
		return c.NetConn().SetReadDeadline(time.Now().Add(d))
	}},
	{"NetConn.SetReadTimeout", func(c *websocket.Conn, d time.Duration) error {
		return c.NetConn().(network.Conn).SetReadTimeout(d)
	}},
}

var writeDeadlineSetters = []deadlineSetter{
	{"SetWriteDeadline", func(c *websocket.Conn, d time.Duration) error { return c.SetWriteDeadline(time.Now().Add(d)) }},
	{"NetConn.SetDeadline", func(c *websocket.Conn, d time.Duration) error { return c.NetConn().SetDeadline(time.Now().Add(d)) }},
	{"NetConn.SetWriteDeadline", func(c *websocket.Conn, d time.Duration) error {
		return c.NetConn().SetWriteDeadline(time.Now().Add(d))
	}},
	{"NetConn.SetWriteTimeout", func(c *websocket.Conn, d time.Duration) error {
		return c.NetConn().(network.Conn).SetWriteTimeout(d)
	}},
}

// blockedCallResult is what a blocked call returned and when.
type blockedCallResult struct {
	err     error
	elapsed time.Duration // from the setting of the deadline
}

// wakeBlocked runs call, which must block, sets a deadline wakeAfter
// ahead from this goroutine once call has run for wakeAfter, and returns
// what call returned.
func wakeBlocked(t *testing.T, c *websocket.Conn, set func(*websocket.Conn, time.Duration) error, call func() error) blockedCallResult {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		t.Fatalf("the call returned before any deadline was set: %v", err)
	case <-time.After(wakeAfter):
	}
	setAt := time.Now()
	if err := set(c, wakeAfter); err != nil {
		t.Fatalf("setting the deadline: %v", err)
	}
	select {
	case err := <-done:
		return blockedCallResult{err: err, elapsed: time.Since(setAt)}
	case <-time.After(wakeAfter + wakeBound):
		_ = c.Close() // unblock the goroutine
		<-done
		t.Fatalf("the call is still blocked %v after its deadline", wakeBound)
		return blockedCallResult{}
	}
}

// checkTimeout asserts the shape of a timeout error and that it came no
// earlier than the deadline.
func checkTimeout(t *testing.T, r blockedCallResult, op string) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(r.err, &oe) {
		t.Fatalf("error %v (%T) is not a *net.OpError", r.err, r.err)
	}
	if oe.Op != op {
		t.Errorf("Op = %q, want %q (error %v)", oe.Op, op, r.err)
	}
	if !oe.Timeout() {
		t.Errorf("Timeout() = false for %v", r.err)
	}
	if !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Errorf("errors.Is(%v, os.ErrDeadlineExceeded) = false", r.err)
	}
	var ne net.Error
	if !errors.As(r.err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error with Timeout", r.err)
	}
	// A deadline never fires early (5 ms for clock granularity).
	if r.elapsed < wakeAfter-5*time.Millisecond {
		t.Errorf("returned %v after the deadline was set %v ahead", r.elapsed, wakeAfter)
	}
}

// blockedCalls are the calls a peer can leave blocked: a read from a peer
// that sends nothing, a write to one that reads nothing. op is the Op of
// the timeout error.
var blockedCalls = []struct {
	op      string
	setters []deadlineSetter
	call    func(c *websocket.Conn) error
}{
	{"read", readDeadlineSetters, func(c *websocket.Conn) error {
		_, _, err := c.ReadMessage()
		return err
	}},
	{"write", writeDeadlineSetters, writeUntilBlocked},
}

// TestDeadlineWakesBlockedServerCalls: a handler blocked in ReadMessage, or
// in WriteMessage to a peer that does not read, returns at a deadline
// another goroutine set.
func TestDeadlineWakesBlockedServerCalls(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, bc := range blockedCalls {
			for _, setter := range bc.setters {
				bc, setter := bc, setter
				t.Run(bc.op+"/"+setter.name, func(t *testing.T) {
					result := make(chan blockedCallResult, 1)
					wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{NoHijackConnPool: true}, &websocket.HertzUpgrader{}, func(c *websocket.Conn) {
						result <- wakeBlocked(t, c, setter.set, func() error { return bc.call(c) })
					})
					silentPeer(t, wsURL)
					select {
					case r := <-result:
						checkTimeout(t, r, bc.op)
					case <-time.After(15 * time.Second):
						t.Fatal("the handler never reported")
					}
				})
			}
		}
	})
}

// writeUntilBlocked writes 64 KiB messages until a write fails; a peer that
// does not read makes one block once the socket buffers are full. It stops
// after 64 MiB, well beyond what loopback buffers hold.
func writeUntilBlocked(c *websocket.Conn) error {
	msg := make([]byte, 64<<10)
	for i := 0; i < 1024; i++ {
		if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			return err
		}
	}
	return errors.New("64 MiB went out to a peer that reads nothing")
}

// silentPeer upgrades a connection to the server of wsURL (a ws://host/ws
// URL) with the raw client and then neither sends nor reads: the server's
// reads wait, and its writes block once the socket buffers are full.
func silentPeer(t *testing.T, wsURL string) {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	rc := wstest.DialRaw(t, u.Host)
	if tcp, ok := rc.NetConn.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(4096)
	}
	rc.Handshake("/ws")
}

// TestDeadlineWakesBlockedClientCalls: the same on a Dialer's connection,
// reading from a server that sends nothing and writing to one that reads
// nothing.
func TestDeadlineWakesBlockedClientCalls(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	u := &websocket.HertzUpgrader{}
	wsURL := wstest.StartHandler(t, wstest.Transports[0], wstest.EngineSettings{NoHijackConnPool: true}, u, func(c *websocket.Conn) {
		select {
		case <-release:
		case <-time.After(30 * time.Second):
		}
	})
	dial := func(t *testing.T) *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	for _, setter := range readDeadlineSetters {
		setter := setter
		t.Run("read/"+setter.name, func(t *testing.T) {
			c := dial(t)
			checkTimeout(t, wakeBlocked(t, c, setter.set, func() error {
				_, _, err := c.ReadMessage()
				return err
			}), "read")
		})
	}
	for _, setter := range writeDeadlineSetters {
		setter := setter
		t.Run("write/"+setter.name, func(t *testing.T) {
			c := dial(t)
			checkTimeout(t, wakeBlocked(t, c, setter.set, func() error {
				return writeUntilBlocked(c)
			}), "write")
		})
	}
}

// TestWriteDeadlinePassedWhileWaiting: a control write whose deadline
// passes while another writer holds the connection reports the same
// timeout shape.
func TestWriteDeadlinePassedWhileWaiting(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		result := make(chan error, 1)
		u := &websocket.HertzUpgrader{}
		wsURL := wstest.StartHandler(t, tc, wstest.EngineSettings{NoHijackConnPool: true}, u, func(c *websocket.Conn) {
			blocked := make(chan error, 1)
			go func() { blocked <- writeUntilBlocked(c) }()
			time.Sleep(300 * time.Millisecond) // the writer is stuck by now
			result <- c.WriteControl(websocket.PingMessage, nil, time.Now().Add(50*time.Millisecond))
			_ = c.Close()
			<-blocked
		})
		silentPeer(t, wsURL)
		select {
		case err := <-result:
			checkTimeout(t, blockedCallResult{err: err, elapsed: wakeAfter}, "write")
		case <-time.After(10 * time.Second):
			t.Fatal("the handler never reported")
		}
	})
}
