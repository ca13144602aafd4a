// Command load drives one workload against one echo server (cmd/server)
// and prints the result as one JSON object on stdout:
//
//	load -addr 127.0.0.1:18080 -workload pingpong -n 20000
//	load -addr 127.0.0.1:18080 -workload throughput -conns 50 -size 1024 -inflight 8 -duration 5s
//	load -addr 127.0.0.1:18080 -workload broadcast -conns 1000 -n 2000
//	load -addr 127.0.0.1:18080 -workload idle -conns 10000
//
// Every echoed byte is checked; any difference, protocol error or timeout
// fails the run (exit status 1, "error" set in the JSON). Every loop is
// bounded by a count and by -timeout.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/hertzws/websocket/bench/internal/result"
	"github.com/hertzws/websocket/bench/internal/wsclient"
)

type config struct {
	addr     string
	workload string
	size     int
	conns    int
	inflight int
	n        int
	warmupN  int
	duration time.Duration
	warmup   time.Duration
	settle   time.Duration
	window   int
	dialers  int
	text     bool
	coalesce bool
	timeout  time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:18080", "server address (host:port)")
	flag.StringVar(&c.workload, "workload", "pingpong", "pingpong, throughput, broadcast or idle")
	flag.IntVar(&c.size, "size", 0, "message size in bytes (default: 16 pingpong, 1024 throughput, 64 broadcast)")
	flag.IntVar(&c.conns, "conns", 0, "connections (default: 1 pingpong, 50 throughput, 1000 receivers broadcast, 10000 idle)")
	flag.IntVar(&c.inflight, "inflight", 8, "throughput: messages in flight per connection")
	flag.IntVar(&c.n, "n", 0, "pingpong: measured round trips (default 20000); broadcast: messages (default 2000)")
	flag.IntVar(&c.warmupN, "warmup-n", 0, "pingpong: round trips before measuring (default n/10)")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "throughput: measured time")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "throughput: time before measuring")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "idle: wait between the last connection and the measurement")
	flag.IntVar(&c.window, "window", 4, "broadcast: messages the sender may have out before every receiver got the oldest")
	flag.IntVar(&c.dialers, "dialers", 32, "idle, broadcast: concurrent dials")
	flag.BoolVar(&c.text, "text", false, "pingpong, throughput: send text messages of Chinese chat mixed with ASCII (valid UTF-8, which every server validates) instead of binary ones")
	flag.BoolVar(&c.coalesce, "coalesce", false, "throughput: each connection sends every message it may send at that moment in one writev (messages of up to 16 KiB), as a pipelining client with a buffered writer does, instead of one write per message")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "hard limit for the whole run")
	flag.Parse()

	res := result.Load{Workload: c.workload, Metrics: map[string]float64{}}
	timer := time.AfterFunc(c.timeout, func() {
		res.Error = fmt.Sprintf("timed out after %v", c.timeout)
		emit(res)
		os.Exit(2)
	})
	var err error
	switch c.workload {
	case "pingpong":
		c.defaults(16, 1, 20000)
		err = pingpong(c, &res)
	case "throughput":
		c.defaults(1024, 50, 0)
		err = throughput(c, &res)
	case "broadcast":
		c.defaults(64, 1000, 2000)
		err = broadcast(c, &res)
	case "idle":
		c.defaults(16, 10000, 0)
		err = idle(c, &res)
	default:
		err = fmt.Errorf("unknown -workload %q", c.workload)
	}
	timer.Stop()
	res.Params = c.params()
	if err != nil {
		res.Error = err.Error()
		emit(res)
		os.Exit(1)
	}
	emit(res)
}

func (c *config) defaults(size, conns, n int) {
	if c.size <= 0 {
		c.size = size
	}
	if c.conns <= 0 {
		c.conns = conns
	}
	if c.n <= 0 {
		c.n = n
	}
	if c.warmupN <= 0 {
		c.warmupN = c.n / 10
	}
}

func (c *config) params() map[string]string {
	p := map[string]string{
		"size":  strconv.Itoa(c.size),
		"conns": strconv.Itoa(c.conns),
	}
	switch c.workload {
	case "pingpong":
		p["n"] = strconv.Itoa(c.n)
		p["warmup_n"] = strconv.Itoa(c.warmupN)
	case "throughput":
		p["inflight"] = strconv.Itoa(c.inflight)
		if c.coalesce {
			p["coalesce"] = "true"
		}
		p["duration"] = c.duration.String()
		p["warmup"] = c.warmup.String()
	case "broadcast":
		p["n"] = strconv.Itoa(c.n)
		p["window"] = strconv.Itoa(c.window)
	case "idle":
		p["settle"] = c.settle.String()
	}
	return p
}

func emit(r result.Load) {
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// payload returns n deterministic, incompressible bytes; seed makes
// different payloads differ.
func payload(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return b
}

// message returns the n-byte payload number seed of the workload and its
// frame: binary noise, or with -text UTF-8 text.
func (c config) message(n int, seed uint64) (p, frame []byte) {
	if c.text {
		p = chineseText(n, seed)
		return p, wsclient.BuildFrame(wsclient.OpText, p)
	}
	p = payload(n, seed)
	return p, wsclient.BuildFrame(wsclient.OpBinary, p)
}

// chinesePhrases are lines of a Chinese chat, with the ASCII words,
// numbers and punctuation that come with them.
var chinesePhrases = []string{
	"大家好，今天的发布会几点开始？", "下午三点，会议室 A 见。", "刚刚合并了 PR #1024，麻烦帮忙 review 一下。",
	"压测结果：QPS 提升了 35%，p99 延迟降到 8ms。", "收到，我马上验证。", "服务器 CPU 有点高，是不是 GC 的问题？",
	"我看了 pprof，主要是 JSON 序列化。", "周五之前能上线吗？", "可以，测试环境已经部署好了。",
	"WebSocket 连接偶尔会断开，客户端需要重连。", "建议加上心跳，30 秒一次。", "线上告警：订单服务 5xx 比例 2%。",
	"正在回滚，预计 5 分钟恢复。", "恢复了，原因是配置写错了一个字段。", "辛苦了！下周见。",
}

// chineseText returns n bytes of valid UTF-8: phrases from chinesePhrases,
// starting at one that depends on seed, cut at a character boundary and
// padded with spaces.
func chineseText(n int, seed uint64) []byte {
	b := make([]byte, 0, n+64)
	for i := int(seed); len(b) < n; i++ {
		b = append(b, chinesePhrases[i%len(chinesePhrases)]...)
	}
	b = b[:n]
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1] // drop a cut character
	}
	for len(b) < n {
		b = append(b, ' ')
	}
	return b
}

// percentile of sorted durations, q in [0,1].
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

// checkNoFile fails early and clearly when the open-file limit cannot hold
// the connections the workload needs.
func checkNoFile(conns int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil
	}
	need := uint64(conns) + 64
	if lim.Cur >= need {
		return nil
	}
	if lim.Max >= need {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
			return nil
		}
	}
	return fmt.Errorf("open-file limit %d (hard %d) is below the %d this workload needs: raise it with ulimit -n (compare.sh does)", lim.Cur, lim.Max, need)
}
