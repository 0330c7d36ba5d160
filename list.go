package s3kit

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ListOptions are the options of List and ListAll. nil means every object
// under the handle, recursively.
type ListOptions struct {
	// Prefix keeps only keys beginning with it (relative to the handle).
	Prefix string
	// Delimiter, usually "/", groups keys that contain it after Prefix into
	// one directory entry each (IsDir, key ending in Delimiter), as a
	// directory listing does; empty lists recursively. A directory's own
	// marker object ("docs/" when listing Prefix "docs/") is not listed
	// among its entries.
	Delimiter string
	// StartAfter lists only keys after this one (relative to the handle),
	// in S3's UTF-8 byte order.
	StartAfter string
	// Pattern keeps only keys, relative to the handle, that match this glob:
	// "*" and "?" do not match "/", "**" matches anything, "[a-z]" classes
	// and "\" escapes as in path.Match. The literal text before the first
	// wildcard narrows the listing on the server, so "logs/2025-*.gz"
	// lists only under "logs/2025-". A directory entry matches without its
	// trailing delimiter.
	//
	// With a Prefix that ends in "/" (a directory), a Pattern that does not
	// itself begin with Prefix is relative to that directory:
	// {Prefix: "docs/", Pattern: "*.txt"} lists docs/*.txt, as
	// {Pattern: "docs/*.txt"} does, and the keys listed are still relative
	// to the handle. With any other Prefix the Pattern is relative to the
	// handle, and a Prefix and Pattern that no key can satisfy together
	// ({Prefix: "x", Pattern: "y*"}, or {Prefix: "a/b", Pattern: "*.txt"},
	// whose "*" cannot match the "/") are ErrInvalid rather than an empty
	// listing.
	Pattern string
	// FilesOnly drops directory entries and zero-byte "dir/" markers;
	// DirsOnly keeps only those.
	FilesOnly bool
	DirsOnly  bool
	// PageSize is how many keys one request asks for (1 to 1000); 0 means
	// the server's default of 1000.
	PageSize int

	withSelf bool // list the handle's own "prefix/" marker too (DeleteAll)
}

// List returns the objects under the handle, in S3's UTF-8 byte order,
// fetching pages as the loop asks for them. A failure is yielded once, as
// the last pair. Breaking out of the loop stops the listing.
func (b *Bucket) List(ctx context.Context, opts *ListOptions) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		opts := cmp.Or(opts, &ListOptions{})
		in, g, err := b.listInput(opts)
		if err != nil {
			yield(ObjectInfo{}, b.fail("List", b.prefix+opts.Prefix, err))
			return
		}
		delim := opts.Delimiter
		for {
			out, err := b.c.s3.ListObjectsV2(ctx, in)
			if err != nil {
				yield(ObjectInfo{}, b.fail("List", aws.ToString(in.Prefix), err))
				return
			}
			// A page holds files and directories in two sorted lists; merge
			// them so the caller sees one order.
			objs, dirs := out.Contents, out.CommonPrefixes
			for len(objs) > 0 || len(dirs) > 0 {
				var info ObjectInfo
				if len(dirs) == 0 || len(objs) > 0 && aws.ToString(objs[0].Key) < aws.ToString(dirs[0].Prefix) {
					o := objs[0]
					objs = objs[1:]
					key := aws.ToString(o.Key)
					if key == b.prefix && !opts.withSelf || delim != "" && key == aws.ToString(in.Prefix) && strings.HasSuffix(key, delim) {
						// The marker of the directory being listed (or of
						// the handle itself) is not an entry of it.
						continue
					}
					info = ObjectInfo{
						Key:          b.rel(key),
						IsDir:        strings.HasSuffix(key, "/") && aws.ToInt64(o.Size) == 0,
						Size:         aws.ToInt64(o.Size),
						ETag:         aws.ToString(o.ETag),
						LastModified: aws.ToTime(o.LastModified),
						StorageClass: string(o.StorageClass),
					}
				} else {
					info = ObjectInfo{Key: b.rel(aws.ToString(dirs[0].Prefix)), IsDir: true}
					dirs = dirs[1:]
				}
				if opts.FilesOnly && info.IsDir || opts.DirsOnly && !info.IsDir {
					continue
				}
				if g != nil {
					name := info.Key
					if info.IsDir && delim != "" {
						name = strings.TrimSuffix(name, delim)
					}
					if !g.match(name) && !g.match(info.Key) {
						continue
					}
				}
				if !yield(info, nil) {
					return
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				return
			}
			next := aws.ToString(out.NextContinuationToken)
			if next == "" || next == aws.ToString(in.ContinuationToken) {
				// Ending here would pass a partial listing off as whole.
				yield(ObjectInfo{}, b.fail("List", aws.ToString(in.Prefix),
					fmt.Errorf("the store said the listing is truncated but gave no new continuation token")))
				return
			}
			in.ContinuationToken = out.NextContinuationToken
		}
	}
}

// listInput builds the first ListObjectsV2 request of opts, and the glob
// to filter with, relative to the handle.
func (b *Bucket) listInput(opts *ListOptions) (*s3.ListObjectsV2Input, *glob, error) {
	if b.err != nil {
		return nil, nil, b.err
	}
	for _, f := range []struct{ name, v string }{{"Prefix", opts.Prefix}, {"StartAfter", opts.StartAfter}, {"Delimiter", opts.Delimiter}} {
		if !utf8.ValidString(f.v) {
			return nil, nil, invalidf("%s %q is not valid UTF-8", f.name, f.v)
		}
		if len(b.prefix)+len(f.v) > MaxKeyLength {
			return nil, nil, invalidf("%s is %d bytes (prefix included); keys are at most %d", f.name, len(b.prefix)+len(f.v), MaxKeyLength)
		}
	}
	if opts.PageSize < 0 || opts.PageSize > MaxListPage {
		return nil, nil, invalidf("PageSize %d is not between 0 and 1000", opts.PageSize)
	}
	if opts.FilesOnly && opts.DirsOnly {
		return nil, nil, invalidf("FilesOnly and DirsOnly cannot both be set")
	}
	prefix := opts.Prefix
	var g *glob
	if opts.Pattern != "" {
		var err error
		if g, err = compileGlob(opts.Pattern); err != nil {
			return nil, nil, err
		}
		if strings.HasSuffix(prefix, "/") && !strings.HasPrefix(g.prefix, prefix) {
			// The pattern names keys in the directory Prefix.
			if g, err = compileGlob(quoteGlob(prefix) + opts.Pattern); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case strings.HasPrefix(g.prefix, prefix):
			prefix = g.prefix
		case strings.HasPrefix(prefix, g.prefix) && !tooDeep(opts.Pattern, prefix):
		default:
			return nil, nil, invalidf("no key can begin with Prefix %q and match Pattern %q, which is relative to the handle "+
				"(end Prefix with \"/\" to make the Pattern relative to it)", opts.Prefix, opts.Pattern)
		}
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.name)}
	in.Prefix = optString(b.prefix + prefix)
	in.Delimiter = optString(opts.Delimiter)
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(b.prefix + opts.StartAfter)
	}
	if opts.PageSize > 0 {
		in.MaxKeys = aws.Int32(int32(opts.PageSize))
	}
	return in, g, nil
}

// quoteGlob returns a pattern that matches s literally.
func quoteGlob(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// tooDeep reports whether pattern certainly matches no key that begins
// with prefix because prefix has more "/" than any match of pattern can:
// without "**" or a class, which may match "/", a pattern matches only
// keys with as many "/" as it has.
func tooDeep(pattern, prefix string) bool {
	if strings.Contains(pattern, "**") || strings.Contains(pattern, "[") {
		return false
	}
	return strings.Count(prefix, "/") > strings.Count(pattern, "/")
}

// ListAll returns every object List would, sorted by key.
func (b *Bucket) ListAll(ctx context.Context, opts *ListOptions) ([]ObjectInfo, error) {
	var all []ObjectInfo
	for info, err := range b.List(ctx, opts) {
		if err != nil {
			return nil, err
		}
		all = append(all, info)
	}
	slices.SortFunc(all, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return all, nil
}
