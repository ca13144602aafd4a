package conformance_test

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hertzws/websocket/internal/conformance"
)

// brokenServer is a deliberately defective echo server on raw TCP, with a
// hand-made handshake. It gets framing, control frames, reserved bits and
// opcodes right, but:
//   - it accepts unmasked frames from the client (RFC 6455 §5.1);
//   - it never checks that text is UTF-8 (§8.1), nor close reasons;
//   - it ignores close codes, answering every close frame with 1000
//     (§7.4).
type brokenServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startBrokenServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &brokenServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				serveBroken(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/"
}

func serveBroken(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(h[:]))

	write := func(op byte, p []byte) {
		b := []byte{0x80 | op}
		switch {
		case len(p) <= 125:
			b = append(b, byte(len(p)))
		case len(p) <= 0xffff:
			b = append(b, 126, byte(len(p)>>8), byte(len(p)))
		default:
			b = append(b, 127)
			b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
		}
		_, _ = c.Write(append(b, p...))
	}
	fail := func() { write(8, []byte{0x03, 0xea}) } // 1002
	var msg []byte
	var msgOp byte
	inMsg := false
	hdr := make([]byte, 8)
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		fin, rsv, op := hdr[0]&0x80 != 0, hdr[0]>>4&7, hdr[0]&0x0f
		masked, n := hdr[1]&0x80 != 0, uint64(hdr[1]&0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[:2]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(br, hdr[:8]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(hdr[:8])
		}
		var key [4]byte
		if masked { // defect: an unmasked frame is accepted as well
			if _, err := io.ReadFull(br, key[:]); err != nil {
				return
			}
		}
		if n > 64<<20 {
			return
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		for i := range p {
			p[i] ^= key[i%4]
		}
		if rsv != 0 || (op > 2 && op < 8) || op > 10 {
			fail()
			return
		}
		if op >= 8 {
			if !fin || n > 125 {
				fail()
				return
			}
			switch op {
			case 8:
				// Defect: whatever the code (or reason), answer 1000.
				if n == 1 {
					fail()
				} else {
					write(8, []byte{0x03, 0xe8})
				}
				return
			case 9:
				write(10, p)
			}
			continue
		}
		if op == 0 && !inMsg || op != 0 && inMsg {
			fail()
			return
		}
		if op != 0 {
			msgOp, msg, inMsg = op, nil, true
		}
		msg = append(msg, p...)
		if fin {
			// Defect: text is echoed without any UTF-8 check.
			write(msgOp, msg)
			inMsg = false
		}
	}
}

// TestSuiteDetectsBrokenServer proves that the suite fails a server with
// each of the defects above, on the cases that detect them, and passes it
// where it behaves.
func TestSuiteDetectsBrokenServer(t *testing.T) {
	t.Parallel()
	url := startBrokenServer(t)
	cases := conformance.Select(append(conformance.Cases(), conformance.ExtraCases()...),
		[]string{"1.*", "2.*", "5.*", "6.*", "7.*", "X.*"}, nil)
	expectation := map[string]string{}
	for _, c := range cases {
		expectation[c.ID] = c.Expectation
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts := conformance.Options{Short: true, Parallel: 8, TimeScale: 2}
	verbose(t, &opts)
	results := conformance.RunClient(ctx, url, cases, opts)
	byID := map[string]conformance.Result{}
	for _, r := range results {
		byID[r.ID] = r
	}
	t.Log("\n" + conformance.Report{Title: "deliberately broken server", Results: results}.String())

	mustFail := map[string]string{
		// Unmasked client frames are accepted.
		"X.1.1": "masking", "X.1.2": "masking", "X.1.3": "masking", "X.1.4": "masking",
		// Invalid UTF-8 is echoed.
		"6.3.1": "UTF-8", "6.3.2": "UTF-8", "6.4.1": "UTF-8", "6.4.2": "UTF-8", "6.4.3": "UTF-8", "6.4.4": "UTF-8",
		"6.6.1": "UTF-8", "6.8.1": "UTF-8", "6.10.3": "UTF-8", "6.11.5": "UTF-8", "6.12.8": "UTF-8",
		"6.13.1": "UTF-8", "6.14.10": "UTF-8", "6.15.1": "UTF-8", "6.16.3": "UTF-8", "6.17.5": "UTF-8",
		"6.18.2": "UTF-8", "6.19.1": "UTF-8", "6.20.1": "UTF-8", "6.20.7": "UTF-8", "6.21.8": "UTF-8",
		"7.5.1": "close reason UTF-8",
		// Close codes are not checked.
		"7.9.1": "close code", "7.9.2": "close code", "7.9.3": "close code", "7.9.4": "close code", "7.9.5": "close code",
		"7.9.6": "close code", "7.9.7": "close code", "7.9.8": "close code", "7.9.9": "close code",
	}
	mustPass := []string{
		"1.1.1", "1.1.6", "1.2.8", "2.2", "2.5", "2.10", "2.11", "5.1", "5.6", "5.19",
		"6.1.3", "6.2.3", "6.5.4", "6.7.4", "6.22.34", "6.23.7",
		"7.1.1", "7.3.1", "7.3.2", "7.3.4", "7.7.1", "7.7.13",
	}
	for id, defect := range mustFail {
		r, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("case %s did not run", id)
		case r.Verdict != conformance.Failed:
			t.Errorf("case %s should detect the %s defect and FAIL, got %s", id, defect, r)
		}
	}
	for _, id := range mustPass {
		if r := byID[id]; r.Verdict != conformance.OK {
			t.Errorf("case %s should pass on the broken server (it behaves there), got %s", id, r)
		}
	}
	// Every invalid UTF-8 case of 6.x fails, every valid one passes.
	for _, r := range results {
		if !strings.HasPrefix(r.ID, "6.") {
			continue
		}
		isInvalid := strings.Contains(expectation[r.ID], "1007")
		if isInvalid && r.Verdict != conformance.Failed {
			t.Errorf("invalid UTF-8 case %s: got %s, want FAILED", r.ID, r)
		}
		if !isInvalid && r.Verdict != conformance.OK {
			t.Errorf("valid UTF-8 case %s: got %s, want OK", r.ID, r)
		}
	}
}
