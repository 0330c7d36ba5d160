package s3kit

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// fanOut runs functions on at most n goroutines at once, for the bulk
// operations that discover their work as they go (Sync, DownloadAll).
//
// Its one rule on cancellation: once ctx is done, Go starts nothing more
// and reports false, so the caller stops producing work; a function
// already started gets the same ctx and is expected to return promptly,
// reporting its own failure. Failures of single functions never stop the
// others: a caller that must stop everything on some failure (a listing)
// cancels ctx.
type fanOut struct {
	ctx context.Context
	g   errgroup.Group
}

func newFanOut(ctx context.Context, n int) *fanOut {
	f := &fanOut{ctx: ctx}
	f.g.SetLimit(max(n, 1))
	return f
}

// Go waits until fewer than n functions run, then runs fn on a new
// goroutine. It returns false, without running fn, if ctx is done when it
// is called; fn must itself watch ctx, which may end while Go waits.
func (f *fanOut) Go(fn func(ctx context.Context)) bool {
	if f.ctx.Err() != nil {
		return false
	}
	// Blocks while n run; those end promptly once ctx is done.
	f.g.Go(func() error {
		fn(f.ctx)
		return nil
	})
	return true
}

// Wait waits for the functions started to return.
func (f *fanOut) Wait() { f.g.Wait() }
