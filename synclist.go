package s3kit

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// syncSide is one side of a Sync: a bucket, or a local directory and its
// root once opened.
type syncSide struct {
	b    *Bucket
	dir  string
	root *os.Root // nil for a bucket, and for a local destination that is missing in a dry run
}

// syncFile is a file as a listing saw it.
type syncFile struct {
	size  int64 // -1 for a local destination entry that cannot be read as a file, so that it differs
	mtime time.Time
	etag  string // of an object
}

// syncListing is what one side holds among the paths the filters select.
type syncListing struct {
	files      map[string]syncFile
	dirs       []string   // directory markers, of a bucket source for a local destination
	skipped    []SyncItem // of a source
	failed     []KeyError
	incomplete bool // part of the side could not be listed
}

// selected reports whether the filters select the path p.
func (s *syncer) selected(p string) bool {
	match := func(g *glob) bool { return g.match(p) }
	if len(s.include) > 0 && !slices.ContainsFunc(s.include, match) {
		return false
	}
	return !slices.ContainsFunc(s.exclude, match)
}

// open opens the local sides, creating a missing destination directory
// unless this is a dry run.
func (s *syncer) open() error {
	var err error
	if s.src.b == nil {
		if s.src.root, err = os.OpenRoot(s.src.dir); err != nil {
			return wrapErr("Sync", s.bucket.name, "", err)
		}
	}
	if s.dst.b == nil {
		if !s.opts.DryRun {
			if err := os.MkdirAll(s.dst.dir, 0o777); err != nil {
				return wrapErr("Sync", s.bucket.name, "", err)
			}
		}
		if s.dst.root, err = os.OpenRoot(s.dst.dir); err != nil && !(s.opts.DryRun && errors.Is(err, fs.ErrNotExist)) {
			return wrapErr("Sync", s.bucket.name, "", err)
		}
	}
	return nil
}

// list lists the files of one side that the filters select.
func (s *syncer) list(ctx context.Context, sd *syncSide, isSrc bool) (*syncListing, error) {
	l := &syncListing{files: make(map[string]syncFile)}
	if sd.b != nil {
		return l, s.listBucket(ctx, sd.b, isSrc, l)
	}
	if sd.root == nil {
		return l, nil
	}
	return l, s.listLocal(ctx, sd, isSrc, l)
}

func (s *syncer) listBucket(ctx context.Context, b *Bucket, isSrc bool, l *syncListing) error {
	toLocal := isSrc && s.dst.b == nil
	for obj, err := range b.List(ctx, &ListOptions{Prefix: s.prefix}) {
		if err != nil {
			return err
		}
		p := obj.Key
		if obj.IsDir {
			if toLocal && s.selected(strings.TrimSuffix(p, "/")) {
				l.dirs = append(l.dirs, p)
			}
			continue
		}
		if !s.selected(p) {
			continue
		}
		if toLocal && strings.HasSuffix(p, "/") {
			l.skipped = append(l.skipped, SyncItem{Path: p, Size: obj.Size, Reason: "key ends in / but is not an empty directory marker"})
			continue
		}
		l.files[p] = syncFile{size: obj.Size, mtime: obj.LastModified, etag: obj.ETag}
	}
	return nil
}

func (s *syncer) listLocal(ctx context.Context, sd *syncSide, isSrc bool, l *syncListing) error {
	// Begin the walk at the deepest directory every included path is in,
	// unless a symbolic link leads there, which the walk from the top
	// would not follow.
	start := "."
	if i := strings.LastIndexByte(s.prefix, '/'); i > 0 && fs.ValidPath(s.prefix[:i]) {
		elems := strings.Split(s.prefix[:i], "/")
		start = path.Join(elems...)
		for i := range elems {
			st, err := sd.root.Lstat(filepath.Join(elems[:i+1]...))
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err == nil && st.Mode()&fs.ModeSymlink != 0 {
				start = "."
				break
			}
		}
	}
	err := fs.WalkDir(sd.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && d == nil && errors.Is(err, fs.ErrNotExist) {
				return nil // nothing under the prefix
			}
			l.failed = append(l.failed, s.itemErr(p, "list", err, false))
			l.incomplete = true
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || isDownloadTemp(d.Name()) || !s.selected(p) {
			return nil
		}
		skip := func(reason string) {
			if isSrc {
				l.skipped = append(l.skipped, SyncItem{Path: p, Reason: reason})
			} else {
				l.files[p] = syncFile{size: -1}
			}
		}
		var fi fs.FileInfo
		switch t := d.Type(); {
		case t.IsRegular():
			fi, err = d.Info()
		case t&fs.ModeSymlink != 0:
			// Root follows a link only while it stays inside.
			fi, err = sd.root.Stat(filepath.FromSlash(p))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				skip("symbolic link to nothing")
				return nil
			case err != nil && !errors.Is(err, fs.ErrPermission):
				skip("symbolic link leading out of the directory")
				return nil
			case err == nil && fi.IsDir():
				skip("symbolic link to a directory")
				return nil
			}
		}
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist):
			// Gone since the directory was read.
		case err != nil:
			l.failed = append(l.failed, s.itemErr(p, "list", err, false))
			l.incomplete = l.incomplete || isSrc
		case fi == nil || !fi.Mode().IsRegular():
			if isSrc {
				skip("not a regular file")
			}
		default:
			l.files[p] = syncFile{size: fi.Size(), mtime: fi.ModTime()}
		}
		return nil
	})
	if err != nil {
		return wrapErr("Sync", s.bucket.name, "", err)
	}
	return nil
}

// isDownloadTemp reports whether name is the temporary file of a download
// in progress (see downloadTo).
func isDownloadTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") && strings.Contains(name, ".s3kit-")
}
