package websocket

import (
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// recordingTransport keeps what a Conn writes; it has nothing to read.
type recordingTransport struct {
	loopTransport
	written []byte
}

func (r *recordingTransport) Malloc(n int) ([]byte, error) {
	l := len(r.written)
	r.written = append(r.written, make([]byte, n)...)
	return r.written[l:], nil
}

func (r *recordingTransport) WriteBinary(b []byte) (int, error) {
	r.written = append(r.written, b...)
	return len(b), nil
}

// broadcastModes are the ways a server may have agreed to send, and the
// level it sends at: takeover and no takeover share one prepared form, a
// smaller window or another level need one of their own.
var broadcastModes = []struct {
	name   string
	params *frame.DeflateParams
	level  int
}{
	{"uncompressed", nil, 0},
	{"takeover", &frame.DeflateParams{}, 1},
	{"no-takeover", &frame.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, 1},
	{"window-10", &frame.DeflateParams{ServerMaxWindowBits: 10}, 1},
	{"level-9", &frame.DeflateParams{}, 9},
}

func broadcastConn(t transport.Conn, mode int) *Conn {
	m := broadcastModes[mode]
	cfg := connConfig{writeBufferSize: DefaultWriteBufferSize, readLimit: DefaultReadLimit, compression: m.params}
	c := newConn(t, frame.RoleServer, cfg, nil, nil)
	if m.params != nil {
		_ = c.SetCompressionLevel(m.level)
	}
	return c
}

// TestPreparedMessageBroadcast sends one PreparedMessage to 10,000
// connections spread over five negotiated modes. The message is framed and
// compressed once per distinct form (four: takeover and no takeover share
// one), and every connection gets bytes that decode to the message.
func TestPreparedMessageBroadcast(t *testing.T) {
	const conns = 10000
	msg := bytes.Repeat([]byte(`{"event":"price","symbol":"HRTZ","bid":101.25,"ask":101.27} `), 40)
	pm, err := NewPreparedMessage(TextMessage, msg)
	if err != nil {
		t.Fatal(err)
	}
	recorders := make([]*recordingTransport, len(broadcastModes))
	for i := range recorders {
		recorders[i] = &recordingTransport{}
	}
	for i := 0; i < conns; i++ {
		var tr transport.Conn = &loopTransport{}
		if i < len(broadcastModes) {
			tr = recorders[i]
		}
		if err := broadcastConn(tr, i%len(broadcastModes)).WritePreparedMessage(pm); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	if got := len(pm.forms.forms); got != 4 {
		t.Errorf("the message was encoded %d times for 5 modes, want 4 (one per form)", got)
	}
	for i, r := range recorders {
		mode := broadcastModes[i]
		h, err := frame.ReadHeader(frame.NewBufioReader(bufio.NewReader(bytes.NewReader(r.written))))
		if err != nil {
			t.Fatalf("%s: %v", mode.name, err)
		}
		payload := r.written[h.Size():]
		if compressed := h.Rsv&frame.Rsv1 != 0; compressed != (mode.params != nil) {
			t.Fatalf("%s: RSV1 is %v", mode.name, compressed)
		}
		if mode.params != nil {
			// RFC 7692 §7.2.2: append the tail the sender removed.
			fr := flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
			payload, err = io.ReadAll(io.LimitReader(fr, int64(len(msg))))
			if err != nil {
				t.Fatalf("%s: inflate: %v", mode.name, err)
			}
		}
		if !bytes.Equal(payload, msg) {
			t.Fatalf("%s: the connection got %d bytes that are not the message", mode.name, len(payload))
		}
	}
}

// BenchmarkBroadcast measures one message sent to 10,000 connections
// without I/O, in each mode: as a PreparedMessage, framed and compressed
// once, against WriteMessage on each connection.
func BenchmarkBroadcast(b *testing.B) {
	const conns = 10000
	msg := bytes.Repeat([]byte(`{"event":"price","symbol":"HRTZ","bid":101.25,"ask":101.27} `), 8)
	for mode := range broadcastModes {
		all := make([]*Conn, conns)
		for i := range all {
			all[i] = broadcastConn(&loopTransport{}, mode)
		}
		b.Run(fmt.Sprintf("%s/PreparedMessage", broadcastModes[mode].name), func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				pm, _ := NewPreparedMessage(TextMessage, msg)
				for _, c := range all {
					if err := c.WritePreparedMessage(pm); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*conns), "ns/delivery")
		})
		b.Run(fmt.Sprintf("%s/WriteMessage", broadcastModes[mode].name), func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for _, c := range all {
					if err := c.WriteMessage(TextMessage, msg); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*conns), "ns/delivery")
		})
	}
}
