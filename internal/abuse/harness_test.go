package abuse

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hertzws/websocket/frame"
)

// full reports whether the suite runs at full size (make abuse) rather
// than the short form make test runs.
func full() bool { return os.Getenv("ABUSE") == "full" }

// serverBinary builds cmd/abuse-server once per test binary, without the
// race detector, so the server's memory figures are its own.
var serverBinary = struct {
	once sync.Once
	path string
	err  error
}{}

// TestMain removes the server binary built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if serverBinary.path != "" {
		_ = os.RemoveAll(filepath.Dir(serverBinary.path))
	}
	os.Exit(code)
}

// buildServer returns the path of cmd/abuse-server, built on first use.
func buildServer(t *testing.T) string {
	t.Helper()
	serverBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "abuse-server")
		if err != nil {
			serverBinary.err = err
			return
		}
		serverBinary.path = filepath.Join(dir, "abuse-server")
		cmd := exec.Command("go", "build", "-o", serverBinary.path, "./cmd/abuse-server")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			serverBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if serverBinary.err != nil {
		t.Fatal(serverBinary.err)
	}
	return serverBinary.path
}

// serverConfig is how one attack's server runs.
type serverConfig struct {
	args []string // flags of cmd/abuse-server besides -transport
	env  []string // GOMEMLIMIT, for instance
}

// server is a running cmd/abuse-server.
type server struct {
	t         *testing.T
	cmd       *exec.Cmd
	addr      string
	transport string // Hertz's transport: netpoll or standard
}

// eventsSuffix marks a target served in the event-driven mode.
const eventsSuffix = "+events"

// startServer runs the server on target, a Hertz transport with
// eventsSuffix for the event-driven mode, and waits until it listens. It
// is killed when the test ends.
func startServer(t *testing.T, target string, cfg serverConfig) *server {
	t.Helper()
	bin := buildServer(t)
	transport, events := strings.CutSuffix(target, eventsSuffix)
	args := []string{"-transport", transport}
	if events {
		args = append(args, "-events")
	}
	cmd := exec.Command(bin, append(args, cfg.args...)...)
	cmd.Env = append(os.Environ(), cfg.env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The server is killed outright: a graceful shutdown would wait for
	// connections the attack left behind and cost every row a second.
	// Closing its stdin also ends it, should the suite itself die.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		stdin.Close()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server did not start: %v", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	return &server{t: t, cmd: cmd, addr: addr, transport: transport}
}

var statsClient = &http.Client{Timeout: 10 * time.Second}

// stats fetches /stats, or /stats/reset (a collection, then peaks reset).
func (s *server) stats(reset bool) Stats {
	s.t.Helper()
	path := "/stats"
	if reset {
		path = "/stats/reset"
	}
	resp, err := statsClient.Get("http://" + s.addr + path)
	if err != nil {
		s.t.Fatalf("stats: %v", err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		s.t.Fatalf("stats: %v", err)
	}
	return st
}

// rss returns the server's resident set now and its peak (VmRSS, VmHWM),
// in bytes.
func (s *server) rss() (now, peak uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseUint(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			now = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return now, peak
}

// waitHandlers waits until the server runs at most n handlers, and returns
// how long that took, or false after timeout.
func (s *server) waitHandlers(n int64, timeout time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < timeout {
		if s.stats(false).Handlers <= n {
			return time.Since(start), true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start), false
}

// prober is the well-behaved client: it sends a 16-byte text message every
// 10 ms, waits for the answer and records the round trip, and reconnects
// every second to check that new connections are still accepted.
type prober struct {
	addr string
	stop chan struct{}
	done chan struct{}

	mu         sync.Mutex
	rtts       []time.Duration
	handshakes []time.Duration
	failures   []string
}

// legitText is the 16-byte message the well-behaved client sends.
const legitText = "legit ping-pong!"

// legitAck is what a server in ack mode answers to legitText.
var legitAck = Ack([]byte(legitText))

// startProber starts the well-behaved client against addr.
func startProber(addr string) *prober {
	p := &prober{addr: addr, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// fail records a failure, keeping the first five.
func (p *prober) fail(format string, args ...interface{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) < 5 {
		p.failures = append(p.failures, fmt.Sprintf(format, args...))
	}
}

// run is the well-behaved client's loop, until stop is closed.
func (p *prober) run() {
	defer close(p.done)
	msg := Frame(true, 0, frame.OpText, []byte(legitText))
	var c *Client
	var since time.Time
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if c == nil || time.Since(since) > time.Second {
			if c != nil {
				c.Close()
			}
			start := time.Now()
			var err error
			if c, err = DialWebSocket(p.addr); err != nil {
				p.fail("handshake: %v", err)
				c = nil
				continue
			}
			since = time.Now()
			p.mu.Lock()
			p.handshakes = append(p.handshakes, since.Sub(start))
			p.mu.Unlock()
		}
		start := time.Now()
		if err := c.Write(msg, 5*time.Second); err != nil {
			p.fail("write: %v", err)
			c.Close()
			c = nil
			continue
		}
		f, err := p.readData(c)
		if err != nil || f.Op != frame.OpText || (string(f.Payload) != legitText && string(f.Payload) != legitAck) {
			p.fail("read: %v (op %v, %q)", err, f.Op, f.Payload)
			c.Close()
			c = nil
			continue
		}
		p.mu.Lock()
		p.rtts = append(p.rtts, time.Since(start))
		p.mu.Unlock()
	}
}

// readData reads the next data frame as a well-behaved client does: a
// ping from the server (KeepAlive sends them to every connection) is
// answered with its pong, a pong is skipped.
func (p *prober) readData(c *Client) (Received, error) {
	for control := 0; ; control++ {
		f, err := c.ReadFrame(5 * time.Second)
		if err != nil || control == 16 {
			return f, err
		}
		switch f.Op {
		case frame.OpPing:
			if err := c.Write(Frame(true, 0, frame.OpPong, f.Payload), 5*time.Second); err != nil {
				return f, err
			}
		case frame.OpPong:
		default:
			return f, nil
		}
	}
}

// finish stops the prober and summarises what it saw.
func (p *prober) finish() (p50, p99, handshakeP99 time.Duration, n int, failures []string) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return percentile(p.rtts, 50), percentile(p.rtts, 99), percentile(p.handshakes, 99), len(p.rtts), p.failures
}

// percentile returns the pc-th percentile of d (0 when d is empty).
func percentile(d []time.Duration, pc int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*pc/100]
}

// parallel runs f(i) for i in [0, n) on at most width goroutines and
// returns the first error.
func parallel(n, width int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for w := 0; w < width; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("#%d: %w", i, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// mib formats b bytes in MiB.
func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// signedMiB formats a growth of b bytes in MiB, with its sign.
func signedMiB(b int64) string { return fmt.Sprintf("%+.1f MiB", float64(b)/(1<<20)) }

// gomaxprocs is reported with the table.
var gomaxprocs = runtime.GOMAXPROCS(0)
