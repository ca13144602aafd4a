// Package result holds the JSON shapes exchanged between the load
// generator, the echo servers and the compare runner.
package result

// Load is what one run of cmd/load prints on stdout, as one JSON object.
type Load struct {
	Workload string            `json:"workload"`
	Params   map[string]string `json:"params,omitempty"`
	// Metrics are the measured values, by name (see Metric* below).
	Metrics map[string]float64 `json:"metrics"`
	// Error is set when the run failed; Metrics may then be partial.
	Error string `json:"error,omitempty"`
}

// Names of metrics.
const (
	MetricRoundTrips   = "round_trips"         // pingpong: measured round trips
	MetricP50us        = "p50_us"              // pingpong: median round trip, µs
	MetricP99us        = "p99_us"              // pingpong: 99th percentile, µs
	MetricP999us       = "p999_us"             // pingpong: 99.9th percentile, µs
	MetricMeanUs       = "mean_us"             // pingpong: mean round trip, µs
	MetricMsgsPerSec   = "msgs_per_s"          // throughput: echoed messages per second
	MetricMBPerSec     = "mb_per_s"            // throughput: echoed payload, 10^6 bytes per second (one direction)
	MetricMessages     = "messages"            // throughput, broadcast: messages counted
	MetricDeliveries   = "deliveries_per_s"    // broadcast: messages received by receivers per second
	MetricFanoutP50ms  = "fanout_p50_ms"       // broadcast: send → last receiver, median, ms
	MetricFanoutP99ms  = "fanout_p99_ms"       // broadcast: send → last receiver, p99, ms
	MetricConns        = "conns"               // idle: connections held open
	MetricRSSBeforeKiB = "rss_before_kib"      // idle: server VmRSS before connecting
	MetricRSSAfterKiB  = "rss_after_kib"       // idle: server VmRSS with all connections open
	MetricKiBPerConn   = "kib_per_conn"        // idle: RSS growth per connection
	MetricGoMemPerConn = "gomem_kib_per_conn"  // idle: Go heap+stack in use growth per connection
	MetricGoroutines   = "goroutines_per_conn" // idle: goroutine growth per connection
	// Server and load generator CPU time (user+system, from
	// /proc/<pid>/stat and getrusage) over the measured part, per message:
	// per round trip (pingpong), per echoed message (throughput), per
	// delivery to a receiver (broadcast). Less sensitive than rates to
	// other processes taking CPU time from the pinned cores.
	MetricServerCPUus = "server_cpu_us_per_msg"
	MetricLoadCPUus   = "load_cpu_us_per_msg"
)

// ServerStats is what GET /debug/stats returns on every echo server.
type ServerStats struct {
	Impl       string `json:"impl"`
	PID        int    `json:"pid"`
	Goroutines int    `json:"goroutines"`
	HeapInuse  uint64 `json:"heap_inuse"`
	HeapSys    uint64 `json:"heap_sys"`
	StackInuse uint64 `json:"stack_inuse"`
	Sys        uint64 `json:"sys"`
	NumGC      uint32 `json:"num_gc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}
