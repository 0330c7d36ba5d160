package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

// copyFlags are the flags of cp and mv.
type copyFlags struct {
	recursive bool
	dryRun    bool
	noClobber bool
	// copyThreshold is the size above which a copy between S3 locations
	// is a multipart copy; 0 means the library's (5 GiB).
	copyThreshold byteSize
	put           putFlags
	filter        filterFlags
}

func (a *app) cpCommand() *cobra.Command { return a.copyCommand("cp", false) }

// copyJob is one copy: a source item and where it goes.
type copyJob struct {
	item
	dst location
}

func (a *app) copyCommand(name string, move bool) *cobra.Command {
	var f copyFlags
	verb := "Copy"
	if move {
		verb = "Move"
	}
	cmd := &cobra.Command{
		Use:   name + " [flags] SRC... DST",
		Short: verb + " files and objects: local to S3, S3 to local, S3 to S3 (server-side), - for stdin/stdout",
		Long: verb + ` files and objects. SRC and DST are s3://bucket/key, local paths,
or "-": stdin as the source of one object, stdout as the destination of one.
Copies between S3 locations are made by the store: one request up to 5 GiB
(or --copy-threshold), above that a parallel multipart copy in parts of
--part-size (default 256MiB for copies), pinned to the source's version.
Uploads store the file's modification time as the metadata mtime, as rclone
does; downloads set it back.

  s3kit ` + name + ` photo.jpg s3://pics/2025/
  s3kit ` + name + ` -r ./site s3://www/ --cache-control max-age=60
  s3kit ` + name + ` 's3://logs/2025/**.gz' ./logs/
  tar c . | s3kit ` + name + ` - s3://backup/home.tar

` + globHelp,
		Args:              args(cobra.MinimumNArgs(2)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.copy(cmd.Context(), name, move, &f, argv)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.recursive, "recursive", "r", false, "copy directories and prefixes with everything under them")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what would be done and do nothing")
	fl.BoolVarP(&f.noClobber, "no-clobber", "n", false, "never overwrite: uploads are create-only, existing files are skipped")
	fl.Var(&f.copyThreshold, "copy-threshold", "copies between S3 locations above this size are parallel multipart copies (default 5GiB)")
	f.put.add(fl)
	f.filter.add(fl, true)
	return cmd
}

func (a *app) copy(ctx context.Context, op string, move bool, f *copyFlags, argv []string) error {
	locs := make([]location, len(argv))
	for i, s := range argv {
		l, err := parseLocation(s)
		if err != nil {
			return err
		}
		locs[i] = l
	}
	srcs, dst := locs[:len(locs)-1], locs[len(locs)-1]
	for _, s := range srcs {
		switch {
		case !s.s3 && !dst.s3:
			return usagef("%s %s %s: one side must be s3://", op, s, dst)
		case s.std && (len(srcs) > 1 || dst.std || strings.HasSuffix(dst.key, "/") || dst.key == ""):
			return usagef("%s - DST: stdin goes to one object, s3://bucket/key", op)
		case s.std && move:
			return usagef("mv: stdin cannot be moved")
		}
	}
	if dst.std && (len(srcs) > 1 || f.recursive || hasWildcard(srcs[0].key)) {
		return usagef("%s SRC -: stdout takes one object", op)
	}
	if dst.s3 && hasWildcard(dst.key) {
		return usagef("%s: the destination %s cannot hold a wildcard", op, dst)
	}
	for _, s := range srcs {
		if err := checkSource(s, f.recursive); err != nil {
			return err
		}
	}
	put, err := f.put.options()
	if err != nil {
		return err
	}
	filt, err := f.filter.compile()
	if err != nil {
		return err
	}

	dstDir := len(srcs) > 1 || isDirLocation(dst)
	if dst.std {
		a.rep.takeStdout()
	}
	// Many objects down into a directory: the library's DownloadAll,
	// which streams the listing into parallel downloads and writes every
	// file through its path rules. The rest, one job per item.
	var rest []location
	for _, src := range srcs {
		if base, pattern, ok := bulkDownload(src, dst, f); ok {
			a.downloadAll(ctx, op, move, f.noClobber, filt, src, base, pattern, dst)
			continue
		}
		rest = append(rest, src)
	}
	// The jobs stream from the listings to the workers, so memory stays
	// flat however many there are; the display's totals grow as they come.
	jobs := func(yield func(copyJob) bool) {
		for _, src := range rest {
			items, many, err := a.expand(ctx, src, f.recursive, filt)
			if err != nil {
				a.rep.fail(op, src.raw, err)
				continue
			}
			for it, err := range items {
				if err != nil {
					a.rep.fail(op, src.raw, err)
					break
				}
				d, err := destination(dst, it.rel, dstDir || many)
				if err != nil {
					a.rep.done(record{Operation: op, Source: it.loc.raw, Size: max(it.size, 0)}, err, "")
					continue
				}
				a.prog.plan(1, max(it.size, 0))
				if !yield(copyJob{item: it, dst: d}) {
					return
				}
			}
		}
	}
	forEach(ctx, a.jobs(), jobs, func(j copyJob) {
		rec := record{Operation: op, Source: j.loc.raw, Destination: j.dst.raw, Size: max(j.size, 0), DryRun: f.dryRun}
		if f.dryRun {
			a.rep.done(rec, nil, fmt.Sprintf("(dry run) %s %s %s", op, rec.Source, rec.Destination))
			return
		}
		t := a.prog.begin(j.rel, max(j.size, 0))
		skipped, err := a.copyOne(ctx, j, move, f, put, t)
		t.end()
		if err == nil && skipped != "" {
			rec.Skipped = skipped
			a.rep.done(rec, nil, fmt.Sprintf("skip %s %s: %s", rec.Source, rec.Destination, skipped))
			return
		}
		a.rep.done(rec, err, fmt.Sprintf("%s %s %s", op, rec.Source, rec.Destination))
	})
	return nil
}

// isDirLocation reports whether l names a directory or prefix that items
// go under, rather than one file or object.
func isDirLocation(l location) bool {
	switch {
	case l.std:
		return false
	case l.s3:
		return l.key == "" || strings.HasSuffix(l.key, "/")
	}
	if strings.HasSuffix(l.local, string(filepath.Separator)) || strings.HasSuffix(l.local, "/") {
		return true
	}
	st, err := os.Stat(l.local)
	return err == nil && st.IsDir()
}

// destination names the destination of the item rel: dst itself, or rel
// under dst when dst is a directory. A local name outside dst is refused
// as the library refuses it (ErrInsecurePath).
func destination(dst location, rel string, dir bool) (location, error) {
	if !dir || dst.std {
		return dst, nil
	}
	if dst.s3 {
		d := dst
		d.key = joinKey(dst.key, rel)
		d.raw = s3URL(dst.bucket, d.key)
		return d, nil
	}
	local := filepath.FromSlash(rel)
	if !filepath.IsLocal(local) || strings.Contains(rel, `\`) {
		return location{}, fmt.Errorf("%q: %w: it would be written outside %s", rel, s3kit.ErrInsecurePath, dst.local)
	}
	p := filepath.Join(dst.local, local)
	return location{raw: p, local: p}, nil
}

// copyOne makes the copy j and, for a move, deletes its source. It returns
// why it skipped the copy, if it did.
func (a *app) copyOne(ctx context.Context, j copyJob, move bool, f *copyFlags, put *s3kit.PutOptions, t *transfer) (skipped string, err error) {
	src, dst, noClobber := j.loc, j.dst, f.noClobber
	topts := &s3kit.TransferOptions{Progress: func(p s3kit.Progress) { t.update(p.Done) }}
	switch {
	case src.std:
		err := a.uploadStream(ctx, dst, put, noClobber, t)
		if noClobber && errors.Is(err, s3kit.ErrExist) {
			return "exists", nil
		}
		return "", err
	case dst.std:
		return "", a.downloadStream(ctx, src, nil, t)
	case !src.s3: // local to S3
		b, err := a.bucket(ctx, dst)
		if err != nil {
			return "", err
		}
		p := put // the library adds the file's mtime
		if noClobber {
			c := *p
			c.IfNoneMatch = "*"
			p = &c
		}
		topts.Put = p
		before, err := os.Stat(src.local)
		if err != nil {
			return "", err
		}
		if _, err := b.Upload(ctx, src.local, dst.key, topts); err != nil {
			if noClobber && errors.Is(err, s3kit.ErrExist) {
				return "exists", nil
			}
			return "", err
		}
		if move {
			return "", removeUploaded(src.local, before)
		}
		return "", nil
	case !dst.s3: // S3 to local
		b, err := a.bucket(ctx, src)
		if err != nil {
			return "", err
		}
		// The library sets the file's time from the mtime metadata, and
		// with NoClobber takes the name only if nothing is there, even a
		// file created during the download.
		topts.NoClobber = noClobber
		info, err := b.Download(ctx, src.key, dst.local, topts)
		if noClobber && errors.Is(err, s3kit.ErrExist) {
			return "exists", nil
		}
		if err != nil {
			return "", err
		}
		if move {
			return "", deleteDownloaded(ctx, b, src.key, info.ETag)
		}
		return "", nil
	}
	// S3 to S3, by the store.
	b, err := a.bucket(ctx, src)
	if err != nil {
		return "", err
	}
	copts := &s3kit.CopyOptions{
		DestBucket:   dst.bucket,
		Tags:         put.Tags,
		ACL:          put.ACL,
		StorageClass: put.StorageClass,
		SSE:          put.SSE,
		NoClobber:    noClobber,
		// A multipart copy's parts: --part-size if given, else the
		// library's default for copies, larger than for uploads (the
		// bytes stay in the store).
		MultipartThreshold: int64(f.copyThreshold),
		PartSize:           int64(a.flags.partSize),
	}
	if put.ContentType != "" || put.CacheControl != "" || put.Metadata != nil {
		copts.ReplaceMetadata = true
		copts.Metadata, copts.ContentType, copts.CacheControl = put.Metadata, put.ContentType, put.CacheControl
	}
	if move {
		err = b.Move(ctx, src.key, dst.key, copts)
	} else {
		_, err = b.Copy(ctx, src.key, dst.key, copts)
	}
	if noClobber && errors.Is(err, s3kit.ErrExist) {
		return "exists", nil
	}
	if err == nil {
		t.update(max(j.size, 0))
	}
	return "", err
}

// removeUploaded removes the source of a move to S3, the local file name,
// unless it changed since before was taken, ahead of the upload: a file
// rewritten meanwhile is kept, and the move fails. The check and the
// removal are two steps; a write between them is lost, as with any
// rename-free move of a file another process writes.
func removeUploaded(name string, before os.FileInfo) error {
	now, err := os.Stat(name)
	if err != nil {
		return err
	}
	if !os.SameFile(before, now) || now.Size() != before.Size() || !now.ModTime().Equal(before.ModTime()) {
		return fmt.Errorf("uploaded, but %s changed since and was kept", name)
	}
	return os.Remove(name)
}

// deleteDownloaded deletes the source of a move to a local file, pinned to
// the version downloaded (etag): an object written there since is kept,
// and the move fails.
func deleteDownloaded(ctx context.Context, b *s3kit.Bucket, key, etag string) error {
	if etag == "" {
		return fmt.Errorf("the store gave no ETag for %s, so its delete cannot be pinned to the version downloaded: the source is kept", key)
	}
	err := b.DeleteIfMatch(ctx, key, etag)
	if errors.Is(err, s3kit.ErrPreconditionFailed) {
		return fmt.Errorf("downloaded, but the source changed since and was kept: %w", err)
	}
	return err
}

// bulkDownload reports whether the source src goes to the local
// directory dst through DownloadAll: many objects (-r or a glob) that are
// downloaded, not merely listed (--dry-run). base is the prefix the local
// names are relative to, and pattern the glob relative to base, if any.
func bulkDownload(src, dst location, f *copyFlags) (base, pattern string, ok bool) {
	if !src.s3 || dst.s3 || dst.std || f.dryRun {
		return "", "", false
	}
	switch {
	case hasWildcard(src.key):
		base, _ = globBase(src.key) // parseLocation checked the glob
		pattern = globRest(src.key, base)
	case f.recursive:
		base = dirKey(src.key)
	default:
		return "", "", false
	}
	// A prefix with empty segments is not one Bucket.Prefix keeps as is:
	// such keys go one by one.
	if strings.HasPrefix(base, "/") || strings.Contains(base, "//") {
		return "", "", false
	}
	return base, pattern, true
}

// globRest returns what follows the literal text base (unescaped) at the
// start of the glob pattern: the pattern relative to base.
func globRest(pattern, base string) string {
	n := 0
	for i := 0; i < len(pattern); i++ {
		if n == len(base) {
			return pattern[i:]
		}
		if pattern[i] == '\\' {
			i++
		}
		n++
	}
	return ""
}

// downloadAll downloads the objects of the S3 source src under base
// (those matching pattern, if set, and selected by filt) into the local
// directory dst through the library's DownloadAll, and reports each. For a
// move, each object downloaded is then deleted, pinned to the version
// downloaded, by a pool of workers.
func (a *app) downloadAll(ctx context.Context, op string, move, noClobber bool, filt *filter, src location, base, pattern string, dst location) {
	b, err := a.bucket(ctx, src)
	if err != nil {
		a.rep.fail(op, src.raw, err)
		return
	}
	if base != "" {
		b = b.Prefix(base)
	}
	type started struct {
		t    *transfer
		size int64
	}
	// OnStart and OnFile are called one at a time: no lock.
	active := map[string]started{}
	matched := 0
	type moved struct {
		rec       record
		key, etag string
		text      string
	}
	deletes := make(chan moved)
	var deleters sync.WaitGroup
	if move {
		for range a.jobs() {
			deleters.Go(func() {
				for m := range deletes {
					a.rep.done(m.rec, deleteDownloaded(ctx, b, m.key, m.etag), m.text)
				}
			})
		}
	}
	opts := &s3kit.TransferOptions{
		Pattern:   pattern,
		NoClobber: noClobber,
		Filter: func(key string) bool {
			if strings.HasSuffix(key, "/") {
				// A directory marker becomes a directory, as in DownloadAll
				// and sync; it is no file, so no match and no record.
				return filt.keep(key)
			}
			matched++
			return filt.keep(key)
		},
		OnStart: func(key string, info s3kit.ObjectInfo) {
			a.prog.plan(1, info.Size)
			active[key] = started{a.prog.begin(key, info.Size), info.Size}
		},
		OnFile: func(key string, info s3kit.ObjectInfo, err error) {
			st, ok := active[key]
			delete(active, key)
			if ok {
				if err == nil {
					st.t.update(st.size)
				}
				st.t.end()
			} else {
				st.size = info.Size // refused before it started
			}
			rec := record{Operation: op, Source: s3URL(src.bucket, base+key), Size: st.size}
			if !errors.Is(err, s3kit.ErrInsecurePath) {
				rec.Destination = filepath.Join(dst.local, filepath.FromSlash(key))
			}
			text := fmt.Sprintf("%s %s %s", op, rec.Source, rec.Destination)
			switch {
			case noClobber && errors.Is(err, s3kit.ErrExist):
				rec.Skipped = "exists"
				a.rep.done(rec, nil, fmt.Sprintf("skip %s %s: exists", rec.Source, rec.Destination))
			case err == nil && move:
				deletes <- moved{rec: rec, key: key, etag: info.ETag, text: text}
			default:
				a.rep.done(rec, err, text)
			}
		},
	}
	res, err := b.DownloadAll(ctx, dst.local, opts)
	close(deletes)
	deleters.Wait()
	switch {
	case ctx.Err() != nil:
		// Interrupted: the files in flight were reported, and removed.
	case err != nil && (res.FailedFiles == 0 || !errors.Is(err, res.Failed[0].Err)):
		// The listing, or the directory, failed: not one file.
		a.rep.fail(op, src.raw, err)
	case err == nil && matched == 0:
		a.rep.fail(op, src.raw, errNoMatch)
	}
}

// uploadStream uploads stdin to dst through a Writer. On any failure, an
// interrupt included, the Writer is aborted: no object and no multipart
// upload are left.
func (a *app) uploadStream(ctx context.Context, dst location, put *s3kit.PutOptions, noClobber bool, t *transfer) error {
	b, err := a.bucket(ctx, dst)
	if err != nil {
		return err
	}
	opts := &s3kit.WriterOptions{PutOptions: *put}
	if noClobber {
		opts.IfNoneMatch = "*"
	}
	w, err := b.NewWriter(ctx, dst.key, opts)
	if err != nil {
		return err
	}
	defer w.Abort()
	if _, err := w.ReadFrom(&countingReader{r: a.stdin, t: t}); err != nil {
		return err
	}
	return w.Close()
}

// downloadStream writes the object src to stdout, in order, through the
// library's Reader with its parallel ranges.
func (a *app) downloadStream(ctx context.Context, src location, opts *s3kit.ReaderOptions, t *transfer) error {
	b, err := a.bucket(ctx, src)
	if err != nil {
		return err
	}
	r, err := b.NewReader(ctx, src.key, opts)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = r.WriteTo(&countingWriter{w: a.stdout, t: t})
	return err
}

type countingReader struct {
	r io.Reader
	t *transfer
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.t.update(c.n)
	return n, err
}

type countingWriter struct {
	w io.Writer
	t *transfer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.t.update(c.n)
	return n, err
}
