//go:build linux

package websocket_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// The load test: WSLOAD_CONNS connections (default 1,000) each echo
// messages for WSLOAD_DURATION (default 5 s), on both transports. The
// clients (this package's Dialer) run in a child process, this test binary
// started again with WSLOAD_CHILD set, so that the server's memory and
// goroutines are measured alone and each process needs file descriptors
// for one end of each connection only. `make load` runs 10,000 connections
// for 60 s.

const (
	loadEnvChild    = "WSLOAD_CHILD"
	loadEnvAddr     = "WSLOAD_ADDR"
	loadEnvConns    = "WSLOAD_CONNS"
	loadEnvDuration = "WSLOAD_DURATION"
	// loadSourceIPs is how many loopback source addresses (127.0.0.2 and
	// up) the clients spread over, so that each gets its own ephemeral
	// port range.
	loadSourceIPs = 8
)

func TestMain(m *testing.M) {
	if os.Getenv(loadEnvChild) != "" {
		os.Exit(loadClientMain())
	}
	os.Exit(m.Run())
}

// loadResult is what the client process reports.
type loadResult struct {
	Conns       int      `json:"conns"`
	Messages    int64    `json:"messages"`
	Bytes       int64    `json:"bytes"`
	Lost        int64    `json:"lost"`
	Duplicated  int64    `json:"duplicated"`
	Corrupted   int64    `json:"corrupted"`
	CleanCloses int64    `json:"clean_closes"`
	Errors      []string `json:"errors"`
}

func loadSettings(t *testing.T) (conns int, dur time.Duration) {
	conns, dur = 1000, 5*time.Second
	if s := os.Getenv(loadEnvConns); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			t.Fatalf("%s=%q: want a number of connections from 1 to 100000", loadEnvConns, s)
		}
		conns = n
	}
	if s := os.Getenv(loadEnvDuration); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > 30*time.Minute {
			t.Fatalf("%s=%q: want a duration up to 30m", loadEnvDuration, s)
		}
		dur = d
	}
	return conns, dur
}

// raiseFileLimit makes room for n more file descriptors than the process
// has open slack for, raising the hard limit too when allowed (root).
func raiseFileLimit(t *testing.T, n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	want := uint64(n + 4096)
	if lim.Cur >= want {
		return
	}
	raised := lim
	raised.Cur = want
	if raised.Max < want {
		raised.Max = want
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		lim.Cur = lim.Max
		if lim.Cur < want || syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
			t.Fatalf("RLIMIT_NOFILE is %d (hard %d) and cannot be raised to %d: %v", lim.Cur, lim.Max, want, err)
		}
	}
}

// residentBytes returns the resident set size of this process.
func residentBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

func settledRSS(t *testing.T) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return residentBytes(t)
}

// settledHeap returns the bytes in use on the Go heap after two
// collections (the second empties what sync.Pools kept from the first).
func settledHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

func TestLoadEcho(t *testing.T) {
	conns, dur := loadSettings(t)
	raiseFileLimit(t, conns)
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		u := &websocket.HertzUpgrader{}
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{NoHijackConnPool: true}, nil, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) { _ = u.Upgrade(ctx, loadEcho) })
		})
		// One connection first, so that process-wide goroutines and
		// buffers exist before the baseline.
		warm, _ := wstest.Dial(t, nil, "ws://"+addr+"/ws", nil)
		wstest.CheckEcho(t, warm, websocket.TextMessage, []byte("warm"))
		warm.Close()
		wstest.WaitFor(t, 10*time.Second, "the warm-up connection to end", func() bool { return u.Connections() == 0 })
		coldRSS := settledRSS(t)

		// A short round at full size first: netpoll's epoll event buffers
		// (they double whenever a wait returns a full batch) and
		// descriptor cache, and the runtime's free goroutines, grow to
		// their peak and stay, as in any server that once had that many
		// busy clients. The leak checks below start from there.
		warmDur := 3 * time.Second
		if dur < warmDur {
			warmDur = dur
		}
		if w := runLoadRound(t, u, addr, conns, warmDur); w.res.CleanCloses != int64(conns) || len(w.res.Errors) > 0 {
			t.Fatalf("warm-up round: %d of %d close handshakes completed (errors %q)", w.res.CleanCloses, conns, w.res.Errors)
		}
		wstest.WaitFor(t, 30*time.Second, "the warm-up round's goroutines to end", func() bool { return runtime.NumGoroutine() < 50 })
		baseGoroutines := runtime.NumGoroutine()
		baseRSS := settledRSS(t)
		baseHeap := settledHeap()

		r := runLoadRound(t, u, addr, conns, dur)
		res := r.res
		t.Logf("%d connections held (dialled in %v); %d messages echoed in %v: %.0f messages/s, %.1f MiB/s each way",
			r.held, r.dialTook.Round(time.Millisecond), res.Messages, dur, float64(res.Messages)/dur.Seconds(),
			float64(res.Bytes)/dur.Seconds()/(1<<20))
		t.Logf("server RSS: %.1f MiB before any load, %.1f MiB after the warm-up round, peak %.1f MiB: %.1f KiB per connection; goroutines: baseline %d, peak %d",
			mib(coldRSS), mib(baseRSS), mib(r.peakRSS), float64(r.peakRSS-coldRSS)/float64(conns)/1024, baseGoroutines, r.peakGoroutines)
		if len(res.Errors) > 0 || res.Lost != 0 || res.Duplicated != 0 || res.Corrupted != 0 {
			t.Fatalf("lost %d, duplicated %d, corrupted %d; errors: %q", res.Lost, res.Duplicated, res.Corrupted, res.Errors)
		}
		if r.held != int64(conns) || res.Conns != conns {
			t.Fatalf("held %d connections, client reports %d, want %d", r.held, res.Conns, conns)
		}
		if res.Messages < int64(conns) {
			t.Fatalf("only %d messages over %d connections", res.Messages, conns)
		}
		if res.CleanCloses != int64(conns) {
			t.Fatalf("%d of %d close handshakes completed", res.CleanCloses, conns)
		}

		// Back to the baseline: every goroutine of the connections has
		// ended, and the memory they held is given back.
		wstest.WaitFor(t, 30*time.Second, "server goroutines to return to the baseline", func() bool {
			return runtime.NumGoroutine() <= baseGoroutines
		})
		var endHeap int64
		wstest.WaitFor(t, 30*time.Second, "the server's Go heap to return to the baseline", func() bool {
			endHeap = settledHeap()
			return endHeap-baseHeap <= 4<<20
		})
		t.Logf("after close: Go heap %.2f MiB over the baseline, %d goroutines", mib(endHeap-baseHeap), runtime.NumGoroutine())
		if loadUnderRace {
			return // the race detector's shadow memory is never given back
		}
		var endRSS int64
		growth := r.peakRSS - baseRSS
		allowed := growth/4 + 16<<20
		wstest.WaitFor(t, 30*time.Second, "server RSS to return to the baseline", func() bool {
			endRSS = settledRSS(t)
			return endRSS-baseRSS <= allowed
		})
		t.Logf("after close: RSS %.1f MiB, %.1f MiB over the baseline (%.0f%% of the peak's growth)",
			mib(endRSS), mib(endRSS-baseRSS), 100*float64(endRSS-baseRSS)/float64(growth))
	})
}

// loadRound is one run of the client process and what the server saw.
type loadRound struct {
	res                     loadResult
	held                    int64 // most connections the upgrader counted at once
	peakRSS, peakGoroutines int64
	dialTook                time.Duration
}

// runLoadRound runs the client process against addr: conns connections,
// held open together, echoing for dur, then closed. It returns once the
// upgrader counts no connection.
func runLoadRound(t *testing.T, u *websocket.HertzUpgrader, addr string, conns int, dur time.Duration) (r loadRound) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dur+10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadEnvChild+"=1", loadEnvAddr+"="+addr,
		loadEnvConns+"="+strconv.Itoa(conns), loadEnvDuration+"="+dur.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	childLine := func(prefix string) string {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("client process ended before %q: %v", prefix, lines.Err())
		}
		l := lines.Text()
		if !strings.HasPrefix(l, prefix) {
			t.Fatalf("client process said %q, want %q", l, prefix)
		}
		return strings.TrimPrefix(l, prefix)
	}

	// Sample the server while the clients run; the deferred function
	// fills in r's peaks.
	var peakRSS, peakGoroutines, held atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss := residentBytes(t); rss > peakRSS.Load() {
				peakRSS.Store(rss)
			}
			if g := int64(runtime.NumGoroutine()); g > peakGoroutines.Load() {
				peakGoroutines.Store(g)
			}
			if n := int64(u.Connections()); n > held.Load() {
				held.Store(n)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()
	defer func() {
		close(stopSampling)
		<-sampled
		r.held, r.peakRSS, r.peakGoroutines = held.Load(), peakRSS.Load(), peakGoroutines.Load()
	}()

	dialStart := time.Now()
	if got := childLine("connected "); got != strconv.Itoa(conns) {
		t.Fatalf("client process connected %s, want %d", got, conns)
	}
	r.dialTook = time.Since(dialStart)
	wstest.WaitFor(t, 30*time.Second, "the server to count every connection", func() bool { return u.Connections() == conns })
	held.Store(int64(u.Connections()))
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(childLine("result ")), &r.res); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client process: %v (errors: %q)", err, r.res.Errors)
	}
	wstest.WaitFor(t, 60*time.Second, "every connection to end", func() bool { return u.Connections() == 0 })
	return r
}

// loadEcho echoes whole messages, as a typical application handler reads
// and writes them.
func loadEcho(c *websocket.Conn) {
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil || c.WriteMessage(mt, msg) != nil {
			return
		}
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// loadClientMain is the client process: it dials every connection, says
// "connected N", waits for "go" on stdin, echoes for the duration on all
// connections at once, closes each with a close handshake, and prints
// "result {json}".
func loadClientMain() int {
	addr := os.Getenv(loadEnvAddr)
	conns, _ := strconv.Atoi(os.Getenv(loadEnvConns))
	dur, _ := time.ParseDuration(os.Getenv(loadEnvDuration))
	var res loadResult
	var mu sync.Mutex
	fail := func(format string, args ...interface{}) {
		mu.Lock()
		if len(res.Errors) < 10 {
			res.Errors = append(res.Errors, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	report := func() int {
		b, _ := json.Marshal(&res)
		fmt.Printf("result %s\n", b)
		if len(res.Errors) > 0 {
			return 1
		}
		return 0
	}

	clients := make([]*websocket.Conn, conns)
	var dialing sync.WaitGroup
	const workers = 32
	for w := 0; w < workers; w++ {
		w := w
		dialing.Add(1)
		go func() {
			defer dialing.Done()
			for i := w; i < conns; i += workers {
				src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%loadSourceIPs))}
				nd := &net.Dialer{LocalAddr: src, Timeout: 10 * time.Second}
				d := websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: 10 * time.Second}
				c, _, err := d.Dial("ws://"+addr+"/ws", nil)
				if err != nil {
					fail("dial %d from %v: %v", i, src.IP, err)
					return
				}
				clients[i] = c
			}
		}()
	}
	dialing.Wait()
	if len(res.Errors) > 0 {
		return report()
	}
	res.Conns = conns
	fmt.Printf("connected %d\n", conns)
	if l, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || l != "go\n" {
		fail("waiting for go: %q %v", l, err)
		return report()
	}

	end := time.Now().Add(dur)
	var running sync.WaitGroup
	for i, c := range clients {
		i, c := i, c
		running.Add(1)
		go func() {
			defer running.Done()
			defer c.Close()
			echoUntil(c, uint32(i), end, &res, fail)
			closeHandshake(c, &res, fail)
		}()
	}
	running.Wait()
	return report()
}

// echoUntil sends numbered, checksummed messages on c and checks each
// echo until end.
func echoUntil(c *websocket.Conn, id uint32, end time.Time, res *loadResult, fail func(string, ...interface{})) {
	for seq := uint64(0); time.Now().Before(end); seq++ {
		mt, msg := loadMessage(id, seq)
		_ = c.SetWriteDeadline(time.Now().Add(15 * time.Second))
		if err := c.WriteMessage(mt, msg); err != nil {
			atomic.AddInt64(&res.Lost, 1)
			fail("conn %d seq %d: write: %v", id, seq, err)
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		gotType, got, err := c.ReadMessage()
		if err != nil {
			atomic.AddInt64(&res.Lost, 1)
			fail("conn %d seq %d: no echo: %v", id, seq, err)
			return
		}
		if gotType != mt || string(got) != string(msg) {
			switch gotSeq, ok := loadMessageSeq(got); {
			case ok && gotSeq < seq:
				atomic.AddInt64(&res.Duplicated, 1)
			case ok && gotSeq > seq:
				atomic.AddInt64(&res.Lost, 1)
			default:
				atomic.AddInt64(&res.Corrupted, 1)
			}
			fail("conn %d seq %d: echo of %d bytes (type %d) differs from the %d bytes (type %d) sent", id, seq, len(got), gotType, len(msg), mt)
			return
		}
		atomic.AddInt64(&res.Messages, 1)
		atomic.AddInt64(&res.Bytes, int64(len(msg)))
	}
}

// closeHandshake sends close 1000 and reads until the server's answer.
func closeHandshake(c *websocket.Conn, res *loadResult, fail func(string, ...interface{})) {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(15*time.Second)); err != nil {
		fail("close: %v", err)
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	for i := 0; i < 10; i++ {
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure {
			atomic.AddInt64(&res.CleanCloses, 1)
			return
		}
		if err != nil {
			fail("close handshake: %v", err)
			return
		}
	}
	fail("close handshake: messages after the close")
}

// loadMessage builds message seq of connection id: a 16-byte header (id,
// seq, CRC-32 of the body) and a body of 0 to 1,023 pseudo-random bytes.
// Every fifth message is text: the header in hex, the body in letters.
func loadMessage(id uint32, seq uint64) (int, []byte) {
	x := uint64(id)<<32 ^ seq*0x9e3779b97f4a7c15
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	body := make([]byte, next()%1024)
	for i := range body {
		body[i] = byte(next())
	}
	if seq%5 == 4 {
		for i := range body {
			body[i] = 'a' + body[i]%26
		}
		return websocket.TextMessage, []byte(fmt.Sprintf("%08x%016x%08x%s", id, seq, crc32.ChecksumIEEE(body), body))
	}
	msg := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint32(msg, id)
	binary.BigEndian.PutUint64(msg[4:], seq)
	binary.BigEndian.PutUint32(msg[12:], crc32.ChecksumIEEE(body))
	return websocket.BinaryMessage, append(msg, body...)
}

// loadMessageSeq reads the sequence number of a message whose body still
// matches its checksum, in either form.
func loadMessageSeq(msg []byte) (uint64, bool) {
	if len(msg) >= 32 {
		if seq, err := strconv.ParseUint(string(msg[8:24]), 16, 64); err == nil {
			if crc, err := strconv.ParseUint(string(msg[24:32]), 16, 32); err == nil && uint32(crc) == crc32.ChecksumIEEE(msg[32:]) {
				return seq, true
			}
		}
	}
	if len(msg) >= 16 && binary.BigEndian.Uint32(msg[12:]) == crc32.ChecksumIEEE(msg[16:]) {
		return binary.BigEndian.Uint64(msg[4:]), true
	}
	return 0, false
}
