package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// The tests in this file drive the server with Node's ws package
// (testdata/node/client.mjs), a client nobody here wrote. They need node on
// PATH and testdata/node/node_modules, which `npm ci` in testdata/node
// installs; the tests run it themselves when npm is available.

const nodeDir = "../../testdata/node"

// nodeInstall runs `npm ci` at most once per test binary.
var (
	nodeInstallOnce sync.Once
	nodeInstallErr  error
)

// nodeUnavailable skips the test, or fails it when running in CI, where the
// interop tests must not be skipped silently.
func nodeUnavailable(t *testing.T, reason string) {
	t.Helper()
	msg := reason + "\n\tThe Node.js interop tests need node (>= 18) and npm on PATH and the ws package in " +
		nodeDir + ":\n\t    cd " + nodeDir + " && npm ci"
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set, so the Node.js interop tests may not be skipped: " + msg)
	}
	t.Skip("!!! SKIPPING Node.js ws INTEROP TESTS !!! " + msg)
}

// nodeClient returns the node binary and the absolute path of client.mjs,
// installing the ws package first if it is missing.
func nodeClient(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		nodeUnavailable(t, "node not found on PATH.")
	}
	dir, err := filepath.Abs(nodeDir)
	if err != nil {
		t.Fatal(err)
	}
	wsPackage := filepath.Join(dir, "node_modules", "ws", "package.json")
	if _, err := os.Stat(wsPackage); err != nil {
		nodeInstallOnce.Do(func() { nodeInstallErr = npmCI(dir) })
		if nodeInstallErr != nil {
			nodeUnavailable(t, nodeInstallErr.Error())
		}
		if _, err := os.Stat(wsPackage); err != nil {
			nodeUnavailable(t, "npm ci did not install ws: "+err.Error())
		}
	}
	return node, filepath.Join(dir, "client.mjs")
}

// npmCI installs the locked dependencies of testdata/node.
func npmCI(dir string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("%s/node_modules is missing and npm is not on PATH", nodeDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", nodeDir, err, out)
	}
	return nil
}

// nodeConfig is the JSON configuration client.mjs takes on its command line.
type nodeConfig struct {
	URL string `json:"url"`
	// PerMessageDeflate is false, true (ws defaults) or a *nodeDeflate.
	PerMessageDeflate interface{} `json:"perMessageDeflate"`
	Steps             []nodeStep  `json:"steps"`
	Close             nodeClose   `json:"close"`
	TimeoutMs         int         `json:"timeoutMs,omitempty"`
}

// nodeDeflate are ws's PerMessageDeflate options.
type nodeDeflate struct {
	ServerNoContextTakeover bool `json:"serverNoContextTakeover,omitempty"`
	ClientNoContextTakeover bool `json:"clientNoContextTakeover,omitempty"`
	ServerMaxWindowBits     int  `json:"serverMaxWindowBits,omitempty"`
	ClientMaxWindowBits     int  `json:"clientMaxWindowBits,omitempty"`
	// Threshold is the size below which ws sends messages uncompressed
	// (ws's default is 1024); nil keeps ws's default.
	Threshold *int `json:"threshold,omitempty"`
}

// nodeStep is one action of the client's script; see client.mjs.
type nodeStep struct {
	Op    string `json:"op"`
	Type  string `json:"type,omitempty"`
	Size  int    `json:"size"`
	Count int    `json:"count,omitempty"`
	Sizes []int  `json:"sizes,omitempty"`
}

type nodeClose struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// nodeResult is the line client.mjs prints.
type nodeResult struct {
	OK             bool                   `json:"ok"`
	Extensions     *string                `json:"extensions"`
	ExtensionNames string                 `json:"extensionNames"`
	Params         map[string]interface{} `json:"params"`
	Received       struct {
		Text   int   `json:"text"`
		Binary int   `json:"binary"`
		Pongs  int   `json:"pongs"`
		Bytes  int64 `json:"bytes"`
	} `json:"received"`
	Socket struct {
		BytesRead    int64 `json:"bytesRead"`
		BytesWritten int64 `json:"bytesWritten"`
	} `json:"socket"`
	CloseCode   int      `json:"closeCode"`
	CloseReason string   `json:"closeReason"`
	Errors      []string `json:"errors"`
}

// runNodeClient runs client.mjs with cfg and returns its result. It fails
// the test if the client could not run, printed no result, or reported
// errors.
func runNodeClient(t *testing.T, cfg nodeConfig) nodeResult {
	t.Helper()
	node, script := nodeClient(t)
	arg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, script, string(arg))
	cmd.Dir = filepath.Dir(script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var res nodeResult
	out := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("node client printed no result (run error: %v): %v\nstdout: %s\nstderr: %s", runErr, err, stdout.String(), stderr.String())
	}
	if runErr != nil || !res.OK || len(res.Errors) > 0 {
		t.Errorf("node client failed (exit: %v):\n\t%s\nresult: %s\nstderr: %s", runErr, strings.Join(res.Errors, "\n\t"), out, stderr.String())
	}
	return res
}

// expectedCounts returns how many text and binary echoes and pongs steps
// produce.
func expectedCounts(steps []nodeStep) (text, binary, pongs int) {
	for _, s := range steps {
		n := 1
		switch s.Op {
		case "ping":
			pongs++
			continue
		case "burst":
			n = s.Count
		}
		if s.Type == "binary" {
			binary += n
		} else {
			text += n
		}
	}
	return text, binary, pongs
}

// checkNodeResult checks the counts, the close handshake and the
// negotiated extension header (nil: none expected).
func checkNodeResult(t *testing.T, cfg nodeConfig, res nodeResult, wantExt *string) {
	t.Helper()
	text, binary, pongs := expectedCounts(cfg.Steps)
	if res.Received.Text != text || res.Received.Binary != binary || res.Received.Pongs != pongs {
		t.Errorf("received %d text, %d binary, %d pongs; want %d, %d, %d",
			res.Received.Text, res.Received.Binary, res.Received.Pongs, text, binary, pongs)
	}
	// The default close handler echoes the code, without the reason.
	if res.CloseCode != cfg.Close.Code || res.CloseReason != "" {
		t.Errorf("client saw close %d %q; want %d echoed with no reason", res.CloseCode, res.CloseReason, cfg.Close.Code)
	}
	switch {
	case wantExt == nil && res.Extensions != nil:
		t.Errorf("Sec-WebSocket-Extensions = %q; want none", *res.Extensions)
	case wantExt != nil && res.Extensions == nil:
		t.Errorf("no Sec-WebSocket-Extensions; want %q", *wantExt)
	case wantExt != nil && *res.Extensions != *wantExt:
		t.Errorf("Sec-WebSocket-Extensions = %q; want %q (ws params %v)", *res.Extensions, *wantExt, res.Params)
	}
	if wantExt != nil && res.ExtensionNames != "permessage-deflate" {
		t.Errorf("ws reports extensions %q; want permessage-deflate in use", res.ExtensionNames)
	}
}

func strPtr(s string) *string { return &s }
func intPtr(n int) *int       { return &n }

// nodeEchoSteps echoes each size as text and as binary.
func nodeEchoSteps(sizes ...int) []nodeStep {
	var steps []nodeStep
	for _, size := range sizes {
		steps = append(steps,
			nodeStep{Op: "send", Type: "text", Size: size},
			nodeStep{Op: "send", Type: "binary", Size: size})
	}
	return steps
}

// nodeUpgrader is the server every Node test runs against.
func nodeUpgrader(opts websocket.CompressionOptions) *websocket.HertzUpgrader {
	return &websocket.HertzUpgrader{EnableCompression: true, Compression: opts, ReadLimit: 64 << 20}
}

// TestNodeInteropUncompressed: ws without permessage-deflate, messages
// across the length encodings up to 16 MiB, pings, a fragmented message
// and the close handshake with a standard and an application code.
func TestNodeInteropUncompressed(t *testing.T) {
	nodeClient(t)
	sizes := []int{0, 125, 126, 64 << 10, 1 << 20}
	if !testing.Short() {
		sizes = append(sizes, 16<<20)
	}
	full := append(nodeEchoSteps(sizes...),
		nodeStep{Op: "ping", Size: 0},
		nodeStep{Op: "ping", Size: 125},
		nodeStep{Op: "fragmented", Type: "text", Sizes: []int{1, 125, 126, 65536}},
		nodeStep{Op: "fragmented", Type: "binary", Sizes: []int{1000, 0, 70000, 5}},
		nodeStep{Op: "send", Type: "text", Size: 10},
	)
	short := []nodeStep{
		{Op: "send", Type: "text", Size: 5},
		{Op: "ping", Size: 4},
		{Op: "fragmented", Type: "binary", Sizes: []int{3, 4}},
	}
	cases := []struct {
		name  string
		steps []nodeStep
		close nodeClose
	}{
		{"close1000", full, nodeClose{1000, "done"}},
		{"close4001", short, nodeClose{4001, "application says bye"}},
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, c := range cases {
			c := c
			t.Run(c.name, func(t *testing.T) {
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nodeUpgrader(websocket.CompressionOptions{}), wstest.Echo)
				cfg := nodeConfig{URL: url, PerMessageDeflate: false, Steps: c.steps, Close: c.close}
				res := runNodeClient(t, cfg)
				checkNodeResult(t, cfg, res, nil)
			})
		}
	})
}

// nodeCompressedSteps is the script of the compressed cases: a burst of
// small JSON messages, messages around the thresholds and larger ones, a
// ping and fragmented messages.
func nodeCompressedSteps(large ...int) []nodeStep {
	steps := []nodeStep{{Op: "burst", Type: "json", Count: 100}}
	steps = append(steps, nodeEchoSteps(0, 1, 125, 126, 300, 1500, 5000, 64<<10, 256<<10)...)
	steps = append(steps, nodeEchoSteps(large...)...)
	steps = append(steps,
		nodeStep{Op: "ping", Size: 125},
		nodeStep{Op: "fragmented", Type: "text", Sizes: []int{100, 2000, 40000}},
		nodeStep{Op: "fragmented", Type: "binary", Sizes: []int{1500, 0, 70000, 5}},
		nodeStep{Op: "burst", Type: "text", Count: 20, Size: 700},
		nodeStep{Op: "burst", Type: "json", Count: 50},
	)
	return steps
}

// TestNodeInteropDeflateDefaults: ws with perMessageDeflate: true offers
// "permessage-deflate; client_max_window_bits"; the server accepts it as a
// bare "permessage-deflate" (context takeover and 15-bit windows both
// ways), and every echo goes back compressed.
func TestNodeInteropDeflateDefaults(t *testing.T) {
	nodeClient(t)
	large := []int{1 << 20}
	if !testing.Short() {
		large = append(large, 16<<20)
	}
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nodeUpgrader(websocket.CompressionOptions{}), wstest.Echo)
		cfg := nodeConfig{URL: url, PerMessageDeflate: true, Steps: nodeCompressedSteps(large...), Close: nodeClose{1000, "done"}}
		res := runNodeClient(t, cfg)
		checkNodeResult(t, cfg, res, strPtr("permessage-deflate"))
		// The server compresses every echo (NextWriter): the wire must
		// carry well under what the messages hold.
		if res.Socket.BytesRead == 0 || res.Socket.BytesRead > res.Received.Bytes/2 {
			t.Errorf("client read %d bytes from the socket for %d bytes of messages; want compression below 1/2",
				res.Socket.BytesRead, res.Received.Bytes)
		}
		t.Logf("ws read %d socket bytes for %d message bytes, wrote %d", res.Socket.BytesRead, res.Received.Bytes, res.Socket.BytesWritten)
	})
}

// TestNodeInteropDeflateParams runs the compressed script under each
// window size and takeover setting ws can offer, and under the server's
// CompressionOptions. Node's zlib inflates with exactly the negotiated
// window, so a back-reference from our compressor beyond
// server_max_window_bits fails there with "invalid distance too far back".
func TestNodeInteropDeflateParams(t *testing.T) {
	nodeClient(t)
	type deflateCase struct {
		name   string
		client interface{}
		server websocket.CompressionOptions
		want   string
	}
	var cases []deflateCase
	for bits := 8; bits <= 15; bits++ {
		cases = append(cases, deflateCase{
			name:   fmt.Sprintf("ws/serverMaxWindowBits=%d", bits),
			client: &nodeDeflate{ServerMaxWindowBits: bits, Threshold: intPtr(0)},
			want:   fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits),
		})
	}
	for bits := 8; bits <= 15; bits++ {
		cases = append(cases, deflateCase{
			name:   fmt.Sprintf("ws/clientMaxWindowBits=%d", bits),
			client: &nodeDeflate{ClientMaxWindowBits: bits, Threshold: intPtr(0)},
			want:   fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", bits),
		})
	}
	cases = append(cases,
		deflateCase{
			name:   "ws/serverNoContextTakeover",
			client: &nodeDeflate{ServerNoContextTakeover: true, Threshold: intPtr(0)},
			want:   "permessage-deflate; server_no_context_takeover",
		},
		deflateCase{
			name:   "ws/clientNoContextTakeover",
			client: &nodeDeflate{ClientNoContextTakeover: true, Threshold: intPtr(0)},
			want:   "permessage-deflate; client_no_context_takeover",
		},
		deflateCase{
			name:   "ws/both8NoTakeover",
			client: &nodeDeflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8, Threshold: intPtr(0)},
			want:   "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8",
		},
		deflateCase{
			name:   "server/ServerNoContextTakeover",
			client: &nodeDeflate{Threshold: intPtr(0)},
			server: websocket.CompressionOptions{ServerNoContextTakeover: true},
			want:   "permessage-deflate; server_no_context_takeover",
		},
		deflateCase{
			name:   "server/ClientNoContextTakeover",
			client: &nodeDeflate{Threshold: intPtr(0)},
			server: websocket.CompressionOptions{ClientNoContextTakeover: true},
			want:   "permessage-deflate; client_no_context_takeover",
		},
		deflateCase{
			name:   "server/ServerMaxWindowBits=9",
			client: &nodeDeflate{Threshold: intPtr(0)},
			server: websocket.CompressionOptions{ServerMaxWindowBits: 9},
			want:   "permessage-deflate; server_max_window_bits=9",
		},
		deflateCase{
			name:   "server/ClientMaxWindowBits=10",
			client: &nodeDeflate{Threshold: intPtr(0)},
			server: websocket.CompressionOptions{ClientMaxWindowBits: 10},
			want:   "permessage-deflate; client_max_window_bits=10",
		},
		deflateCase{
			name:   "server/Level=9",
			client: true,
			server: websocket.CompressionOptions{Level: 9},
			want:   "permessage-deflate",
		},
		deflateCase{
			name:   "server/Threshold=-1",
			client: &nodeDeflate{Threshold: intPtr(0)},
			server: websocket.CompressionOptions{Threshold: -1},
			want:   "permessage-deflate",
		},
		deflateCase{
			// Both sides constrain: the smaller value wins each time.
			name:   "both/mixed",
			client: &nodeDeflate{ServerMaxWindowBits: 10, ClientMaxWindowBits: 11, Threshold: intPtr(0)},
			server: websocket.CompressionOptions{ServerMaxWindowBits: 12, ClientMaxWindowBits: 9, ServerNoContextTakeover: true, ClientNoContextTakeover: true, Level: 9},
			want:   "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
		},
	)
	steps := nodeCompressedSteps()
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, c := range cases {
			c := c
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				url := wstest.StartHandler(t, tc, wstest.EngineSettings{}, nodeUpgrader(c.server), wstest.Echo)
				cfg := nodeConfig{URL: url, PerMessageDeflate: c.client, Steps: steps, Close: nodeClose{1000, "done"}}
				res := runNodeClient(t, cfg)
				checkNodeResult(t, cfg, res, strPtr(c.want))
			})
		}
	})
}
