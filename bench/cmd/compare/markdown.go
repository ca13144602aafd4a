package main

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/hertzws/websocket/bench/internal/result"
)

// stat is the spread of one metric over the rounds that succeeded.
type stat struct {
	n                int
	median, min, max float64
}

func summarize(vals []float64) stat {
	if len(vals) == 0 {
		return stat{}
	}
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{n: len(s), median: med, min: s[0], max: s[len(s)-1]}
}

// collect returns the values of one metric for one workload and server,
// from the runs that succeeded.
func collect(rep *Report, wl, impl, key string) []float64 {
	var v []float64
	for _, r := range rep.Runs {
		if r.Workload != wl || r.Impl != impl || r.Error != "" {
			continue
		}
		if x, ok := metricValue(r.Metrics, key); ok {
			v = append(v, x)
		}
	}
	return v
}

// Derived metrics, computed from a run's metrics rather than measured.
const (
	// busyServer is how much of its core the server used during the
	// measured part: rate × CPU time per message. Well below 100 %
	// means the server was waiting: for the load generator, or for a core
	// that other processes were using.
	busyServer = "server_busy_pct"
	busyLoad   = "load_busy_pct"
)

func metricValue(m map[string]float64, key string) (float64, bool) {
	if key == busyServer || key == busyLoad {
		rate, ok := m[result.MetricMsgsPerSec]
		if d, isBroadcast := m[result.MetricDeliveries]; isBroadcast {
			rate, ok = d, true
		}
		cpuKey := result.MetricServerCPUus
		if key == busyLoad {
			cpuKey = result.MetricLoadCPUus
		}
		cpu, ok2 := m[cpuKey]
		if !ok || !ok2 {
			return 0, false
		}
		return rate * cpu / 1e4, true
	}
	x, ok := m[key]
	return x, ok
}

func failures(rep *Report, wl, impl string) int {
	n := 0
	for _, r := range rep.Runs {
		if r.Workload == wl && r.Impl == impl && r.Error != "" {
			n++
		}
	}
	return n
}

// format prints a value with about three significant digits.
func format(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100000:
		return fmt.Sprintf("%.0fk", v/1000)
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func markdown(rep *Report) string {
	var b strings.Builder
	mode := "full"
	if rep.Quick {
		mode = "quick"
	}
	fmt.Fprintf(&b, "# WebSocket echo server comparison, %s (%s mode)\n\n", rep.Date, mode)
	m := rep.Machine
	fmt.Fprintf(&b, "- Machine: %d × %s, Linux %s, %s; library at %s\n", m.CPUs, m.CPUModel, m.Kernel, m.GoVersion, orDash(m.LibraryHead))
	fmt.Fprintf(&b, "- %s\n", rep.Pinning)
	fmt.Fprintf(&b, "- %d interleaved rounds (each round runs every workload against every server in turn, a fresh server process per run); echo loops: -echo %s\n", rep.Rounds, rep.Echo)
	if rep.Coalesce {
		fmt.Fprintf(&b, "- the load generator ran with -coalesce: in the throughput workloads each connection sends the messages it may send at once (up to 16 KiB each) in one writev\n")
	}
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min) at start: %s; at end: %s. Other processes share the machine: treat differences under ~15%% as noise.\n", orDash(m.LoadStart), orDash(m.LoadEnd))
	fmt.Fprintf(&b, "- Cells: median over the rounds (min–max). **÷ peer** is %s's median divided by that server's median, for the metric named in the column; whether above 1 is good depends on the metric (↑ higher is better, ↓ lower is better).\n\n", reference)

	for _, w := range rep.Workloads {
		fmt.Fprintf(&b, "## %s\n\n%s. `load %s`\n\n", w.Name, w.Desc, strings.Join(w.Args, " "))
		// Header.
		b.WriteString("| server |")
		sep := "|---|"
		for _, mt := range w.Metrics {
			if mt.Info {
				fmt.Fprintf(&b, " %s |", mt.Label)
			} else {
				fmt.Fprintf(&b, " %s %s |", mt.Label, arrow(mt.Higher))
			}
			sep += "---:|"
		}
		for _, mt := range w.Metrics {
			if mt.Ratio {
				fmt.Fprintf(&b, " ÷ peer (%s %s) |", mt.Label, arrow(mt.Higher))
				sep += "---:|"
			}
		}
		b.WriteString("\n" + sep + "\n")
		for _, impl := range rep.Impls {
			name := impl
			if impl == reference {
				name = "**" + impl + "**"
			}
			fmt.Fprintf(&b, "| %s |", name)
			fails := failures(rep, w.Name, impl)
			for _, mt := range w.Metrics {
				s := summarize(collect(rep, w.Name, impl, mt.Key))
				if s.n == 0 {
					b.WriteString(" FAILED |")
					continue
				}
				cell := format(s.median)
				if s.n > 1 {
					cell += fmt.Sprintf(" (%s–%s)", format(s.min), format(s.max))
				}
				if fails > 0 {
					cell += fmt.Sprintf(" [%d failed]", fails)
				}
				fmt.Fprintf(&b, " %s |", cell)
			}
			for _, mt := range w.Metrics {
				if !mt.Ratio {
					continue
				}
				if impl == reference {
					b.WriteString(" — |")
					continue
				}
				ours := summarize(collect(rep, w.Name, reference, mt.Key))
				peer := summarize(collect(rep, w.Name, impl, mt.Key))
				if ours.n == 0 || peer.n == 0 || peer.median <= 0 || ours.median <= 0 {
					b.WriteString(" n/a |")
					continue
				}
				fmt.Fprintf(&b, " %.2f |", ours.median/peer.median)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	var failed []Run
	for _, r := range rep.Runs {
		if r.Error != "" {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		b.WriteString("## Failed runs\n\n")
		for _, r := range failed {
			msg := r.Error
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			fmt.Fprintf(&b, "- round %d, %s, %s: %s\n", r.Round, r.Workload, r.Impl, strings.ReplaceAll(msg, "\n", " "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func arrow(higher bool) string {
	if higher {
		return "↑"
	}
	return "↓"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
