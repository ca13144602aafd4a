package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// runClient opens n connections to addr, from the source addresses in
// turn, dialers at a time; the first active of them echo a message every
// second. Idle connections are a net.Conn in a slice: no goroutine, no
// buffer. It then obeys the commands on stdin ("reset", "rtts", "close")
// and reports on stdout, one JSON object a line.
func runClient(addr string, sources []string, n, active, dialers, size int) {
	out := json.NewEncoder(os.Stdout)
	conns := make([]net.Conn, n)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for d := 0; d < dialers; d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := handshake(addr, sources[i%len(sources)])
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	connected := n - int(failed.Load())
	report := clientReport{Connected: connected, Seconds: time.Since(start).Seconds(), Failed: int(failed.Load())}
	if e, ok := firstErr.Load().(string); ok {
		report.Error = e
	}
	_ = out.Encode(report)

	var rttMu sync.Mutex
	var rtts []float64
	stop := make(chan struct{})
	var echoes sync.WaitGroup
	for i := 0; i < active && i < n; i++ {
		if conns[i] == nil {
			continue
		}
		echoes.Add(1)
		go func(c net.Conn, seed int64) {
			defer echoes.Done()
			echo(c, size, seed, stop, func(d time.Duration) {
				rttMu.Lock()
				rtts = append(rtts, float64(d.Microseconds()))
				rttMu.Unlock()
			})
		}(conns[i], int64(i))
	}

	commands := bufio.NewScanner(os.Stdin)
	for commands.Scan() {
		switch commands.Text() {
		case "reset":
			rttMu.Lock()
			rtts = rtts[:0]
			rttMu.Unlock()
			_ = out.Encode(clientReport{Connected: connected})
		case "rtts":
			rttMu.Lock()
			got := append([]float64(nil), rtts...)
			rttMu.Unlock()
			_ = out.Encode(clientReport{Connected: connected, RTTs: got})
		case "close":
			close(stop)
			for _, c := range conns {
				if c != nil {
					_ = c.Close()
				}
			}
			echoes.Wait()
			_ = out.Encode(clientReport{Connected: connected, Closed: true})
			return
		}
	}
}

// handshake connects to addr from the source address src and completes a
// WebSocket handshake written by hand.
func handshake(addr, src string) (net.Conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Control: portAtConnect}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := "GET /echo HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	// Read the response up to its blank line. The server sends nothing
	// after it until the client has sent a message, so a read cannot take
	// bytes of a frame; a response that does not end with its blank line
	// is refused rather than parsed further.
	var buf [512]byte
	resp := buf[:0]
	for !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		if len(resp) == cap(resp) {
			c.Close()
			return nil, errors.New("handshake response too long, or followed by data")
		}
		n, err := c.Read(resp[len(resp):cap(resp)])
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("reading the handshake response: %w", err)
		}
		resp = resp[:len(resp)+n]
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101")) {
		c.Close()
		return nil, fmt.Errorf("handshake refused: %q", bytes.SplitN(resp, []byte("\r\n"), 2)[0])
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// echo sends a masked text message of size bytes once a second (after a
// random start within the first second) and reads the server's echo,
// reporting each round trip, until stop is closed or the connection fails.
func echo(c net.Conn, size int, seed int64, stop <-chan struct{}, rtt func(time.Duration)) {
	r := rand.New(rand.NewSource(seed))
	payload := bytes.Repeat([]byte("x"), size)
	frame := maskedText(payload, r.Uint32())
	in := make([]byte, len(payload)+10)
	timer := time.NewTimer(time.Duration(r.Int63n(int64(time.Second))))
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		}
		sent := time.Now()
		_ = c.SetDeadline(sent.Add(10 * time.Second))
		if _, err := c.Write(frame); err != nil {
			return
		}
		want := 2 + len(payload)
		if len(payload) > 125 {
			want += 2
		}
		if _, err := io.ReadFull(c, in[:want]); err != nil {
			return
		}
		rtt(time.Since(sent))
		timer.Reset(time.Second)
	}
}

// maskedText encodes payload as one masked text frame (RFC 6455 §5.2); the
// payload must be shorter than 64 KiB.
func maskedText(payload []byte, key uint32) []byte {
	f := []byte{0x81}
	if len(payload) <= 125 {
		f = append(f, 0x80|byte(len(payload)))
	} else {
		f = append(f, 0x80|126, 0, 0)
		binary.BigEndian.PutUint16(f[2:], uint16(len(payload)))
	}
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	f = append(f, k[:]...)
	for i, b := range payload {
		f = append(f, b^k[i%4])
	}
	return f
}
