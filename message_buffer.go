package websocket

import "github.com/hertzws/websocket/internal/transport"

// messageBuffer is the buffer readInto fills.
type messageBuffer struct {
	p []byte
	// pooled is p's array while it is the first staged buffer of a large
	// announced message, the receive allowance from a shared pool: that
	// step then costs no allocation, and a message of up to exactFactor
	// allowances is read with one, its own.
	pooled *transport.Buffer
	// reserved is what the message has taken from the receive budget.
	reserved int64
}

// allowancePool holds the first staged buffers of large messages.
var allowancePool = transport.PoolFor(receiveAllowance)

// releaseMessageBuffer gives back the pooled buffer and what the message
// took from the receive budget: once delivered, its buffer is the
// application's.
func (c *Conn) releaseMessageBuffer(mb *messageBuffer) {
	if mb.pooled != nil {
		allowancePool.Put(mb.pooled)
		mb.pooled = nil
	}
	if mb.reserved > 0 {
		c.budget.give(mb.reserved)
		mb.reserved = 0
	}
}

// growMessage makes room in mb for more of the message being read. It
// reports false, with no error, when the buffer is at the read limit (or
// the receive budget, when that is smaller): the caller then probes one
// byte.
func (c *Conn) growMessage(mb *messageBuffer) (bool, error) {
	c.readMu.Lock()
	have := int64(len(mb.p))
	remaining := c.readRemaining
	// The rest of the message is announced when the frame being read is
	// the last and the bytes are not compressed.
	known := !c.fragmented && !c.messageCompressed
	buffered := int64(c.t.Len())
	c.readMu.Unlock()
	limit := c.messageLimit()
	if limit > 0 && have >= limit {
		return false, nil
	}
	if known && limit > 0 && have+remaining > limit {
		return false, errReadLimitExceeded // larger than the budget
	}
	g := nextMessageSize(have, remaining, known, buffered, limit)
	if err := c.reserveMessageMemory(mb, g.reserve); err != nil {
		return false, err
	}
	if g.staged && len(mb.p) == 0 && g.size == receiveAllowance {
		mb.pooled = allowancePool.Get()
		mb.p = mb.pooled.B[:0]
		return true, nil
	}
	grown := make([]byte, len(mb.p), g.size)
	copy(grown, mb.p)
	if mb.pooled != nil {
		allowancePool.Put(mb.pooled)
		mb.pooled = nil
	}
	mb.p = grown
	return true, nil
}

// messageLimit is the most a message's buffer may hold: the read limit, or
// the receive budget when that is smaller; 0 for no limit.
func (c *Conn) messageLimit() int64 {
	limit := c.readLimit.Load()
	if b := c.budget; b != nil && (limit <= 0 || b.limit < limit) {
		limit = b.limit
	}
	return limit
}

// reserveMessageMemory takes from the receive budget what a message whose
// buffer may reach reserve bytes needs beyond receiveAllowance and what it
// took already. A message holding none of the budget waits for it (without
// reading, so TCP pushes back on the peer) until the message deadline; one
// that holds some is refused instead, since connections waiting while they
// hold memory could wait for each other for ever.
func (c *Conn) reserveMessageMemory(mb *messageBuffer, reserve int64) error {
	if c.budget == nil {
		return nil
	}
	if reserve > c.budget.limit {
		reserve = c.budget.limit // a message no larger than the budget can always have it
	}
	need := reserve - receiveAllowance - mb.reserved
	if need <= 0 {
		return nil
	}
	if mb.reserved == 0 {
		if err := c.budget.take(need, c.doneChan(), c.currentMessageDeadline()); err != nil {
			return err
		}
	} else if !c.budget.tryTake(need) {
		return errBudgetExhausted
	}
	mb.reserved += need
	return nil
}

// messageGrowth is how readInto's buffer grows: to size bytes, having
// reserved room for reserve bytes. staged marks a buffer smaller than the
// announced message, which a larger one will replace.
type messageGrowth struct {
	size    int64
	staged  bool
	reserve int64
}

// nextMessageSize decides how a full buffer of have bytes grows. remaining
// is what the current frame still holds, buffered what the transport has
// received and not yet handed over, known whether the rest of the message
// is exactly remaining (a final, uncompressed frame).
func nextMessageSize(have, remaining int64, known bool, buffered, limit int64) messageGrowth {
	g := messageGrowthFor(have, remaining, known, buffered, limit)
	if g.size <= receiveAllowance {
		// Within the allowance nothing is reserved: a peer must send
		// that much before its message holds any of the budget.
		g.reserve = 0
	}
	return g
}

func messageGrowthFor(have, remaining int64, known bool, buffered, limit int64) messageGrowth {
	if known {
		total := have + remaining
		arrived := have + buffered
		if arrived > total {
			arrived = total
		}
		if remaining <= receiveAllowance || total <= exactFactor*arrived {
			return messageGrowth{size: total, reserve: total}
		}
		size := 2 * have
		if size < have+receiveAllowance {
			size = have + receiveAllowance
		}
		// While the exact buffer is filled from the last staged one, both
		// are live: reserve for both.
		return messageGrowth{size: size, staged: true, reserve: total + total/(exactFactor/2)}
	}
	// Grow with what arrived: by what is left of this frame, up to
	// receiveAllowance, and at least double.
	more := remaining
	if more > receiveAllowance {
		more = receiveAllowance
	}
	if more < have {
		more = have
	}
	if more == 0 {
		more = 512 // between frames: the next size is not known yet
	}
	size := have + more
	if limit > 0 && (size > limit || limit-size < size/2) {
		// Past the limit, or so close to it that one more step would
		// copy the whole buffer for the last few bytes, with both
		// copies live at once: take the limit now.
		size = limit
	}
	return messageGrowth{size: size, reserve: size}
}
