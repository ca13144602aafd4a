// Command compare runs every workload of cmd/load against every server of
// cmd/server in interleaved rounds and writes the results:
//
//	compare [-quick] [-rounds 5] [-impls a,b] [-workloads x,y]
//
// For each round, for each workload, for each server in turn (A B C ...),
// it starts a fresh server process, waits for its "ready", runs the load
// generator once, and stops the server with SIGTERM. With taskset present
// (and at least two CPUs) the server is pinned to -server-cpu and the load
// generator to -load-cpu; both run with GOMAXPROCS=1 (-gomaxprocs).
//
// The raw results go to <out>/<date>[-quick].json and a Markdown table of
// medians, min–max spread and hertzws-netpoll ÷ peer ratios to
// <out>/<date>[-quick].md; the table is also printed on stdout. Progress
// goes to stderr. Build the binaries first (make -C bench compare does).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hertzws/websocket/bench/internal/result"
)

// reference is the server every other one is compared with.
const reference = "hertzws-netpoll"

// allImpls are the servers of a comparison, in the order of its table's
// rows; hertzws-events is this library's event-driven mode on netpoll.
var allImpls = []string{"hertzws-netpoll", "hertzws-standard", "hertzws-events", "gorilla-adaptor", "gorilla-nethttp", "gws", "coder"}

// metric describes one column of a workload's table.
type metric struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Higher bool   `json:"higher_is_better"`
	Ratio  bool   `json:"ratio"`          // show hertzws-netpoll ÷ peer for it
	Info   bool   `json:"info,omitempty"` // diagnostic: neither higher nor lower is better
}

// workload is one load generator invocation, in full and quick form.
type workload struct {
	Name    string   `json:"name"`
	Desc    string   `json:"desc"`
	Args    []string `json:"args"`
	Metrics []metric `json:"metrics"`
	quick   []string // replaces Args in -quick mode
}

var (
	mPP = []metric{
		{result.MetricP50us, "p50 µs", false, true, false},
		{result.MetricP99us, "p99 µs", false, true, false},
		{result.MetricMsgsPerSec, "round trips/s", true, false, false},
		{result.MetricServerCPUus, "server CPU µs/msg", false, true, false},
		{busyServer, "server core busy %", false, false, true},
		{busyLoad, "load core busy %", false, false, true},
	}
	mTP = []metric{
		{result.MetricMsgsPerSec, "msgs/s", true, true, false},
		{result.MetricMBPerSec, "MB/s", true, false, false},
		{result.MetricServerCPUus, "server CPU µs/msg", false, true, false},
		{busyServer, "server core busy %", false, false, true},
		{busyLoad, "load core busy %", false, false, true},
	}
	mBC = []metric{
		{result.MetricDeliveries, "deliveries/s", true, true, false},
		{result.MetricFanoutP50ms, "fan-out p50 ms", false, false, false},
		{result.MetricFanoutP99ms, "fan-out p99 ms", false, false, false},
		{result.MetricServerCPUus, "server CPU µs/delivery", false, true, false},
		{busyServer, "server core busy %", false, false, true},
		{busyLoad, "load core busy %", false, false, true},
	}
	mIdle = []metric{
		{result.MetricKiBPerConn, "RSS KiB/conn", false, true, false},
		{result.MetricGoMemPerConn, "Go heap+stack KiB/conn", false, false, false},
		{result.MetricGoroutines, "goroutines/conn", false, false, false},
	}
)

var workloads = []workload{
	{Name: "pingpong", Desc: "1 connection, 16 B messages, one round trip at a time",
		Args:    []string{"-workload", "pingpong", "-size", "16", "-n", "20000"},
		quick:   []string{"-workload", "pingpong", "-size", "16", "-n", "5000"},
		Metrics: mPP},
	{Name: "throughput-1KiB", Desc: "50 connections × 1 KiB messages, 8 in flight per connection",
		Args:    []string{"-workload", "throughput", "-conns", "50", "-size", "1024", "-inflight", "8", "-warmup", "1s", "-duration", "5s"},
		quick:   []string{"-workload", "throughput", "-conns", "50", "-size", "1024", "-inflight", "8", "-warmup", "500ms", "-duration", "2s"},
		Metrics: mTP},
	{Name: "throughput-16KiB", Desc: "50 connections × 16 KiB messages, 4 in flight per connection",
		Args:    []string{"-workload", "throughput", "-conns", "50", "-size", "16384", "-inflight", "4", "-warmup", "1s", "-duration", "5s"},
		quick:   []string{"-workload", "throughput", "-conns", "50", "-size", "16384", "-inflight", "4", "-warmup", "500ms", "-duration", "2s"},
		Metrics: mTP},
	{Name: "throughput-1MiB", Desc: "10 connections × 1 MiB messages, 2 in flight per connection",
		Args:    []string{"-workload", "throughput", "-conns", "10", "-size", "1048576", "-inflight", "2", "-warmup", "1s", "-duration", "5s"},
		quick:   []string{"-workload", "throughput", "-conns", "10", "-size", "1048576", "-inflight", "2", "-warmup", "500ms", "-duration", "2s"},
		Metrics: mTP},
	{Name: "text-cjk-256B", Desc: "50 connections × 256 B text messages of Chinese chat mixed with ASCII, 8 in flight; every server checks UTF-8",
		Args:    []string{"-workload", "throughput", "-text", "-conns", "50", "-size", "256", "-inflight", "8", "-warmup", "1s", "-duration", "5s"},
		quick:   []string{"-workload", "throughput", "-text", "-conns", "50", "-size", "256", "-inflight", "8", "-warmup", "500ms", "-duration", "2s"},
		Metrics: mTP},
	{Name: "text-cjk-1KiB", Desc: "50 connections × 1 KiB text messages of Chinese chat mixed with ASCII, 8 in flight; every server checks UTF-8",
		Args:    []string{"-workload", "throughput", "-text", "-conns", "50", "-size", "1024", "-inflight", "8", "-warmup", "1s", "-duration", "5s"},
		quick:   []string{"-workload", "throughput", "-text", "-conns", "50", "-size", "1024", "-inflight", "8", "-warmup", "500ms", "-duration", "2s"},
		Metrics: mTP},
	{Name: "broadcast", Desc: "1 sender → 1000 receivers on /broadcast, 64 B messages, window 4",
		Args:    []string{"-workload", "broadcast", "-conns", "1000", "-size", "64", "-n", "1000", "-window", "4"},
		quick:   []string{"-workload", "broadcast", "-conns", "1000", "-size", "64", "-n", "300", "-window", "4"},
		Metrics: mBC},
	{Name: "idle", Desc: "10,000 idle connections (quick: 2,000); server RSS and goroutine growth",
		Args:    []string{"-workload", "idle", "-conns", "10000", "-settle", "5s"},
		quick:   []string{"-workload", "idle", "-conns", "2000", "-settle", "2s"},
		Metrics: mIdle},
}

// Run is one load generator run against one fresh server.
type Run struct {
	Round    int                `json:"round"`
	Workload string             `json:"workload"`
	Impl     string             `json:"impl"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
	Error    string             `json:"error,omitempty"`
	Seconds  float64            `json:"seconds"`
}

// Report is the raw results file.
type Report struct {
	Date        string     `json:"date"`
	Started     time.Time  `json:"started"`
	Finished    time.Time  `json:"finished"`
	Quick       bool       `json:"quick"`
	Rounds      int        `json:"rounds"`
	Impls       []string   `json:"impls"`
	Workloads   []workload `json:"workloads"`
	Machine     Machine    `json:"machine"`
	Pinning     string     `json:"pinning"`
	GOMAXPROCS  int        `json:"gomaxprocs"`
	ServerProcs int        `json:"server_gomaxprocs"`
	Echo        string     `json:"echo"`
	Coalesce    bool       `json:"coalesce,omitempty"`
	Runs        []Run      `json:"runs"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model"`
	Kernel      string `json:"kernel"`
	GoVersion   string `json:"go_version"`
	LoadStart   string `json:"loadavg_start"`
	LoadEnd     string `json:"loadavg_end"`
	LibraryHead string `json:"library_head,omitempty"`
}

type options struct {
	quick       bool
	rounds      int
	impls       []string
	workloads   []workload
	serverBin   string
	loadBin     string
	out         string
	host        string
	port        int
	serverCPU   int
	loadCPU     int
	noPin       bool
	gomaxprocs  int
	serverProcs int
	echo        string
	coalesce    bool
	date        string
	noSave      bool
}

func main() {
	var o options
	var impls, wls string
	flag.BoolVar(&o.quick, "quick", false, "fewer rounds, shorter workloads, 2,000 idle connections")
	flag.IntVar(&o.rounds, "rounds", 0, "interleaved rounds (default 5; 3 with -quick)")
	flag.StringVar(&impls, "impls", strings.Join(allImpls, ","), "servers, comma-separated")
	flag.StringVar(&wls, "workloads", "", "workloads, comma-separated (default all: "+workloadNames()+")")
	flag.StringVar(&o.serverBin, "server", "bin/server", "server binary")
	flag.StringVar(&o.loadBin, "load", "bin/load", "load generator binary")
	flag.StringVar(&o.out, "out", "results", "directory for <date>.json and <date>.md")
	flag.StringVar(&o.host, "host", "127.0.0.1", "loopback address the servers listen on")
	flag.IntVar(&o.port, "port", 21000, "first port; every server start takes the next one")
	flag.IntVar(&o.serverCPU, "server-cpu", 0, "CPU the server is pinned to")
	flag.IntVar(&o.loadCPU, "load-cpu", 1, "CPU the load generator is pinned to")
	flag.BoolVar(&o.noPin, "no-pin", false, "do not pin with taskset")
	flag.IntVar(&o.gomaxprocs, "gomaxprocs", 1, "GOMAXPROCS of the server and of the load generator")
	flag.IntVar(&o.serverProcs, "server-gomaxprocs", 0, "GOMAXPROCS of the server only (default: -gomaxprocs); the server stays pinned to one CPU")
	flag.StringVar(&o.echo, "echo", "auto", "passed to every server as -echo")
	flag.BoolVar(&o.coalesce, "coalesce", false, "passed to the load generator in every throughput workload: each connection sends the messages it may send at once in one writev, as a pipelining client does")
	flag.StringVar(&o.date, "date", time.Now().Format("2006-01-02"), "date in the result file names")
	flag.BoolVar(&o.noSave, "no-save", false, "print the table only; write no files")
	from := flag.String("from", "", "print the table of an earlier run's raw JSON (results/<date>.json) and exit")
	flag.Parse()

	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			fatalf("%v", err)
		}
		var rep Report
		if err := json.Unmarshal(b, &rep); err != nil {
			fatalf("%s: %v", *from, err)
		}
		// Show the columns this version of compare knows for each workload.
		for i, w := range rep.Workloads {
			if cur, ok := findWorkload(w.Name); ok {
				rep.Workloads[i].Metrics = cur.Metrics
			}
		}
		fmt.Print(markdown(&rep))
		return
	}

	if o.serverProcs <= 0 {
		o.serverProcs = o.gomaxprocs
	}
	if o.rounds <= 0 {
		o.rounds = 5
		if o.quick {
			o.rounds = 3
		}
	}
	o.impls = splitList(impls)
	for _, n := range o.impls {
		if !contains(allImpls, n) {
			fatalf("unknown server %q (have %s)", n, strings.Join(allImpls, ", "))
		}
	}
	for _, n := range splitList(wls) {
		w, ok := findWorkload(n)
		if !ok {
			fatalf("unknown workload %q (have %s)", n, workloadNames())
		}
		o.workloads = append(o.workloads, w)
	}
	if len(o.workloads) == 0 {
		o.workloads = workloads
	}
	if o.quick {
		for i := range o.workloads {
			o.workloads[i].Args = o.workloads[i].quick
		}
	}
	if o.coalesce {
		for i, w := range o.workloads {
			if len(w.Args) > 1 && w.Args[1] == "throughput" {
				o.workloads[i].Args = append(w.Args[:len(w.Args):len(w.Args)], "-coalesce")
			}
		}
	}
	for _, b := range []string{o.serverBin, o.loadBin} {
		if _, err := os.Stat(b); err != nil {
			fatalf("%v (build first: make -C bench build)", err)
		}
	}

	rep := Report{
		Date: o.date, Started: time.Now(), Quick: o.quick, Rounds: o.rounds,
		Impls: o.impls, Workloads: o.workloads, Machine: machine(),
		GOMAXPROCS: o.gomaxprocs, ServerProcs: o.serverProcs, Echo: o.echo,
		Coalesce: o.coalesce,
	}
	pin := pinning(&o)
	rep.Pinning = pin.desc
	logf("%s", pin.desc)

	total := o.rounds * len(o.workloads) * len(o.impls)
	k := 0
	for r := 1; r <= o.rounds; r++ {
		for _, w := range o.workloads {
			for _, impl := range o.impls {
				k++
				start := time.Now()
				run := Run{Round: r, Workload: w.Name, Impl: impl}
				m, err := runOne(&o, pin, impl, w)
				run.Seconds = round3(time.Since(start).Seconds())
				run.Metrics = m
				if err != nil {
					run.Error = err.Error()
					logf("[%d/%d] round %d %-17s %-16s FAILED: %v", k, total, r, w.Name, impl, err)
				} else {
					logf("[%d/%d] round %d %-17s %-16s %s (%.1fs)", k, total, r, w.Name, impl, summary(w, m), run.Seconds)
				}
				rep.Runs = append(rep.Runs, run)
			}
		}
	}
	rep.Finished = time.Now()
	rep.Machine.LoadEnd = loadavg()

	md := markdown(&rep)
	fmt.Print(md)
	if o.noSave {
		return
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fatalf("%v", err)
	}
	name := o.date
	if o.quick {
		name += "-quick"
	}
	js, _ := json.MarshalIndent(&rep, "", " ")
	jsonPath := filepath.Join(o.out, name+".json")
	mdPath := filepath.Join(o.out, name+".md")
	if err := os.WriteFile(jsonPath, append(js, '\n'), 0o644); err != nil {
		fatalf("%v", err)
	}
	if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
		fatalf("%v", err)
	}
	logf("wrote %s and %s", jsonPath, mdPath)
}

// pin says how processes are started.
type pin struct {
	taskset string // path, or "" for no pinning
	desc    string
}

func pinning(o *options) pin {
	if o.noPin {
		return pin{desc: fmt.Sprintf("not pinned (-no-pin); GOMAXPROCS=%d for server and load generator", o.gomaxprocs)}
	}
	path, err := exec.LookPath("taskset")
	if err != nil {
		logf("WARNING: taskset not found: server and load generator are NOT pinned to separate CPUs")
		return pin{desc: fmt.Sprintf("not pinned (no taskset); GOMAXPROCS=%d for server and load generator", o.gomaxprocs)}
	}
	if runtime.NumCPU() < 2 || o.serverCPU == o.loadCPU {
		logf("WARNING: fewer than 2 CPUs, or -server-cpu equals -load-cpu: not pinning")
		return pin{desc: fmt.Sprintf("not pinned (%d CPUs); GOMAXPROCS=%d", runtime.NumCPU(), o.gomaxprocs)}
	}
	procs := fmt.Sprintf("GOMAXPROCS=%d for each", o.gomaxprocs)
	if o.serverProcs != o.gomaxprocs {
		procs = fmt.Sprintf("GOMAXPROCS=%d for the server, %d for the load generator", o.serverProcs, o.gomaxprocs)
	}
	return pin{taskset: path, desc: fmt.Sprintf("server pinned to CPU %d, load generator to CPU %d (taskset); %s", o.serverCPU, o.loadCPU, procs)}
}

func (p pin) command(ctx context.Context, cpu int, gomaxprocs int, bin string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if p.taskset != "" {
		cmd = exec.CommandContext(ctx, p.taskset, append([]string{"-c", strconv.Itoa(cpu), bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(gomaxprocs), "GOGC=", "GODEBUG=")
	return cmd
}

// runOne starts a fresh server, runs one workload against it and stops it.
func runOne(o *options, p pin, impl string, w workload) (map[string]float64, error) {
	var srv *server
	var err error
	for attempt := 0; attempt < 3; attempt++ { // a port may be taken: try the next
		addr := fmt.Sprintf("%s:%d", o.host, o.port)
		o.port++
		srv, err = startServer(p, o, impl, addr, messageSize(w.Args))
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	args := append([]string{"-addr", srv.addr, "-timeout", "5m"}, w.Args...)
	cmd := p.command(ctx, o.loadCPU, o.gomaxprocs, o.loadBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var res result.Load
	line := lastLine(stdout.Bytes())
	if jerr := json.Unmarshal(line, &res); jerr != nil {
		return nil, fmt.Errorf("load generator: %v; output %q; stderr %q", firstErr(runErr, jerr), tail(stdout.Bytes()), tail(stderr.Bytes()))
	}
	if res.Error != "" || runErr != nil {
		msg := res.Error
		if msg == "" {
			msg = runErr.Error()
		}
		if s := srv.stderrTail(); s != "" {
			msg += "; server stderr: " + s
		}
		return res.Metrics, errors.New(msg)
	}
	if srv.exited() {
		return res.Metrics, fmt.Errorf("server exited during the run: %s", srv.stderrTail())
	}
	return res.Metrics, nil
}

type server struct {
	addr   string
	cmd    *exec.Cmd
	stderr *tailBuffer
	done   chan struct{}
}

// messageSize returns the workload's -size argument, or "0" when it has
// none: the server's -echo auto picks each library's faster loop for it.
func messageSize(args []string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-size" {
			return args[i+1]
		}
	}
	return "0"
}

func startServer(p pin, o *options, impl, addr, size string) (*server, error) {
	cmd := p.command(context.Background(), o.serverCPU, o.serverProcs, o.serverBin, "-impl", impl, "-addr", addr, "-echo", o.echo, "-size", size)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{addr: addr, cmd: cmd, stderr: &tailBuffer{max: 4096}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			if !said && strings.TrimSpace(sc.Text()) == "ready" {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case ok := <-ready:
		if ok {
			return s, nil
		}
		<-s.done
		return nil, fmt.Errorf("server %s exited before ready: %s", impl, s.stderrTail())
	case <-time.After(20 * time.Second):
		s.stop()
		return nil, fmt.Errorf("server %s not ready after 20s: %s", impl, s.stderrTail())
	}
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *server) stop() {
	if s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) stderrTail() string { return strings.TrimSpace(s.stderr.String()) }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

func summary(w workload, m map[string]float64) string {
	var parts []string
	for _, mt := range w.Metrics {
		if v, ok := m[mt.Key]; ok {
			parts = append(parts, mt.Label+"="+format(v))
		}
	}
	return strings.Join(parts, " ")
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadStart: loadavg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("git", "-C", "..", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.LibraryHead = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "-C", "..", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			m.LibraryHead += "+dirty"
		}
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func findWorkload(name string) (workload, bool) {
	for _, w := range workloads {
		if w.Name == name {
			return w, true
		}
	}
	return workload{}, false
}

func workloadNames() string {
	var n []string
	for _, w := range workloads {
		n = append(n, w.Name)
	}
	return strings.Join(n, ",")
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 500 {
		b = b[len(b)-500:]
	}
	return string(b)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
	os.Exit(1)
}

var _ io.Writer = (*tailBuffer)(nil)
