package s3kit

import "context"

// SetMetadataAbove is SetMetadata with objects larger than threshold bytes
// copied in parts, so that tests reach that path without a 5 GiB object.
func SetMetadataAbove(ctx context.Context, b *Bucket, key string, meta map[string]string, threshold int64) error {
	return b.setMetadata(ctx, key, meta, threshold)
}
