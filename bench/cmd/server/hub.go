package main

import "sync"

// copyBuffers holds the 32 KiB buffers of the stream echo loops. A buffer
// is taken for one message only, so idle connections hold none (a buffer
// per connection would cost 32 KiB of heap each in the idle workload).
var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// hub is the set of /broadcast connections of one server. A broadcast
// holds the hub's lock for the whole fan-out, so messages reach every
// connection in one order and no connection has two writers at once (which
// gorilla/websocket requires); every implementation uses this same hub.
type hub[C comparable] struct {
	mu    sync.Mutex
	conns []C
	index map[C]int
}

func newHub[C comparable]() *hub[C] { return &hub[C]{index: make(map[C]int)} }

func (h *hub[C]) add(c C) {
	h.mu.Lock()
	h.index[c] = len(h.conns)
	h.conns = append(h.conns, c)
	h.mu.Unlock()
}

func (h *hub[C]) remove(c C) {
	h.mu.Lock()
	if i, ok := h.index[c]; ok {
		last := len(h.conns) - 1
		h.conns[i] = h.conns[last]
		h.index[h.conns[i]] = i
		var zero C
		h.conns[last] = zero
		h.conns = h.conns[:last]
		delete(h.index, c)
	}
	h.mu.Unlock()
}

// broadcast calls send for every connection, under the hub's lock. A
// failed send is ignored: that connection's reader will see the error and
// remove it.
func (h *hub[C]) broadcast(send func(C) error) {
	h.mu.Lock()
	for _, c := range h.conns {
		_ = send(c)
	}
	h.mu.Unlock()
}
