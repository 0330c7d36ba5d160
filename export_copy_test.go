package s3kit

// SetMaxSingleCopy makes copies with o treat a source larger than n bytes
// as too large for one CopyObject, as MaxCopySize does, so that tests
// reach the multipart fallback without 5 GiB objects.
func SetMaxSingleCopy(o *CopyOptions, n int64) { o.maxSingle = n }
