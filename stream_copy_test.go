package websocket_test

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// streamCopySize is how much TestNetConnOfCopy copies: a gigabyte, which
// takes about half a second per transport on the 2-core machine this is
// built on, and about three with the race detector.
const streamCopySize = 1 << 30

// repeatReader reads block over and over.
type repeatReader struct {
	block []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	return n, nil
}

// copySummary is what the server of TestNetConnOfCopy answers: the bytes it
// received and their CRC-32.
type copySummary struct {
	n   uint64
	crc uint32
}

// TestNetConnOfCopy: io.Copy of a gigabyte from a client stream to a
// server stream, which counts the bytes, checks their CRC-32 and answers;
// then the client closes and the server reads io.EOF.
func TestNetConnOfCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("copies a gigabyte")
	}
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		serverEnd := make(chan error, 1)
		wsURL := startStreamServer(t, tr, func(c *websocket.Conn) {
			nc := websocket.NetConnOf(context.Background(), c, websocket.BinaryMessage)
			defer nc.Close()
			serverEnd <- serveCopy(nc)
		})
		nc, _ := dialStream(t, wsURL, websocket.BinaryMessage)
		// An odd-sized block, so that message and block boundaries
		// drift apart.
		src := &repeatReader{block: wstest.RandomBytes(1<<20+7, 6)}
		sent := crc32.NewIEEE()

		start := time.Now()
		var header [8]byte
		binary.BigEndian.PutUint64(header[:], streamCopySize)
		if _, err := nc.Write(header[:]); err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(nc, io.TeeReader(io.LimitReader(src, streamCopySize), sent))
		if err != nil || n != streamCopySize {
			t.Fatalf("io.Copy sent %d bytes: %v", n, err)
		}
		var answer [12]byte
		_ = nc.SetReadDeadline(time.Now().Add(wstest.Guard))
		if _, err := io.ReadFull(nc, answer[:]); err != nil {
			t.Fatalf("reading the server's answer: %v", err)
		}
		took := time.Since(start)
		got := copySummary{binary.BigEndian.Uint64(answer[:8]), binary.BigEndian.Uint32(answer[8:])}
		if want := (copySummary{streamCopySize, sent.Sum32()}); got != want {
			t.Fatalf("the server received %d bytes with CRC %08x, want %d bytes with CRC %08x", got.n, got.crc, want.n, want.crc)
		}
		t.Logf("%d MiB in %v: %.0f MiB/s", streamCopySize>>20, took.Round(time.Millisecond), float64(streamCopySize>>20)/took.Seconds())
		if err := nc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := wstest.Receive(t, serverEnd, "the server"); err != nil {
			t.Fatal(err)
		}
	})
}

// serveCopy is the server of TestNetConnOfCopy: it reads the length, the
// bytes, answers with their count and CRC-32, and then expects io.EOF.
func serveCopy(nc io.ReadWriter) error {
	var header [8]byte
	if _, err := io.ReadFull(nc, header[:]); err != nil {
		return err
	}
	sum := crc32.NewIEEE()
	n, err := io.CopyN(sum, nc, int64(binary.BigEndian.Uint64(header[:])))
	if err != nil {
		return err
	}
	var answer [12]byte
	binary.BigEndian.PutUint64(answer[:8], uint64(n))
	binary.BigEndian.PutUint32(answer[8:], sum.Sum32())
	if _, err := nc.Write(answer[:]); err != nil {
		return err
	}
	if extra, err := io.Copy(io.Discard, nc); err != nil || extra != 0 {
		return errors.New("the stream did not end with io.EOF after the data")
	}
	return nil
}
