package transport

// readBuffer holds the bytes read from a connection and not consumed yet,
// in.B[r:w]. It holds a buffer from its pool only while it has such bytes
// (or a read is filling it): an idle connection holds none. Socket and
// PolledSocket share it and differ only in how they read.
type readBuffer struct {
	pool *Pool
	in   *Buffer
	r, w int32
}

// start puts pending, bytes read before the transport existed, in the
// buffer.
func (b *readBuffer) start(pending []byte) {
	if len(pending) == 0 {
		return
	}
	b.in = b.pool.Get()
	if len(pending) > len(b.in.B) {
		b.in = &Buffer{B: make([]byte, len(pending))}
	}
	b.w = int32(copy(b.in.B, pending))
}

// Len returns the number of unread bytes.
func (b *readBuffer) Len() int { return int(b.w - b.r) }

// Skip consumes n unread bytes.
func (b *readBuffer) Skip(n int) error {
	if n < 0 || n > b.Len() {
		return errShortSkip
	}
	b.r += int32(n)
	return nil
}

// Release gives the buffer back to its pool once it holds no unread byte.
// Slices returned by Peek are invalid afterwards.
func (b *readBuffer) Release() error {
	if b.in != nil && b.r == b.w {
		b.put()
	}
	return nil
}

// put gives the buffer back, whatever it holds.
func (b *readBuffer) put() {
	b.pool.Put(b.in)
	b.in, b.r, b.w = nil, 0, 0
}

// peeked returns the first n unread bytes, or all there are when fewer.
func (b *readBuffer) peeked(n int) []byte {
	if b.in == nil {
		return nil
	}
	if n > b.Len() {
		n = b.Len()
	}
	return b.in.B[b.r : int(b.r)+n]
}

// room returns the free space after the unread bytes, first making room
// for n unread bytes from r on: the unread bytes move to the front, into a
// larger buffer when n exceeds the pool's size (rare: that one is not
// pooled). It takes a buffer when there is none.
func (b *readBuffer) room(n int) []byte {
	if b.in == nil {
		b.in = b.pool.Get()
		b.r, b.w = 0, 0
	}
	if len(b.in.B)-int(b.r) < n {
		if len(b.in.B) < n {
			larger := &Buffer{B: make([]byte, n)}
			b.w = int32(copy(larger.B, b.in.B[b.r:b.w]))
			b.pool.Put(b.in)
			b.in = larger
		} else {
			b.w = int32(copy(b.in.B, b.in.B[b.r:b.w]))
		}
		b.r = 0
	}
	return b.in.B[b.w:]
}

// roomWithoutGrowing returns the free space after the unread bytes for a
// read that takes what has arrived: the unread bytes move to the front
// when that makes room, and a full buffer gets none (the reader has work
// to do first).
func (b *readBuffer) roomWithoutGrowing() []byte {
	if b.in == nil {
		return b.room(0)
	}
	if int(b.w) == len(b.in.B) && b.r > 0 {
		b.w = int32(copy(b.in.B, b.in.B[b.r:b.w]))
		b.r = 0
	}
	return b.in.B[b.w:]
}

// filled records m bytes read into the space room returned, and gives the
// buffer back if it still holds nothing, so that a read that waits next
// time waits holding none.
func (b *readBuffer) filled(m int) {
	b.w += int32(m)
	if b.r == b.w {
		b.put()
	}
}

// writeQueue holds a connection's output until Flush: frame headers and
// small payloads in a buffer from its pool, followed by at most one large
// payload, referenced rather than copied.
type writeQueue struct {
	pool *Pool
	out  *Buffer
	n    int32 // bytes queued in out
	big  []byte
}

// referencedWrite is the payload size from which WriteBinary keeps a
// reference instead of copying: the payload then leaves with the header
// in one writev.
const referencedWrite = 2048

// malloc returns n bytes of the buffer for the caller to fill. A large
// payload must not be queued (the caller flushes it first).
func (q *writeQueue) malloc(n int) []byte {
	q.reserve(n)
	l := int(q.n)
	q.n += int32(n)
	return q.out.B[l : l+n]
}

// add queues p: copied when small, referenced when large. A large payload
// must not be queued already (the caller flushes it first).
func (q *writeQueue) add(p []byte) {
	if len(p) >= referencedWrite {
		q.big = p
		return
	}
	q.reserve(len(p))
	q.n += int32(copy(q.out.B[q.n:], p))
}

// reserve makes room for n more bytes in the buffer.
func (q *writeQueue) reserve(n int) {
	if q.out == nil {
		q.out = q.pool.Get()
		q.n = 0
	}
	if len(q.out.B)-int(q.n) < n {
		// Rare: more small writes than the buffer holds before a Flush.
		grown := &Buffer{B: make([]byte, 2*len(q.out.B)+n)}
		copy(grown.B, q.out.B[:q.n])
		q.pool.Put(q.out)
		q.out = grown
	}
}

// queued returns what Flush must send: the buffered bytes, then big.
func (q *writeQueue) queued() (small, big []byte) {
	if q.out != nil {
		small = q.out.B[:q.n]
	}
	return small, q.big
}

// reset empties the queue and gives the buffer back (a grown one is not
// the pool's size, and the pool drops it).
func (q *writeQueue) reset() {
	q.big = nil
	if q.out != nil {
		q.pool.Put(q.out)
		q.out, q.n = nil, 0
	}
}
