package prometheus

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Options names and labels the metrics. The zero value gives the names in
// the package documentation.
type Options struct {
	// Namespace, when set, prefixes every name: "chat" makes
	// chat_websocket_connections_open.
	Namespace string

	// ConstLabels are added to every metric. Two Observers (a server's and
	// a client's, say) or two hubs may be registered with one registry when
	// their ConstLabels differ: {"side": "server"} and {"side": "client"}.
	ConstLabels prometheus.Labels

	// CloseCodes are close codes of the application's (3000 to 4999) to
	// count under their own label value in
	// websocket_connections_closed_total; other codes outside RFC 6455's
	// count as "other".
	CloseCodes []int

	// PingRTTBuckets are the upper bounds, in seconds, of the buckets of
	// websocket_ping_rtt_seconds; nil means DefaultPingRTTBuckets.
	PingRTTBuckets []float64
}

// DefaultPingRTTBuckets are the buckets of websocket_ping_rtt_seconds when
// Options.PingRTTBuckets is nil: from half a millisecond, for peers on the
// same network, to ten seconds, for a peer about to time out.
var DefaultPingRTTBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// subsystem is the middle part of every metric name.
const subsystem = "websocket"

// name returns the full name of a metric.
func (o *Options) name(name string) string {
	return prometheus.BuildFQName(o.Namespace, subsystem, name)
}

// closeCodeLabels maps the close codes that have a label value of their
// own to it.
func (o *Options) closeCodeLabels() map[int]string {
	labels := make(map[int]string)
	// RFC 6455 §7.4.1 and the IANA registry it set up; 1004 is reserved.
	for code := 1000; code <= 1015; code++ {
		if code != 1004 {
			labels[code] = strconv.Itoa(code)
		}
	}
	for _, code := range o.CloseCodes {
		labels[code] = strconv.Itoa(code)
	}
	return labels
}

// statusLabel is the label value of an HTTP status.
func statusLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status)
}
