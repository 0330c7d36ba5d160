package s3kit

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// bufferPool holds the memory budget of a Client's transfers and recycles
// their buffers.
//
// The budget has two accounts, and the split is what keeps it free of
// deadlocks whatever part sizes the Writers and Readers of one Client use
// and however many of them one goroutine drives:
//
//   - Committed buffers (get/put) are the parts of uploads in flight. A
//     Writer waits for them (back-pressure), but only for other committed
//     buffers, which their uploads give back by themselves: nothing a
//     waiting goroutine would have to do first.
//   - Speculative buffers (tryGet/putSpeculative) are read-ahead. They are
//     taken only from what both accounts leave free, never waited for, and
//     a Reader that finds no room reads straight into the caller's buffer
//     instead. Read-ahead is given back only as it is read, so a waiting
//     Writer must not count on it: it counts only committed buffers.
//
// Hence committed buffers never exceed the limit, speculative ones are
// taken only below it, and the total stays under twice the limit even when
// uploads overtake read-ahead that a Reader still holds (io.Copy from a
// Reader to a Writer of one Client); once read, that read-ahead is not
// taken again until the total is back under the limit.
//
// The part a Writer is filling is not counted at all (alloc/free): it is
// held between the caller's Write calls, so a Writer waiting for it could
// wait on its own goroutine. It grows from a small buffer, so idle Writers
// hold little.
//
// Buffers are recycled in size classes through sync.Pools, so odd sizes
// (the last range of an object) reuse buffers of their class, and idle
// buffers are left to the garbage collector rather than pinned.
type bufferPool struct {
	limit       int64
	committed   *semaphore.Weighted
	inUse       atomic.Int64 // committed bytes
	speculative atomic.Int64 // speculative bytes
	mu          sync.Mutex   // serialises tryGet's check and take
	classes     sync.Map     // class size → *sync.Pool of *[]byte
	closed      atomic.Bool  // the Client is closed: recycle nothing more
}

func newBufferPool(limit int64) *bufferPool {
	return &bufferPool{limit: limit, committed: semaphore.NewWeighted(limit)}
}

// get waits until a committed buffer of size bytes fits in the budget and
// returns it; give it back with put. A buffer larger than the whole budget
// takes all of it (a part of a very large upload), so that it waits for
// the others rather than forever.
func (p *bufferPool) get(ctx context.Context, size int) ([]byte, error) {
	w := p.weight(size)
	if err := p.committed.Acquire(ctx, w); err != nil {
		return nil, err
	}
	p.inUse.Add(w)
	return p.alloc(size), nil
}

// commit counts buf, a buffer from alloc, as committed, waiting as get
// does; give it back with put.
func (p *bufferPool) commit(ctx context.Context, buf []byte) error {
	w := p.weight(cap(buf))
	if err := p.committed.Acquire(ctx, w); err != nil {
		return err
	}
	p.inUse.Add(w)
	return nil
}

// put gives back a committed buffer.
func (p *bufferPool) put(buf []byte) {
	w := p.weight(cap(buf))
	p.free(buf)
	p.inUse.Add(-w)
	p.committed.Release(w)
}

// tryGet returns a speculative buffer of size bytes if the budget has room
// for it now, counting both accounts; it never waits.
func (p *bufferPool) tryGet(size int) ([]byte, bool) {
	w := p.weight(size)
	p.mu.Lock()
	if p.inUse.Load()+p.speculative.Load()+w > p.limit {
		p.mu.Unlock()
		return nil, false
	}
	p.speculative.Add(w)
	p.mu.Unlock()
	return p.alloc(size), true
}

// putSpeculative gives back a buffer from tryGet.
func (p *bufferPool) putSpeculative(buf []byte) {
	w := p.weight(cap(buf))
	p.free(buf)
	p.speculative.Add(-w)
}

// alloc returns a buffer of length size from its class, outside the
// budget; give it back with free (or count it with commit).
func (p *bufferPool) alloc(size int) []byte {
	class := sizeClass(size)
	if sp, ok := p.classes.Load(class); ok {
		if bp, ok := sp.(*sync.Pool).Get().(*[]byte); ok {
			return (*bp)[:size]
		}
	}
	return make([]byte, size, class)
}

// close drops the recycled buffers, and makes free drop those given back
// from now on, so that a closed Client pins no memory. Buffers in use stay
// valid.
func (p *bufferPool) close() {
	p.closed.Store(true)
	p.classes.Clear()
}

// free recycles a buffer from alloc.
func (p *bufferPool) free(buf []byte) {
	class := cap(buf)
	if p.closed.Load() || class == 0 || class != sizeClass(class) || class > maxPooledClass {
		return
	}
	sp, _ := p.classes.LoadOrStore(class, &sync.Pool{})
	buf = buf[:class]
	sp.(*sync.Pool).Put(&buf)
}

// weight is what a buffer counts against the budget: its whole class (the
// memory it holds), at most the whole budget.
func (p *bufferPool) weight(size int) int64 {
	return min(int64(sizeClass(size)), p.limit)
}

// Size classes: powers of two up to 1 MiB, whole MiBs up to 64 MiB, then
// multiples of 8 MiB. Part sizes are whole MiBs, so a part buffer wastes
// nothing, and the tail of an object rounds up by less than 1 MiB. Classes
// above maxPooledClass are not recycled: they are rare, and pinning one
// would pin a lot.
const (
	minClass       = 64 << 10
	maxPooledClass = 256 << 20
)

func sizeClass(size int) int {
	switch {
	case size <= minClass:
		return minClass
	case size <= 1<<20:
		c := minClass
		for c < size {
			c <<= 1
		}
		return c
	case size <= 64<<20:
		return (size + 1<<20 - 1) &^ (1<<20 - 1)
	default:
		return (size + 8<<20 - 1) &^ (8<<20 - 1)
	}
}
