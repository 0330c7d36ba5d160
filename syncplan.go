package s3kit

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// syncJob is a file to copy.
type syncJob struct {
	SyncItem
	err error
}

// syncPlan is what Sync is to do, as far as the listings tell.
type syncPlan struct {
	copies    []syncJob  // with their Reason
	checks    []syncJob  // to compare by content before copying
	deletes   []SyncItem // extraneous at the destination
	unchanged int
	failed    []KeyError
}

// plan compares the listings of the two sides, in path order.
func (s *syncer) plan(src, dst *syncListing) syncPlan {
	var pl syncPlan
	for _, p := range slices.Sorted(maps.Keys(src.files)) {
		f := src.files[p]
		item := SyncItem{Path: p, Size: f.size}
		if err := s.writable(p); err != nil {
			pl.failed = append(pl.failed, s.itemErr(p, s.copyStep(), err, true))
			continue
		}
		d, ok := dst.files[p]
		switch {
		case !ok:
			item.Reason = syncNew
		case f.size != d.size:
			item.Reason = syncSize
		case s.opts.Checksum:
			pl.checks = append(pl.checks, syncJob{SyncItem: item})
			continue
		case f.mtime.Truncate(time.Second).After(d.mtime.Truncate(time.Second)):
			item.Reason = syncNewer
		default:
			pl.unchanged++
			continue
		}
		pl.copies = append(pl.copies, syncJob{SyncItem: item})
	}
	if !s.opts.Delete || src.incomplete {
		return pl
	}
	skipped := make(map[string]bool, len(src.skipped))
	for _, it := range src.skipped {
		skipped[it.Path] = true
	}
	for _, p := range slices.Sorted(maps.Keys(dst.files)) {
		if _, ok := src.files[p]; !ok && !skipped[p] {
			pl.deletes = append(pl.deletes, SyncItem{Path: p, Size: max(dst.files[p].size, 0)})
		}
	}
	return pl
}

// writable reports why the path p cannot be written at the destination,
// or nil.
func (s *syncer) writable(p string) error {
	if s.dst.b != nil {
		_, err := s.dst.b.key(p)
		return err
	}
	_, err := localName(p)
	return err
}

// copyStep names the step that copies a file.
func (s *syncer) copyStep() string {
	switch {
	case s.src.b == nil:
		return "upload"
	case s.dst.b == nil:
		return "download"
	}
	return "copy"
}

// sameContent reports whether the two sides hold the same content at p.
func (s *syncer) sameContent(ctx context.Context, p string) (bool, error) {
	switch {
	case s.src.b != nil && s.dst.b != nil:
		a, err := s.src.b.Head(ctx, p, nil)
		if err != nil {
			return false, err
		}
		b, err := s.dst.b.Head(ctx, p, nil)
		if err != nil {
			return false, err
		}
		return sameObject(a, b), nil
	case s.src.b != nil:
		info, err := s.src.b.Head(ctx, p, nil)
		if err != nil {
			return false, err
		}
		return localMatches(s.dst.root, p, info)
	}
	info, err := s.dst.b.Head(ctx, p, nil)
	if err != nil {
		return false, err
	}
	return localMatches(s.src.root, p, info)
}

// localMatches reports whether the local file p holds the content of the
// object info describes, by its full-object CRC or, failing that, the MD5
// of a single-part ETag. Without either it reports false.
func localMatches(root *os.Root, p string, info ObjectInfo) (bool, error) {
	cs, want := fullChecksumOf(info)
	md5want := ""
	if cs == nil && info.SSECustomerKeyMD5 != "" {
		return false, nil // an SSE-C object's ETag is not an MD5 of its content
	}
	if cs == nil {
		if md5want = etagMD5(info.ETag); md5want == "" {
			return false, nil
		}
	}
	f, err := root.Open(filepath.FromSlash(p))
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() != info.Size {
		return false, nil
	}
	if cs != nil {
		crc, err := crcOfReader(cs, f)
		if err != nil {
			return false, err
		}
		return cs.encode(crc) == want, nil
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == md5want, nil
}

// etagMD5 returns the MD5 an ETag is, in lower-case hex, or "" if it is
// not one (a multipart upload's ETag has a "-N" suffix).
func etagMD5(etag string) string {
	e := strings.ToLower(strings.Trim(etag, `"`))
	if len(e) != 2*md5.Size {
		return ""
	}
	if _, err := hex.DecodeString(e); err != nil {
		return ""
	}
	return e
}

// sameObject reports whether two objects hold the same content, by a
// full-object checksum both have, else by their ETags.
func sameObject(a, b ObjectInfo) bool {
	if a.Size != b.Size {
		return false
	}
	sa, sb := fullSums(a), fullSums(b)
	for _, alg := range []string{"CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1"} {
		if va, vb := sa[alg], sb[alg]; va != "" && vb != "" {
			return va == vb
		}
	}
	// Equal ETags mean equal content, also for multipart ones (the MD5 of
	// the parts' MD5s); different ones prove nothing, and count as
	// different. SSE-C ETags are not MD5s of the content, and prove
	// nothing either.
	return a.ETag != "" && a.ETag == b.ETag && a.SSECustomerKeyMD5 == "" && b.SSECustomerKeyMD5 == ""
}

// fullSums returns the checksums of the whole content of an object.
func fullSums(info ObjectInfo) map[string]string {
	if info.ChecksumType == "COMPOSITE" {
		return nil
	}
	m := make(map[string]string, len(info.Checksums))
	for alg, v := range info.Checksums {
		if !strings.Contains(v, "-") {
			m[alg] = v
		}
	}
	return m
}
