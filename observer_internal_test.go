package websocket

import (
	"testing"
	"time"
)

// rttObserver records the round trips it is given.
type rttObserver struct {
	NopObserver
	rtts []time.Duration
}

func (o *rttObserver) PingRTT(d time.Duration) { o.rtts = append(o.rtts, d) }

// TestObservePingRTT checks the helper through which a Conn reports a
// ping's round trip: to its observer when it has one, and nowhere (without
// a panic) when it has none.
func TestObservePingRTT(t *testing.T) {
	var none Conn
	none.observePingRTT(time.Millisecond)

	o := &rttObserver{}
	c := Conn{observer: o}
	c.observePingRTT(3 * time.Millisecond)
	if len(o.rtts) != 1 || o.rtts[0] != 3*time.Millisecond {
		t.Fatalf("PingRTT got %v, want [3ms]", o.rtts)
	}
}

// TestCloseFrameCodes checks the code ConnClosed reports: the peer's
// close code wins over the one sent, whichever came first; an empty close
// payload is 1005; and without any close frame the code is 1006.
func TestCloseFrameCodes(t *testing.T) {
	tests := []struct {
		name string
		run  func(c *Conn)
		want int
	}{
		{"none", func(*Conn) {}, CloseAbnormalClosure},
		{"sent", func(c *Conn) { c.closeFrameSent(FormatCloseMessage(CloseGoingAway, "")) }, CloseGoingAway},
		{"sent empty", func(c *Conn) { c.closeFrameSent(nil) }, CloseNoStatusReceived},
		{"received", func(c *Conn) { c.closeFrameReceived(CloseNormalClosure) }, CloseNormalClosure},
		{"sent then received", func(c *Conn) {
			c.closeFrameSent(FormatCloseMessage(CloseGoingAway, ""))
			c.closeFrameReceived(CloseNormalClosure)
		}, CloseNormalClosure},
		{"received then sent", func(c *Conn) {
			c.closeFrameReceived(CloseNormalClosure)
			c.closeFrameSent(FormatCloseMessage(CloseGoingAway, ""))
		}, CloseNormalClosure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &closeObserver{}
			c := &Conn{observer: o}
			tt.run(c)
			c.observeClosed()
			if len(o.codes) != 1 || o.codes[0] != tt.want {
				t.Fatalf("ConnClosed %v, want [%d]", o.codes, tt.want)
			}
		})
	}
}

// closeObserver records the codes of ConnClosed.
type closeObserver struct {
	NopObserver
	codes []int
}

func (o *closeObserver) ConnClosed(code int) { o.codes = append(o.codes, code) }
