package main

import "fmt"

// result is one run.
type result struct {
	Impl             string  `json:"impl"`
	Conns            int     `json:"conns"`
	Procs            int     `json:"server_procs"`
	PerProc          int     `json:"max_conns_per_proc"`
	ActiveShare      float64 `json:"active_share"`
	RSSPerConn       float64 `json:"rss_bytes_per_conn"`
	HeapPerConn      float64 `json:"heap_inuse_bytes_per_conn"`
	StackPerConn     float64 `json:"stack_bytes_per_conn"`
	GoroutinesPer    float64 `json:"goroutines_per_conn"`
	HandshakesPerSec float64 `json:"handshakes_per_sec"`
	EchoP50us        float64 `json:"echo_p50_us"`
	EchoP99us        float64 `json:"echo_p99_us"`
	Echoes           int     `json:"echoes"`
	IdleCPUPercent   float64 `json:"idle_cpu_percent"`
	CloseSeconds     float64 `json:"close_seconds"`
	Date             string  `json:"date"`
}

func (r *result) fill(grown procReading, cpuPercent float64, rtts []float64) {
	n := float64(r.Conns)
	r.RSSPerConn = float64(grown.RSS) / n
	r.HeapPerConn = float64(grown.HeapInuse) / n
	r.StackPerConn = float64(grown.StackInuse) / n
	r.GoroutinesPer = float64(grown.Goroutines) / n
	r.IdleCPUPercent = cpuPercent
	r.Echoes = len(rtts)
	if len(rtts) > 0 {
		r.EchoP50us = rtts[len(rtts)/2]
		r.EchoP99us = rtts[len(rtts)*99/100]
	}
}

const tableHeader = `| impl | conns | server procs | RSS / conn | Go heap / conn | stacks / conn | goroutines / conn | handshakes/s | echo p50 | echo p99 | CPU while idle | close all |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`

func (r *result) row() string {
	return fmt.Sprintf("| %s | %d | %d × ≤%d | %.2f KiB | %.2f KiB | %.2f KiB | %.3f | %.0f | %.0f µs | %.0f µs | %.1f %% | %.1f s |",
		r.Impl, r.Conns, r.Procs, r.PerProc, r.RSSPerConn/1024, r.HeapPerConn/1024, r.StackPerConn/1024,
		r.GoroutinesPer, r.HandshakesPerSec, r.EchoP50us, r.EchoP99us, r.IdleCPUPercent, r.CloseSeconds)
}

// check returns the limits the run broke.
func (r *result) check(o options) []string {
	var out []string
	if o.maxRSS > 0 && r.RSSPerConn > o.maxRSS {
		out = append(out, fmt.Sprintf("RSS per connection %.0f B > %.0f B", r.RSSPerConn, o.maxRSS))
	}
	if o.maxGoroutines >= 0 && r.GoroutinesPer > o.maxGoroutines {
		out = append(out, fmt.Sprintf("goroutines per connection %.3f > %.3f", r.GoroutinesPer, o.maxGoroutines))
	}
	if r.Echoes == 0 && r.ActiveShare > 0 {
		out = append(out, "no active echo completed")
	}
	return out
}
