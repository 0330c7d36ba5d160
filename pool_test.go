package s3kit

import (
	"context"
	"testing"
	"time"
)

// TestBufferPoolBackPressure checks that committed buffers never exceed
// the budget: a get beyond it waits until a buffer is given back.
func TestBufferPoolBackPressure(t *testing.T) {
	p := newBufferPool(3 << 20)
	a, _ := p.get(context.Background(), 1<<20)
	b, _ := p.get(context.Background(), 2<<20)
	if _, ok := p.tryGet(1); ok {
		t.Fatal("tryGet succeeded with the budget spent")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.get(ctx, 1<<20); err == nil {
		t.Fatal("get beyond the budget did not wait")
	}
	got := make(chan []byte)
	go func() {
		c, _ := p.get(context.Background(), 1<<20)
		got <- c
	}()
	p.put(a)
	c := <-got
	if len(c) != 1<<20 {
		t.Fatalf("len %d", len(c))
	}
	p.put(b)
	p.put(c)
	// A buffer larger than the whole budget takes all of it instead of
	// waiting forever.
	big, err := p.get(context.Background(), 8<<20)
	if err != nil || len(big) != 8<<20 {
		t.Fatalf("oversized get: %d, %v", len(big), err)
	}
	if _, ok := p.tryGet(1); ok {
		t.Fatal("tryGet succeeded beside an oversized buffer")
	}
	p.put(big)
	if got := p.inUse.Load() + p.speculative.Load(); got != 0 {
		t.Fatalf("%d bytes still counted after every buffer was given back", got)
	}
}

// TestBufferPoolReadAheadNeverBlocksUploads is the deadlock of io.Copy from
// a Reader to a Writer of one Client (review C1): read-ahead holds the
// whole budget, and the goroutine that would consume it waits for an
// upload's buffer. Committed buffers must not wait for read-ahead.
func TestBufferPoolReadAheadNeverBlocksUploads(t *testing.T) {
	p := newBufferPool(64 << 20)
	var ahead [][]byte
	for {
		buf, ok := p.tryGet(8 << 20)
		if !ok {
			break
		}
		ahead = append(ahead, buf)
	}
	if len(ahead) != 8 {
		t.Fatalf("read-ahead took %d buffers of 8 MiB from 64 MiB", len(ahead))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A Writer with 16 MiB parts, and one whose parts are larger than the
	// whole budget: each takes its part without waiting for read-ahead.
	for _, size := range []int{16 << 20, 100 << 20} {
		buf, err := p.get(ctx, size)
		if err != nil {
			t.Fatalf("a %d-byte part waited for read-ahead: %v", size, err)
		}
		// Read-ahead is not taken again while the total is over the limit.
		if _, ok := p.tryGet(64 << 10); ok {
			t.Fatal("read-ahead taken beyond the limit")
		}
		p.put(buf)
	}
	for _, buf := range ahead {
		p.putSpeculative(buf)
	}
	if got := p.inUse.Load() + p.speculative.Load(); got != 0 {
		t.Fatalf("%d bytes still counted", got)
	}
}

// TestBufferPoolSizeClasses checks that buffers of odd sizes (the last
// range of an object) are recycled within their class and weigh their
// class, and that filling buffers (alloc) are not counted.
func TestBufferPoolSizeClasses(t *testing.T) {
	for _, tc := range []struct{ size, class int }{
		{0, 64 << 10}, {1, 64 << 10}, {64 << 10, 64 << 10}, {64<<10 + 1, 128 << 10},
		{1 << 20, 1 << 20}, {1<<20 + 1, 2 << 20}, {5 << 20, 5 << 20}, {5<<20 + 7, 6 << 20},
		{64 << 20, 64 << 20}, {64<<20 + 1, 72 << 20}, {5 << 30, 5 << 30},
	} {
		if got := sizeClass(tc.size); got != tc.class {
			t.Errorf("sizeClass(%d) = %d, want %d", tc.size, got, tc.class)
		}
	}
	p := newBufferPool(64 << 20)
	a, ok := p.tryGet(3<<20 + 12345)
	if !ok || len(a) != 3<<20+12345 || cap(a) != 4<<20 {
		t.Fatalf("tryGet: len %d cap %d ok %v", len(a), cap(a), ok)
	}
	if got := p.speculative.Load(); got != 4<<20 {
		t.Fatalf("a buffer of class 4 MiB weighs %d", got)
	}
	p.putSpeculative(a)
	f := p.alloc(5 << 20)
	if p.inUse.Load()+p.speculative.Load() != 0 {
		t.Fatal("a filling buffer was counted")
	}
	if err := p.commit(context.Background(), f); err != nil || p.inUse.Load() != 5<<20 {
		t.Fatalf("commit: %v, in use %d", err, p.inUse.Load())
	}
	p.put(f)
	if p.inUse.Load() != 0 {
		t.Fatal("put did not give the committed buffer back")
	}
}

// TestPartSizeGrowth checks that an upload of unknown size reaches 9 TiB
// within 10,000 parts (beyond the 5 TiB of S3's older limit), with
// each part in range, and that a declared size up to MaxObjectSize fits.
func TestPartSizeGrowth(t *testing.T) {
	for _, base := range []int64{MinPartSize, DefaultPartSize, 100 << 20} {
		w := &Writer{opts: WriterOptions{PartSize: base}}
		var total int64
		for n := int32(1); n <= MaxParts; n++ {
			ps := w.partSizeAt(n)
			if ps < MinPartSize || ps > MaxPartSize {
				t.Fatalf("base %d: part %d is %d bytes", base, n, ps)
			}
			total += ps
		}
		if total < 9<<40 {
			t.Fatalf("base %d: 10,000 parts hold %d bytes, less than 9 TiB", base, total)
		}
	}
	if got := partSizeFor(MaxObjectSize, MinPartSize); got*MaxParts < MaxObjectSize || got > MaxPartSize {
		t.Fatalf("partSizeFor(MaxObjectSize) = %d", got)
	}
}

// TestReadFromRemainderBufferIsSmall replays the state ReadFrom leaves after
// uploading the whole parts of a large source (review C3: the remainder got
// a buffer sized by the unknown-size schedule, up to 5 GiB): the bytes left
// over take a buffer of their own size, however far the schedule has gone.
func TestReadFromRemainderBufferIsSmall(t *testing.T) {
	for _, tc := range []struct {
		parts     int32
		remainder int
	}{{1152, 12345}, {3840, 12345}, {6400, 12345}, {9102, 2 << 20}} {
		c := &Client{pool: newBufferPool(DefaultMemoryLimit)}
		w := &Writer{b: &Bucket{c: c}, opts: WriterOptions{PartSize: DefaultPartSize}, part: tc.parts}
		data := make([]byte, tc.remainder)
		for len(data) > 0 {
			n := w.room(len(data))
			w.cur = append(w.cur, data[:n]...)
			data = data[n:]
		}
		if got, limit := cap(w.cur), max(2*tc.remainder, minClass); got > limit {
			t.Errorf("after %d parts, %d bytes took a buffer of %d bytes", tc.parts, tc.remainder, got)
		}
		if com, spec := c.pool.inUse.Load(), c.pool.speculative.Load(); com+spec != 0 {
			t.Errorf("the part being filled was counted in the budget: %d", com+spec)
		}
	}
}
