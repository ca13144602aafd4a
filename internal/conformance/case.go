package conformance

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Verdict is the outcome of a case, named as Autobahn|Testsuite names
// them.
type Verdict string

// The verdicts of a case. OK, NON-STRICT and INFORMATIONAL pass;
// UNIMPLEMENTED means the peer did not negotiate the feature the case tests
// (permessage-deflate); FAILED fails. SKIPPED marks a case the options left
// out (Options.MaxMessageSize).
const (
	OK            Verdict = "OK"
	NonStrict     Verdict = "NON-STRICT"
	Informational Verdict = "INFORMATIONAL"
	Unimplemented Verdict = "UNIMPLEMENTED"
	Failed        Verdict = "FAILED"
	Skipped       Verdict = "SKIPPED"
)

// CloseVerdict judges how the connection ended, as Autobahn's
// behaviorClose does.
type CloseVerdict string

// The close verdicts: OK; FAILED when the wrong endpoint started the close;
// UNCLEAN when a clean close was required and did not happen; WRONG CODE
// when the peer's close code is not one the case allows; FAILED BY CLIENT
// when the fuzzing client, not the server, had to drop the TCP connection;
// INFORMATIONAL for cases whose close is not judged.
const (
	CloseOK            CloseVerdict = "OK"
	CloseFailed        CloseVerdict = "FAILED"
	CloseUnclean       CloseVerdict = "UNCLEAN"
	CloseWrongCode     CloseVerdict = "WRONG CODE"
	CloseFailedByPeer  CloseVerdict = "FAILED BY CLIENT"
	CloseInformational CloseVerdict = "INFORMATIONAL"
)

// Case is one test case: its Autobahn id and texts, how the connection is
// opened, and the script the fuzzing peer plays once the handshake is done.
type Case struct {
	// ID is the Autobahn case id, such as "6.4.3". Cases that Autobahn
	// does not have use a family of their own ("X.1").
	ID          string
	Description string
	Expectation string

	// Offers are the Sec-WebSocket-Extensions elements the fuzzing client
	// sends (permessage-deflate offers of families 12 and 13); empty for
	// the other cases.
	Offers []string
	// Accept, for the fuzzing server, picks the response to the client's
	// permessage-deflate offers: it returns the response element, or ""
	// to decline. Nil declines every offer.
	Accept func(offers []deflateOffer) string

	// Timeout bounds the whole case; zero means Options.CaseTimeout.
	Timeout time.Duration
	// MaxMessage is the largest message the case sends, for
	// Options.MaxMessageSize.
	MaxMessage int

	// Run is the script: Autobahn's onOpen. It runs on the peer's event
	// loop, as do the callbacks it registers.
	Run func(p *Peer)
}

// Family returns the case's top-level family: "6" for "6.4.3".
func (c Case) Family() string {
	if i := strings.IndexByte(c.ID, '.'); i >= 0 {
		return c.ID[:i]
	}
	return c.ID
}

// Event is something the fuzzer observed and records for judging, as
// Autobahn's received list does: a message, a pong, or a point a script
// reached ("timeout" with a tag).
type Event struct {
	Kind    string // "message", "pong", "timeout"
	Payload []byte
	Binary  bool
	Tag     string
}

// TextMsg is the event of a text message with payload s.
func TextMsg(s string) Event { return Event{Kind: "message", Payload: []byte(s)} }

// BinaryMsg is the event of a binary message with payload b.
func BinaryMsg(b []byte) Event { return Event{Kind: "message", Payload: b, Binary: true} }

// PongEvent is the event of a pong with payload b.
func PongEvent(b []byte) Event { return Event{Kind: "pong", Payload: b} }

// TimeoutEvent is the event a script records when a wait passed with the
// connection still open.
func TimeoutEvent(tag string) Event { return Event{Kind: "timeout", Tag: tag} }

func (e Event) equal(o Event) bool {
	return e.Kind == o.Kind && e.Binary == o.Binary && e.Tag == o.Tag && bytes.Equal(e.Payload, o.Payload)
}

func (e Event) String() string {
	switch e.Kind {
	case "message":
		t := "text"
		if e.Binary {
			t = "binary"
		}
		return fmt.Sprintf("%s message %s", t, describeBytes(e.Payload))
	case "timeout":
		return "timeout " + e.Tag
	}
	return e.Kind + " " + describeBytes(e.Payload)
}

func eventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

func formatEvents(ev []Event) string {
	if len(ev) == 0 {
		return "[]"
	}
	const max = 4
	var parts []string
	for i, e := range ev {
		if i == max {
			parts = append(parts, fmt.Sprintf("... %d more", len(ev)-max))
			break
		}
		parts = append(parts, e.String())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ExpectedClose is how the connection must end, as Autobahn's
// expectedClose says.
type ExpectedClose struct {
	// ClosedByMe: the fuzzer, not the peer, sends the first close frame.
	ClosedByMe bool
	// Codes the peer's close frame may carry; a close frame without code,
	// or none at all, is also accepted.
	Codes []int
	// RequireClean: close frames must be exchanged and the server must
	// drop the TCP connection in time.
	RequireClean bool
	// WrongEndpointFatal fails the case, not only its close, when the
	// wrong endpoint closed: the peer did not detect what it should have
	// (the UTF-8 cases).
	WrongEndpointFatal bool
}

// Result is the outcome of one case.
type Result struct {
	ID          string
	Description string
	// Verdict combines Behavior and CloseBehavior: FAILED if either
	// failed (a close that is FAILED or UNCLEAN fails the case), NON-STRICT
	// if the close has the wrong code or the client had to drop TCP.
	Verdict Verdict
	// Behavior is Autobahn's behavior: the observed events against the
	// expected ones, and Reason its explanation.
	Behavior Verdict
	Reason   string
	// CloseBehavior is Autobahn's behaviorClose, CloseReason its
	// explanation.
	CloseBehavior CloseVerdict
	CloseReason   string

	// How the connection ended.
	CloseCode   int    // the peer's close code, -1 if none
	CloseText   string // the peer's close reason
	ClosedByMe  bool   // the fuzzer sent the first close frame
	DroppedByMe bool   // the fuzzer dropped the TCP connection
	PeerDropped bool   // the peer closed the TCP connection first
	WasClean    bool   // close frames exchanged and TCP closed by the server in time

	Received []Event `json:"-"`
	Duration time.Duration
}

// String is a one-line summary.
func (r Result) String() string {
	code := "none"
	if r.CloseCode >= 0 {
		code = strconv.Itoa(r.CloseCode)
	}
	s := fmt.Sprintf("%s %s (behavior %s, close %s, code %s, %v)", r.ID, r.Verdict, r.Behavior, r.CloseBehavior, code, r.Duration.Round(time.Millisecond))
	if r.Verdict != OK && r.Verdict != Skipped {
		s += ": " + r.Explain()
	}
	return s
}

// Explain returns why the case got its verdict.
func (r Result) Explain() string {
	var parts []string
	if r.Behavior != OK && r.Reason != "" {
		parts = append(parts, r.Reason)
	}
	if r.CloseBehavior != CloseOK && r.CloseBehavior != CloseInformational && r.CloseReason != "" {
		parts = append(parts, "close "+string(r.CloseBehavior)+": "+r.CloseReason)
	}
	if len(parts) == 0 {
		parts = append(parts, r.Reason)
	}
	return strings.Join(parts, "; ")
}

// combine computes the final verdict from the two Autobahn judgements.
func combine(behavior Verdict, closeB CloseVerdict) Verdict {
	switch behavior {
	case Failed, Informational, Unimplemented, Skipped:
		return behavior
	}
	switch closeB {
	case CloseFailed, CloseUnclean:
		return Failed
	case CloseWrongCode, CloseFailedByPeer:
		return NonStrict
	}
	return behavior
}

// idKey turns "6.10.2" into numbers for sorting; non-numeric parts sort
// after numeric ones.
func idKey(id string) []int {
	parts := strings.Split(id, ".")
	k := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			n = 1 << 20
			for _, c := range p {
				n += int(c)
			}
		}
		k[i] = n
	}
	return k
}

func lessID(a, b string) bool {
	ka, kb := idKey(a), idKey(b)
	for i := 0; i < len(ka) && i < len(kb); i++ {
		if ka[i] != kb[i] {
			return ka[i] < kb[i]
		}
	}
	return len(ka) < len(kb)
}

// SortCases orders cases by id as Autobahn does: 6.9.1 before 6.10.1.
func SortCases(cases []Case) {
	sort.SliceStable(cases, func(i, j int) bool { return lessID(cases[i].ID, cases[j].ID) })
}

// Select returns the cases whose id matches one of include and none of
// exclude. A pattern is an id, or a glob in Autobahn's style where "*"
// matches anything ("6.*", "12.1.*", "*"); "6" alone means the family
// "6.*". An empty include selects every case.
func Select(cases []Case, include, exclude []string) []Case {
	var out []Case
	for _, c := range cases {
		if (len(include) == 0 || matchAny(c.ID, include)) && !matchAny(c.ID, exclude) {
			out = append(out, c)
		}
	}
	return out
}

// SplitPatterns splits a comma- or space-separated list of case patterns.
func SplitPatterns(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func matchAny(id string, patterns []string) bool {
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.ContainsAny(p, "*?[") && !strings.Contains(p, ".") {
			p += ".*"
		}
		if p == id {
			return true
		}
		// path.Match treats "*" as not crossing "/", and ids have none.
		if ok, _ := path.Match(p, id); ok {
			return true
		}
	}
	return false
}
