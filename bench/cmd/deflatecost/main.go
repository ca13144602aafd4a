// Command deflatecost measures permessage-deflate per setting, at the frame
// layer that server and client share: the Go heap a connection keeps for
// compression once it has sent and received compressed messages, the wire
// bytes of two chat corpora, and the time to compress and to decompress a
// 1 KiB JSON message.
//
//	deflatecost -conns 10000
//
// A "connection" here is what a server connection holds for compression:
// a frame.Deflater that compressed the messages it sent and a
// frame.Inflater that decompressed the messages it received (the client's
// stream, compressed once up front and fed to every Inflater). The heap is
// measured after a collection, before and after the connections exchange
// their messages, and divided by their number; the shared pools are warmed
// first, so what remains is per connection.
//
// The corpora: 50 messages of chatty English JSON (wstest.ChatMessage,
// about 300 bytes each) and 50 of Chinese chat JSON
// (wstest.ChineseChatMessage), compressed in order by one Deflater; wire
// bytes are the compressed payloads plus their frame headers.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// setting is one permessage-deflate configuration, the same both ways.
type setting struct {
	name       string
	level      int
	windowBits int
	takeover   bool
}

var settings = []setting{
	{"takeover, 15-bit windows (default)", 1, 15, true},
	{"takeover, 12-bit windows", 1, 12, true},
	{"takeover, 10-bit windows", 1, 10, true},
	{"takeover, 9-bit windows", 1, 9, true},
	{"no takeover", 1, 15, false},
}

func main() {
	conns := flag.Int("conns", 10000, "connections whose compression state is measured")
	exchanged := flag.Int("messages", 4, "messages each connection sends and receives before it is measured")
	flag.Parse()

	chat, chinese := corpus(wstest.ChatMessage), corpus(wstest.ChineseChatMessage)
	fmt.Printf("deflatecost: %d connections, %d messages each way; %s\n\n", *conns, *exchanged, runtime.Version())
	fmt.Println("| setting | heap / conn | chat JSON wire bytes (50 msgs) | Chinese chat wire bytes (50 msgs) | compress 1 KiB JSON | decompress 1 KiB JSON | allocs / msg (c, d) |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	fmt.Printf("| uncompressed | — | %d | %d | — | — | — |\n", wireBytes(chat, nil), wireBytes(chinese, nil))
	for _, s := range settings {
		heap := heapPerConn(s, *conns, *exchanged)
		c, d := timings(s)
		fmt.Printf("| %s | %.1f KiB | %d | %d | %.2f µs | %.2f µs | %d, %d |\n", s.name, heap/1024,
			wireBytes(chat, &s), wireBytes(chinese, &s),
			float64(c.NsPerOp())/1000, float64(d.NsPerOp())/1000, c.AllocsPerOp(), d.AllocsPerOp())
	}
}

// corpus returns messages 0..49 of a generator.
func corpus(gen func(int) []byte) [][]byte {
	msgs := make([][]byte, 50)
	for i := range msgs {
		msgs[i] = gen(i)
	}
	return msgs
}

// header is the size of a server frame header for an n-byte payload.
func header(n int) int {
	switch {
	case n <= 125:
		return 2
	case n <= 65535:
		return 4
	default:
		return 10
	}
}

// wireBytes is what msgs take on the wire under s, or uncompressed for nil.
func wireBytes(msgs [][]byte, s *setting) int {
	total := 0
	if s == nil {
		for _, m := range msgs {
			total += header(len(m)) + len(m)
		}
		return total
	}
	for _, c := range compressAll(*s, msgs) {
		total += header(len(c)) + len(c)
	}
	return total
}

// compressAll compresses msgs in order with one Deflater, as one
// connection sends them.
func compressAll(s setting, msgs [][]byte) [][]byte {
	d, err := frame.NewDeflater(s.level, s.windowBits, s.takeover)
	if err != nil {
		fail(err)
	}
	defer d.Close()
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = compress(d, m)
	}
	return out
}

// compress compresses one message and readies d for the next.
func compress(d *frame.Deflater, m []byte) []byte {
	if _, err := d.Write(m); err != nil {
		fail(err)
	}
	b, err := d.Finish()
	if err != nil {
		fail(err)
	}
	b = bytes.Clone(b)
	d.EndMessage()
	return b
}

// payloadReader is the reader decompress feeds the Inflater from, reused
// so that the timings count the Inflater's allocations only.
var payloadReader bytes.Reader

// decompress runs one compressed message through f and checks it.
func decompress(f *frame.Inflater, payload, want []byte, buf []byte) {
	payloadReader.Reset(payload)
	f.Begin(&payloadReader)
	n := 0
	for {
		m, err := f.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(err)
		}
		if n == len(buf) {
			fail(fmt.Errorf("message longer than %d bytes", len(buf)))
		}
	}
	f.EndMessage()
	if !bytes.Equal(buf[:n], want) {
		fail(fmt.Errorf("decompressed message differs"))
	}
}

// heapPerConn is the heap n connections keep under s once each has sent
// and received k messages.
func heapPerConn(s setting, n, k int) float64 {
	sent := corpus(wstest.ChatMessage)[:k]
	received := compressAll(s, sent) // the client's stream, the same for every connection
	buf := make([]byte, 64<<10)
	exchange := func() (*frame.Deflater, *frame.Inflater) {
		d, err := frame.NewDeflater(s.level, s.windowBits, s.takeover)
		if err != nil {
			fail(err)
		}
		f := frame.NewInflater(s.windowBits, s.takeover)
		for i := range sent {
			compress(d, sent[i])
			decompress(f, received[i], sent[i], buf)
		}
		return d, f
	}
	for i := 0; i < 8; i++ { // warm the pools
		d, _ := exchange()
		d.Close()
	}
	before := heapInuse()
	ds := make([]*frame.Deflater, n)
	fs := make([]*frame.Inflater, n)
	for i := range ds {
		ds[i], fs[i] = exchange()
	}
	after := heapInuse()
	runtime.KeepAlive(fs)
	for _, d := range ds {
		d.Close()
	}
	return (float64(after) - float64(before)) / float64(n)
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// timings benchmarks compressing and decompressing 1 KiB JSON messages in
// turn on one connection.
func timings(s setting) (compressRes, decompressRes testing.BenchmarkResult) {
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = wstest.ChatBatch(i)
	}
	compressRes = testing.Benchmark(func(b *testing.B) {
		d, err := frame.NewDeflater(s.level, s.windowBits, s.takeover)
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		b.SetBytes(1024)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := d.Write(msgs[i%len(msgs)]); err != nil {
				b.Fatal(err)
			}
			if _, err := d.Finish(); err != nil {
				b.Fatal(err)
			}
			d.EndMessage()
		}
	})
	// Decompress a long stream: enough messages compressed up front that
	// the benchmark rarely starts over (a new Inflater each time it does).
	stream := make([][]byte, 4096)
	for i := range stream {
		stream[i] = msgs[i%len(msgs)]
	}
	payloads := compressAll(s, stream)
	buf := make([]byte, 4096)
	decompressRes = testing.Benchmark(func(b *testing.B) {
		b.SetBytes(1024)
		b.ReportAllocs()
		var f *frame.Inflater
		for i := 0; i < b.N; i++ {
			j := i % len(payloads)
			if j == 0 {
				f = frame.NewInflater(s.windowBits, s.takeover)
			}
			decompress(f, payloads[j], stream[j], buf)
		}
	})
	return compressRes, decompressRes
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "deflatecost:", err)
	os.Exit(1)
}
