// Package prometheus exports the events of github.com/hertzws/websocket
// connections and the counters of its hub as Prometheus metrics, through
// github.com/prometheus/client_golang.
//
// An [Observer] is a websocket.Observer: set it on the upgrader (and on a
// Dialer, for client connections), and register it, as NewObserver does.
// [RegisterHub] exports a hub.Hub's Stats, read at each scrape.
//
//	reg := prometheus.NewRegistry() // client_golang's
//	obs, err := wsmetrics.NewObserver(reg, wsmetrics.Options{})
//	if err != nil { ... }
//	upgrader := websocket.HertzUpgrader{Observer: obs}
//	rooms := hub.New(hub.Options{})
//	if err := wsmetrics.RegisterHub(reg, rooms, wsmetrics.Options{}); err != nil { ... }
//	// serve promhttp.HandlerFor(reg, promhttp.HandlerOpts{}) at /metrics
//
// The metrics, with an empty Options.Namespace:
//
//	websocket_handshake_failures_total{status}     refused handshakes, by HTTP status
//	websocket_connections_opened_total             connections upgraded or dialled
//	websocket_connections_open                     connections open now (gauge)
//	websocket_connections_closed_total{code}       connections ended, by close code
//	websocket_messages_total{direction,type}       data messages; direction "in" or "out", type "text" or "binary"
//	websocket_payload_bytes_total{direction}       their bytes as the application sees them
//	websocket_wire_bytes_total{direction}          their payload bytes on the wire (compressed, when they were)
//	websocket_ping_rtt_seconds                     round trips of pings (histogram)
//
//	websocket_hub_clients                          registered clients now (gauge)
//	websocket_hub_rooms                            rooms with members now (gauge)
//	websocket_hub_delivered_total                  messages written to connections
//	websocket_hub_dropped_total{policy}            messages dropped for slow clients: "drop_newest", "drop_oldest", "close"
//	websocket_hub_policy_closes_total              slow clients closed by a close policy
//	websocket_hub_discarded_total                  messages still queued when their client ended
//	websocket_hub_write_errors_total               clients ended by a failed or timed-out write
//	websocket_hub_broker_messages_total{direction} messages published to ("out") and received from ("in") other instances
//	websocket_hub_broker_malformed_total           broker messages ignored as malformed
//
// Label values come from small sets, so that a peer cannot make series
// without end: close codes outside RFC 6455's (1000 to 1015) and
// Options.CloseCodes are counted as "other", and so are statuses outside
// 100 to 599.
//
// The ratio of wire to payload bytes is what compression saves; the
// difference between opened and closed connections is the open gauge.
package prometheus
