package redishub_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLifetime bounds how long a test's redis-server may live, whatever
// happens to the test.
const redisLifetime = 10 * time.Minute

// redisServer is a redis-server process of one test's own, on a free port
// of 127.0.0.1, without persistence, so the test can stop and restart it.
type redisServer struct {
	t    testing.TB
	path string
	dir  string
	Addr string

	mu     sync.Mutex
	cmd    *exec.Cmd
	output *bytes.Buffer
	exited chan struct{}
}

// startRedis starts redis-server for t and kills it when t ends. Debian's
// redis-server package provides it; .ci/run installs it.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (apt-get install redis-server): %v", err)
	}
	s := &redisServer{t: t, path: path, dir: t.TempDir(), Addr: freeAddr(t)}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// freeAddr returns a 127.0.0.1 address no one listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs the server and waits until it answers PING.
func (s *redisServer) Start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), redisLifetime)
	cmd := exec.CommandContext(ctx, s.path,
		"--bind", "127.0.0.1", "--port", port,
		"--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no", "--loglevel", "warning")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		cancel()
		s.t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		cancel()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.output, s.exited = cmd, out, exited
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for !s.answers() {
		select {
		case <-exited:
			s.t.Fatalf("redis-server exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server at %s not answering after 10s: %s", s.Addr, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answers reports whether the server replies to a PING.
func (s *redisServer) answers() bool {
	c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Stop kills the server, as a crash would, and waits for it to exit.
func (s *redisServer) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Freeze stops the process without closing its connections (SIGSTOP), as
// a host that vanished from the network would look; Thaw resumes it.
func (s *redisServer) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *redisServer) Thaw() { s.signal(syscall.SIGCONT) }

func (s *redisServer) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatal("redis-server is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// Client returns a go-redis client for the server with timeouts short
// enough for tests, closed when the test ends.
func (s *redisServer) Client() *redis.Client {
	rdb := redis.NewClient(&redis.Options{
		Addr:         s.Addr,
		DialTimeout:  time.Second,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
		MaxRetries:   -1, // the broker retries, with its own back-off
	})
	s.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
