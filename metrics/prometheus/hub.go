package prometheus

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hertzws/websocket/hub"
)

// hubCollector reads a hub's Stats at each scrape.
type hubCollector struct {
	h *hub.Hub

	clients, rooms, delivered, dropped, policyCloses, discarded,
	writeErrors, brokerMessages, brokerMalformed *prometheus.Desc
}

// NewHubCollector returns a prometheus.Collector of h's counters (see the
// package documentation for their names), which it reads from h.Stats at
// each scrape: the hub does no more work for being watched.
func NewHubCollector(h *hub.Hub, opts Options) prometheus.Collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(opts.name("hub_"+name), help, labels, opts.ConstLabels)
	}
	return &hubCollector{
		h:               h,
		clients:         desc("clients", "Clients registered with the hub now."),
		rooms:           desc("rooms", "Rooms of the hub with at least one member now."),
		delivered:       desc("delivered_total", "Messages the hub wrote to connections."),
		dropped:         desc("dropped_total", "Messages the hub dropped for clients whose queue was full, by the policy that dropped them.", "policy"),
		policyCloses:    desc("policy_closes_total", "Clients the hub closed because their queue was full."),
		discarded:       desc("discarded_total", "Messages still queued when their client ended."),
		writeErrors:     desc("write_errors_total", "Clients ended by a failed or timed-out write."),
		brokerMessages:  desc("broker_messages_total", "Messages published to (out) and received from (in) other instances through the broker.", "direction"),
		brokerMalformed: desc("broker_malformed_total", "Broker messages that were not hub messages and were ignored."),
	}
}

// RegisterHub registers NewHubCollector(h, opts) with reg. To watch
// several hubs, give each its own Options.ConstLabels.
func RegisterHub(reg prometheus.Registerer, h *hub.Hub, opts Options) error {
	return reg.Register(NewHubCollector(h, opts))
}

// Describe sends the descriptors of the hub's metrics.
func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.clients, c.rooms, c.delivered, c.dropped, c.policyCloses,
		c.discarded, c.writeErrors, c.brokerMessages, c.brokerMalformed} {
		ch <- d
	}
}

// Collect sends the hub's counters as they are now.
func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Stats()
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.clients, s.Clients)
	gauge(c.rooms, s.Rooms)
	counter(c.delivered, s.Delivered)
	counter(c.dropped, s.DroppedNewest, "drop_newest")
	counter(c.dropped, s.DroppedOldest, "drop_oldest")
	counter(c.dropped, s.DroppedOnClose, "close")
	counter(c.policyCloses, s.SlowClosed)
	counter(c.discarded, s.Discarded)
	counter(c.writeErrors, s.WriteErrors)
	counter(c.brokerMessages, s.Published, "out")
	counter(c.brokerMessages, s.Received, "in")
	counter(c.brokerMalformed, s.Malformed)
}
