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
// small payloads in buffers from its pool, filled in turn, followed by at
// most one large payload, referenced rather than copied. Output that
// outgrows one buffer (corked frames) takes another from the pool rather
// than a larger copy; Flush sends them all with one writev.
type writeQueue struct {
	pool *Pool
	out  *Buffer // the buffer being filled
	n    int32   // bytes queued in out
	full []filledBuffer
	big  []byte
	iov  [][]byte // what Flush sends, kept for the next Flush
}

// filledBuffer is a buffer queued before out, holding n bytes.
type filledBuffer struct {
	b *Buffer
	n int32
}

// referencedWrite is the payload size from which WriteBinary keeps a
// reference instead of copying: the payload then leaves with the header
// in one writev.
const referencedWrite = 2048

// malloc returns n contiguous bytes of the output for the caller to
// fill. A large payload must not be queued (the caller flushes it first).
func (q *writeQueue) malloc(n int) []byte {
	if q.out == nil || len(q.out.B)-int(q.n) < n {
		q.next(n)
	}
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
	for len(p) > 0 {
		if q.out == nil || int(q.n) == len(q.out.B) {
			q.next(0)
		}
		m := copy(q.out.B[q.n:], p)
		q.n += int32(m)
		p = p[m:]
	}
}

// next queues out as filled and takes a buffer with room for n bytes: one
// from the pool, or (rare: n past the pool's size) one of exactly n bytes,
// which the pool drops when it comes back.
func (q *writeQueue) next(n int) {
	if q.out != nil {
		if q.n > 0 {
			q.full = append(q.full, filledBuffer{q.out, q.n})
		} else {
			q.pool.Put(q.out)
		}
	}
	if n > q.pool.Size() {
		q.out = &Buffer{B: make([]byte, n)}
	} else {
		q.out = q.pool.Get()
	}
	q.n = 0
}

// buffers returns what Flush must send, in order: the filled buffers, then
// big. Its elements are the queue's to reuse; the caller may consume them.
func (q *writeQueue) buffers() [][]byte {
	iov := q.iov[:0]
	for _, f := range q.full {
		iov = append(iov, f.b.B[:f.n])
	}
	if q.n > 0 {
		iov = append(iov, q.out.B[:q.n])
	}
	if q.big != nil {
		iov = append(iov, q.big)
	}
	q.iov = iov
	return iov
}

// reset empties the queue and gives the buffers back (one not of the
// pool's size is dropped).
func (q *writeQueue) reset() {
	q.big = nil
	for i := range q.iov {
		q.iov[i] = nil
	}
	for i, f := range q.full {
		q.pool.Put(f.b)
		q.full[i] = filledBuffer{}
	}
	q.full = q.full[:0]
	if q.out != nil {
		q.pool.Put(q.out)
		q.out, q.n = nil, 0
	}
}
