package s3kit

import "testing"

// TestPartSizeDelayedGrowth checks the part sizes of unknown-size streams
// at the points where they grow (review P6): parts keep the base size as
// long as the 10,000 parts can still hold 9 TiB, are at every size
// written never larger than those of the plain doubling schedule (so that
// at least as many fit in the memory budget), and still reach 9 TiB.
func TestPartSizeDelayedGrowth(t *testing.T) {
	for _, c := range []struct {
		base      int64
		minDelay  int32 // growAfter at least
		keepsUpTo int64 // bytes written in parts of the base size, at least
	}{
		{MinPartSize, 0, 0},
		{DefaultPartSize, 590, 11 << 30}, // plain doubling grew at 7 GiB
		{16 << 20, 1400, 35 << 30},
		{100 << 20, 3000, 300 << 30},
		{MaxPartSize, 0, 0},
	} {
		w := &Writer{opts: WriterOptions{PartSize: c.base}, growAfter: growthDelay(c.base)}
		plain := &Writer{opts: WriterOptions{PartSize: c.base}}
		if w.growAfter < c.minDelay {
			t.Fatalf("base %d: growth after %d parts, want at least %d", c.base, w.growAfter, c.minDelay)
		}
		var total, plainTotal int64
		var pn int32 = 1 // the plain schedule's part at total bytes written
		for n := int32(1); n <= MaxParts; n++ {
			ps := w.partSizeAt(n)
			if ps < c.base || ps > MaxPartSize || (n > 1 && ps < w.partSizeAt(n-1)) {
				t.Fatalf("base %d: part %d is %d bytes", c.base, n, ps)
			}
			if n == w.growAfter+900 && c.base < MaxPartSize {
				if got := w.partSizeAt(n + 1); got != min(2*c.base, MaxPartSize) {
					t.Fatalf("base %d: part %d, the first to grow, is %d bytes, want %d", c.base, n+1, got, 2*c.base)
				}
				if total+ps < c.keepsUpTo {
					t.Fatalf("base %d: growth starts at %d bytes written, want at least %d", c.base, total+ps, c.keepsUpTo)
				}
			}
			for pn < MaxParts && plainTotal+plain.partSizeAt(pn) <= total {
				plainTotal += plain.partSizeAt(pn)
				pn++
			}
			if want := plain.partSizeAt(pn); ps > want {
				t.Fatalf("base %d: part %d at %d bytes written is %d bytes, the plain schedule's %d", c.base, n, total, ps, want)
			}
			total += ps
		}
		if total < unknownSizeReach {
			t.Fatalf("base %d: 10,000 parts hold %d bytes, less than 9 TiB", c.base, total)
		}
	}
}
