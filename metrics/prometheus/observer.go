package prometheus

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hertzws/websocket"
)

// Observer is a websocket.Observer that counts the events in Prometheus
// metrics (see the package documentation for their names). It is a
// prometheus.Collector of those metrics. Its methods are safe for
// concurrent use and do not allocate for a message.
type Observer struct {
	handshakeFailures *prometheus.CounterVec
	opened            prometheus.Counter
	open              prometheus.Gauge
	closed            *prometheus.CounterVec
	messages          *prometheus.CounterVec
	payloadBytes      *prometheus.CounterVec
	wireBytes         *prometheus.CounterVec
	pingRTT           prometheus.Histogram

	// The series the events of every message add to, looked up once:
	// by direction (in, out), and for messages by type (text, binary).
	messagesBy        [2][2]prometheus.Counter
	payloadBy, wireBy [2]prometheus.Counter

	closeCodeLabels map[int]string
}

// The directions, as indexes and label values.
const (
	in  = 0
	out = 1
)

var (
	directions   = [2]string{in: "in", out: "out"}
	messageTypes = [2]string{"text", "binary"} // TextMessage-1, BinaryMessage-1
)

var _ websocket.Observer = (*Observer)(nil)

// NewObserver returns an Observer with the metrics named and labelled as
// opts says, registered with reg unless reg is nil (register it yourself
// then: it is a prometheus.Collector). The error is reg's, when it refuses
// the metrics: most often because metrics of these names and labels are
// registered already.
func NewObserver(reg prometheus.Registerer, opts Options) (*Observer, error) {
	buckets := opts.PingRTTBuckets
	if buckets == nil {
		buckets = DefaultPingRTTBuckets
	}
	o := &Observer{
		handshakeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        opts.name("handshake_failures_total"),
			Help:        "WebSocket opening handshakes that failed, by the HTTP status of the answer.",
			ConstLabels: opts.ConstLabels,
		}, []string{"status"}),
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        opts.name("connections_opened_total"),
			Help:        "WebSocket connections upgraded or dialled.",
			ConstLabels: opts.ConstLabels,
		}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        opts.name("connections_open"),
			Help:        "WebSocket connections open now.",
			ConstLabels: opts.ConstLabels,
		}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        opts.name("connections_closed_total"),
			Help:        "WebSocket connections ended, by close code: the peer's, else the one sent, else 1006.",
			ConstLabels: opts.ConstLabels,
		}, []string{"code"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        opts.name("messages_total"),
			Help:        "WebSocket data messages read (in) and written (out), by type.",
			ConstLabels: opts.ConstLabels,
		}, []string{"direction", "type"}),
		payloadBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        opts.name("payload_bytes_total"),
			Help:        "Bytes of WebSocket data messages as the application reads and writes them (decompressed).",
			ConstLabels: opts.ConstLabels,
		}, []string{"direction"}),
		wireBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        opts.name("wire_bytes_total"),
			Help:        "Payload bytes of WebSocket data frames on the wire (compressed, for compressed messages).",
			ConstLabels: opts.ConstLabels,
		}, []string{"direction"}),
		pingRTT: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        opts.name("ping_rtt_seconds"),
			Help:        "Round trips of WebSocket pings, from the ping to its pong.",
			ConstLabels: opts.ConstLabels,
			Buckets:     buckets,
		}),
		closeCodeLabels: opts.closeCodeLabels(),
	}
	for d, dir := range directions {
		for t, typ := range messageTypes {
			o.messagesBy[d][t] = o.messages.WithLabelValues(dir, typ)
		}
		o.payloadBy[d] = o.payloadBytes.WithLabelValues(dir)
		o.wireBy[d] = o.wireBytes.WithLabelValues(dir)
	}
	if reg != nil {
		if err := reg.Register(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// collectors are the metrics of o.
func (o *Observer) collectors() []prometheus.Collector {
	return []prometheus.Collector{o.handshakeFailures, o.opened, o.open, o.closed, o.messages, o.payloadBytes, o.wireBytes, o.pingRTT}
}

// Describe sends the descriptors of o's metrics (prometheus.Collector).
func (o *Observer) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range o.collectors() {
		c.Describe(ch)
	}
}

// Collect sends o's metrics (prometheus.Collector).
func (o *Observer) Collect(ch chan<- prometheus.Metric) {
	for _, c := range o.collectors() {
		c.Collect(ch)
	}
}

// HandshakeFailed counts a failed handshake under its status.
func (o *Observer) HandshakeFailed(status int) {
	o.handshakeFailures.WithLabelValues(statusLabel(status)).Inc()
}

// ConnOpened counts a connection opened.
func (o *Observer) ConnOpened() {
	o.opened.Inc()
	o.open.Inc()
}

// ConnClosed counts a connection closed under its close code.
func (o *Observer) ConnClosed(code int) {
	o.open.Dec()
	label, ok := o.closeCodeLabels[code]
	if !ok {
		label = "other"
	}
	o.closed.WithLabelValues(label).Inc()
}

// MessageRead counts a message read and its bytes.
func (o *Observer) MessageRead(messageType int, payload, wire int64) {
	o.message(in, messageType, payload, wire)
}

// MessageWritten counts a message written and its bytes.
func (o *Observer) MessageWritten(messageType int, payload, wire int64) {
	o.message(out, messageType, payload, wire)
}

func (o *Observer) message(dir, messageType int, payload, wire int64) {
	if t := messageType - websocket.TextMessage; t == 0 || t == 1 {
		o.messagesBy[dir][t].Inc()
	}
	o.payloadBy[dir].Add(float64(payload))
	o.wireBy[dir].Add(float64(wire))
}

// PingRTT records the round trip of a ping.
func (o *Observer) PingRTT(d time.Duration) {
	o.pingRTT.Observe(d.Seconds())
}
