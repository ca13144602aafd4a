package websocket_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// Peers that announce more than they send, trickle, stop reading or go
// silent: the server's memory follows what arrived, and every such peer is
// closed with a close frame that says why (issue 15). internal/abuse runs
// the same attacks at scale from another process.

// hostileServe serves handler with upgrader u on tc and returns the
// address, for the raw client.
func hostileServe(t *testing.T, tc wstest.Transport, u *websocket.HertzUpgrader, handler websocket.HertzHandler) string {
	t.Helper()
	return strings.TrimSuffix(strings.TrimPrefix(wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, handler), "ws://"), "/ws")
}

// announce sends the header of a masked binary frame announcing size bytes
// and the first len(payload) bytes of its payload.
func announce(t testing.TB, rc *wstest.RawConn, fin bool, op frame.Opcode, size int64, payload []byte) {
	t.Helper()
	h := frame.Header{Fin: fin, Opcode: op, Masked: true, Mask: wstest.Mask, PayloadLen: size}
	b := frame.AppendHeader(nil, h)
	b = append(b, payload...)
	frame.Mask(wstest.Mask, 0, b[len(b)-len(payload):])
	rc.Write(b)
}

// liveHeap returns the Go heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// handlerErrors counts and keeps the errors ReadMessage returned to a
// handler.
type handlerErrors struct {
	mu   sync.Mutex
	errs []error
	done chan struct{}
	want int
}

func newHandlerErrors(want int) *handlerErrors {
	return &handlerErrors{done: make(chan struct{}), want: want}
}

func (he *handlerErrors) add(err error) {
	he.mu.Lock()
	defer he.mu.Unlock()
	he.errs = append(he.errs, err)
	if len(he.errs) == he.want {
		close(he.done)
	}
}

func (he *handlerErrors) wait(t *testing.T, within time.Duration) []error {
	t.Helper()
	select {
	case <-he.done:
	case <-time.After(within):
		he.mu.Lock()
		n := len(he.errs)
		he.mu.Unlock()
		t.Fatalf("%d of %d handlers returned within %v", n, he.want, within)
	}
	he.mu.Lock()
	defer he.mu.Unlock()
	return append([]error(nil), he.errs...)
}

// TestAnnouncedLengthHoldsOnlyWhatArrived: connections that announce a
// message just under the read limit and send one byte of it make the
// server hold the receive allowance at most, not the announced size.
func TestAnnouncedLengthHoldsOnlyWhatArrived(t *testing.T) {
	const conns = 100
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		var reading sync.WaitGroup
		reading.Add(conns)
		u := &websocket.HertzUpgrader{}
		addr := hostileServe(t, tc, u, func(c *websocket.Conn) {
			reading.Done()
			_, _, _ = c.ReadMessage()
		})
		// The connections and their handlers, before any message.
		clients := make([]*wstest.RawConn, conns)
		for i := range clients {
			clients[i] = wstest.DialRaw(t, addr)
			clients[i].Handshake("/ws")
		}
		reading.Wait()
		before := liveHeap()
		for _, rc := range clients {
			announce(t, rc, true, frame.OpBinary, websocket.DefaultReadLimit-1, []byte{'x'})
		}
		// Let every server goroutine take the byte and wait for more.
		time.Sleep(300 * time.Millisecond)
		after := liveHeap()
		per := (int64(after) - int64(before)) / conns
		t.Logf("%d connections announcing %d bytes, one sent: %+d bytes of heap each", conns, websocket.DefaultReadLimit-1, per)
		if per > 64<<10 {
			t.Fatalf("each connection holds %d bytes of heap for one byte received, want at most 64 KiB", per)
		}
	})
}

// TestMessageTimeoutEndsTrickledMessage: a peer that sends a message one
// byte at a time more slowly than MessageTimeout allows is sent 1008 and
// its reader gets ErrMessageTimeout; idle time between messages does not
// count.
func TestMessageTimeoutEndsTrickledMessage(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		errs := newHandlerErrors(1)
		u := &websocket.HertzUpgrader{MessageTimeout: 600 * time.Millisecond}
		addr := hostileServe(t, tc, u, func(c *websocket.Conn) {
			for {
				mt, p, err := c.ReadMessage()
				if err != nil {
					errs.add(err)
					return
				}
				if err := c.WriteMessage(mt, p); err != nil {
					errs.add(err)
					return
				}
			}
		})
		rc := wstest.DialRaw(t, addr)
		rc.Handshake("/ws")
		// Idle for longer than the timeout, then a whole message: fine.
		time.Sleep(800 * time.Millisecond)
		rc.Echo("after a quiet spell")

		start := time.Now()
		payload := []byte("trickled")
		masked := append([]byte(nil), payload...)
		frame.Mask(wstest.Mask, 0, masked)
		announce(t, rc, true, frame.OpText, int64(len(payload)), nil)
		for i := 0; i < len(masked)-1; i++ {
			time.Sleep(150 * time.Millisecond)
			if err := rc.TryWrite(masked[i : i+1]); err != nil {
				break // closed already
			}
			if time.Since(start) > time.Second {
				break
			}
		}
		rc.ExpectCloseCode(websocket.ClosePolicyViolation)
		elapsed := time.Since(start)
		rc.ExpectClosed()
		if elapsed < 500*time.Millisecond || elapsed > 2*time.Second {
			t.Errorf("closed %v after the message began, want about 600ms", elapsed)
		}
		got := errs.wait(t, 3*time.Second)
		if !errors.Is(got[0], websocket.ErrMessageTimeout) {
			t.Fatalf("ReadMessage: %v, want ErrMessageTimeout", got[0])
		}
		if !wstest.IsTimeout(got[0]) {
			t.Fatalf("ErrMessageTimeout is not a net.Error timeout: %v", got[0])
		}
	})
}

// budgetAck is what the budget test's handler answers for each message:
// its length and CRC-32, so 3 MiB messages need not be echoed.
func budgetAck(p []byte) []byte {
	return []byte(fmt.Sprintf("%d/%08x", len(p), crc32.ChecksumIEEE(p)))
}

// TestReceiveBudget: with the budget held by a message that stalls, a
// message of announced size waits (the server stops reading it) and is
// delivered once the budget frees; a fragmented message that runs out of
// budget midway is refused with 1013.
func TestReceiveBudget(t *testing.T) {
	const (
		budget  = 256 << 10
		stalled = 200 << 10 // reserves 200 KiB − 32 KiB once 32 KiB is in
	)
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		errs := newHandlerErrors(1)
		u := &websocket.HertzUpgrader{ReceiveBudget: budget}
		addr := hostileServe(t, tc, u, func(c *websocket.Conn) {
			for {
				_, p, err := c.ReadMessage()
				if err != nil {
					if !errors.Is(err, websocket.ErrConnClosed) && !websocket.IsCloseError(err, websocket.CloseAbnormalClosure, websocket.CloseNormalClosure) {
						errs.add(err)
					}
					return
				}
				if err := c.WriteMessage(websocket.TextMessage, budgetAck(p)); err != nil {
					return
				}
			}
		})
		data := func(n int, seed byte) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = seed + byte(i*7)
			}
			return b
		}

		// A: announces 200 KiB, sends 40 KiB and stalls, holding most of
		// the budget.
		a := wstest.DialRaw(t, addr)
		a.Handshake("/ws")
		aData := data(stalled, 1)
		aMasked := append([]byte(nil), aData...)
		frame.Mask(wstest.Mask, 0, aMasked)
		announce(t, a, true, frame.OpBinary, stalled, nil)
		a.Write(aMasked[:40<<10])
		time.Sleep(200 * time.Millisecond)

		// C: announces and sends 200 KiB at once; it must wait for A.
		c := wstest.DialRaw(t, addr)
		c.Handshake("/ws")
		cData := data(stalled, 2)
		c.Write(wstest.Masked(true, frame.OpBinary, cData))
		_ = c.NetConn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, err := c.Reader.Peek(1); err == nil {
			t.Fatalf("C's message was served while A held the budget: %q", n)
		}

		// B: a fragmented message, 16 KiB fragments: it takes budget as
		// it grows and is refused when the rest of the budget runs out.
		b := wstest.DialRaw(t, addr)
		b.Handshake("/ws")
		for i := 0; i < 16; i++ {
			if err := b.TryWrite(wstest.Masked(false, op(i), data(16<<10, byte(i)))); err != nil {
				break
			}
		}
		b.ExpectCloseCode(websocket.CloseTryAgainLater)
		got := errs.wait(t, 3*time.Second)
		if !errors.Is(got[0], websocket.ErrReceiveBudget) {
			t.Fatalf("B's ReadMessage: %v, want ErrReceiveBudget", got[0])
		}

		// A finishes; both A's and C's messages are delivered whole.
		a.Write(aMasked[40<<10:])
		if _, ack := a.ReadMessage(); !bytes.Equal(ack, budgetAck(aData)) {
			t.Fatalf("A: ack %q, want %q", ack, budgetAck(aData))
		}
		if _, ack := c.ReadMessage(); !bytes.Equal(ack, budgetAck(cData)) {
			t.Fatalf("C: ack %q, want %q", ack, budgetAck(cData))
		}
	})
}

// op is the opcode of the i-th fragment of a binary message.
func op(i int) frame.Opcode {
	if i == 0 {
		return frame.OpBinary
	}
	return frame.OpContinuation
}

// TestWriteTimeoutEndsWritersToNonReaders: peers that never read make the
// server's writes block; WriteTimeout fails them with a timeout, closes the
// connections and lets every handler return.
func TestWriteTimeoutEndsWritersToNonReaders(t *testing.T) {
	const (
		conns   = 20
		timeout = 500 * time.Millisecond
	)
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		errs := newHandlerErrors(conns)
		var lastWrite atomic.Int64
		u := &websocket.HertzUpgrader{WriteTimeout: timeout}
		big := make([]byte, 256<<10)
		addr := hostileServe(t, tc, u, func(c *websocket.Conn) {
			for i := 0; i < 10000; i++ {
				if err := c.WriteMessage(websocket.BinaryMessage, big); err != nil {
					errs.add(err)
					return
				}
				lastWrite.Store(time.Now().UnixNano())
			}
			errs.add(errors.New("10000 writes of 256 KiB to a peer that never reads all succeeded"))
		})
		for i := 0; i < conns; i++ {
			rc := wstest.DialRaw(t, addr)
			if tcp, ok := rc.NetConn.(*net.TCPConn); ok {
				_ = tcp.SetReadBuffer(16 << 10)
			}
			rc.Handshake("/ws")
		}
		got := errs.wait(t, 10*time.Second)
		// Every write that succeeded came before the last one that timed
		// out by at least about the timeout; the handlers all ended
		// within the timeout and a second of the last successful write.
		if since := time.Since(time.Unix(0, lastWrite.Load())); since > timeout+time.Second {
			t.Errorf("the last handler returned %v after the last successful write, want under %v", since, timeout+time.Second)
		}
		for _, err := range got {
			if !wstest.IsTimeout(err) {
				t.Fatalf("WriteMessage to a peer that never reads: %v, want a timeout", err)
			}
		}
	})
}

// TestKeepAliveTimeoutSendsCloseFrame: a peer that answers no ping is sent
// close code 1001 before the server drops it.
func TestKeepAliveTimeoutSendsCloseFrame(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		errs := newHandlerErrors(1)
		u := &websocket.HertzUpgrader{KeepAlive: 200 * time.Millisecond}
		addr := hostileServe(t, tc, u, func(c *websocket.Conn) {
			_, _, err := c.ReadMessage()
			errs.add(err)
		})
		rc := wstest.DialRaw(t, addr)
		rc.Handshake("/ws")
		pings := 0
		for i := 0; i < 10; i++ {
			f := rc.ReadFrame()
			if f.Header.Opcode == frame.OpPing {
				pings++
				continue
			}
			if f.Header.Opcode != frame.OpClose {
				t.Fatalf("got %v frame, want pings then a close", f.Header.Opcode)
			}
			code, reason, err := frame.ParseClosePayload(f.Payload)
			if err != nil || int(code) != websocket.CloseGoingAway {
				t.Fatalf("close payload %q (%v), want code 1001", f.Payload, err)
			}
			t.Logf("%d ping(s), then close %d %q", pings, code, reason)
			rc.ExpectClosed()
			got := errs.wait(t, 3*time.Second)
			if !errors.Is(got[0], websocket.ErrKeepAliveTimeout) {
				t.Fatalf("ReadMessage: %v, want ErrKeepAliveTimeout", got[0])
			}
			return
		}
		t.Fatal("no close frame after 10 frames")
	})
}

// TestDialerWriteTimeout: the client's WriteTimeout ends writes to a
// server that stopped reading, and closes the connection.
func TestDialerWriteTimeout(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		stop := make(chan struct{})
		u := &websocket.HertzUpgrader{}
		addr := hostileServe(t, tc, u, func(c *websocket.Conn) {
			<-stop // never reads
		})
		defer close(stop)
		d := websocket.Dialer{WriteTimeout: 300 * time.Millisecond}
		conn, _, err := d.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		big := make([]byte, 256<<10)
		var werr error
		start := time.Now()
		for i := 0; i < 1000 && werr == nil; i++ {
			werr = conn.WriteMessage(websocket.BinaryMessage, big)
		}
		if !wstest.IsTimeout(werr) {
			t.Fatalf("WriteMessage to a server that never reads: %v, want a timeout", werr)
		}
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Fatalf("the write timed out after %v", elapsed)
		}
		if _, _, err := conn.ReadMessage(); !errors.Is(err, websocket.ErrConnClosed) {
			t.Fatalf("ReadMessage after the write timeout: %v, want ErrConnClosed", err)
		}
	})
}

// TestReceiveBudgetTakesAMessageItsOwnSize: a message as large as the whole
// budget, arriving slowly enough to be staged, is delivered.
func TestReceiveBudgetTakesAMessageItsOwnSize(t *testing.T) {
	const budget = 4 << 20
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{ReceiveBudget: budget, MessageTimeout: 5 * time.Second}
		addr := hostileServe(t, tc, u, func(c *websocket.Conn) {
			_, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			_ = c.WriteMessage(websocket.TextMessage, budgetAck(p))
		})
		rc := wstest.DialRaw(t, addr)
		rc.Handshake("/ws")
		data := bytes.Repeat([]byte("budget"), budget/6)
		data = append(data, make([]byte, budget-len(data))...)
		masked := append([]byte(nil), data...)
		frame.Mask(wstest.Mask, 0, masked)
		announce(t, rc, true, frame.OpBinary, int64(len(data)), nil)
		// A little at first, so the buffer is staged before the rest.
		rc.Write(masked[:40<<10])
		time.Sleep(100 * time.Millisecond)
		rc.Write(masked[40<<10:])
		if _, ack := rc.ReadMessage(); !bytes.Equal(ack, budgetAck(data)) {
			t.Fatalf("ack %q, want %q", ack, budgetAck(data))
		}
	})
}
