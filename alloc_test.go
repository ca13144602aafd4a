package websocket_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// poolsAreLossy reports whether sync.Pool drops items put into it, as it
// does on purpose under the race detector.
func poolsAreLossy() bool {
	var p sync.Pool
	item := new(int)
	lost := 0
	for i := 0; i < 200; i++ {
		p.Put(item)
		if p.Get() == nil {
			lost++
		}
	}
	return lost > 10
}

// allocSlack is the allocations per message a steady-state measurement may
// show beyond its target: none, except where sync.Pool is lossy. There a
// quarter of the Puts are dropped, so a path that takes buffers from
// several pools (read, write, copy) allocates up to two more times per
// message on average (testing.AllocsPerRun rounds the average down).
// `make test` also runs the allocation tests without the race detector,
// where the slack is zero.
func allocSlack() float64 {
	if poolsAreLossy() {
		return 2
	}
	return 0
}

// allocPath is one API path whose allocations per message are measured.
type allocPath struct {
	name string
	max  float64 // allocations allowed per message
	got  float64
}

// TestServerSteadyStateAllocs measures a server Conn's allocations per
// message, uncompressed, for every API path, with 1 KiB and 64 KiB
// messages: none may allocate in steady state but ReadMessage, which
// allocates its result once.
//
// testing.AllocsPerRun counts the allocations of the whole process, so the
// peer is the raw client, which does not allocate while it works: it
// discards what the server writes into a fixed buffer and sends frames
// encoded before the measurement.
func TestServerSteadyStateAllocs(t *testing.T) {
	const runs = 100
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, size := range []int{1 << 10, 64 << 10} {
			size := size
			t.Run(fmt.Sprintf("%dKiB", size>>10), func(t *testing.T) {
				msg := bytes.Repeat([]byte("0123456789abcdef"), size/16)
				paths, err := measureServerAllocs(t, tc, msg, runs, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range paths {
					t.Logf("%-40s %.2f allocs/op", p.name, p.got)
					if limit := p.max + allocSlack(); p.got > limit {
						t.Errorf("%s: %.2f allocations per message, want at most %.0f", p.name, p.got, limit)
					}
				}
			})
		}
	})
}

// measureServerAllocs runs the measurements inside a server handler, on a
// connection with observer o (nil for none), and returns them.
func measureServerAllocs(t *testing.T, tc wstest.Transport, msg []byte, runs int, o websocket.Observer) ([]allocPath, error) {
	// Every read phase takes runs+1 messages (AllocsPerRun warms up once)
	// plus its own warm-up.
	const warm = 20
	const readPhases = 3
	type result struct {
		paths []allocPath
		err   error
	}
	res := make(chan result, 1)
	reading := make(chan struct{})
	pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, msg)
	if err != nil {
		return nil, err
	}
	batch := []*websocket.PreparedMessage{pm, pm, pm, pm}
	upgrader := websocket.HertzUpgrader{Observer: o}
	handler := func(c *websocket.Conn) {
		var r result
		defer func() { res <- r }()
		fail := func(err error) {
			if r.err == nil && err != nil {
				r.err = err
			}
		}
		src := bytes.NewReader(nil)
		limited := &io.LimitedReader{} // not an io.WriterTo: io.Copy uses ReadFrom
		writePaths := []struct {
			name  string
			write func()
		}{
			{"WriteMessage", func() { fail(c.WriteMessage(websocket.BinaryMessage, msg)) }},
			{"WritePreparedMessage", func() { fail(c.WritePreparedMessage(pm)) }},
			{"WritePreparedMessages (4 at once)", func() { fail(c.WritePreparedMessages(batch)) }},
			{"NextWriter+Write+Close", func() {
				w, err := c.NextWriter(websocket.BinaryMessage)
				if err != nil {
					fail(err)
					return
				}
				_, err = w.Write(msg)
				fail(err)
				fail(w.Close())
			}},
			{"NextWriter+io.Copy(reader)+Close", func() {
				w, err := c.NextWriter(websocket.BinaryMessage)
				if err != nil {
					fail(err)
					return
				}
				src.Reset(msg)
				limited.R, limited.N = src, int64(len(msg))
				_, err = io.Copy(w, limited)
				fail(err)
				fail(w.Close())
			}},
		}
		for _, p := range writePaths {
			for i := 0; i < warm; i++ {
				p.write()
			}
			r.paths = append(r.paths, allocPath{name: p.name, got: testing.AllocsPerRun(runs, p.write)})
		}

		close(reading)
		buf := make([]byte, 64<<10)
		readPaths := []struct {
			name string
			max  float64
			read func()
		}{
			{"NextReader+Read", 0, func() {
				_, mr, err := c.NextReader()
				if err != nil {
					fail(err)
					return
				}
				for err == nil {
					_, err = mr.Read(buf)
				}
				if err != io.EOF {
					fail(err)
				}
			}},
			{"NextReader+NextWriter+io.Copy (echo)", 0, func() {
				mt, mr, err := c.NextReader()
				if err != nil {
					fail(err)
					return
				}
				w, err := c.NextWriter(mt)
				if err != nil {
					fail(err)
					return
				}
				_, err = io.Copy(w, mr)
				fail(err)
				fail(w.Close())
			}},
			{"ReadMessage", 1, func() {
				_, p, err := c.ReadMessage()
				fail(err)
				if err == nil && len(p) != len(msg) {
					fail(fmt.Errorf("ReadMessage returned %d bytes, want %d", len(p), len(msg)))
				}
			}},
		}
		for _, p := range readPaths {
			for i := 0; i < warm; i++ {
				p.read()
			}
			r.paths = append(r.paths, allocPath{name: p.name, max: p.max, got: testing.AllocsPerRun(runs, p.read)})
		}
	}
	addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = upgrader.Upgrade(ctx, handler)
		})
	})
	rc := wstest.DialRaw(t, addr)
	rc.Handshake("/ws")
	_ = rc.NetConn.SetDeadline(time.Time{})
	go func() {
		discard := make([]byte, 64<<10)
		for {
			if _, err := rc.Reader.Read(discard); err != nil {
				return
			}
		}
	}()
	frames := bytes.Repeat(wstest.Masked(true, frame.OpBinary, msg), readPhases*(warm+runs+1))
	go func() {
		<-reading
		_, _ = rc.NetConn.Write(frames)
	}()
	select {
	case r := <-res:
		return r.paths, r.err
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("the handler did not finish its measurements")
	}
}

// countingObserver counts messages with atomic adds, as a metrics
// observer does.
type countingObserver struct {
	websocket.NopObserver
	read, written, bytes atomic.Int64
}

func (o *countingObserver) MessageRead(_ int, payload, _ int64) {
	o.read.Add(1)
	o.bytes.Add(payload)
}

func (o *countingObserver) MessageWritten(_ int, payload, _ int64) {
	o.written.Add(1)
	o.bytes.Add(payload)
}

// TestObserverSteadyStateAllocs is TestServerSteadyStateAllocs with an
// Observer set: calling one allocates nothing either. (Without one, the
// hooks are a nil check, which TestServerSteadyStateAllocs covers.)
func TestObserverSteadyStateAllocs(t *testing.T) {
	const runs = 100
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		msg := bytes.Repeat([]byte("0123456789abcdef"), 64)
		var o countingObserver
		paths, err := measureServerAllocs(t, tc, msg, runs, &o)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			t.Logf("%-40s %.2f allocs/op", p.name, p.got)
			if limit := p.max + allocSlack(); p.got > limit {
				t.Errorf("%s: %.2f allocations per message, want at most %.0f", p.name, p.got, limit)
			}
		}
		if o.read.Load() < runs || o.written.Load() < runs {
			t.Fatalf("the observer saw %d messages read and %d written, want at least %d each", o.read.Load(), o.written.Load(), runs)
		}
	})
}
