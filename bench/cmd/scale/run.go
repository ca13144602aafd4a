package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"time"

	"github.com/hertzws/websocket/bench/internal/netwait"
)

// serverProc is one server process of a run and its client process.
type serverProc struct {
	addr     string
	cmd      *exec.Cmd
	conns    int
	base     procReading
	client   *exec.Cmd
	commands *bufio.Writer
	reports  *bufio.Scanner
}

// clientReport is what a client process prints, one JSON object a line.
type clientReport struct {
	Connected int       `json:"connected"`
	Seconds   float64   `json:"seconds"`
	Failed    int       `json:"failed"`
	RTTs      []float64 `json:"rtts_us,omitempty"`
	Closed    bool      `json:"closed"`
	Error     string    `json:"error,omitempty"`
}

func run(o options) (*result, error) {
	deadline := time.Now().Add(o.timeout)
	per := perProcess(o)
	procs := (o.conns + per - 1) / per
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	sources := make([]string, o.sources)
	for i := range sources {
		sources[i] = fmt.Sprintf("127.0.0.%d", 2+i)
	}
	fmt.Fprintf(os.Stderr, "scale: %s, %d connections: %d server process(es) of at most %d (open-file limit %d), %d%% active\n",
		o.impl, o.conns, procs, per, openFileLimit(), int(o.active*100+0.5))

	servers := make([]*serverProc, procs)
	defer func() {
		for _, s := range servers {
			if s == nil {
				continue
			}
			if s.client != nil && s.client.Process != nil {
				_ = s.client.Process.Kill()
				_ = s.client.Wait()
			}
			if s.cmd.Process != nil {
				_ = s.cmd.Process.Kill()
				_ = s.cmd.Wait()
			}
		}
	}()
	for i := range servers {
		s := &serverProc{addr: fmt.Sprintf("127.0.0.1:%d", o.basePort+i), conns: o.conns / procs}
		if i < o.conns%procs {
			s.conns++
		}
		s.cmd = exec.Command(o.server, "-impl", o.impl, "-addr", s.addr, "-echo", "message")
		s.cmd.Stderr = os.Stderr
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting %s: %w", o.server, err)
		}
		servers[i] = s
	}
	for _, s := range servers {
		if err := netwait.Listening(s.addr, 30*time.Second); err != nil {
			return nil, err
		}
	}
	time.Sleep(time.Second) // let the servers' start-up garbage settle
	for _, s := range servers {
		if s.base, err = readProc(s.cmd.Process.Pid, s.addr); err != nil {
			return nil, err
		}
	}

	// Connect: one client process per server, all at once.
	start := time.Now()
	activeLeft := int(float64(o.conns)*o.active + 0.5)
	for i, s := range servers {
		active := (activeLeft + procs - 1 - i) / (procs - i)
		if active > s.conns {
			active = s.conns
		}
		activeLeft -= active
		// Rotate the source addresses between the clients.
		src := append(append([]string(nil), sources[i%len(sources):]...), sources[:i%len(sources)]...)
		if s.client, s.commands, s.reports, err = startClient(self, s.addr, src, s.conns, active, o); err != nil {
			return nil, err
		}
	}
	res := &result{Impl: o.impl, Conns: o.conns, Procs: procs, PerProc: per, ActiveShare: o.active, Date: time.Now().UTC().Format(time.RFC3339)}
	var handshakeSecs float64
	for _, s := range servers {
		r, err := s.report(deadline)
		if err != nil {
			return nil, err
		}
		if r.Failed > 0 || r.Connected != s.conns {
			return nil, fmt.Errorf("client of %s: %d of %d connected, %d failed: %s", s.addr, r.Connected, s.conns, r.Failed, r.Error)
		}
		if r.Seconds > handshakeSecs {
			handshakeSecs = r.Seconds
		}
	}
	res.HandshakesPerSec = float64(o.conns) / handshakeSecs
	fmt.Fprintf(os.Stderr, "scale: %d connected in %.1f s; settling for %v\n", o.conns, time.Since(start).Seconds(), o.settle)
	time.Sleep(o.settle)

	// Memory and goroutines, then CPU and the active echoes over a window.
	var grown procReading
	for _, s := range servers {
		now, err := readProc(s.cmd.Process.Pid, s.addr)
		if err != nil {
			return nil, err
		}
		grown.add(now.minus(s.base))
	}
	for _, s := range servers {
		s.command("reset")
		if _, err := s.report(deadline); err != nil {
			return nil, err
		}
	}
	cpuStart := make([]float64, procs)
	for i, s := range servers {
		cpuStart[i] = cpuSeconds(s.cmd.Process.Pid)
	}
	time.Sleep(o.window)
	var cpu float64
	for i, s := range servers {
		cpu += cpuSeconds(s.cmd.Process.Pid) - cpuStart[i]
	}
	var rtts []float64
	for _, s := range servers {
		s.command("rtts")
		r, err := s.report(deadline)
		if err != nil {
			return nil, err
		}
		rtts = append(rtts, r.RTTs...)
	}
	sort.Float64s(rtts)
	res.fill(grown, cpu/o.window.Seconds()*100, rtts)

	// Close everything and time the servers' return to their start.
	closeStart := time.Now()
	for _, s := range servers {
		s.command("close")
	}
	for _, s := range servers {
		if _, err := s.report(deadline); err != nil {
			return nil, err
		}
	}
	for _, s := range servers {
		for {
			fds := countFDs(s.cmd.Process.Pid)
			if fds <= s.base.FDs+2 {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%s still has %d descriptors open (%d at the start)", s.addr, fds, s.base.FDs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	res.CloseSeconds = time.Since(closeStart).Seconds()
	return res, nil
}

// command sends a line to the client process.
func (s *serverProc) command(c string) {
	_, _ = s.commands.WriteString(c + "\n")
	_ = s.commands.Flush()
}

// report reads the client process's next report.
func (s *serverProc) report(deadline time.Time) (clientReport, error) {
	var r clientReport
	got := make(chan bool, 1)
	go func() { got <- s.reports.Scan() }()
	select {
	case ok := <-got:
		if !ok {
			return r, fmt.Errorf("client of %s ended: %v", s.addr, s.reports.Err())
		}
	case <-time.After(time.Until(deadline)):
		return r, fmt.Errorf("client of %s: no report before the run's timeout", s.addr)
	}
	if err := json.Unmarshal(s.reports.Bytes(), &r); err != nil {
		return r, fmt.Errorf("client of %s: %q: %w", s.addr, s.reports.Text(), err)
	}
	if r.Error != "" && r.Connected == 0 {
		return r, fmt.Errorf("client of %s: %s", s.addr, r.Error)
	}
	return r, nil
}

// serverStats reads the server's /debug/stats.
func serverStats(addr string) (stats, error) {
	var st stats
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/debug/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// stats is the part of cmd/server's /debug/stats scale uses.
type stats struct {
	Goroutines int    `json:"goroutines"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
}
