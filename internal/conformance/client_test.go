package conformance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/conformance"
)

// echoClient is the client under test: our Dialer, echoing every message
// until the connection ends. For family 13 it offers
// client_no_context_takeover as well, which Autobahn's answers for 13.2,
// 13.5 and 13.6 require of the offer; elsewhere it keeps its context, so
// that context takeover is tested too.
func echoClient(ctx context.Context, url string) error {
	d := websocket.Dialer{
		EnableCompression: true,
		ReadLimit:         64 << 20,
		HandshakeTimeout:  10 * time.Second,
	}
	if strings.Contains(url, "case=13.") {
		d.Compression.ClientNoContextTakeover = true
	}
	c, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	echo(c)
	return nil
}

// TestClientConformance runs the suite, roles swapped, against our client:
// the fuzzer is the server.
func TestClientConformance(t *testing.T) {
	t.Parallel()
	cases := selectedCases(true)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	opts := suiteOptions(3)
	verbose(t, &opts)
	results := conformance.RunServer(ctx, cases, opts, echoClient)
	checkResults(t, "client (websocket.Dialer)", results)
}
