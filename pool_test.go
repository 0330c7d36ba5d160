package s3kit

import (
	"context"
	"testing"
	"time"
)

// TestBufferPoolBackPressure checks that the budget is never exceeded: a
// get beyond it waits until a buffer is given back.
func TestBufferPoolBackPressure(t *testing.T) {
	p := newBufferPool(3 << 20)
	a, _ := p.get(context.Background(), 1<<20)
	b, _ := p.get(context.Background(), 2<<20)
	if _, ok := p.tryGet(1, 0); ok {
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
	if &c[0] != &a[0] {
		t.Error("the buffer given back was not reused")
	}
	p.put(b)
	p.put(c)
	// Read-ahead leaves the reserve free.
	if _, ok := p.tryGet(2<<20, 2<<20); ok {
		t.Fatal("tryGet took from the reserve")
	}
	d, ok := p.tryGet(1<<20, 2<<20)
	if !ok {
		t.Fatal("tryGet refused with room for the buffer and the reserve")
	}
	p.put(d)
	// A buffer larger than the whole budget takes all of it instead of
	// waiting forever.
	big, err := p.get(context.Background(), 8<<20)
	if err != nil || len(big) != 8<<20 {
		t.Fatalf("oversized get: %d, %v", len(big), err)
	}
	p.put(big)
}

// TestPartSizeGrowth checks that an upload of unknown size reaches the
// largest object S3 stores within 10,000 parts, with each part in range.
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
		if total < MaxObjectSize {
			t.Fatalf("base %d: 10,000 parts hold %d bytes, less than %d", base, total, int64(MaxObjectSize))
		}
	}
	if got := partSizeFor(MaxObjectSize, MinPartSize); got*MaxParts < MaxObjectSize || got > MaxPartSize {
		t.Fatalf("partSizeFor(5 TiB) = %d", got)
	}
}
