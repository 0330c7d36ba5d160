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
