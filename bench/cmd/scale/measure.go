package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procReading is what scale reads of a server process.
type procReading struct {
	RSS        int64 // VmRSS, bytes
	HeapInuse  int64
	StackInuse int64
	Goroutines int64
	FDs        int
}

// readProc reads the process's RSS and descriptors from /proc and its Go
// figures from /debug/stats.
func readProc(pid int, addr string) (procReading, error) {
	var r procReading
	st, err := serverStats(addr)
	if err != nil {
		return r, fmt.Errorf("stats of %s: %w", addr, err)
	}
	r.HeapInuse, r.StackInuse, r.Goroutines = int64(st.HeapInuse), int64(st.StackInuse), int64(st.Goroutines)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return r, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			r.RSS = kb << 10
		}
	}
	r.FDs = countFDs(pid)
	return r, nil
}

func (r procReading) minus(base procReading) procReading {
	return procReading{
		RSS:        r.RSS - base.RSS,
		HeapInuse:  r.HeapInuse - base.HeapInuse,
		StackInuse: r.StackInuse - base.StackInuse,
		Goroutines: r.Goroutines - base.Goroutines,
		FDs:        r.FDs - base.FDs,
	}
}

func (r *procReading) add(d procReading) {
	r.RSS += d.RSS
	r.HeapInuse += d.HeapInuse
	r.StackInuse += d.StackInuse
	r.Goroutines += d.Goroutines
	r.FDs += d.FDs
}

// countFDs counts the process's open descriptors.
func countFDs(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(entries)
}

// cpuSeconds returns the CPU time (user and system) the process has used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields
	// from the closing parenthesis. utime and stime are fields 14 and 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on
// Linux on every architecture Go supports.
const clockTicks = 100
