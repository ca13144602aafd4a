package hubtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hertzws/websocket"
)

// subscribersEnv carries, to a test binary started as a subscriber
// process, "COUNT ROOM URL..." (space separated).
const subscribersEnv = "HUBTEST_SUBSCRIBERS"

// RunSubscriberProcess turns the test binary into a subscriber process when
// a benchmark started it as one, and then exits; otherwise it returns at
// once. Call it first in TestMain. Fan-out benchmarks keep their clients in
// a process of their own: ten thousand connections need two file
// descriptors each, one per end, and the hard RLIMIT_NOFILE may be too low
// for both ends in one process; it also keeps the clients out of the
// server's memory figures.
func RunSubscriberProcess() {
	spec := os.Getenv(subscribersEnv)
	if spec == "" {
		return
	}
	if err := runSubscribers(spec, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "subscribers:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runSubscribers dials the subscribers, says "ready", then prints "round"
// each time the subscribers together have received one more message each,
// until in is closed.
func runSubscribers(spec string, in io.Reader, out io.Writer) error {
	fields := strings.Fields(spec)
	if len(fields) < 3 {
		return fmt.Errorf("bad spec %q", spec)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return fmt.Errorf("bad count in %q", spec)
	}
	room, urls := fields[1], fields[2:]
	rounds := make(chan struct{}, 1<<16)
	var received atomic.Int64
	conns, err := dialSubscribers(n, room, urls, func() {
		if received.Add(1)%int64(n) == 0 {
			rounds <- struct{}{}
		}
	})
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, "ready")
	if err := w.Flush(); err != nil {
		return err
	}
	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, in)
		close(stdinClosed)
	}()
	for {
		select {
		case <-rounds:
			fmt.Fprintln(w, "round")
			if err := w.Flush(); err != nil {
				return err
			}
		case <-stdinClosed:
			return nil
		}
	}
}

// dialSubscribers connects n clients, a few at a time, round robin over
// urls, joined to room; each reads and discards messages and calls got for
// each.
func dialSubscribers(n int, room string, urls []string, got func()) ([]*websocket.Conn, error) {
	const dialers = 16
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 512, WriteBufferSize: 256}
	var (
		mu    sync.Mutex
		conns []*websocket.Conn
		first error
		wg    sync.WaitGroup
		next  atomic.Int64
	)
	for w := 0; w < dialers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, _, err := d.Dial(urls[i%len(urls)]+"?rooms="+room, nil)
				mu.Lock()
				if err != nil {
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				conns = append(conns, c)
				mu.Unlock()
				go discardMessages(c, got)
			}
		}()
	}
	wg.Wait()
	return conns, first
}

func discardMessages(c *websocket.Conn, got func()) {
	for {
		_, r, err := c.NextReader()
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
		got()
	}
}

// subscriberProcess is a running subscriber process.
type subscriberProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	rounds atomic.Int64
	exited chan struct{}
}

// startSubscribers runs the test binary as a subscriber process for n
// clients of room over urls, waits until all are connected, and stops it
// when tb ends.
func startSubscribers(tb testing.TB, n int, room string, urls []string) *subscriberProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), subscribersEnv+"="+strconv.Itoa(n)+" "+room+" "+strings.Join(urls, " "))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &subscriberProcess{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			switch sc.Text() {
			case "ready":
				close(ready)
			case "round":
				p.rounds.Add(1)
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(p.stop)
	select {
	case <-ready:
	case <-p.exited:
		tb.Fatal("the subscriber process failed")
	case <-time.After(3 * time.Minute):
		tb.Fatal("the subscriber process did not connect its clients within 3 minutes")
	}
	return p
}

// stop closes the process's stdin, which ends it, and kills it if it has
// not exited within 30 seconds.
func (p *subscriberProcess) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
