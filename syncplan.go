package s3kit

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// syncJob is a file to compare or copy.
type syncJob struct {
	SyncItem
	check bool   // compare the contents first (Checksum)
	etag  string // the source object's, as listed: what is copied
}

// syncAction is what the join decided for one path.
type syncAction uint8

const (
	actCopy      syncAction = iota // copy item (with its Reason)
	actCheck                       // compare item by content, then copy it if it differs
	actUnchanged                   // nothing to do
	actSkip                        // report item as skipped
	actMkdir                       // create the directory of a marker
	actFail                        // report err at item
	actDelete                      // collect del, for after the listings
)

// syncDecision is the join's decision for one path.
type syncDecision struct {
	act  syncAction
	item SyncItem
	etag string     // actCopy, actCheck: the source object's ETag as listed
	err  KeyError   // actFail
	del  syncDelete // actDelete
	// incomplete, with actFail: part of the source could not be listed,
	// so nothing may be deleted.
	incomplete bool
}

// join merges the sorted streams of the two sides and decides, path by
// path, what to do, handing each decision to do on its own goroutine. It
// returns when both listings have ended, or at the first listing error or
// cancellation.
func (s *syncer) join(ctx context.Context, src, dst *syncStream, do func(syncDecision)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, err := src.head()
		if err != nil {
			return err
		}
		b, err := dst.head()
		if err != nil {
			return err
		}
		// A part of a side that could not be listed is reported when met.
		if a != nil && a.kind == syncListErr {
			do(syncDecision{act: actFail, item: SyncItem{Path: a.path}, err: s.itemErr(a.path, "list", a.err, false), incomplete: a.incomplete})
			src.pop()
			continue
		}
		if b != nil && b.kind == syncListErr {
			do(syncDecision{act: actFail, item: SyncItem{Path: b.path}, err: s.itemErr(b.path, "list", b.err, false)})
			dst.pop()
			continue
		}
		c := 0
		switch {
		case a == nil && b == nil:
			return nil
		case a == nil:
			c = 1
		case b == nil:
			c = -1
		default:
			c = strings.Compare(a.path, b.path)
		}
		switch {
		case c < 0:
			do(s.decide(a, nil))
			src.pop()
		case c > 0:
			if s.opts.Delete {
				do(syncDecision{act: actDelete, del: syncDelete{path: b.path, etag: b.etag, size: max(b.size, 0)}})
			}
			dst.pop()
		default:
			do(s.decide(a, b))
			src.pop()
			dst.pop()
		}
	}
}

// decide decides for the source entry a, which the destination holds as
// b (nil if it does not).
func (s *syncer) decide(a, b *syncEntry) syncDecision {
	item := SyncItem{Path: a.path, Size: a.size}
	switch a.kind {
	case syncSkip:
		// Skipped, it is not deleted either.
		item.Reason = a.reason
		return syncDecision{act: actSkip, item: item}
	case syncMarker:
		return syncDecision{act: actMkdir, item: item}
	}
	if err := s.writable(a.path); err != nil {
		return syncDecision{act: actFail, item: item, err: s.itemErr(a.path, s.copyStep(), err, true)}
	}
	act := actCopy
	switch {
	case b == nil:
		item.Reason = syncNew
	case a.size != b.size:
		item.Reason = syncSize
	case s.opts.SizeOnly:
		return syncDecision{act: actUnchanged, item: item}
	case s.opts.Checksum && !s.opts.NoClobber:
		if s.src.b != nil && s.dst.b != nil && a.etag != "" && a.etag == b.etag {
			// Equal ETags mean equal content; different ones prove
			// nothing, and need the HEADs.
			return syncDecision{act: actUnchanged, item: item}
		}
		act = actCheck
	case a.mtime.Truncate(time.Second).After(b.mtime.Truncate(time.Second)):
		item.Reason = syncNewer
	default:
		return syncDecision{act: actUnchanged, item: item}
	}
	if b != nil && s.opts.NoClobber {
		item.Reason = syncExists
		return syncDecision{act: actSkip, item: item}
	}
	return syncDecision{act: act, item: item, etag: a.etag}
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
