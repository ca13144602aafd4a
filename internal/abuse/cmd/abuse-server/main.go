// Command abuse-server is the echo server the abuse suite attacks: a Hertz
// server on 127.0.0.1 with one WebSocket route written the way users write
// it (ReadMessage, then WriteMessage), configured from flags, that samples
// its own heap and goroutines and reports their peaks on /stats. With
// -events the same route is served by HertzUpgrader.UpgradeEvents, the
// message handed back from OnMessage.
//
// It runs as a process of its own so that its memory is its own, and is
// built without the race detector so that the memory figures mean what
// they say.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/abuse"
)

// sampler keeps the peaks.
type sampler struct {
	mu       sync.Mutex
	s        abuse.Stats
	handlers int64
}

// liveHeap reads the heap the last collection marked live (0 where the
// runtime does not report it).
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// sample reads the heap and goroutines and raises the peaks.
func (sm *sampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g := runtime.NumGoroutine()
	live := liveHeap()
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.s.HeapLive = live
	if live > sm.s.HeapLivePeak {
		sm.s.HeapLivePeak = live
	}
	sm.s.HeapAlloc, sm.s.HeapInuse, sm.s.Goroutines = ms.HeapAlloc, ms.HeapInuse, g
	sm.s.Handlers = sm.handlers
	if ms.HeapAlloc > sm.s.HeapAllocPeak {
		sm.s.HeapAllocPeak = ms.HeapAlloc
	}
	if ms.HeapInuse > sm.s.HeapInusePeak {
		sm.s.HeapInusePeak = ms.HeapInuse
	}
	if g > sm.s.GoroutinesPeak {
		sm.s.GoroutinesPeak = g
	}
}

// snapshot samples once more and returns the figures.
func (sm *sampler) snapshot() abuse.Stats {
	sm.sample()
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return sm.s
}

// reset clears the peaks and samples again.
func (sm *sampler) reset() {
	sm.mu.Lock()
	sm.s.HeapAllocPeak, sm.s.HeapInusePeak, sm.s.GoroutinesPeak, sm.s.HeapLivePeak = 0, 0, 0, 0
	sm.mu.Unlock()
	sm.sample()
}

// writeFailed records a failed WriteMessage that waited that long.
func (sm *sampler) writeFailed(waited time.Duration) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.s.WriteFails++
	if waited > sm.s.WriteFailMax {
		sm.s.WriteFailMax = waited
	}
}

// addHandler counts handlers starting (1) and ending (-1).
func (sm *sampler) addHandler(d int64) {
	sm.mu.Lock()
	sm.handlers += d
	sm.mu.Unlock()
}

// debugf logs to stderr when ABUSE_DEBUG is set.
func debugf(format string, args ...interface{}) {
	if os.Getenv("ABUSE_DEBUG") != "" {
		log.Printf(format, args...)
	}
}

// main serves until its standard input closes or it is killed.
func main() {
	transport := flag.String("transport", "netpoll", "Hertz transport: netpoll or standard")
	mode := flag.String("mode", "echo", "echo: send every message back; ack: answer each message with its length and CRC-32")
	budget := flag.Int64("budget", 0, "HertzUpgrader.ReceiveBudget")
	messageTimeout := flag.Duration("message-timeout", 0, "HertzUpgrader.MessageTimeout")
	writeTimeout := flag.Duration("write-timeout", 0, "HertzUpgrader.WriteTimeout")
	keepAlive := flag.Duration("keepalive", 0, "HertzUpgrader.KeepAlive")
	compress := flag.Bool("compress", false, "HertzUpgrader.EnableCompression")
	events := flag.Bool("events", false, "serve with UpgradeEvents (callbacks) instead of Upgrade (a handler goroutine per connection)")
	flag.Parse()
	hlog.SetOutput(io.Discard)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	opts := []config.Option{server.WithListener(ln), server.WithExitWaitTime(time.Second), websocket.WithHandshakeReadTimeout(2 * time.Second)}
	if *transport == "standard" {
		opts = append(opts, server.WithTransport(standard.NewTransporter))
	}
	h := server.New(opts...)
	h.NoHijackConnPool = true

	var sm sampler
	go func() {
		for range time.Tick(10 * time.Millisecond) {
			sm.sample()
		}
	}()

	u := &websocket.HertzUpgrader{
		ReceiveBudget:     *budget,
		MessageTimeout:    *messageTimeout,
		WriteTimeout:      *writeTimeout,
		KeepAlive:         *keepAlive,
		EnableCompression: *compress,
	}
	// answer is the server's reply to a message: the message itself, or
	// in ack mode its length and CRC-32.
	answer := func(mt int, p []byte) (int, []byte) {
		if *mode == "ack" {
			return websocket.TextMessage, []byte(fmt.Sprintf("%d/%08x", len(p), crc32.ChecksumIEEE(p)))
		}
		return mt, p
	}
	// write sends the answer; a failure ends the connection.
	write := func(c *websocket.Conn, mt int, p []byte) error {
		start := time.Now()
		err := c.WriteMessage(answer(mt, p))
		if err != nil {
			sm.writeFailed(time.Since(start))
			debugf("write %v: %v", c.RemoteAddr(), err)
		}
		return err
	}
	if *events {
		// A handler counts from OnOpen to OnClose, as a blocking
		// handler counts while it runs.
		handler := websocket.EventFuncs{
			Open: func(*websocket.Conn) { sm.addHandler(1) },
			Message: func(c *websocket.Conn, mt int, p []byte) {
				if write(c, mt, p) != nil {
					_ = c.Close()
				}
			},
			Close: func(c *websocket.Conn, err error) {
				debugf("read %v: %v", c.RemoteAddr(), err)
				sm.addHandler(-1)
			},
		}
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = u.UpgradeEvents(ctx, handler)
		})
	} else {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = u.Upgrade(ctx, func(c *websocket.Conn) {
				sm.addHandler(1)
				defer sm.addHandler(-1)
				for {
					mt, p, err := c.ReadMessage()
					if err != nil {
						debugf("read %v: %v", c.RemoteAddr(), err)
						return
					}
					if write(c, mt, p) != nil {
						return
					}
				}
			})
		})
	}
	h.GET("/stats", func(_ context.Context, ctx *app.RequestContext) {
		b, _ := json.Marshal(sm.snapshot())
		ctx.Data(200, "application/json", b)
	})
	h.GET("/stats/reset", func(_ context.Context, ctx *app.RequestContext) {
		runtime.GC()
		sm.reset()
		b, _ := json.Marshal(sm.snapshot())
		ctx.Data(200, "application/json", b)
	})
	go func() { _ = h.Run() }()
	fmt.Fprintf(os.Stdout, "listening %s\n", ln.Addr())
	// The suite kills the process when it is done; stdin closing (the
	// suite went away) ends it too.
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = h.Shutdown(ctx)
}
