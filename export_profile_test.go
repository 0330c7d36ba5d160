package s3kit

import "context"

// CheckUnchanged is the check a delete pinned to etag makes first on a
// store whose profile says it ignores If-Match on DeleteObject.
func CheckUnchanged(ctx context.Context, b *Bucket, key, etag string) error {
	return b.checkUnchanged(ctx, "Delete", b.prefix+key, etag)
}
