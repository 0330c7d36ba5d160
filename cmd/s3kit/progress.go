package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress is the display on stderr of a terminal: a line of totals
// (objects, bytes, rate, ETA) and one line per transfer in flight. When
// off (not a terminal, --quiet, --json, --no-progress) every method does
// nothing. Its methods are safe for concurrent use.
type progress struct {
	p      *mpb.Progress
	total  *mpb.Bar
	once   sync.Once
	start  time.Time
	files  atomic.Int64 // objects finished
	nfiles atomic.Int64 // objects planned
	bytes  atomic.Int64 // bytes planned
	shown  atomic.Bool  // bars are on the screen
}

func newProgress(w io.Writer, on bool) *progress {
	if !on {
		return &progress{}
	}
	return &progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(30), mpb.WithRefreshRate(150*time.Millisecond)), start: time.Now()}
}

func (p *progress) on() bool { return p.p != nil }

// above returns a writer of whole lines that prints them above the bars
// while there are any, and to direct otherwise (a listing shows no bars,
// and its lines need no detour).
func (p *progress) above(direct io.Writer) io.Writer { return aboveWriter{p, direct} }

type aboveWriter struct {
	p      *progress
	direct io.Writer
}

func (w aboveWriter) Write(b []byte) (int, error) {
	if w.p.shown.Load() {
		return w.p.p.Write(b)
	}
	return w.direct.Write(b)
}

// totals makes the line of totals on first use.
func (p *progress) totals() *mpb.Bar {
	p.once.Do(func() {
		p.total = p.p.AddBar(0, mpb.BarPriority(-1),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf("%d/%d objects", p.files.Load(), p.nfiles.Load())
			}, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(
				decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncSpace),
				decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace),
				decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO),
			))
		p.shown.Store(true)
	})
	return p.total
}

// plan adds objects and bytes to the totals to do.
func (p *progress) plan(objects int, bytes int64) {
	if p.p == nil {
		return
	}
	p.nfiles.Add(int64(objects))
	p.totals().SetTotal(p.bytes.Add(bytes), false)
}

// transfer is one transfer in flight on the display.
type transfer struct {
	p    *progress
	bar  *mpb.Bar
	done int64
}

// begin shows a transfer of size bytes (0 if unknown) named name.
func (p *progress) begin(name string, size int64) *transfer {
	if p.p == nil {
		return &transfer{}
	}
	p.totals()
	bar := p.p.AddBar(size, mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(shorten(name, 40), decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncSpace), decor.Percentage(decor.WCSyncSpace)))
	return &transfer{p: p, bar: bar}
}

// update records that done bytes of the transfer are through.
func (t *transfer) update(done int64) {
	if t.bar == nil || done < t.done {
		return
	}
	t.p.total.IncrInt64(done - t.done)
	t.done = done
	t.bar.SetCurrent(done)
}

// end takes the transfer off the display and counts it as finished.
func (t *transfer) end() {
	if t.bar == nil {
		return
	}
	t.bar.SetTotal(-1, true)
	t.p.files.Add(1)
}

// sync shows the state of a Sync, which counts for itself.
func (p *progress) sync(files, filesTotal int, done, total int64) {
	if p.p == nil {
		return
	}
	p.files.Store(int64(files))
	p.nfiles.Store(int64(filesTotal))
	b := p.totals()
	b.SetTotal(total, false)
	b.SetCurrent(done)
}

// wait completes the display and waits until it is drawn for the last time.
func (p *progress) wait() {
	if p.p == nil {
		return
	}
	if p.total != nil {
		p.total.SetTotal(-1, true)
	}
	p.p.Wait()
	p.shown.Store(false)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
