package abuse

import "time"

// Stats is what cmd/abuse-server reports on /stats, and the suite reads.
// Peaks are since the start or the last /stats/reset.
type Stats struct {
	HeapAlloc      uint64 `json:"heap_alloc"`
	HeapAllocPeak  uint64 `json:"heap_alloc_peak"`
	HeapInuse      uint64 `json:"heap_inuse"`
	HeapInusePeak  uint64 `json:"heap_inuse_peak"`
	Goroutines     int    `json:"goroutines"`
	GoroutinesPeak int    `json:"goroutines_peak"`
	Handlers       int64  `json:"handlers"`
	// HeapLive is the heap the last collection found live, and
	// HeapLivePeak its peak: the memory the server holds, without the
	// garbage HeapAlloc also counts.
	HeapLive     uint64 `json:"heap_live"`
	HeapLivePeak uint64 `json:"heap_live_peak"`
	// WriteFails counts WriteMessage calls that failed, and WriteFailMax
	// is how long the longest of them waited before it failed.
	WriteFails   int64         `json:"write_fails"`
	WriteFailMax time.Duration `json:"write_fail_max"`
}
