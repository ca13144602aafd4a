package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hertzws/websocket/bench/internal/result"
	"github.com/hertzws/websocket/bench/internal/wsclient"
)

const bigReadBuffer = 64 << 10

// coalesceMax is the largest message -coalesce sends several of in one
// writev: past it one message is already a large write.
const coalesceMax = 16 << 10

// pingpong: one connection, one message of c.size bytes at a time; each
// round trip (write, then read the echo) is timed on its own.
func pingpong(c config, res *result.Load) error {
	pid, err := serverPID(c.addr)
	if err != nil {
		return err
	}
	conn, err := wsclient.Dial(c.addr, "/echo", wsclient.Options{ReadBufferSize: bigReadBuffer})
	if err != nil {
		return err
	}
	defer conn.Close()
	if c.text {
		conn.ExpectText()
	}
	p, f := c.message(c.size, 1)
	roundTrip := func() error {
		if err := conn.WriteRaw(f); err != nil {
			return err
		}
		return conn.ReadExpect(p)
	}
	_ = conn.SetReadDeadline(time.Now().Add(c.timeout))
	for i := 0; i < c.warmupN; i++ {
		if err := roundTrip(); err != nil {
			return fmt.Errorf("warm-up round trip %d: %w", i, err)
		}
	}
	lat := make([]time.Duration, c.n)
	cpu0, err := takeCPU(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	for i := range lat {
		t := time.Now()
		if err := roundTrip(); err != nil {
			return fmt.Errorf("round trip %d: %w", i, err)
		}
		lat[i] = time.Since(t)
	}
	elapsed := time.Since(start)
	cpu1, err := takeCPU(pid)
	if err != nil {
		return err
	}
	cpu1.perMessage(cpu0, float64(c.n), res.Metrics)
	sortDurations(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	m := res.Metrics
	m[result.MetricRoundTrips] = float64(c.n)
	m[result.MetricP50us] = us(percentile(lat, 0.50))
	m[result.MetricP99us] = us(percentile(lat, 0.99))
	m[result.MetricP999us] = us(percentile(lat, 0.999))
	m[result.MetricMeanUs] = us(sum / time.Duration(len(lat)))
	m[result.MetricMsgsPerSec] = float64(c.n) / elapsed.Seconds()
	return nil
}

// throughput: c.conns connections, each keeping c.inflight messages of
// c.size bytes in flight: a writer goroutine sends whenever fewer than
// c.inflight echoes are outstanding, a reader goroutine checks each echo.
// Messages echoed between the end of the warm-up and the end of the
// measured time are counted. At the end each writer sends an empty
// message; its echo tells the reader that nothing else is coming.
func throughput(c config, res *result.Load) error {
	if c.inflight < 1 {
		return errors.New("-inflight must be at least 1")
	}
	if err := checkNoFile(c.conns); err != nil {
		return err
	}
	pid, err := serverPID(c.addr)
	if err != nil {
		return err
	}
	// A few distinct payloads, sent in turn, so that an echo of the wrong
	// message (reordering, a stale buffer) is caught.
	variants := min(max(c.inflight, 2), 8)
	payloads := make([][]byte, variants)
	frames := make([][]byte, variants)
	for i := range payloads {
		payloads[i], frames[i] = c.message(c.size, uint64(i+1))
	}
	endFrame := wsclient.BuildFrame(wsclient.OpBinary, nil)

	type worker struct {
		conn     *wsclient.Conn
		received atomic.Int64
	}
	workers := make([]*worker, c.conns)
	for i := range workers {
		conn, err := wsclient.Dial(c.addr, "/echo", wsclient.Options{ReadBufferSize: bigReadBuffer})
		if err != nil {
			for _, w := range workers[:i] {
				w.conn.Close()
			}
			return fmt.Errorf("dial %d: %w", i, err)
		}
		if c.text {
			conn.ExpectText()
		}
		workers[i] = &worker{conn: conn}
	}
	defer func() {
		for _, w := range workers {
			w.conn.Close()
		}
	}()

	stop := make(chan struct{})
	errc := make(chan error, 2*len(workers))
	var wg sync.WaitGroup
	for _, w := range workers {
		tokens := make(chan struct{}, c.inflight)
		wg.Add(2)
		go func(w *worker) { // writer
			defer wg.Done()
			batch := make(net.Buffers, 0, c.inflight)
			for i := 0; ; {
				select {
				case <-stop:
					if err := w.conn.WriteRaw(endFrame); err != nil {
						errc <- fmt.Errorf("write end marker: %w", err)
					}
					return
				case tokens <- struct{}{}:
				}
				batch = append(batch[:0], frames[i%variants])
				i++
				// With -coalesce, every message that may go now goes in
				// the same writev, as a pipelining client's buffered
				// writer would send them.
				for c.coalesce && len(batch) < c.inflight && c.size <= coalesceMax {
					select {
					case tokens <- struct{}{}:
						batch = append(batch, frames[i%variants])
						i++
						continue
					default:
					}
					break
				}
				if err := w.conn.WriteBatch(batch); err != nil {
					errc <- fmt.Errorf("write: %w", err)
					return
				}
			}
		}(w)
		go func(w *worker) { // reader
			defer wg.Done()
			_ = w.conn.SetReadDeadline(time.Now().Add(c.timeout))
			for j := 0; ; j++ {
				end, err := w.conn.ReadExpectOrEmpty(payloads[j%variants])
				if err != nil {
					errc <- fmt.Errorf("echo %d: %w", j, err)
					return
				}
				if end {
					return
				}
				w.received.Add(1)
				<-tokens
			}
		}(w)
	}
	total := func() int64 {
		var n int64
		for _, w := range workers {
			n += w.received.Load()
		}
		return n
	}
	wait := func(d time.Duration) error {
		select {
		case err := <-errc:
			return err
		case <-time.After(d):
			return nil
		}
	}
	fail := func(err error) error {
		close(stop)
		for _, w := range workers {
			w.conn.Close() // unblock readers
		}
		wg.Wait()
		return err
	}
	if err := wait(c.warmup); err != nil {
		return fail(err)
	}
	cpu0, err := takeCPU(pid)
	if err != nil {
		return fail(err)
	}
	n0, t0 := total(), time.Now()
	if err := wait(c.duration); err != nil {
		return fail(err)
	}
	n1, t1 := total(), time.Now()
	cpu1, err := takeCPU(pid)
	if err != nil {
		return fail(err)
	}
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-errc:
		return fail(err)
	case <-time.After(30 * time.Second):
		return fail(errors.New("connections did not drain within 30s"))
	}
	select {
	case err := <-errc:
		return err
	default:
	}
	msgs := float64(n1 - n0)
	secs := t1.Sub(t0).Seconds()
	m := res.Metrics
	m[result.MetricMessages] = msgs
	m[result.MetricMsgsPerSec] = msgs / secs
	m[result.MetricMBPerSec] = msgs * float64(c.size) / secs / 1e6
	cpu1.perMessage(cpu0, msgs, m)
	return nil
}

// broadcast: c.conns receivers and one sender connect to /broadcast. The
// sender sends c.n distinct messages; the server sends each to every
// connection, the sender's included. Every receiver checks that it gets
// every message, in order, byte for byte. The sender keeps at most
// c.window messages out that some receiver has not yet got.
//
// Receivers may be registered in the server's hub a little after their
// handshake completes, so a sync phase comes first: the sender repeats a
// warm-up message until every connection has seen one, then sends a
// barrier message that every connection must get; the measured messages
// follow it.
func broadcast(c config, res *result.Load) error {
	if err := checkNoFile(c.conns + 1); err != nil {
		return err
	}
	if c.size < 1 || c.size > 64<<10 {
		return errors.New("broadcast -size must be between 1 and 65536")
	}
	pid, err := serverPID(c.addr)
	if err != nil {
		return err
	}
	listeners := c.conns + 1
	conns, err := dialMany(c.addr, "/broadcast", listeners, c.dialers, 4096)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	sender := conns[0]

	warm := bytes.Repeat([]byte{'W'}, c.size)
	barrier := bytes.Repeat([]byte{'B'}, c.size)
	msgs := make([][]byte, c.n)
	frames := make([][]byte, c.n)
	for i := range msgs {
		msgs[i] = payload(c.size, uint64(1000+i))
		frames[i] = wsclient.BuildFrame(wsclient.OpBinary, msgs[i])
	}

	var warmSeen, barrierSeen atomic.Int64
	counts := make([]atomic.Int32, c.n)
	doneAt := make([]atomic.Int64, c.n)
	done := make(chan int, c.n)
	errc := make(chan error, listeners)
	base := time.Now()
	for i, conn := range conns {
		go func(conn *wsclient.Conn, isSender bool) {
			_ = conn.SetReadDeadline(time.Now().Add(c.timeout))
			buf := make([]byte, c.size)
			seen := false
			for k := 0; ; k++ {
				m, err := conn.ReadSmall(buf)
				if err != nil {
					errc <- fmt.Errorf("sync: %w", err)
					return
				}
				if bytes.Equal(m, barrier) {
					barrierSeen.Add(1)
					break
				}
				if !bytes.Equal(m, warm) {
					errc <- fmt.Errorf("sync: %w", wsclient.ErrMismatch)
					return
				}
				if !seen {
					seen = true
					warmSeen.Add(1)
				}
				if k > 100000 {
					errc <- errors.New("sync: too many warm-up messages")
					return
				}
			}
			for j := range msgs {
				m, err := conn.ReadSmall(buf)
				if err != nil {
					errc <- fmt.Errorf("message %d: %w", j, err)
					return
				}
				if !bytes.Equal(m, msgs[j]) {
					errc <- fmt.Errorf("message %d: %w", j, wsclient.ErrMismatch)
					return
				}
				if !isSender && counts[j].Add(1) == int32(c.conns) {
					doneAt[j].Store(int64(time.Since(base)))
					done <- j
				}
			}
		}(conn, i == 0)
	}
	checkErr := func() error {
		select {
		case err := <-errc:
			return err
		default:
			return nil
		}
	}

	warmFrame := wsclient.BuildFrame(wsclient.OpBinary, warm)
	for try := 0; warmSeen.Load() < int64(listeners); try++ {
		if try >= 400 {
			return fmt.Errorf("sync: only %d of %d connections got a warm-up message after %d tries", warmSeen.Load(), listeners, try)
		}
		if err := sender.WriteRaw(warmFrame); err != nil {
			return err
		}
		time.Sleep(25 * time.Millisecond)
		if err := checkErr(); err != nil {
			return err
		}
	}
	if err := sender.WriteRaw(wsclient.BuildFrame(wsclient.OpBinary, barrier)); err != nil {
		return err
	}
	for try := 0; barrierSeen.Load() < int64(listeners); try++ {
		if try >= 30000 {
			return errors.New("sync: barrier not received by every connection within 30s")
		}
		time.Sleep(time.Millisecond)
		if err := checkErr(); err != nil {
			return err
		}
	}

	sendAt := make([]int64, c.n)
	awaitOne := func() error {
		select {
		case <-done:
			return nil
		case err := <-errc:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("broadcast stalled for 30s")
		}
	}
	cpu0, err := takeCPU(pid)
	if err != nil {
		return err
	}
	start := time.Since(base)
	for i := range frames {
		if i >= c.window {
			if err := awaitOne(); err != nil {
				return err
			}
		}
		sendAt[i] = int64(time.Since(base))
		if err := sender.WriteRaw(frames[i]); err != nil {
			return err
		}
	}
	for i := max(c.n-c.window, 0); i < c.n; i++ {
		if err := awaitOne(); err != nil {
			return err
		}
	}
	cpu1, err := takeCPU(pid)
	if err != nil {
		return err
	}
	var last int64
	fan := make([]time.Duration, c.n)
	for i := range fan {
		d := doneAt[i].Load()
		last = max(last, d)
		fan[i] = time.Duration(d - sendAt[i])
	}
	elapsed := time.Duration(last) - start
	sortDurations(fan)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	m := res.Metrics
	m[result.MetricMessages] = float64(c.n)
	m[result.MetricDeliveries] = float64(c.n) * float64(c.conns) / elapsed.Seconds()
	m[result.MetricFanoutP50ms] = ms(percentile(fan, 0.50))
	m[result.MetricFanoutP99ms] = ms(percentile(fan, 0.99))
	cpu1.perMessage(cpu0, float64(c.n)*float64(c.conns), m)
	return nil
}

// idle: open c.conns connections to /echo and leave them idle; measure the
// server's resident memory (VmRSS from /proc/<pid>/status) and goroutines
// before and after. A sample of the connections is then checked with one
// echo each, so connections the server dropped are not counted as held.
func idle(c config, res *result.Load) error {
	if err := checkNoFile(c.conns); err != nil {
		return err
	}
	before, err := serverStats(c.addr)
	if err != nil {
		return err
	}
	rssBefore, err := vmRSS(before.PID)
	if err != nil {
		return err
	}
	conns, err := dialMany(c.addr, "/echo", c.conns, c.dialers, 256)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	time.Sleep(c.settle)
	after, err := serverStats(c.addr)
	if err != nil {
		return err
	}
	rssAfter, err := vmRSS(before.PID)
	if err != nil {
		return err
	}

	p := payload(16, 7)
	f := wsclient.BuildFrame(wsclient.OpBinary, p)
	step := max(len(conns)/100, 1)
	for i := 0; i < len(conns); i += step {
		conn := conns[i]
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := conn.WriteRaw(f); err != nil {
			return fmt.Errorf("idle connection %d: %w", i, err)
		}
		if err := conn.ReadExpect(p); err != nil {
			return fmt.Errorf("idle connection %d: %w", i, err)
		}
	}

	n := float64(c.conns)
	goMem := func(s result.ServerStats) float64 { return float64(s.HeapInuse + s.StackInuse) }
	m := res.Metrics
	m[result.MetricConns] = n
	m[result.MetricRSSBeforeKiB] = float64(rssBefore)
	m[result.MetricRSSAfterKiB] = float64(rssAfter)
	m[result.MetricKiBPerConn] = float64(rssAfter-rssBefore) / n
	m[result.MetricGoMemPerConn] = (goMem(after) - goMem(before)) / 1024 / n
	m[result.MetricGoroutines] = float64(after.Goroutines-before.Goroutines) / n
	return nil
}

// dialMany opens n connections with at most parallel dials at a time.
func dialMany(addr, path string, n, parallel, readBuffer int) ([]*wsclient.Conn, error) {
	conns := make([]*wsclient.Conn, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(parallel, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				mu.Lock()
				failed := firstErr != nil
				mu.Unlock()
				if failed {
					return
				}
				conn, err := wsclient.Dial(addr, path, wsclient.Options{ReadBufferSize: readBuffer})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("dial %d of %d: %w", i+1, n, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = conn
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(conns)
		return nil, firstErr
	}
	return conns, nil
}

func closeAll(conns []*wsclient.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

var statsClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// serverStats fetches GET /debug/stats from the server under test.
func serverStats(addr string) (result.ServerStats, error) {
	var s result.ServerStats
	resp, err := statsClient.Get("http://" + addr + "/debug/stats")
	if err != nil {
		return s, fmt.Errorf("server stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("server stats: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("server stats: %w", err)
	}
	if s.PID <= 0 {
		return s, errors.New("server stats: no pid")
	}
	return s, nil
}

func serverPID(addr string) (int, error) {
	s, err := serverStats(addr)
	return s.PID, err
}

// cpuSnap is the CPU time used so far by the server and by this process.
type cpuSnap struct{ server, self time.Duration }

func takeCPU(pid int) (cpuSnap, error) {
	var s cpuSnap
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return s, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line, in clock ticks (USER_HZ, 100 on
	// Linux).
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	s.server = time.Duration(ut+st) * (time.Second / 100)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, err
	}
	s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return s, nil
}

// perMessage records the CPU time used since before, per message.
func (s cpuSnap) perMessage(before cpuSnap, msgs float64, m map[string]float64) {
	if msgs <= 0 {
		return
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / msgs }
	m[result.MetricServerCPUus] = us(s.server - before.server)
	m[result.MetricLoadCPUus] = us(s.self - before.self)
}

// vmRSS returns the VmRSS of a process, in KiB.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
