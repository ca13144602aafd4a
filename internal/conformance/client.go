package conformance

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	mrand "math/rand"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options tune a run of the suite.
type Options struct {
	// Short selects the quick run: MaxMessageSize defaults to 1 MiB and
	// CompressionMessages to 3.
	Short bool
	// MaxMessageSize skips (SKIPPED) the cases that send larger messages;
	// 0 means no limit, or 1 MiB when Short.
	MaxMessageSize int
	// CompressionMessages is how many messages each case of families 12
	// and 13 sends; 0 means Autobahn's 1000, or 3 when Short.
	CompressionMessages int
	// CaseTimeout bounds a case that has no timeout of its own; 0 means
	// 30 s.
	CaseTimeout time.Duration
	// CloseTimeout is how long the fuzzer waits for the peer's close frame
	// once it sent its own, and, as a client, for the server to drop the
	// TCP connection after the closing handshake (Autobahn's
	// closeHandshakeTimeout and serverConnectionDropTimeout); 0 means 1 s.
	CloseTimeout time.Duration
	// TimeScale multiplies every wait of the case scripts (the delays
	// after which the fuzzer fails or closes the connection, the pauses of
	// the fail-fast cases) and CloseTimeout; 0 means 1, Autobahn's timing.
	// A value above 1 keeps a slow peer under test (a race-detector build
	// on a loaded machine) from being judged on its speed.
	TimeScale float64
	// Parallel is how many cases run at once; 0 or 1 runs them one by
	// one, as Autobahn does. The cases of families 9, 12 and 13, which
	// move most data, run after the others and at most two at a time, so
	// that their load cannot skew the timing of the fail-fast cases.
	Parallel int
	// Header is added to the fuzzing client's handshake requests (Origin,
	// for instance).
	Header http.Header
	// Progress, when set, is called after each case.
	Progress func(Result)
}

func (o *Options) closeTimeout() time.Duration {
	if o.CloseTimeout > 0 {
		return o.scale(o.CloseTimeout)
	}
	return o.scale(time.Second)
}

func (o *Options) scale(d time.Duration) time.Duration {
	if o.TimeScale > 0 {
		return time.Duration(float64(d) * o.TimeScale)
	}
	return d
}

func (o *Options) caseTimeout(c *Case) time.Duration {
	if c.Timeout > 0 {
		return o.scale(c.Timeout)
	}
	if o.CaseTimeout > 0 {
		return o.CaseTimeout
	}
	return o.scale(30 * time.Second)
}

func (o *Options) maxMessageSize() int {
	if o.MaxMessageSize > 0 {
		return o.MaxMessageSize
	}
	if o.Short {
		return 1 << 20
	}
	return 0
}

// compressionMessages is the message count of families 12 and 13.
func (o *Options) compressionMessages() int {
	if o.CompressionMessages > 0 {
		return o.CompressionMessages
	}
	if o.Short {
		return 3
	}
	return 1000
}

// heavy reports whether a case runs alone (load and performance cases).
func heavy(c *Case) bool {
	switch c.Family() {
	case "9", "12", "13":
		return true
	}
	return false
}

// RunClient runs cases against the WebSocket server at url (ws://), as
// Autobahn's fuzzingclient does: each case on a new connection whose
// opening handshake the fuzzer makes itself (with the case's
// permessage-deflate offers), then the case's script. It returns one
// result per case, in id order.
func RunClient(ctx context.Context, rawURL string, cases []Case, opts Options) []Result {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "http") || u.Host == "" {
		err = fmt.Errorf("conformance: bad URL %q (want ws://host:port/path)", rawURL)
		var out []Result
		for _, c := range cases {
			out = append(out, failedResult(c, err.Error()))
		}
		return out
	}
	return runAll(ctx, cases, &opts, func(ctx context.Context, c *Case) Result {
		return runClientCase(ctx, u, c, &opts)
	})
}

// runAll runs every case through run, light cases first (Parallel at a
// time), then the heavy ones (at most two at a time), and returns the
// results in id order.
func runAll(ctx context.Context, cases []Case, opts *Options, run func(context.Context, *Case) Result) []Result {
	cases = append([]Case(nil), cases...)
	SortCases(cases)
	results := make([]Result, len(cases))
	limit := opts.maxMessageSize()
	var light, heavyIdx []int
	for i := range cases {
		c := &cases[i]
		if limit > 0 && c.MaxMessage > limit {
			results[i] = Result{ID: c.ID, Description: c.Description, Verdict: Skipped, Behavior: Skipped,
				Reason: fmt.Sprintf("sends messages of %d bytes, above the limit of %d", c.MaxMessage, limit), CloseCode: NoCode}
			continue
		}
		if heavy(c) {
			heavyIdx = append(heavyIdx, i)
		} else {
			light = append(light, i)
		}
	}
	one := func(i int) {
		c := &cases[i]
		if err := ctx.Err(); err != nil {
			results[i] = failedResult(*c, "not run: "+err.Error())
		} else {
			results[i] = run(ctx, c)
		}
		if opts.Progress != nil {
			opts.Progress(results[i])
		}
	}
	par := opts.Parallel
	if par < 1 {
		par = 1
	}
	var progressMu sync.Mutex
	if par > 1 && opts.Progress != nil {
		progress := opts.Progress
		opts.Progress = func(r Result) {
			progressMu.Lock()
			defer progressMu.Unlock()
			progress(r)
		}
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, i := range light {
		i := i
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			one(i)
		}()
	}
	wg.Wait()
	if par > 2 {
		par = 2
	}
	sem = make(chan struct{}, par)
	for _, i := range heavyIdx {
		i := i
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			one(i)
		}()
	}
	wg.Wait()
	return results
}

func failedResult(c Case, reason string) Result {
	return Result{ID: c.ID, Description: c.Description, Verdict: Failed, Behavior: Failed, Reason: reason,
		CloseBehavior: CloseFailed, CloseReason: "The WebSocket opening handshake was never completed!", CloseCode: NoCode}
}

func newPeer(isServer bool, conn net.Conn, br *bufio.Reader, c *Case, opts *Options, pmd *pmdState, deadline time.Time) *Peer {
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	s := int64(0)
	for _, b := range seed {
		s = s<<8 | int64(b)
	}
	return &Peer{
		isServer: isServer,
		conn:     conn,
		br:       br,
		opts:     opts,
		c:        c,
		pmd:      pmd,
		rnd:      mrand.New(mrand.NewSource(s)),
		deadline: deadline,
	}
}

// runClientCase connects, shakes hands and plays c.
func runClientCase(ctx context.Context, u *url.URL, c *Case, opts *Options) Result {
	deadline := time.Now().Add(opts.caseTimeout(c))
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, br, pmd, err := clientHandshake(hctx, u, c.Offers, opts.Header)
	if err != nil {
		return failedResult(*c, "opening handshake: "+err.Error())
	}
	p := newPeer(false, conn, br, c, opts, pmd, deadline)
	defer watchContext(ctx, conn)()
	return p.play()
}

// clientHandshake dials u and makes the opening handshake (RFC 6455 §4.1)
// by hand, offering the given extensions.
func clientHandshake(ctx context.Context, u *url.URL, offers []string, header http.Header) (net.Conn, *bufio.Reader, *pmdState, error) {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, nil, nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var keyBytes [16]byte
	_, _ = rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])
	path := u.RequestURI()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", path)
	fmt.Fprintf(&b, "Host: %s\r\n", u.Host)
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if len(offers) > 0 {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", strings.Join(offers, ", "))
	}
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	fail := func(format string, args ...interface{}) (net.Conn, *bufio.Reader, *pmdState, error) {
		conn.Close()
		return nil, nil, nil, fmt.Errorf(format, args...)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail("status %s", resp.Status)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return fail("Upgrade header is %q", resp.Header.Get("Upgrade"))
	}
	if !headerHasToken(resp.Header.Values("Connection"), "upgrade") {
		return fail("Connection header lacks upgrade")
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		return fail("Sec-WebSocket-Accept is %q, want %q", got, want)
	}
	var pmd *pmdState
	if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) > 0 {
		if len(offers) == 0 {
			return fail("server answered extensions %q that were not offered", ext)
		}
		resps, err := parseExtensions(ext)
		if err != nil {
			return fail("Sec-WebSocket-Extensions: %v", err)
		}
		if len(resps) != 1 {
			return fail("Sec-WebSocket-Extensions %q: want exactly one permessage-deflate", ext)
		}
		pmd, err = clientAccept(offers, resps[0])
		if err != nil {
			return fail("permessage-deflate response %q: %v", ext, err)
		}
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, br, pmd, nil
}

func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func decodeKey(key string) ([]byte, error) { return base64.StdEncoding.DecodeString(key) }

// watchContext unblocks conn's reads and writes when ctx is done; the
// returned function stops watching.
func watchContext(ctx context.Context, conn net.Conn) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = conn.SetDeadline(time.Now())
		case <-done:
		}
	}()
	return func() { close(done) }
}
