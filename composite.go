package s3kit

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// A crcCheck is what the bytes of a whole object are verified against:
// a full-object CRC, or a composite one. S3 keeps a composite checksum
// for a multipart upload whose parts carried CRC32 or CRC32C (the aws
// CLI's uploads with --checksum-algorithm CRC32): the CRC of the parts'
// big-endian CRCs, reported as "BASE64-N" for N parts. Checking it needs
// the parts' bounds, which the store tells apart from the object's
// headers (see learnParts): the bytes are then summed in spans split at
// those bounds, each range on its own, and the spans of each part are
// combined into its CRC.
//
// A crcCheck is not changed once its bounds are known, so ranges read in
// parallel may sum with it at once.
type crcCheck struct {
	cs        *checksummer
	want      string // base64, without a composite's "-N"
	composite bool
	parts     int      // composite: the number of parts; 0 until known
	starts    []int64  // composite: where each part starts, once known
	sums      []string // composite: each part's checksum, "" where the store did not say
}

// crcSpan is the CRC of the object's bytes [off, off+size), all in one
// part.
type crcSpan struct {
	off, size int64
	crc       uint64
}

// checkOf returns what to verify a whole object against from the
// checksums a response reported, nil if none can be: no CRC (a SHA only,
// or nothing), or a composite CRC64NVME, which S3 does not make. A
// composite one of more than one part still needs its bounds (ready).
func checkOf(crc64, crc32c, crc32 *string, typ types.ChecksumType) *crcCheck {
	if cs, want := fullChecksum(crc64, crc32c, crc32, typ); cs != nil {
		return &crcCheck{cs: cs, want: want}
	}
	for _, c := range []struct {
		cs *checksummer
		v  *string
	}{{crc32cSum, crc32c}, {crc32Sum, crc32}} {
		v := aws.ToString(c.v)
		if v == "" {
			continue
		}
		want, n, hasN := strings.Cut(v, "-")
		parts := 0
		if hasN {
			var err error
			if parts, err = strconv.Atoi(n); err != nil || parts < 1 {
				return nil
			}
		} else if typ != types.ChecksumTypeComposite {
			continue
		}
		k := &crcCheck{cs: c.cs, want: want, composite: true, parts: parts}
		if parts == 1 {
			k.starts, k.sums = []int64{0}, []string{""}
		}
		return k
	}
	return nil
}

// checkOfInfo is checkOf for what a HEAD reported.
func checkOfInfo(info ObjectInfo) *crcCheck {
	get := func(name string) *string {
		if v, ok := info.Checksums[name]; ok {
			return &v
		}
		return nil
	}
	return checkOf(get("CRC64NVME"), get("CRC32C"), get("CRC32"), types.ChecksumType(info.ChecksumType))
}

// ready reports whether the check can sum bytes: it is a full-object one,
// or a composite one whose parts' bounds are known.
func (k *crcCheck) ready() bool { return !k.composite || k.starts != nil }

// name is the algorithm, as a key of ObjectInfo.Checksums.
func (k *crcCheck) name() string { return k.cs.name }

// add appends to spans the CRC of p, the object's bytes at off, split at
// the parts' bounds; a piece that continues the last span in the same
// part extends it. k must be ready.
func (k *crcCheck) add(spans []crcSpan, off int64, p []byte) []crcSpan {
	for len(p) > 0 {
		n := int64(len(p))
		// i is the first part that starts after off.
		i, _ := slices.BinarySearch(k.starts, off+1)
		if i < len(k.starts) {
			n = min(n, k.starts[i]-off)
		}
		last := len(spans) - 1
		if last >= 0 && spans[last].off+spans[last].size == off && !k.startsPart(off) {
			spans[last].crc = k.cs.sum(spans[last].crc, p[:n])
			spans[last].size += n
		} else {
			spans = append(spans, crcSpan{off: off, size: n, crc: k.cs.sum(0, p[:n])})
		}
		off += n
		p = p[n:]
	}
	return spans
}

// join appends the spans src, which follow dst's, to dst, combining the
// first of them with the last of dst where both lie in one part.
func (k *crcCheck) join(dst, src []crcSpan) []crcSpan {
	if len(src) == 0 {
		return dst
	}
	last := len(dst) - 1
	if s := src[0]; last >= 0 && dst[last].off+dst[last].size == s.off && !k.startsPart(s.off) {
		dst[last].crc = k.cs.combine(dst[last].crc, s.crc, s.size)
		dst[last].size += s.size
		src = src[1:]
	}
	return append(dst, src...)
}

func (k *crcCheck) startsPart(off int64) bool {
	_, found := slices.BinarySearch(k.starts, off)
	return found && off > 0
}

// mismatch returns "" if spans, the CRCs of the object's size bytes in
// any order, match the checksum, else what differs.
func (k *crcCheck) mismatch(spans []crcSpan, size int64) string {
	spans = slices.SortedFunc(slices.Values(spans), func(a, b crcSpan) int { return cmp.Compare(a.off, b.off) })
	// The CRC of each part (the whole object if the check is not
	// composite), from its spans.
	ends := append(slices.Clone(k.starts[min(1, len(k.starts)):]), size)
	crcs := make([]uint64, len(ends))
	at, part := int64(0), 0
	for _, s := range spans {
		if s.off != at || part >= len(ends) {
			return fmt.Sprintf("the bytes summed are not the object's %d bytes in order (a span at %d, expected %d)", size, s.off, at)
		}
		if at == 0 || k.startsPart(at) {
			crcs[part] = s.crc
		} else {
			crcs[part] = k.cs.combine(crcs[part], s.crc, s.size)
		}
		at += s.size
		if at == ends[part] {
			part++
		}
	}
	if at != size {
		return fmt.Sprintf("%d of the object's %d bytes were summed", at, size)
	}
	if !k.composite {
		if got := k.cs.encode(crcs[0]); got != k.want {
			return fmt.Sprintf("%s of the bytes is %s, the store has %s", k.cs.name, got, k.want)
		}
		return ""
	}
	var all []byte
	for i, crc := range crcs {
		if got := k.cs.encode(crc); k.sums[i] != "" && got != k.sums[i] {
			return fmt.Sprintf("%s of part %d (bytes %d to %d) is %s, the store has %s", k.cs.name, i+1, k.starts[i], ends[i]-1, got, k.sums[i])
		}
		if k.cs.bits == 32 {
			all = binary.BigEndian.AppendUint32(all, uint32(crc))
		} else {
			all = binary.BigEndian.AppendUint64(all, crc)
		}
	}
	if got := k.cs.encode(k.cs.sum(0, all)); got != k.want {
		return fmt.Sprintf("composite %s of the bytes in %d parts is %s-%d, the store has %s-%d", k.cs.name, len(crcs), got, len(crcs), k.want, len(crcs))
	}
	return ""
}

// errLayout says that the store did not tell where the parts of an
// object with a composite checksum are.
var errLayout = errors.New("the store does not tell where the parts are")

// learnParts returns k ready to sum: k itself if it already is, else a
// copy with the bounds of the parts of the object full (of size bytes, at
// etag and version), as the store reports them. It asks with one
// GetObjectAttributes request per 1,000 parts, and where the store does
// not answer that with the parts (versitygw) or refuses it (a missing
// s3:GetObjectAttributes permission, SSE-C), with a HEAD per part
// (PartNumber), Concurrency at once. Bounds that do not add up to the
// object are an error, as is a store that tells nothing: then the
// composite checksum cannot be verified.
func (b *Bucket) learnParts(ctx context.Context, k *crcCheck, full, etag, version string, size int64) (*crcCheck, error) {
	if k.ready() {
		return k, nil
	}
	starts, sums, err := b.partsByAttributes(ctx, k, full, etag, version, size)
	if err != nil || starts == nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		starts, sums, err = b.partsByHead(ctx, k, full, etag, version, size)
		if err != nil {
			return nil, err
		}
	}
	if k.parts != 0 && len(starts) != k.parts || len(starts) == 0 || starts[0] != 0 || starts[len(starts)-1] >= size && size > 0 {
		return nil, fmt.Errorf("%w: it reports %d parts starting at %v for an object of %d bytes whose checksum is of %d", errLayout, len(starts), starts, size, k.parts)
	}
	for i := 1; i < len(starts); i++ {
		if starts[i] <= starts[i-1] {
			return nil, fmt.Errorf("%w: it reports parts starting at %v", errLayout, starts)
		}
	}
	c := *k
	c.parts, c.starts, c.sums = len(starts), starts, sums
	return &c, nil
}

// partsByAttributes asks GetObjectAttributes for the parts; nil bounds
// and no error if the store answers without them.
func (b *Bucket) partsByAttributes(ctx context.Context, k *crcCheck, full, etag, version string, size int64) ([]int64, []string, error) {
	if b.ssec != nil {
		return nil, nil, nil // the SDK's request has the SSE-C fields, but stores differ on needing them
	}
	var (
		starts []int64
		sums   []string
		at     int64
		marker *string
	)
	for {
		out, err := b.c.s3.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{
			Bucket:           aws.String(b.name),
			Key:              aws.String(full),
			VersionId:        optString(version),
			MaxParts:         aws.Int32(1000),
			PartNumberMarker: marker,
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts, types.ObjectAttributesEtag},
		})
		if err != nil {
			return nil, nil, err
		}
		if etag != "" && out.ETag != nil && strings.Trim(*out.ETag, `"`) != strings.Trim(etag, `"`) {
			return nil, nil, fmt.Errorf("%w: the object was replaced while its parts were asked for", errLayout)
		}
		op := out.ObjectParts
		if op == nil || len(op.Parts) == 0 {
			return nil, nil, nil
		}
		for _, p := range op.Parts {
			if int(aws.ToInt32(p.PartNumber)) != len(starts)+1 || aws.ToInt64(p.Size) <= 0 {
				return nil, nil, fmt.Errorf("%w: GetObjectAttributes lists part %d of %d bytes after %d parts",
					errLayout, aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size), len(starts))
			}
			starts = append(starts, at)
			at += aws.ToInt64(p.Size)
			sum := p.ChecksumCRC32
			if k.cs == crc32cSum {
				sum = p.ChecksumCRC32C
			}
			sums = append(sums, aws.ToString(sum))
		}
		if !aws.ToBool(op.IsTruncated) || op.NextPartNumberMarker == nil {
			if at != size {
				return nil, nil, fmt.Errorf("%w: GetObjectAttributes lists parts of %d bytes in all, the object has %d", errLayout, at, size)
			}
			return starts, sums, nil
		}
		marker = op.NextPartNumberMarker
	}
}

// partsByHead asks for the parts with a HEAD per part number.
func (b *Bucket) partsByHead(ctx context.Context, k *crcCheck, full, etag, version string, size int64) ([]int64, []string, error) {
	head := func(ctx context.Context, n int) (*s3.HeadObjectOutput, error) {
		in := &s3.HeadObjectInput{
			Bucket:       aws.String(b.name),
			Key:          aws.String(full),
			VersionId:    optString(version),
			IfMatch:      optString(etag),
			PartNumber:   aws.Int32(int32(n)),
			ChecksumMode: types.ChecksumModeEnabled,
		}
		b.ssec.apply(in)
		return b.c.s3.HeadObject(ctx, in)
	}
	// part returns where part n starts and its checksum, and records
	// where it ends.
	var ends []int64
	part := func(out *s3.HeadObjectOutput, n int) (int64, string, error) {
		br, ok := parseByteRange(aws.ToString(out.ContentRange))
		if !ok || br.total != size || br.last-br.first+1 != aws.ToInt64(out.ContentLength) {
			return 0, "", fmt.Errorf("%w: a HEAD of part %d answers Content-Range %q and %d bytes", errLayout, n, aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
		}
		ends[n-1] = br.last + 1
		sum := out.ChecksumCRC32
		if k.cs == crc32cSum {
			sum = out.ChecksumCRC32C
		}
		if v := aws.ToString(sum); !strings.Contains(v, "-") {
			return br.first, v, nil
		}
		return br.first, "", nil // the object's composite, not the part's
	}
	out, err := head(ctx, 1)
	if err != nil {
		return nil, nil, err
	}
	count := int(aws.ToInt32(out.PartsCount))
	if count == 0 || k.parts != 0 && count != k.parts || count > MaxParts {
		return nil, nil, fmt.Errorf("%w: a HEAD of part 1 reports %d parts", errLayout, count)
	}
	starts, sums := make([]int64, count), make([]string, count)
	ends = make([]int64, count)
	if starts[0], sums[0], err = part(out, 1); err != nil {
		return nil, nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(b.c.concurrency, 1))
	for n := 2; n <= count; n++ {
		g.Go(func() error {
			out, err := head(gctx, n)
			if err != nil {
				return err
			}
			starts[n-1], sums[n-1], err = part(out, n)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	for i := 1; i < count; i++ {
		if starts[i] != ends[i-1] {
			return nil, nil, fmt.Errorf("%w: part %d ends at %d, part %d starts at %d", errLayout, i, ends[i-1], i+1, starts[i])
		}
	}
	if ends[count-1] != size {
		return nil, nil, fmt.Errorf("%w: the last part ends at %d, the object has %d bytes", errLayout, ends[count-1], size)
	}
	return starts, sums, nil
}

// verifyWhole learns the bounds k needs, if any, for a whole-object read
// of full; it returns nil, after logging why, when the store does not
// tell them, so that the read goes on unverified rather than failing.
func (b *Bucket) verifyWhole(ctx context.Context, k *crcCheck, op, full, etag, version string, size int64) (*crcCheck, error) {
	if k == nil || k.ready() {
		return k, nil
	}
	c, err := b.learnParts(ctx, k, full, etag, version, size)
	if err != nil {
		if ctx.Err() != nil {
			return nil, b.fail(op, full, context.Cause(ctx))
		}
		if b.c.log != nil {
			b.c.log.Debug("s3kit: composite checksum not verified", "bucket", b.name, "key", full, "checksum", k.name(), "error", err)
		}
		return nil, nil
	}
	return c, nil
}
