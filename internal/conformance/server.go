package conformance

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a fuzzing server: it tests WebSocket clients with the same
// case scripts, roles swapped, as Autobahn's fuzzingserver does. The
// client under test connects to /runCase?case=ID (ID is a case id such as
// "6.4.3", or its 1-based index in id order, as Autobahn numbers them) and
// must echo every message it receives until the connection closes.
// /getCaseCount answers with a text message holding the number of cases.
type Server struct {
	opts  Options
	cases []Case
	byID  map[string]*Case

	mu      sync.Mutex
	results map[string]Result
	waiters map[string][]chan Result
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// NewServer returns a fuzzing server for cases.
func NewServer(cases []Case, opts Options) *Server {
	s := &Server{
		opts:    opts,
		cases:   append([]Case(nil), cases...),
		byID:    map[string]*Case{},
		results: map[string]Result{},
		waiters: map[string][]chan Result{},
		conns:   map[net.Conn]struct{}{},
	}
	SortCases(s.cases)
	for i := range s.cases {
		s.byID[s.cases[i].ID] = &s.cases[i]
	}
	return s
}

// Serve accepts connections on ln until it is closed, and waits for the
// cases under way to end before returning.
func (s *Server) Serve(ln net.Listener) error {
	defer s.wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(conn)
		}()
	}
}

// Results returns the results recorded so far, in id order.
func (s *Server) Results() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Result
	for _, r := range s.results {
		out = append(out, r)
	}
	sortResults(out)
	return out
}

func (s *Server) record(r Result) {
	s.mu.Lock()
	s.results[r.ID] = r
	ws := s.waiters[r.ID]
	delete(s.waiters, r.ID)
	s.mu.Unlock()
	for _, w := range ws {
		w <- r
	}
}

// wait returns a channel that receives the next result of case id.
func (s *Server) wait(id string) chan Result {
	ch := make(chan Result, 1)
	s.mu.Lock()
	s.waiters[id] = append(s.waiters[id], ch)
	s.mu.Unlock()
	return ch
}

func httpError(conn net.Conn, status int, msg string) {
	body := msg + "\n"
	fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

func (s *Server) serveConn(conn net.Conn) {
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReaderSize(conn, 64<<10)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodGet ||
		!headerHasToken(req.Header.Values("Connection"), "upgrade") ||
		!headerHasToken(req.Header.Values("Upgrade"), "websocket") {
		httpError(conn, http.StatusBadRequest, "not a WebSocket handshake")
		return
	}
	if req.Header.Get("Sec-WebSocket-Version") != "13" {
		httpError(conn, http.StatusUpgradeRequired, "Sec-WebSocket-Version must be 13")
		return
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if k, err := decodeKey(key); err != nil || len(k) != 16 {
		httpError(conn, http.StatusBadRequest, "bad Sec-WebSocket-Key")
		return
	}
	var c *Case
	switch req.URL.Path {
	case "/runCase":
		c = s.lookup(req.URL.Query().Get("case"))
		if c == nil {
			httpError(conn, http.StatusNotFound, "no such case")
			return
		}
	case "/getCaseCount":
	default:
		httpError(conn, http.StatusNotFound, "unknown path")
		return
	}
	var pmd *pmdState
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n"
	if c != nil && c.Accept != nil {
		if offers, err := parseExtensions(req.Header.Values("Sec-WebSocket-Extensions")); err == nil {
			if elem := c.Accept(offers); elem != "" {
				if pmd, err = serverAcceptState(elem); err == nil {
					resp += "Sec-WebSocket-Extensions: " + elem + "\r\n"
				} else {
					pmd = nil
				}
			}
		}
	}
	resp += "\r\n"
	if _, err := conn.Write([]byte(resp)); err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	if c == nil {
		// /getCaseCount: one text message, then close.
		b := encodeFrame(OpText, true, 0, []byte(strconv.Itoa(len(s.cases))), false, [4]byte{})
		b = append(b, encodeFrame(OpClose, true, 0, closePayload(CloseNormal, nil), false, [4]byte{})...)
		_, _ = conn.Write(b)
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = br.Discard(1 << 20)
		return
	}
	deadline := time.Now().Add(s.opts.caseTimeout(c))
	p := newPeer(true, conn, br, c, &s.opts, pmd, deadline)
	s.record(p.play())
}

func (s *Server) lookup(v string) *Case {
	if c := s.byID[v]; c != nil {
		return c
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(s.cases) && !strings.Contains(v, ".") {
		return &s.cases[n-1]
	}
	return nil
}

// RunServer tests a WebSocket client: it starts a fuzzing server on
// 127.0.0.1 and, for each case, calls client with the URL of the case
// (ws://127.0.0.1:port/runCase?case=ID). client must connect, echo every
// message it receives, and return once the connection is closed; its error
// is not judged, the server's view is. The results come in id order.
func RunServer(ctx context.Context, cases []Case, opts Options, client func(ctx context.Context, url string) error) []Result {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		var out []Result
		for _, c := range cases {
			out = append(out, failedResult(c, "listen: "+err.Error()))
		}
		return out
	}
	srv := NewServer(cases, opts)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	base := "ws://" + ln.Addr().String() + "/runCase?case="
	results := runAll(ctx, cases, &opts, func(ctx context.Context, c *Case) Result {
		ch := srv.wait(c.ID)
		cctx, cancel := context.WithTimeout(ctx, opts.caseTimeout(c)+5*time.Second)
		defer cancel()
		clientDone := make(chan error, 1)
		go func() { clientDone <- client(cctx, base+c.ID) }()
		var r Result
		select {
		case r = <-ch:
		case err := <-clientDone:
			// The client gave up; its connection, if it made one, is
			// still being judged.
			select {
			case r = <-ch:
			case <-time.After(2 * time.Second):
				reason := "the client never opened the connection"
				if err != nil {
					reason += ": " + err.Error()
				}
				r = failedResult(*c, reason)
			}
			clientDone <- err
		case <-cctx.Done():
			r = failedResult(*c, "no result: "+cctx.Err().Error())
		}
		// Let the client notice the end of its connection.
		select {
		case <-clientDone:
		case <-time.After(2 * time.Second):
		}
		return r
	})
	_ = ln.Close()
	<-served
	return results
}

func sortResults(rs []Result) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && lessID(rs[j].ID, rs[j-1].ID); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}
