package browsertest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// exampleServer is one example binary running on 127.0.0.1.
type exampleServer struct {
	addr string // host:port
	url  string // http://host:port
	out  *lockedBuffer
	cmd  *exec.Cmd
}

// startExample runs the named example with -addr on a free port of
// 127.0.0.1 (plus args) and returns once it answers HTTP. It stops the
// server when the test ends and fails the test if the server reported a
// data race or a panic.
func startExample(t *testing.T, name string, args ...string) *exampleServer {
	t.Helper()
	// A port picked this way can be taken by someone else before the
	// example binds it; try again in that case.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := tryStart(t, name, args)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("start %s: %v", name, lastErr)
	return nil
}

func tryStart(t *testing.T, name string, args []string) (*exampleServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &exampleServer{addr: addr, url: "http://" + addr, out: new(lockedBuffer)}
	s.cmd = exec.Command(filepath.Join(binDir, name), append([]string{"-addr", addr}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	// exited is closed when the process has exited; waitErr is then set.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = s.cmd.Wait()
		close(exited)
	}()

	if err := waitHTTP(s.url+"/", exited); err != nil {
		_ = s.cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("%v (exit: %v)\n--- %s output:\n%s", err, waitErr, name, s.out.String())
	}
	t.Cleanup(func() { s.stop(t, name, exited) })
	return s, nil
}

// stop asks the server to shut down (Hertz handles SIGINT gracefully),
// kills it if it has not exited within 15 s, and checks its output.
func (s *exampleServer) stop(t *testing.T, name string, exited <-chan struct{}) {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-exited
		t.Errorf("%s did not exit within 15 s of SIGINT", name)
	}
	out := s.out.String()
	for _, bad := range []string{"DATA RACE", "panic:", "[Error]"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s output contains %q", name, bad)
		}
	}
	if t.Failed() {
		t.Logf("--- %s output:\n%s", name, out)
	}
}

// waitOutput waits until the server has printed want, for at most 10 s.
func (s *exampleServer) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("server output has no %q after 10 s", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns 127.0.0.1 with a port nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// waitHTTP polls url until it answers 200, the process exits, or 30 s pass.
func waitHTTP(url string, exited <-chan struct{}) error {
	return waitServing(&http.Client{Timeout: time.Second}, url, exited, 30*time.Second)
}

// waitServing polls url with client until it answers 200, exited is
// closed, or within passes.
func waitServing(client *http.Client, url string, exited <-chan struct{}, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before serving; last try: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not serving after %v: %v", within, err)
		}
	}
}

// lockedBuffer collects a process's output; the test reads it while the
// process writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
