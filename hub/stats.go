package hub

import "sync/atomic"

// Stats counts what a hub did since New. Every counter covers this instance
// only.
type Stats struct {
	// Clients and Rooms are the registered clients and the rooms with at
	// least one member, now.
	Clients int
	Rooms   int

	// Delivered counts messages written to connections.
	Delivered uint64

	// DroppedNewest counts messages not queued because the queue was full
	// (policy DropNewest).
	DroppedNewest uint64
	// DroppedOldest counts queued messages evicted to make room for newer
	// ones (policy DropOldest).
	DroppedOldest uint64
	// DroppedOnClose counts messages that overflowed a queue under a close
	// policy; SlowClosed counts the clients that were closed for it.
	DroppedOnClose uint64
	SlowClosed     uint64
	// Discarded counts messages still queued when their client ended.
	Discarded uint64

	// WriteErrors counts clients ended by a failed or timed-out write.
	WriteErrors uint64

	// Published counts messages handed to the broker for other instances;
	// Received counts messages from other instances; Malformed counts
	// broker messages that were not hub envelopes and were ignored.
	Published uint64
	Received  uint64
	Malformed uint64
}

// counters are the live values behind Stats.
type counters struct {
	delivered      atomic.Uint64
	droppedNewest  atomic.Uint64
	droppedOldest  atomic.Uint64
	droppedOnClose atomic.Uint64
	slowClosed     atomic.Uint64
	discarded      atomic.Uint64
	writeErrors    atomic.Uint64
	published      atomic.Uint64
	received       atomic.Uint64
	malformed      atomic.Uint64
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	clients, rooms := len(h.clients), len(h.rooms)
	h.mu.RUnlock()
	s := &h.stats
	return Stats{
		Clients:        clients,
		Rooms:          rooms,
		Delivered:      s.delivered.Load(),
		DroppedNewest:  s.droppedNewest.Load(),
		DroppedOldest:  s.droppedOldest.Load(),
		DroppedOnClose: s.droppedOnClose.Load(),
		SlowClosed:     s.slowClosed.Load(),
		Discarded:      s.discarded.Load(),
		WriteErrors:    s.writeErrors.Load(),
		Published:      s.published.Load(),
		Received:       s.received.Load(),
		Malformed:      s.malformed.Load(),
	}
}
