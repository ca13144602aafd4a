package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// permessage-deflate (RFC 7692) between our server, on both transports,
// and gorilla/websocket's and coder/websocket's clients, whose connections
// are sniffed to see what went over the wire. The raw client's tests of
// compression are in the root module's compression_test.go.

// czTimeout bounds every blocking step of these tests.
const czTimeout = 20 * time.Second

// ---------------------------------------------------------------------------
// Wire sniffing: a net.Conn that counts bytes and parses frame headers.

// czRequestExtensions returns the Sec-WebSocket-Extensions lines of the
// handshake request a client really sent.
func czRequestExtensions(t testing.TB, cc *wstest.SniffedConn) []string {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(cc.Out.Head())))
	if err != nil {
		t.Fatalf("parse the client's handshake request: %v", err)
	}
	return req.Header.Values("Sec-Websocket-Extensions")
}

// czNegotiated is what NegotiateDeflate makes of offer lines under opts:
// the exact Sec-WebSocket-Extensions value the server must answer.
func czNegotiated(lines []string, opts websocket.CompressionOptions) string {
	var raw [][]byte
	for _, l := range lines {
		raw = append(raw, []byte(l))
	}
	p, ok := frame.NegotiateDeflate(frame.ParseExtensions(raw), frame.DeflatePolicy{
		ServerNoContextTakeover: opts.ServerNoContextTakeover,
		ClientNoContextTakeover: opts.ClientNoContextTakeover,
		ServerMaxWindowBits:     opts.ServerMaxWindowBits,
		ClientMaxWindowBits:     opts.ClientMaxWindowBits,
	})
	if !ok {
		return ""
	}
	return p.String()
}

// ---------------------------------------------------------------------------
// Third-party clients with sniffed connections.

func czDialGorilla(t testing.TB, url string, compress bool) (*gorilla.Conn, *wstest.SniffedConn, *http.Response) {
	t.Helper()
	var cc *wstest.SniffedConn
	d := gorilla.Dialer{
		HandshakeTimeout:  5 * time.Second,
		EnableCompression: compress,
		NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.DialTimeout(network, addr, 5*time.Second)
			if err != nil {
				return nil, err
			}
			cc = wstest.Sniff(c)
			return cc, nil
		},
	}
	ws, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("gorilla dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, cc, resp
}

func czDialCoder(t testing.TB, url string, mode coder.CompressionMode) (*coder.Conn, *wstest.SniffedConn, *http.Response) {
	t.Helper()
	// http.Transport may dial more than one connection (it races a new
	// dial against a connection coming back to its pool); the one that
	// carried the handshake is the one with a request in it.
	var mu sync.Mutex
	var dialed []*wstest.SniffedConn
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			wrapped := wstest.Sniff(c)
			mu.Lock()
			dialed = append(dialed, wrapped)
			mu.Unlock()
			return wrapped, nil
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := coder.Dial(ctx, url, &coder.DialOptions{
		HTTPClient:      &http.Client{Transport: tr},
		CompressionMode: mode,
	})
	if err != nil {
		t.Fatalf("coder dial %s: %v", url, err)
	}
	ws.SetReadLimit(64 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	mu.Lock()
	defer mu.Unlock()
	var cc *wstest.SniffedConn
	for _, c := range dialed {
		if len(c.Out.Head()) > 0 {
			cc = c
		}
	}
	if cc == nil {
		t.Fatalf("none of the %d connections dialled carried the handshake", len(dialed))
	}
	return ws, cc, resp
}

// ---------------------------------------------------------------------------
// 1. gorilla/websocket with EnableCompression.

func TestCompressionGorilla(t *testing.T) {
	sizes := []int{0, 10, 200, 64 << 10, 1 << 20, 16 << 20}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		handlers := []struct {
			name      string
			h         websocket.HertzHandler
			streaming bool
		}{
			{"NextWriter", wstest.Echo, true},
			{"WriteMessage", wstest.EchoMessages, false},
		}
		for _, hc := range handlers {
			hc := hc
			t.Run(hc.name, func(t *testing.T) {
				u := &websocket.HertzUpgrader{EnableCompression: true}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, hc.h)
				ws, cc, resp := czDialGorilla(t, url, true)

				offer := czRequestExtensions(t, cc)
				want := czNegotiated(offer, u.Compression)
				if want != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
					t.Fatalf("NegotiateDeflate(%q) = %q: not what gorilla needs", offer, want)
				}
				if got := resp.Header.Values("Sec-Websocket-Extensions"); len(got) != 1 || got[0] != want {
					t.Fatalf("Sec-WebSocket-Extensions %q, want exactly %q (offer %q)", got, want, offer)
				}

				for _, size := range sizes {
					if size >= 16<<20 && testing.Short() {
						continue
					}
					for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
						data := wstest.Compressible(mt, size, size+mt)
						m := cc.In.Mark()
						errc := make(chan error, 1)
						go func() { errc <- ws.WriteMessage(mt, data) }()
						_ = ws.SetReadDeadline(time.Now().Add(2 * czTimeout))
						gotType, got, err := ws.ReadMessage()
						if err != nil {
							t.Fatalf("%d B type %d: read: %v", size, mt, err)
						}
						if werr := <-errc; werr != nil {
							t.Fatalf("%d B: write: %v", size, werr)
						}
						if gotType != mt || !bytes.Equal(got, data) {
							t.Fatalf("%d B type %d: echo differs (type %d, %d bytes)", size, mt, gotType, len(got))
						}
						wire, frames := cc.In.Since(m)
						var payload int64
						for i, f := range frames {
							if f.Opcode.IsControl() {
								t.Fatalf("%d B: unexpected %v frame", size, f.Opcode)
							}
							if i > 0 && f.Rsv != 0 {
								t.Fatalf("%d B: RSV %#x on continuation frame %d", size, f.Rsv, i)
							}
							payload += f.PayloadLen
						}
						if len(frames) == 0 || !frames[len(frames)-1].Fin {
							t.Fatalf("%d B: frames %+v", size, frames)
						}
						compressed := frames[0].Rsv&frame.Rsv1 != 0
						wantCompressed := hc.streaming || size >= websocket.DefaultCompressionThreshold
						if compressed != wantCompressed {
							t.Fatalf("%d B via %s: compressed=%v, want %v", size, hc.name, compressed, wantCompressed)
						}
						if !compressed && payload != int64(size) {
							t.Fatalf("%d B uncompressed: %d payload bytes on the wire", size, payload)
						}
						if size >= 64<<10 && payload*4 > int64(size) {
							t.Fatalf("%d B: %d payload bytes on the wire, want under 1/4 of the message", size, payload)
						}
						if size >= 200 {
							t.Logf("%-5s %8d B -> %7d B on the wire (%d frames, %.2f%%)", map[int]string{1: "text", 2: "bin"}[mt], size, wire, len(frames), 100*float64(wire)/float64(size))
						}
					}
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// 2. coder/websocket, with and without context takeover.

func TestCompressionCoder(t *testing.T) {
	const n = 50
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		modes := []struct {
			name    string
			mode    coder.CompressionMode
			wantExt string
		}{
			{"ContextTakeover", coder.CompressionContextTakeover, "permessage-deflate"},
			{"NoContextTakeover", coder.CompressionNoContextTakeover, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		}
		sizes := make([][]int64, len(modes))
		for mi, mode := range modes {
			mi, mode := mi, mode
			t.Run(mode.name, func(t *testing.T) {
				u := &websocket.HertzUpgrader{EnableCompression: true}
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, u, wstest.EchoMessages)
				ws, cc, resp := czDialCoder(t, url, mode.mode)
				want := czNegotiated(czRequestExtensions(t, cc), u.Compression)
				if want != mode.wantExt {
					t.Fatalf("NegotiateDeflate gives %q, want %q", want, mode.wantExt)
				}
				if got := resp.Header.Values("Sec-Websocket-Extensions"); len(got) != 1 || got[0] != want {
					t.Fatalf("Sec-WebSocket-Extensions %q, want %q", got, want)
				}
				var raw, wireIn, wireOut int64
				for i := 0; i < n; i++ {
					msg := wstest.ChatMessage(i)
					raw += int64(len(msg))
					in, out := cc.In.Mark(), cc.Out.Mark()
					ctx, cancel := context.WithTimeout(context.Background(), czTimeout)
					if err := ws.Write(ctx, coder.MessageText, msg); err != nil {
						cancel()
						t.Fatalf("message %d: write: %v", i, err)
					}
					typ, got, err := ws.Read(ctx)
					cancel()
					if err != nil {
						t.Fatalf("message %d: read: %v", i, err)
					}
					if typ != coder.MessageText || !bytes.Equal(got, msg) {
						t.Fatalf("message %d: echo %q, want %q", i, got, msg)
					}
					bin, frames := cc.In.Since(in)
					bout, _ := cc.Out.Since(out)
					wireIn += bin
					wireOut += bout
					if len(frames) != 1 || frames[0].Rsv != frame.Rsv1 || !frames[0].Fin {
						t.Fatalf("message %d (%d B): server frames %+v, want one compressed frame", i, len(msg), frames)
					}
					sizes[mi] = append(sizes[mi], frames[0].PayloadLen)
				}
				t.Logf("%d messages, %d B of JSON: server->client %d B on the wire, client->server %d B; compressed payload sizes %v",
					n, raw, wireIn, wireOut, sizes[mi])
			})
		}
		if t.Failed() || len(sizes[0]) != n || len(sizes[1]) != n {
			return
		}
		take, fresh := sizes[0], sizes[1]
		var takeLate, freshLate, takeSum, freshSum int64
		for i := 0; i < n; i++ {
			takeSum += take[i]
			freshSum += fresh[i]
			if i >= n-10 {
				takeLate += take[i]
				freshLate += fresh[i]
			}
		}
		t.Logf("compressed bytes: takeover %d, no takeover %d; mean of the last 10: %.1f vs %.1f; first message %d vs %d",
			takeSum, freshSum, float64(takeLate)/10, float64(freshLate)/10, take[0], fresh[0])
		// The first message has no history either way: each is what a
		// fresh compressor of its mode makes of it (with takeover the
		// library's lean level-1 encoder, without it klauspost/compress,
		// so the two sizes may differ by a few bytes).
		for i, takeover := range []bool{true, false} {
			d, err := frame.NewDeflater(frame.BestSpeed, frame.MaxWindowBits, takeover)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Write(wstest.ChatMessage(0)); err != nil {
				t.Fatal(err)
			}
			first, err := d.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if got := sizes[i][0]; got != int64(len(first)) {
				t.Errorf("%s: first message %d B, a fresh compressor makes %d B of it", modes[i].name, got, len(first))
			}
			d.Close()
		}
		// With the window kept, later messages shrink well below the first.
		if takeLate > 6*take[0] {
			t.Errorf("takeover: the last 10 messages average %.1f B, not under 60%% of the first (%d B)", float64(takeLate)/10, take[0])
		}
		if takeSum*10 > freshSum*7 {
			t.Errorf("takeover total %d B is not under 70%% of the no-takeover total %d B", takeSum, freshSum)
		}
	})
}
