package websocket_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestCompressionFor: the per-request hook sees the request, declines
// compression for the clients it names (the connection is upgraded
// uncompressed), changes the options for others, and is not asked about
// a client that offers no compression.
func TestCompressionFor(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		var asked atomic.Int32
		u := &websocket.HertzUpgrader{
			EnableCompression: true,
			Compression:       websocket.CompressionOptions{Threshold: -1},
			CompressionFor: func(ctx *app.RequestContext, opts websocket.CompressionOptions) (websocket.CompressionOptions, bool) {
				asked.Add(1)
				ua := string(ctx.UserAgent())
				if strings.Contains(ua, "Safari/") && !strings.Contains(ua, "Chrome/") {
					return opts, false
				}
				if string(ctx.Query("small")) == "1" {
					opts.ServerNoContextTakeover = true
					opts.ServerMaxWindowBits = 10
				}
				return opts, true
			},
		}
		url := wstest.StartHandler(t, tr, wstest.EngineSettings{}, u, wstest.Echo)
		msg := bytes.Repeat([]byte("compressible text "), 200)

		cases := []struct {
			name, query, userAgent string
			offer                  bool
			wantExtension          string // "" when none
			wantAsked              int32
		}{
			{"declined for Safari", "", "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15", true, "", 1},
			{"default options", "", "Mozilla/5.0 Chrome/120.0 Safari/537.36", true, "permessage-deflate", 1},
			{"options changed", "?small=1", "test-client", true, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", 1},
			{"no offer, not asked", "", "test-client", false, "", 0},
		}
		for _, tc := range cases {
			tc := tc
			t.Run(tc.name, func(t *testing.T) {
				asked.Store(0)
				d := *websocket.DefaultDialer
				d.EnableCompression = tc.offer
				h := http.Header{"User-Agent": {tc.userAgent}}
				c, resp := wstest.Dial(t, &d, url+tc.query, h)
				got := resp.Header.Get("Sec-WebSocket-Extensions")
				if tc.wantExtension == "" && got != "" || tc.wantExtension != "" && !strings.HasPrefix(got, tc.wantExtension) {
					t.Fatalf("Sec-WebSocket-Extensions %q, want %q", got, tc.wantExtension)
				}
				if n := asked.Load(); n != tc.wantAsked {
					t.Fatalf("CompressionFor ran %d times, want %d", n, tc.wantAsked)
				}
				for i := 0; i < 3; i++ { // context takeover across messages, or not
					wstest.CheckEcho(t, c, websocket.TextMessage, msg)
				}
			})
		}
	})
}
