package s3kit

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// DefaultMemoryLimit is the default of Config.MemoryLimit.
const DefaultMemoryLimit = 64 << 20

// bufferPool holds the memory budget of a Client's transfers: every part
// buffer is counted against one limit, and a transfer that would exceed it
// waits for another to give memory back (back-pressure) instead of
// allocating. Idle buffers are kept for reuse, up to the limit.
type bufferPool struct {
	limit int64
	sem   *semaphore.Weighted
	mu    sync.Mutex
	idle  int64
	free  map[int][][]byte // idle buffers by length
}

func newBufferPool(limit int64) *bufferPool {
	return &bufferPool{limit: limit, sem: semaphore.NewWeighted(limit), free: map[int][][]byte{}}
}

// get waits until size bytes fit in the budget and returns a buffer of
// that length, which the caller returns with put. A buffer larger than the
// whole budget takes all of it (a part of a very large upload), so that it
// waits for the others rather than forever.
func (p *bufferPool) get(ctx context.Context, size int) ([]byte, error) {
	if err := p.sem.Acquire(ctx, p.weight(size)); err != nil {
		return nil, err
	}
	return p.take(size), nil
}

// tryGet is get without waiting, for optional work such as read-ahead: it
// reports false unless the budget has room for the buffer and, beyond it,
// for reserve more bytes. The reserve keeps read-ahead from taking the
// whole budget while a writer fed by the same reader (io.Copy from a Reader
// to a Writer) waits for its next part: that would never end.
func (p *bufferPool) tryGet(size int, reserve int64) ([]byte, bool) {
	w := p.weight(size)
	if w+reserve > p.limit || !p.sem.TryAcquire(w+reserve) {
		return nil, false
	}
	p.sem.Release(reserve)
	return p.take(size), true
}

// take returns an idle buffer of the size, or a new one; the caller has
// acquired its weight.
func (p *bufferPool) take(size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.free[size]; len(l) > 0 {
		buf := l[len(l)-1]
		p.free[size] = l[:len(l)-1]
		p.idle -= int64(size)
		return buf
	}
	return make([]byte, size)
}

// put gives back a buffer that get returned.
func (p *bufferPool) put(buf []byte) {
	size := cap(buf)
	p.mu.Lock()
	if p.idle+int64(size) <= p.limit {
		p.free[size] = append(p.free[size], buf[:size])
		p.idle += int64(size)
	}
	p.mu.Unlock()
	p.sem.Release(p.weight(size))
}

func (p *bufferPool) weight(size int) int64 {
	return min(int64(size), p.limit)
}
