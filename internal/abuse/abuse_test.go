package abuse

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hertzws/websocket/frame"
)

// env is what an attack works with.
type env struct {
	t       *testing.T
	s       *server
	n       int   // connections, at this size of the suite
	base    Stats // after a collection, before the attack
	baseRSS uint64
}

// attack is one row of the suite: the server it needs, how many
// connections it opens in the short and the full form, and what it does.
// run reports violated bounds with e.t.Errorf and returns notes for the
// table.
type attack struct {
	name        string
	short, full int
	server      func(n int) serverConfig
	run         func(e *env) string
}

const readLimit = 32 << 20 // the library's default

// proberHandlers is how many handlers the well-behaved client keeps
// running on the server: its one connection.
const proberHandlers = 1

// minProbe is the least time the well-behaved client runs in each row.
const minProbe = 500 * time.Millisecond

// dialAll opens n WebSocket connections, closed when the test ends.
func dialAll(e *env, n int) []*Client {
	e.t.Helper()
	clients := make([]*Client, n)
	err := parallel(n, 16, func(i int) error {
		c, err := DialWebSocket(e.s.addr)
		clients[i] = c
		return err
	})
	e.t.Cleanup(func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return clients
}

// perConn checks that what the server holds now, heap after a collection
// and RSS, grew by at most bound per connection over the baseline.
func perConn(e *env, bound int64) string {
	st := e.s.stats(true)
	rss, _ := e.s.rss()
	heap := (int64(st.HeapAlloc) - int64(e.base.HeapAlloc)) / int64(e.n)
	res := (int64(rss) - int64(e.baseRSS)) / int64(e.n)
	if heap > bound || res > bound {
		e.t.Errorf("%d connections hold %d B of heap and %d B of RSS each, want at most %d", e.n, heap, res, bound)
	}
	return fmt.Sprintf("held per connection: heap %.1f KiB, RSS %.1f KiB", float64(heap)/1024, float64(res)/1024)
}

// closeCodes counts the close codes (0 for none) that clients saw.
type closeCodes struct {
	mu     sync.Mutex
	counts map[int]int
}

func (cc *closeCodes) add(code int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.counts == nil {
		cc.counts = map[int]int{}
	}
	cc.counts[code]++
}

func (cc *closeCodes) String() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var parts []string
	for _, code := range []int{0, 1000, 1001, 1002, 1007, 1008, 1009, 1011, 1013} {
		if n := cc.counts[code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d×%d", n, code))
		}
	}
	return strings.Join(parts, " ")
}

func (cc *closeCodes) only(code int) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.counts) == 1 && cc.counts[code] > 0
}

var attacks = []attack{
	{
		// Finding 1 of issue 15: a frame header announcing a message just
		// under the read limit and one byte of it bought 1 MiB.
		name: "announce 32 MiB, send 1 byte", short: 200, full: 2000,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			clients := dialAll(e, e.n)
			e.base = e.s.stats(true)
			e.baseRSS, _ = e.s.rss()
			head := append(Header(true, 0, frame.OpBinary, readLimit-1), Masked([]byte{'x'}, 0)...)
			if err := parallel(len(clients), 16, func(i int) error { return clients[i].Write(head, 5*time.Second) }); err != nil {
				e.t.Fatal(err)
			}
			time.Sleep(time.Second)
			return perConn(e, 64<<10)
		},
	},
	{
		// A message trickled one byte every 2 s: KeepAlive counts that as
		// activity; MessageTimeout ends it with 1008.
		name: "trickle 1 byte / 2 s", short: 20, full: 500,
		server: func(int) serverConfig {
			return serverConfig{args: []string{"-message-timeout", trickleTimeout().String(), "-keepalive", "3s"}}
		},
		run: func(e *env) string {
			clients := dialAll(e, e.n)
			var codes closeCodes
			var late atomic.Int32
			start := time.Now()
			err := parallel(len(clients), len(clients), func(i int) error {
				c := clients[i]
				payload := Masked(bytes.Repeat([]byte{'t'}, 1000), 0)
				if err := c.Write(Header(true, 0, frame.OpText, 1000), 5*time.Second); err != nil {
					return err
				}
				closed := make(chan int, 1)
				go func() {
					code, _ := c.ReadUntilClose(trickleTimeout()+5*time.Second, 100)
					closed <- code
				}()
				for j := 0; ; j++ {
					select {
					case code := <-closed:
						if time.Since(start) > trickleTimeout()+2*time.Second {
							late.Add(1)
						}
						codes.add(code)
						return nil
					case <-time.After(2 * time.Second):
						_ = c.Write(payload[j:j+1], time.Second)
					}
				}
			})
			if err != nil {
				e.t.Fatal(err)
			}
			if !codes.only(1008) || late.Load() > 0 {
				e.t.Errorf("close codes %v, %d later than MessageTimeout+2s; want 1008 for every trickler in time", &codes, late.Load())
			}
			return fmt.Sprintf("MessageTimeout %v: %s after %v", trickleTimeout(), &codes, time.Since(start).Round(100*time.Millisecond))
		},
	},
	{
		// Finding 2: every connection sending a message at the read limit
		// at once. With a budget (and GOMEMLIMIT just above it, since the
		// budget bounds live buffers, not garbage) the heap stays inside.
		name: "32 MiB messages at once, budget", short: 10, full: 100,
		server: func(int) serverConfig {
			b := bigBudget()
			return serverConfig{
				args: []string{"-mode", "ack", "-budget", fmt.Sprint(b)},
				env:  []string{fmt.Sprintf("GOMEMLIMIT=%dMiB", b*11/10>>20)},
			}
		},
		run: func(e *env) string { return bigMessages(e, bigBudget()) },
	},
	{
		name: "32 MiB messages at once, no budget", short: 10, full: 100,
		server: func(int) serverConfig {
			return serverConfig{args: []string{"-mode", "ack", "-budget", "-1"}}
		},
		run: func(e *env) string { return bigMessages(e, 0) },
	},
	{
		// Finding 3: peers that never read held their writers for ever.
		name: "never read", short: 100, full: 2000,
		server: func(int) serverConfig {
			return serverConfig{args: []string{"-write-timeout", neverReadTimeout().String()}}
		},
		run: func(e *env) string {
			msg := Frame(true, 0, frame.OpBinary, bytes.Repeat([]byte{'r'}, 64<<10))
			// Each client sends whole messages until the server closes
			// the connection: its echo fills the socket buffers (the
			// client's receive buffer is 4 KiB), its handler blocks in
			// WriteMessage, stops reading, and WriteTimeout must end it.
			clients := make([]*Client, e.n)
			err := parallel(e.n, 32, func(i int) error {
				d := net.Dialer{Timeout: 10 * time.Second, Control: smallReceiveBuffer}
				nc, err := d.Dial("tcp", e.s.addr)
				if err != nil {
					return err
				}
				clients[i] = &Client{Conn: nc, br: newReader(nc)}
				return clients[i].Handshake(e.s.addr)
			})
			e.t.Cleanup(func() {
				for _, c := range clients {
					if c != nil {
						c.Close()
					}
				}
			})
			if err != nil {
				e.t.Fatal(err)
			}
			err = parallel(e.n, e.n, func(i int) error {
				c := clients[i]
				defer c.Close()
				for j := 0; j < 1000; j++ {
					if err := c.Write(msg, time.Minute); err != nil {
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() {
							return fmt.Errorf("the server held the connection for a minute: %w", err)
						}
						return nil // closed by the server
					}
				}
				return errors.New("the server read 64 MiB from a peer that never read its echo")
			})
			if err != nil {
				e.t.Fatal(err)
			}
			took, ok := e.s.waitHandlers(proberHandlers, 5*time.Second)
			st := e.s.stats(false)
			if !ok {
				e.t.Errorf("%d handlers still running %v after every client was closed", st.Handlers-proberHandlers, took)
			}
			if st.WriteFails < int64(e.n) || st.WriteFailMax > neverReadTimeout()+time.Second {
				e.t.Errorf("%d writes failed, the longest after %v; want %d, each within WriteTimeout %v + 1 s", st.WriteFails, st.WriteFailMax, e.n, neverReadTimeout())
			}
			return fmt.Sprintf("WriteTimeout %v: %d blocked writes failed, the longest after %v; handlers gone %v after the last client", neverReadTimeout(), st.WriteFails, st.WriteFailMax.Round(10*time.Millisecond), took.Round(10*time.Millisecond))
		},
	},
	{
		// Finding 4: keepalive dropped silent peers without a close frame.
		name: "silent peer, keepalive", short: 50, full: 500,
		server: func(int) serverConfig { return serverConfig{args: []string{"-keepalive", "1s"}} },
		run: func(e *env) string {
			clients := dialAll(e, e.n)
			var codes closeCodes
			start := time.Now()
			_ = parallel(len(clients), len(clients), func(i int) error {
				code, _ := clients[i].ReadUntilClose(5*time.Second, 20) // pings are not answered
				codes.add(code)
				return nil
			})
			took := time.Since(start)
			if !codes.only(1001) || took > 3500*time.Millisecond {
				e.t.Errorf("close codes %v after %v, want 1001 for every silent peer within 2 intervals", &codes, took)
			}
			return fmt.Sprintf("KeepAlive 1s: %s after %v", &codes, took.Round(100*time.Millisecond))
		},
	},
	{
		name: "slowloris handshake", short: 100, full: 1000,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			var closed atomic.Int32
			start := time.Now()
			req := UpgradeRequest(e.s.addr, "/ws")
			_ = parallel(e.n, e.n, func(i int) error {
				c, err := Dial(e.s.addr)
				if err != nil {
					return err
				}
				defer c.Close()
				for j := 0; j < len(req)-1; j++ {
					if c.Write(req[j:j+1], time.Second) != nil {
						break
					}
					if c.WaitClosed(200 * time.Millisecond) {
						closed.Add(1)
						return nil
					}
				}
				return nil
			})
			took := time.Since(start)
			if int(closed.Load()) != e.n {
				e.t.Errorf("%d of %d slow handshakes were dropped", closed.Load(), e.n)
			}
			return fmt.Sprintf("HandshakeReadTimeout 2s: %d/%d dropped within %v", closed.Load(), e.n, took.Round(100*time.Millisecond))
		},
	},
	{
		name: "header bomb", short: 20, full: 200,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			bomb := UpgradeRequest(e.s.addr, "/ws", "X-Bomb: "+strings.Repeat("b", 2<<20))
			statuses := map[int]int{}
			var mu sync.Mutex
			_ = parallel(e.n, 16, func(i int) error {
				c, err := Dial(e.s.addr)
				if err != nil {
					return err
				}
				defer c.Close()
				go func() { _ = c.Write(bomb, 5*time.Second) }()
				_ = c.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				status, _ := c.ReadStatus()
				mu.Lock()
				statuses[status]++
				mu.Unlock()
				return nil
			})
			if statuses[101] > 0 {
				e.t.Errorf("a 2 MiB header block was upgraded: %v", statuses)
			}
			return fmt.Sprintf("2 MiB of headers: statuses %v (0: connection closed)", statuses)
		},
	},
	{
		name: "ping flood, pongs never read", short: 4, full: 20,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			clients := dialAll(e, e.n)
			ping := Frame(true, 0, frame.OpPing, bytes.Repeat([]byte{'p'}, 125))
			batch := bytes.Repeat(ping, 1000)
			pings := 100000
			if full() {
				pings = 1000000
			}
			var sent atomic.Int64
			_ = parallel(len(clients), len(clients), func(i int) error {
				for j := 0; j < pings/1000; j++ {
					if clients[i].Write(batch, 2*time.Second) != nil {
						return nil // the server stopped reading: its pongs are stuck
					}
					sent.Add(1000)
				}
				return nil
			})
			st := e.s.stats(false)
			if grew := int64(st.HeapAllocPeak) - int64(e.base.HeapAlloc); grew > 64<<20 {
				e.t.Errorf("heap grew by %s under a ping flood", signedMiB(grew))
			}
			return fmt.Sprintf("%d pings of 125 B sent over %d connections", sent.Load(), e.n)
		},
	},
	{
		name: "1-byte fragments", short: 1, full: 4,
		server: func(int) serverConfig { return serverConfig{args: []string{"-mode", "ack"}} },
		run: func(e *env) string {
			frags := 200000
			if full() {
				frags = 5000000
			}
			return fragmented(e, frags, 0, func(i int) []byte { return []byte{byte('a' + i%26)} })
		},
	},
	{
		name: "announce 2^63-1 bytes", short: 50, full: 500,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			clients := dialAll(e, e.n)
			var codes closeCodes
			_ = parallel(len(clients), 16, func(i int) error {
				_ = clients[i].Write(append(Header(true, 0, frame.OpBinary, 1<<63-1), 'x'), 2*time.Second)
				code, _ := clients[i].ReadUntilClose(5*time.Second, 10)
				codes.add(code)
				return nil
			})
			if !codes.only(1009) {
				e.t.Errorf("close codes %v, want 1009", &codes)
			}
			return codes.String()
		},
	},
	{
		name: "compression bomb", short: 10, full: 20,
		server: func(int) serverConfig { return serverConfig{args: []string{"-compress"}} },
		run: func(e *env) string {
			bomb := deflate(make([]byte, 256<<20)) // 256 MiB of zeros
			msg := Frame(true, frame.Rsv1, frame.OpBinary, bomb)
			var codes closeCodes
			_ = parallel(e.n, e.n, func(i int) error {
				c, err := DialWebSocket(e.s.addr, "Sec-WebSocket-Extensions: permessage-deflate")
				if err != nil {
					return err
				}
				defer c.Close()
				go func() { _ = c.Write(msg, 5*time.Second) }()
				code, _ := c.ReadUntilClose(10*time.Second, 10)
				codes.add(code)
				return nil
			})
			st := e.s.stats(false)
			grew := int64(st.HeapAllocPeak) - int64(e.base.HeapAlloc)
			if !codes.only(1009) {
				e.t.Errorf("close codes %v, want 1009", &codes)
			}
			if grew > int64(e.n)*(readLimit+readLimit/2) {
				e.t.Errorf("heap grew by %s for %d bombs, want at most 1.5× the read limit each", signedMiB(grew), e.n)
			}
			return fmt.Sprintf("%d KiB inflating to 256 MiB: %s", len(bomb)>>10, &codes)
		},
	},
	{
		name: "compressed 1-byte fragments", short: 1, full: 4,
		server: func(int) serverConfig { return serverConfig{args: []string{"-mode", "ack", "-compress"}} },
		run: func(e *env) string {
			text := make([]byte, 400<<10)
			rng := rand.New(rand.NewSource(1))
			for i := range text {
				text[i] = "websocket hertz 压缩 "[rng.Intn(10)]
			}
			compressed := deflate(text)
			note := fragmented(e, len(compressed), frame.Rsv1, func(i int) []byte { return compressed[i : i+1] }, text)
			return fmt.Sprintf("%d KiB compressed of %d KiB: %s", len(compressed)>>10, len(text)>>10, note)
		},
	},
	{
		name: "close flood", short: 500, full: 5000,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			closeFrame := Frame(true, 0, frame.OpClose, []byte{0x03, 0xe8})
			_ = parallel(e.n, 32, func(i int) error {
				c, err := DialWebSocket(e.s.addr)
				if err != nil {
					return err
				}
				_ = c.Write(closeFrame, time.Second)
				return c.Close()
			})
			took, ok := e.s.waitHandlers(proberHandlers, 5*time.Second)
			if !ok {
				e.t.Errorf("%d handlers still running 5 s after the close flood", e.s.stats(false).Handlers)
			}
			return fmt.Sprintf("every handler ended %v after the last close", took.Round(10*time.Millisecond))
		},
	},
	{
		name: "connection churn", short: 2000, full: 20000,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			var failed atomic.Int32
			start := time.Now()
			closeFrame := Frame(true, 0, frame.OpClose, []byte{0x03, 0xe8})
			_ = parallel(e.n, 8, func(i int) error {
				c, err := DialWebSocket(e.s.addr)
				if err != nil {
					failed.Add(1)
					return nil
				}
				defer c.Close()
				if c.Write(closeFrame, time.Second) != nil {
					failed.Add(1)
					return nil
				}
				if code, err := c.ReadUntilClose(2*time.Second, 2); err != nil || code != 1000 {
					failed.Add(1)
				}
				return nil
			})
			took := time.Since(start)
			_, ok := e.s.waitHandlers(proberHandlers, 5*time.Second)
			st := e.s.stats(true)
			if failed.Load() > 0 || !ok || st.Goroutines > e.base.Goroutines+5 {
				e.t.Errorf("%d of %d cycles failed; %d handlers left, goroutines %d (baseline %d)", failed.Load(), e.n, st.Handlers, st.Goroutines, e.base.Goroutines)
			}
			return fmt.Sprintf("%d cycles in %v (%.0f/s), goroutines back to %d", e.n, took.Round(100*time.Millisecond), float64(e.n)/took.Seconds(), st.Goroutines)
		},
	},
}

// bigMessages sends one message of the read limit minus one byte on every
// connection at once and checks that each is acknowledged intact or
// refused with a close code, and the server's peak heap: within the budget
// plus 10 % when there is one, within 1.2× the bytes in flight when not.
func bigMessages(e *env, budget int64) string {
	payload := make([]byte, readLimit-1)
	rand.New(rand.NewSource(2)).Read(payload)
	want := Ack(payload)
	msg := Frame(true, 0, frame.OpBinary, payload)
	clients := dialAll(e, e.n)
	e.base = e.s.stats(true)
	var codes closeCodes
	var delivered atomic.Int32
	start := time.Now()
	err := parallel(len(clients), len(clients), func(i int) error {
		c := clients[i]
		go func() { _ = c.Write(msg, 2*time.Minute) }()
		f, err := c.ReadFrame(2 * time.Minute)
		switch {
		case err != nil:
			return err
		case f.Op == frame.OpText && string(f.Payload) == want:
			delivered.Add(1)
		case f.Op == frame.OpClose && len(f.Payload) >= 2:
			codes.add(int(f.Payload[0])<<8 | int(f.Payload[1]))
		default:
			return fmt.Errorf("got %v %q, want the ack %q or a close", f.Op, f.Payload, want)
		}
		return nil
	})
	took := time.Since(start)
	if err != nil {
		e.t.Fatal(err)
	}
	st := e.s.stats(false)
	peak := int64(st.HeapAllocPeak) - int64(e.base.HeapAlloc)
	live := int64(st.HeapLivePeak) - int64(e.base.HeapLive)
	inFlight := int64(e.n) * int64(len(payload))
	note := fmt.Sprintf("%d delivered intact, refused: [%s], in %v; peak heap %s, peak live heap %s", delivered.Load(), &codes, took.Round(100*time.Millisecond), signedMiB(peak), signedMiB(live))
	if budget > 0 {
		// The budget bounds the buffers the server holds: the live heap.
		// HeapAlloc also counts garbage (delivered messages the collector
		// has not reclaimed yet), which GOMEMLIMIT keeps in check.
		if live > budget*11/10 {
			e.t.Errorf("peak live heap grew by %s, want at most the budget %s + 10 %%", signedMiB(live), mib(uint64(budget)))
		}
		return note + fmt.Sprintf(" = %.2f× (live %.2f×) the %s budget, GOMEMLIMIT = budget + 10 %%", float64(peak)/float64(budget), float64(live)/float64(budget), mib(uint64(budget)))
	}
	if float64(peak) > 1.2*float64(inFlight) {
		e.t.Errorf("peak heap grew by %s for %s in flight, want at most 1.2×", signedMiB(peak), mib(uint64(inFlight)))
	}
	return note + fmt.Sprintf(" = %.2f× the %s in flight", float64(peak)/float64(inFlight), mib(uint64(inFlight)))
}

// fragmented sends e.n messages of frags fragments each (fragment i from
// part(i)), RSV bits rsv on the first, and checks each message's ack
// against whole (or the concatenated parts when whole is not given).
func fragmented(e *env, frags int, rsv byte, part func(i int) []byte, whole ...[]byte) string {
	var msg []byte
	var sent []byte
	for i := 0; i < frags; i++ {
		op, r := frame.OpContinuation, byte(0)
		if i == 0 {
			op, r = frame.OpBinary, rsv
		}
		p := part(i)
		sent = append(sent, p...)
		msg = append(msg, Frame(i == frags-1, r, op, p)...)
	}
	if len(whole) > 0 {
		sent = whole[0]
	}
	want := Ack(sent)
	extra := []string(nil)
	if rsv != 0 {
		extra = []string{"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover"}
	}
	start := time.Now()
	err := parallel(e.n, e.n, func(i int) error {
		c, err := DialWebSocket(e.s.addr, extra...)
		if err != nil {
			return err
		}
		defer c.Close()
		go func() { _ = c.Write(msg, time.Minute) }()
		f, err := c.ReadFrame(time.Minute)
		if err != nil {
			return err
		}
		if string(f.Payload) != want {
			return fmt.Errorf("ack %q, want %q", f.Payload, want)
		}
		return nil
	})
	if err != nil {
		e.t.Error(err)
	}
	return fmt.Sprintf("%d fragments (%d KiB on the wire) per message, acknowledged intact in %v", frags, len(msg)>>10, time.Since(start).Round(10*time.Millisecond))
}

// deflate compresses b as a permessage-deflate payload (RFC 7692 §7.2.1:
// the final empty block's 00 00 ff ff is left off).
func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = w.Write(b)
	_ = w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// smallReceiveBuffer makes a client socket's receive buffer small, so that
// a server writing to a client that never reads blocks soon.
func smallReceiveBuffer(network, address string, c syscall.RawConn) error {
	var err error
	_ = c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
	return err
}

func trickleTimeout() time.Duration {
	if full() {
		return 10 * time.Second
	}
	return 5 * time.Second
}

func neverReadTimeout() time.Duration {
	if full() {
		return 2 * time.Second
	}
	return time.Second
}

func bigBudget() int64 {
	if full() {
		return 256 << 20
	}
	return 128 << 20
}

// row is one line of the table TestAbuse prints.
type row struct {
	attack, transport string
	conns             int
	peakHeap, peakRSS int64
	p50, p99, hsP99   time.Duration
	probes            int
	verdict, notes    string
}

func TestAbuse(t *testing.T) {
	var (
		mu   sync.Mutex
		rows []row
	)
	for _, a := range attacks {
		a := a
		for _, transport := range []string{"netpoll", "standard"} {
			transport := transport
			t.Run(a.name+"/"+transport, func(t *testing.T) {
				n := a.short
				if full() {
					n = a.full
				}
				s := startServer(t, transport, a.server(n))
				e := &env{t: t, s: s, n: n}
				e.base = s.stats(true)
				e.baseRSS, _ = s.rss()
				p := startProber(s.addr)
				began := time.Now()
				notes := a.run(e)
				// Give the well-behaved client time for a few round trips
				// even when the attack was quick.
				if d := time.Since(began); d < minProbe {
					time.Sleep(minProbe - d)
				}
				p50, p99, hsP99, probes, failures := p.finish()
				st := s.stats(false)
				_, peakRSS := s.rss()
				if len(failures) > 0 {
					t.Errorf("the well-behaved client failed during the attack: %v", failures)
				}
				if probes == 0 {
					t.Error("the well-behaved client got no answer during the attack")
				}
				verdict := "pass"
				if t.Failed() {
					verdict = "FAIL"
				}
				mu.Lock()
				rows = append(rows, row{a.name, transport, n, int64(st.HeapAllocPeak) - int64(e.base.HeapAlloc), int64(peakRSS) - int64(e.baseRSS), p50, p99, hsP99, probes, verdict, notes})
				mu.Unlock()
			})
		}
	}
	var b strings.Builder
	form := "short"
	if full() {
		form = "full"
	}
	fmt.Fprintf(&b, "\nabuse suite, %s form, GOMAXPROCS %d; peaks are growth over the server's baseline\n\n", form, gomaxprocs)
	b.WriteString("| attack | transport | conns | peak heap | peak RSS | legit p50 / p99 | handshake p99 | verdict | notes |\n|---|---|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %v / %v | %v | %s | %s |\n", r.attack, r.transport, r.conns, signedMiB(r.peakHeap), signedMiB(r.peakRSS),
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.hsP99.Round(10*time.Microsecond), r.verdict, r.notes)
	}
	t.Log(b.String())
}
