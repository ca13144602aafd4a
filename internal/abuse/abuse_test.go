package abuse

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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

// bombsAtOnce is how many header bombs are sent at a time.
const bombsAtOnce = 16

// proberGoroutines is how many goroutines above the baseline the
// well-behaved client may account for on the server: its connection's,
// and one it is replacing.
const proberGoroutines = 3

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

// add records one client's close code.
func (cc *closeCodes) add(code int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.counts == nil {
		cc.counts = map[int]int{}
	}
	cc.counts[code]++
}

// String lists the counts as "count×code".
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

// maxDurations keeps the largest duration seen under each name.
type maxDurations struct {
	mu    sync.Mutex
	names []string
	max   map[string]time.Duration
}

// add records d under name.
func (m *maxDurations) add(name string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.max == nil {
		m.max = map[string]time.Duration{}
	}
	if _, ok := m.max[name]; !ok {
		m.names = append(m.names, name)
	}
	if d > m.max[name] {
		m.max[name] = d
	}
}

// String lists the maxima as "name ≤ d", in the order names first came.
func (m *maxDurations) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var parts []string
	for _, name := range m.names {
		parts = append(parts, fmt.Sprintf("%s ≤ %v", name, m.max[name].Round(10*time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// closeTimings records, for a client whose attack began at start, when its
// close frame and the end of its connection came (see CloseThenEOF), and
// returns 1 when a close frame came but the server left the connection
// open after it.
func closeTimings(m *maxDurations, start time.Time, code int, closedAt, eofAt time.Time) int32 {
	if code == 0 {
		return 0
	}
	m.add("close frame", closedAt.Sub(start))
	if eofAt.IsZero() {
		return 1
	}
	m.add("closed", eofAt.Sub(start))
	return 0
}

// total is how many codes were added.
func (cc *closeCodes) total() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	n := 0
	for _, c := range cc.counts {
		n += c
	}
	return n
}

// only reports whether every client saw code.
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
		// The row above, but the message keeps trickling, one byte every
		// 2 s: KeepAlive counts that as activity, so only MessageTimeout
		// ends it, with 1008. Midway, the server must hold no more than
		// in the row above.
		name: "trickle 1 byte / 2 s", short: 200, full: 2000,
		server: func(int) serverConfig {
			return serverConfig{args: []string{"-message-timeout", trickleTimeout().String(), "-keepalive", "3s"}}
		},
		run: func(e *env) string {
			clients := dialAll(e, e.n)
			e.base = e.s.stats(true)
			e.baseRSS, _ = e.s.rss()
			head := append(Header(true, 0, frame.OpBinary, readLimit-1), Masked([]byte{'x'}, 0)...)
			bound := trickleTimeout() + 2*time.Second
			sentAt := make([]time.Time, len(clients))
			if err := parallel(len(clients), 16, func(i int) error {
				sentAt[i] = time.Now()
				return clients[i].Write(head, 5*time.Second)
			}); err != nil {
				e.t.Fatal(err)
			}
			var (
				codes       closeCodes
				timings     maxDurations
				late, noEOF atomic.Int32
				readers     sync.WaitGroup
			)
			closed := make([]atomic.Bool, len(clients))
			for i := range clients {
				readers.Add(1)
				go func(i int) {
					defer readers.Done()
					defer closed[i].Store(true)
					// Waiting 5 s past the bound tells a late close from
					// a missing one.
					code, closedAt, eofAt := clients[i].CloseThenEOF(time.Until(sentAt[i].Add(bound+5*time.Second)), 100)
					codes.add(code)
					if code == 0 {
						return
					}
					timings.add("close frame", closedAt.Sub(sentAt[i]))
					if eofAt.IsZero() {
						noEOF.Add(1)
						return
					}
					timings.add("closed", eofAt.Sub(sentAt[i]))
					if eofAt.Sub(sentAt[i]) > bound {
						late.Add(1)
					}
				}(i)
			}
			// One more byte every 2 s on every connection still open, and
			// midway through MessageTimeout, what the server holds.
			var held string
			tick := time.NewTicker(2 * time.Second)
			defer tick.Stop()
			midway := time.After(trickleTimeout() / 2)
			done := make(chan struct{})
			go func() { readers.Wait(); close(done) }()
		trickle:
			for j := 1; j < readLimit; j++ {
				select {
				case <-done:
					break trickle
				case <-midway:
					held = perConn(e, 64<<10)
				case <-tick.C:
					b := Masked([]byte{'x'}, j)
					for i, c := range clients {
						if !closed[i].Load() {
							_ = c.Write(b, 100*time.Millisecond)
						}
					}
				}
			}
			if !codes.only(1008) || late.Load() > 0 || noEOF.Load() > 0 {
				e.t.Errorf("close codes %v; %d connections closed later than MessageTimeout + 2 s = %v, %d not closed after their close frame; want 1008 and the end of the connection within the bound for every trickler", &codes, late.Load(), bound, noEOF.Load())
			}
			return fmt.Sprintf("MessageTimeout %v: %s; %s; %s", trickleTimeout(), &codes, &timings, held)
		},
	},
	{
		// Finding 2: every connection sending a message at the read limit
		// at once. With a budget (and GOMEMLIMIT just above it, since the
		// budget bounds live buffers, not garbage) the heap stays inside.
		name: "32 MiB messages at once, budget", short: 20, full: 100,
		server: func(int) serverConfig {
			b := bigBudget()
			return serverConfig{
				args: []string{"-mode", "ack", "-budget", fmt.Sprint(b)},
				env:  []string{fmt.Sprintf("GOMEMLIMIT=%dMiB", b*11/10>>20)},
			}
		},
		run: func(e *env) string { return bigMessages(e, bigBudget(), false) },
	},
	{
		name: "32 MiB messages at once, no budget", short: 20, full: 100,
		server: func(int) serverConfig {
			return serverConfig{args: []string{"-mode", "ack", "-budget", "-1"}}
		},
		run: func(e *env) string { return bigMessages(e, 0, false) },
	},
	{
		// The same with the echo loop users write: a delivered message
		// stays live, outside the budget, while it is written back, so
		// only the bytes in flight bound the heap.
		name: "32 MiB messages at once, budget, echo", short: 20, full: 100,
		server: func(int) serverConfig {
			return serverConfig{args: []string{"-budget", fmt.Sprint(bigBudget())}}
		},
		run: func(e *env) string { return bigMessages(e, bigBudget(), true) },
	},
	{
		// Finding 3: peers that never read held their writers for ever.
		name: "never read", short: 200, full: 2000,
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
			if st.Goroutines > e.base.Goroutines+proberGoroutines {
				e.t.Errorf("%d goroutines after every client was closed, baseline %d (+%d for the well-behaved client)", st.Goroutines, e.base.Goroutines, proberGoroutines)
			}
			if st.WriteFails < int64(e.n) || st.WriteFailMax > neverReadTimeout()+time.Second {
				e.t.Errorf("%d writes failed, the longest after %v; want %d, each within WriteTimeout %v + 1 s", st.WriteFails, st.WriteFailMax, e.n, neverReadTimeout())
			}
			return fmt.Sprintf("WriteTimeout %v: %d blocked writes failed, the longest after %v; handlers gone %v after the last client, goroutines %d (baseline %d)", neverReadTimeout(), st.WriteFails, st.WriteFailMax.Round(10*time.Millisecond), took.Round(10*time.Millisecond), st.Goroutines, e.base.Goroutines)
		},
	},
	{
		// Finding 4: keepalive dropped silent peers without a close frame.
		name: "silent peer, keepalive", short: 50, full: 500,
		server: func(int) serverConfig { return serverConfig{args: []string{"-keepalive", "1s"}} },
		run: func(e *env) string {
			clients := dialAll(e, e.n)
			var (
				codes   closeCodes
				timings maxDurations
				noEOF   atomic.Int32
			)
			start := time.Now()
			_ = parallel(len(clients), len(clients), func(i int) error {
				// Pings are not answered: nothing is ever sent.
				code, closedAt, eofAt := clients[i].CloseThenEOF(6*time.Second, 20)
				codes.add(code)
				if code == 0 {
					return nil
				}
				timings.add("close frame", closedAt.Sub(start))
				if eofAt.IsZero() {
					noEOF.Add(1)
				} else {
					timings.add("closed", eofAt.Sub(start))
				}
				return nil
			})
			// Two intervals, and the time to send the close.
			const bound = 2500 * time.Millisecond
			if !codes.only(1001) || noEOF.Load() > 0 || timings.max["closed"] > bound {
				e.t.Errorf("close codes %v, %d connections not closed after it, %s; want 1001 for every silent peer, then the end of the connection, within %v", &codes, noEOF.Load(), &timings, bound)
			}
			return fmt.Sprintf("KeepAlive 1s: %s; %s", &codes, &timings)
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
			return fmt.Sprintf("WithHandshakeReadTimeout 2s: %d/%d dropped within %v", closed.Load(), e.n, took.Round(100*time.Millisecond))
		},
	},
	{
		// 2 MiB of request headers, twice Hertz's MaxHeaderBytes. The
		// server must refuse it, and hold no more than a few times what
		// the client sent while it does.
		name: "header bomb", short: 20, full: 200,
		server: func(int) serverConfig { return serverConfig{} },
		run: func(e *env) string {
			const size = 2 << 20
			bomb := UpgradeRequest(e.s.addr, "/ws", "X-Bomb: "+strings.Repeat("b", size))
			statuses := map[int]int{}
			var (
				mu      sync.Mutex
				timings maxDurations
			)
			_ = parallel(e.n, bombsAtOnce, func(i int) error {
				c, err := Dial(e.s.addr)
				if err != nil {
					return err
				}
				defer c.Close()
				start := time.Now()
				go func() { _ = c.Write(bomb, 5*time.Second) }()
				_ = c.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				status, _ := c.ReadStatus()
				timings.add("answered", time.Since(start))
				mu.Lock()
				statuses[status]++
				mu.Unlock()
				return nil
			})
			st := e.s.stats(false)
			// At most bombsAtOnce requests are in the server at a time.
			perConn := (int64(st.HeapInusePeak) - int64(e.base.HeapInuse)) / int64(e.n)
			if e.n > bombsAtOnce {
				perConn = perConn * int64(e.n) / bombsAtOnce
			}
			if statuses[101] > 0 {
				e.t.Errorf("a 2 MiB header block was upgraded: %v", statuses)
			}
			// Hertz's standard transport copies every Peek that spans its
			// buffer nodes into a new buffer it keeps until Release
			// (pkg/network/standard/connection.go), and its header parser
			// peeks ever longer prefixes of an incomplete header block:
			// 15 to 53 MiB per request in progress measured for 2 MiB,
			// depending on CPU contention. Its bound only catches growth without
			// limit; netpoll's is what the library would promise.
			factor := int64(4)
			if e.s.transport == "standard" {
				factor = 48
			}
			if perConn > factor*size {
				e.t.Errorf("peak heap in use grew by %s per request in progress for 2 MiB of headers each, want at most %d× that", signedMiB(perConn), factor)
			}
			return fmt.Sprintf("2 MiB of headers, %d at a time: statuses %v (0: connection closed), %s; peak heap in use %s per request in progress", bombsAtOnce, statuses, &timings, signedMiB(perConn))
		},
	},
	{
		// Pings as fast as the server takes them, and their pongs never
		// read: once the pongs fill the socket buffers, the server must
		// neither buffer them nor stop reading for ever. It may drop the
		// connection (automatic replies have 1 s to go out).
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
			var (
				sent             atomic.Int64
				dropped, stalled atomic.Int32
				timings          maxDurations
			)
			_ = parallel(len(clients), len(clients), func(i int) error {
				start := time.Now()
				for j := 0; j < pings/1000; j++ {
					n, err := clients[i].WriteCount(batch, 3*time.Second)
					sent.Add(int64(n / len(ping)))
					var ne net.Error
					switch {
					case err == nil:
						continue
					case errors.As(err, &ne) && ne.Timeout():
						stalled.Add(1)
					default:
						dropped.Add(1)
						timings.add("dropped after", time.Since(start))
					}
					return nil
				}
				return nil
			})
			st := e.s.stats(false)
			grew := int64(st.HeapAllocPeak) - int64(e.base.HeapAlloc)
			if grew > 16<<20 {
				e.t.Errorf("heap grew by %s under a ping flood on %d connections, want at most 16 MiB", signedMiB(grew), e.n)
			}
			if stalled.Load() > 0 {
				e.t.Errorf("%d connections neither read nor closed by the server for 3 s: it is stuck writing pongs", stalled.Load())
			}
			return fmt.Sprintf("%d pings of 125 B taken over %d connections; %d dropped by the server (%s), %d kept", sent.Load(), e.n, dropped.Load(), &timings, int32(e.n)-dropped.Load())
		},
	},
	{
		name: "1-byte fragments", short: 1, full: 4,
		server: func(int) serverConfig { return serverConfig{args: []string{"-mode", "ack"}} },
		run: func(e *env) string {
			frags := 1000000
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
			var (
				codes   closeCodes
				timings maxDurations
				noEOF   atomic.Int32
			)
			_ = parallel(len(clients), 16, func(i int) error {
				start := time.Now()
				_ = clients[i].Write(append(Header(true, 0, frame.OpBinary, 1<<63-1), 'x'), 2*time.Second)
				code, closedAt, eofAt := clients[i].CloseThenEOF(5*time.Second, 10)
				codes.add(code)
				noEOF.Add(closeTimings(&timings, start, code, closedAt, eofAt))
				return nil
			})
			if !codes.only(1009) || noEOF.Load() > 0 {
				e.t.Errorf("close codes %v, %d connections left open after it; want 1009, then the end of the connection", &codes, noEOF.Load())
			}
			return fmt.Sprintf("%s; %s", &codes, &timings)
		},
	},
	{
		name: "compression bomb", short: 10, full: 20,
		server: func(int) serverConfig { return serverConfig{args: []string{"-compress"}} },
		run: func(e *env) string {
			bomb := deflate(make([]byte, 256<<20)) // 256 MiB of zeros
			msg := Frame(true, frame.Rsv1, frame.OpBinary, bomb)
			var (
				codes   closeCodes
				timings maxDurations
				noEOF   atomic.Int32
			)
			_ = parallel(e.n, e.n, func(i int) error {
				c, err := DialWebSocket(e.s.addr, "Sec-WebSocket-Extensions: permessage-deflate")
				if err != nil {
					return err
				}
				defer c.Close()
				start := time.Now()
				go func() { _ = c.Write(msg, 5*time.Second) }()
				code, closedAt, eofAt := c.CloseThenEOF(10*time.Second, 10)
				codes.add(code)
				noEOF.Add(closeTimings(&timings, start, code, closedAt, eofAt))
				return nil
			})
			st := e.s.stats(false)
			grew := int64(st.HeapAllocPeak) - int64(e.base.HeapAlloc)
			if !codes.only(1009) || noEOF.Load() > 0 {
				e.t.Errorf("close codes %v, %d connections left open after it; want 1009, then the end of the connection", &codes, noEOF.Load())
			}
			if grew > int64(e.n)*(readLimit+readLimit/2) {
				e.t.Errorf("heap grew by %s for %d bombs, want at most 1.5× the read limit each", signedMiB(grew), e.n)
			}
			return fmt.Sprintf("%d KiB inflating to 256 MiB: %s; %s", len(bomb)>>10, &codes, &timings)
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
// connection at once and checks that each comes back intact (its ack, or
// with echo its echo, compared by length and CRC-32) or is refused with a
// close code. With a budget, and without echo, the server's peak live heap
// must stay within the budget plus 10 %; otherwise within 1.2× the bytes
// in flight. The live heap is what the last collection found live, so
// HeapAlloc and HeapInuse peaks, which count garbage too, are reported
// beside it.
func bigMessages(e *env, budget int64, echo bool) string {
	payload := make([]byte, readLimit-1)
	rand.New(rand.NewSource(2)).Read(payload)
	want, wantCRC := Ack(payload), crc32.ChecksumIEEE(payload)
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
		case !echo && f.Op == frame.OpText && string(f.Payload) == want:
			delivered.Add(1)
		case echo && f.Op == frame.OpBinary && f.Fin && f.Len == int64(len(payload)) && f.CRC == wantCRC:
			delivered.Add(1)
		case f.Op == frame.OpClose && len(f.Payload) >= 2:
			codes.add(int(f.Payload[0])<<8 | int(f.Payload[1]))
		case echo:
			return fmt.Errorf("got %v (fin %v) of %d B with CRC %08x, want the echo of %d B with CRC %08x or a close", f.Op, f.Fin, f.Len, f.CRC, len(payload), wantCRC)
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
	inuse := int64(st.HeapInusePeak) - int64(e.base.HeapInuse)
	live := int64(st.HeapLivePeak) - int64(e.base.HeapLive)
	inFlight := int64(e.n) * int64(len(payload))
	note := fmt.Sprintf("%d delivered intact, refused: [%s], in %v; peak HeapAlloc %s, HeapInuse %s, live heap %s", delivered.Load(), &codes, took.Round(100*time.Millisecond), signedMiB(peak), signedMiB(inuse), signedMiB(live))
	if int(delivered.Load())+codes.total() != e.n {
		e.t.Errorf("%d of %d messages delivered and %d refused", delivered.Load(), e.n, codes.total())
	}
	if budget > 0 && !echo {
		// The budget bounds the buffers of messages being received: the
		// live heap. HeapAlloc also counts garbage (delivered messages
		// the collector has not reclaimed yet), which GOMEMLIMIT keeps in
		// check.
		if live > budget*11/10 {
			e.t.Errorf("peak live heap grew by %s, want at most the budget %s + 10 %%", signedMiB(live), mib(uint64(budget)))
		}
		return note + fmt.Sprintf(" = %.2f× HeapAlloc, %.2f× live, of the %s budget (GOMEMLIMIT = budget + 10 %%)", float64(peak)/float64(budget), float64(live)/float64(budget), mib(uint64(budget)))
	}
	if float64(live) > 1.2*float64(inFlight) {
		e.t.Errorf("peak live heap grew by %s for %s in flight, want at most 1.2×", signedMiB(live), mib(uint64(inFlight)))
	}
	return note + fmt.Sprintf(" = %.2f× HeapAlloc, %.2f× live, of the %s in flight", float64(peak)/float64(inFlight), float64(live)/float64(inFlight), mib(uint64(inFlight)))
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

// trickleTimeout is the MessageTimeout of the trickle row.
func trickleTimeout() time.Duration {
	if full() {
		return 10 * time.Second
	}
	return 5 * time.Second
}

// neverReadTimeout is the WriteTimeout of the never-read row.
func neverReadTimeout() time.Duration {
	if full() {
		return 2 * time.Second
	}
	return time.Second
}

// bigBudget is the ReceiveBudget of the 32 MiB rows.
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

// targets are the servers every attack runs against: blocking handlers
// on both transports, and the event-driven mode on netpoll, the one where
// it differs (no goroutine per connection; on the standard transport it
// runs a goroutine per connection, as the blocking mode does).
var targets = []string{"netpoll", "standard", "netpoll" + eventsSuffix}

// TestAbuse runs every attack on every target, each against a server of
// its own, with the well-behaved client running throughout, and prints
// the table of what it measured.
func TestAbuse(t *testing.T) {
	var (
		mu   sync.Mutex
		rows []row
	)
	for _, a := range attacks {
		a := a
		for _, transport := range targets {
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
