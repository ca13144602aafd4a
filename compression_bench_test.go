package websocket_test

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// Server-side permessage-deflate throughput over real loopback connections.
// The client is the raw client, which only frames (the write benchmarks skip
// payloads undecoded; the read benchmarks send frames compressed up front),
// so the numbers are dominated by the server.

// czBenchSet is a set of distinct messages of one kind, sent in turn, so
// that context takeover meets realistic history instead of one message
// repeated.
type czBenchSet struct {
	name string
	msgs [][]byte
}

func czBenchSets() []czBenchSet {
	json := make([][]byte, 64)
	for i := range json {
		json[i] = wstest.ChatBatch(i)
	}
	text := make([][]byte, 4)
	for i := range text {
		text[i] = wstest.JSONText(64<<10, i*1000)
	}
	return []czBenchSet{{"JSON1KiB", json}, {"Text64KiB", text}}
}

var czBenchModes = []struct{ name, offer string }{
	{"Takeover", "permessage-deflate"},
	{"NoTakeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	{"Uncompressed", ""},
}

// czCountMessages reads frames from r, skipping payloads, until it has seen
// n complete data messages, and reports the end of the count on done.
func czCountMessages(br *bufio.Reader, n int, done chan<- error) {
	var hdr [frame.MaxHeaderSize]byte
	for seen := 0; seen < n; {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			done <- err
			return
		}
		size := 2
		switch hdr[1] & 0x7f {
		case 126:
			size += 2
		case 127:
			size += 8
		}
		if _, err := io.ReadFull(br, hdr[2:size]); err != nil {
			done <- err
			return
		}
		var payload int64
		switch size {
		case 2:
			payload = int64(hdr[1] & 0x7f)
		case 4:
			payload = int64(binary.BigEndian.Uint16(hdr[2:4]))
		default:
			payload = int64(binary.BigEndian.Uint64(hdr[2:10]))
		}
		if _, err := br.Discard(int(payload)); err != nil {
			done <- err
			return
		}
		op := frame.Opcode(hdr[0] & 0x0f)
		if hdr[0]&0x80 != 0 && !op.IsControl() {
			seen++
		}
	}
	done <- nil
}

// BenchmarkCompressionWrite measures WriteMessage on the server: compress
// (or not) and send, until the client has received every message.
func BenchmarkCompressionWrite(b *testing.B) {
	for _, tc := range wstest.Transports {
		for _, set := range czBenchSets() {
			for _, mode := range czBenchModes {
				tc, set, mode := tc, set, mode
				b.Run(tc.Name+"/"+set.name+"/"+mode.name, func(b *testing.B) {
					cmds := make(chan int)
					defer close(cmds)
					written := make(chan error, 1)
					u := &websocket.HertzUpgrader{EnableCompression: true}
					url := wstest.StartHandler(b, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
						for n := range cmds {
							var err error
							for i := 0; i < n && err == nil; i++ {
								err = c.WriteMessage(websocket.TextMessage, set.msgs[i%len(set.msgs)])
							}
							written <- err
						}
					})
					r := czDialRaw(b, url, mode.offer)
					_ = r.cc.SetReadDeadline(time.Time{})
					received := make(chan error, 1)
					b.SetBytes(int64(len(set.msgs[0])))
					b.ReportAllocs()
					b.ResetTimer()
					go czCountMessages(r.br, b.N, received)
					cmds <- b.N
					if err := <-written; err != nil {
						b.Fatal(err)
					}
					if err := <-received; err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
				})
			}
		}
	}
}

// czBenchFrames returns the masked frames a client sends for the messages
// of set: with takeover, one stream over two rounds of the set, so that
// repeating the second round forever stays a valid stream (each message of
// round two refers only to bytes that are the same in every later round);
// without, each message compressed on its own.
func czBenchFrames(set czBenchSet, mode string) (first, repeat [][]byte) {
	mask := [4]byte{0x11, 0x22, 0x33, 0x44}
	enc := func(p []byte, rsv byte) []byte {
		return wstest.EncodeFrame(frame.Header{Fin: true, Rsv: rsv, Opcode: frame.OpText, Masked: true, Mask: mask}, p)
	}
	switch mode {
	case "Uncompressed":
		for _, m := range set.msgs {
			repeat = append(repeat, enc(m, 0))
		}
	case "NoTakeover":
		for _, m := range set.msgs {
			repeat = append(repeat, enc(czCompress(m, flate.DefaultCompression), frame.Rsv1))
		}
	default:
		d := &czDeflater{takeover: true, level: flate.DefaultCompression}
		for _, m := range set.msgs {
			first = append(first, enc(d.compress(m), frame.Rsv1))
		}
		for _, m := range set.msgs {
			repeat = append(repeat, enc(d.compress(m), frame.Rsv1))
		}
	}
	return first, repeat
}

// BenchmarkCompressionRead measures NextReader and Read on the server:
// unmask, decompress (or not), check UTF-8.
func BenchmarkCompressionRead(b *testing.B) {
	for _, tc := range wstest.Transports {
		for _, set := range czBenchSets() {
			for _, mode := range czBenchModes {
				tc, set, mode := tc, set, mode
				b.Run(tc.Name+"/"+set.name+"/"+mode.name, func(b *testing.B) {
					offer := mode.offer
					if mode.name == "NoTakeover" {
						offer = "permessage-deflate; client_no_context_takeover"
					}
					first, repeat := czBenchFrames(set, mode.name)
					cmds := make(chan int)
					defer close(cmds)
					read := make(chan error, 1)
					u := &websocket.HertzUpgrader{EnableCompression: true}
					url := wstest.StartHandler(b, tc, wstest.EngineSettings{}, u, func(c *websocket.Conn) {
						buf := make([]byte, 64<<10)
						for n := range cmds {
							var err error
							var total int64
							for i := 0; i < n && err == nil; i++ {
								var r io.Reader
								if _, r, err = c.NextReader(); err != nil {
									break
								}
								for {
									k, rerr := r.Read(buf)
									total += int64(k)
									if rerr == io.EOF {
										break
									}
									if rerr != nil {
										err = rerr
										break
									}
								}
							}
							if err == nil && total != int64(n)*int64(len(set.msgs[0])) {
								err = fmt.Errorf("read %d bytes for %d messages", total, n)
							}
							read <- err
						}
					})
					r := czDialRaw(b, url, offer)
					sent := make(chan error, 1)
					b.SetBytes(int64(len(set.msgs[0])))
					b.ReportAllocs()
					b.ResetTimer()
					go func() {
						w := bufio.NewWriterSize(r.cc, 64<<10)
						_ = r.cc.SetWriteDeadline(time.Time{})
						for i := 0; i < b.N; i++ {
							f := repeat[i%len(repeat)]
							if i < len(first) {
								f = first[i]
							}
							if _, err := w.Write(f); err != nil {
								sent <- err
								return
							}
						}
						sent <- w.Flush()
					}()
					cmds <- b.N
					if err := <-read; err != nil {
						b.Fatal(err)
					}
					if err := <-sent; err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
				})
			}
		}
	}
}

// TestCompressionMemoryPerConn reports the heap a server connection holds
// once it has sent and received one compressed message, with and without
// context takeover, against connections without compression.
func TestCompressionMemoryPerConn(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 50
	}
	msg := czBenchSets()[0].msgs[0]
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		perConn := map[string]float64{}
		for _, mode := range czBenchModes {
			u := &websocket.HertzUpgrader{EnableCompression: true}
			url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, czCommandEcho)
			payload, rsv := msg, byte(0)
			if mode.offer != "" {
				payload, rsv = czCompress(msg, flate.DefaultCompression), frame.Rsv1
			}
			exchange := func() (*czRaw, error) {
				r, err := czTryDialRaw(url, mode.offer)
				if err != nil {
					return nil, err
				}
				if err := r.writeFrame(true, rsv, frame.OpText, payload); err != nil {
					return nil, err
				}
				f, err := r.readFrame()
				if err != nil {
					return nil, err
				}
				if f.Header.Rsv != rsv {
					return nil, fmt.Errorf("%s: echo with RSV %#x", mode.name, f.Header.Rsv)
				}
				r.br = nil // keep only the socket on the client side
				return r, nil
			}
			// Warm the shared pools so that only per-connection state counts.
			for i := 0; i < 3; i++ {
				r, err := exchange()
				if err != nil {
					t.Fatal(err)
				}
				r.close()
			}
			wstest.WaitFor(t, 5*time.Second, "the warm-up connections to end", func() bool { return u.Connections() == 0 })
			var before, after runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&before)
			clients := make([]*czRaw, 0, n)
			for i := 0; i < n; i++ {
				r, err := exchange()
				if err != nil {
					t.Fatal(err)
				}
				clients = append(clients, r)
			}
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&after)
			perConn[mode.name] = (float64(after.HeapInuse) - float64(before.HeapInuse)) / float64(n) / 1024
			runtime.KeepAlive(clients)
			for _, r := range clients {
				r.close()
			}
		}
		t.Logf("heap in use per connection after one message each way (%d connections): takeover %.1f KiB, no takeover %.1f KiB, uncompressed %.1f KiB; compression adds %.1f KiB with takeover, %.1f KiB without",
			n, perConn["Takeover"], perConn["NoTakeover"], perConn["Uncompressed"],
			perConn["Takeover"]-perConn["Uncompressed"], perConn["NoTakeover"]-perConn["Uncompressed"])
	})
}
