package transport

import "sync"

// Buffer is what a Pool holds: a pointer, so that Put does not allocate.
type Buffer struct{ B []byte }

// Pool is a pool of buffers of one size.
type Pool struct {
	size int
	pool sync.Pool
}

// Size returns the length of the pool's buffers.
func (p *Pool) Size() int { return p.size }

// Get returns a buffer of the pool's size, from the pool when it has one.
func (p *Pool) Get() *Buffer {
	if b, ok := p.pool.Get().(*Buffer); ok {
		return b
	}
	return &Buffer{B: make([]byte, p.size)}
}

// Put gives b back, unless its length is not the pool's size.
func (p *Pool) Put(b *Buffer) {
	if len(b.B) == p.size {
		p.pool.Put(b)
	}
}

// pools holds one Pool per buffer size in use.
var pools sync.Map // int → *Pool

// PoolFor returns the shared pool of size-byte buffers.
func PoolFor(size int) *Pool {
	if p, ok := pools.Load(size); ok {
		return p.(*Pool)
	}
	p, _ := pools.LoadOrStore(size, &Pool{size: size})
	return p.(*Pool)
}
