package s3kit

import "context"

// BudgetInUse reports the bytes of c's memory budget held by uploads in
// flight and by read-ahead, for tests of the budget.
func BudgetInUse(c *Client) (committed, speculative int64) {
	return c.pool.inUse.Load(), c.pool.speculative.Load()
}

// SetMetadataAbove is SetMetadata with objects larger than threshold bytes
// copied in parts, so that tests reach that path without a 5 GiB object.
func SetMetadataAbove(ctx context.Context, b *Bucket, key string, meta map[string]string, threshold int64) error {
	return b.setMetadata(ctx, key, meta, threshold)
}

// SyncHeld is the most items a Sync held at once, by kind: listing
// entries not yet joined, directory entries of local walks, files being
// compared or copied, and deletions waiting in memory.
type SyncHeld struct{ Listed, Walk, InFlight, Deletes int64 }

// SyncMeasured is Sync with deletions spilled to a file beyond spillAt
// (0: the default), returning the most items it held at once.
func SyncMeasured(ctx context.Context, src, dst Location, opts *SyncOptions, spillAt int) (SyncResult, SyncHeld, error) {
	s, err := newSyncer(src, dst, opts)
	if err != nil {
		return SyncResult{}, SyncHeld{}, err
	}
	defer s.close()
	s.spillAt = spillAt
	res, err := s.run(ctx)
	g := &s.gauges
	return res, SyncHeld{g.listed.max.Load(), g.walk.max.Load(), g.inFlight.max.Load(), g.deletes.max.Load()}, err
}
