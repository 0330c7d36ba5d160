package s3kit

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
	"path"
	"slices"
	"strings"
	"time"
)

// FS is a file-system view of the objects under a Bucket handle, made by
// [Bucket.FS]. It implements fs.FS, fs.StatFS, fs.ReadDirFS,
// fs.ReadFileFS, fs.SubFS and fs.GlobFS, so the standard library's
// fs.WalkDir, fs.Glob, http.FileServerFS, template.ParseFS and
// testing/fstest work on a bucket, and it adds the write side of a file
// system: [FS.Create], [FS.OpenFile], [FS.WriteFile], [FS.Mkdir],
// [FS.MkdirAll], [FS.Remove], [FS.RemoveAll] and [FS.Rename].
//
// Names are slash-separated paths relative to the handle, as fs.ValidPath
// defines them ("a/b.txt", never "/a", "a/", "./a" or "a/../b"); anything
// else is a *fs.PathError wrapping ErrInvalid (and so fs.ErrInvalid).
// Objects whose keys are not such paths ("a//b", "a/./b", "/a") are not
// visible through an FS; use the Bucket for them.
//
// A directory is a key prefix: "docs" is a directory while any object's
// key begins with "docs/", whether that is a zero-byte marker object
// "docs/" (explicit, as Mkdir makes) or not (implicit). Either way it is
// listed once. An implicit directory exists only while something is under
// it: removing its last file removes it. If a key is both an object and a
// prefix ("a" and "a/b"), the FS shows the file; the objects under it stay
// reachable by their full names.
//
// File information: Size and ModTime (the object's LastModified, to the
// second) of files; directories have mode fs.ModeDir|0o755 and a zero
// ModTime; files have mode 0o644 whatever perm they were created with,
// since S3 has no permissions per object. Sys returns the ObjectInfo the
// FS saw: from the listing in ReadDir entries, from a HEAD in Stat.
//
// Every error is a *fs.PathError. Where a request failed or a name or
// option was refused, its Err is the *Error, so errors.Is(err,
// fs.ErrNotExist) and errors.As(err, **Error) both work; a name of the
// wrong kind (ReadDir of a file, ReadFile of a directory) and a closed
// file (fs.ErrClosed) are errors of their own.
//
// Glob follows fs.Glob, but where a listing fails it returns the error
// rather than fewer names.
//
// All requests of an FS and of the files it opens use the context it was
// made with. An FS is safe for concurrent use; a File is not, except
// ReadAt of a file opened for reading.
//
// http.FileServerFS(b.FS(ctx)) serves the objects with Range requests,
// Last-Modified and If-Modified-Since; to answer If-None-Match as well,
// set the ETag header from Stat().Sys().(ObjectInfo).ETag and serve with
// http.ServeContent.
type FS struct {
	b         *Bucket
	ctx       context.Context
	noClobber bool // Rename never replaces a file
}

// FS returns the file-system view of the objects under the handle. Every
// request of the view and of its files uses ctx.
func (b *Bucket) FS(ctx context.Context) *FS {
	return &FS{b: b, ctx: ctx}
}

// WithNoClobber returns a view of the same objects whose Rename never
// replaces a file: a newname that exists is fs.ErrExist, and the objects
// of a directory are copied with CopyOptions.NoClobber, so that one
// written at its destination meanwhile is kept and its source is not
// deleted (on the stores that honour the create-only header of a copy;
// see there). It sends no request, and FSs made from it with Sub keep the
// setting.
func (f *FS) WithNoClobber() *FS {
	nf := *f
	nf.noClobber = true
	return &nf
}

// Bucket returns the handle the FS views.
func (f *FS) Bucket() *Bucket { return f.b }

var (
	errIsDir       = errors.New("is a directory")
	errNotDir      = errors.New("not a directory")
	errBadFileMode = errors.New("file not open for this")
)

// pathErr returns err as the *fs.PathError of op on name.
func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// check reports whether name is a valid name for op, and returns its key.
func (f *FS) check(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", pathErr(op, name, f.b.fail(op, f.b.prefix+name, invalidf("%q is not a valid path: names are slash-separated, without a leading or trailing slash, empty, \".\" or \"..\" elements", name)))
	}
	if name == "." {
		return "", nil
	}
	full, err := f.b.key(name)
	if err != nil {
		return "", pathErr(op, name, f.b.fail(op, full, err))
	}
	return name, nil
}

// dirKey returns the key prefix of the directory name ("" for the root).
func dirKey(name string) string {
	if name == "." || name == "" {
		return ""
	}
	return name + "/"
}

// fileInfo is both the fs.FileInfo and the fs.DirEntry of a file or a
// directory.
type fileInfo struct {
	name string
	dir  bool
	obj  ObjectInfo
}

func fileInfoOf(name string, obj ObjectInfo) *fileInfo {
	return &fileInfo{name: path.Base(name), obj: obj}
}

func dirInfoOf(name string) *fileInfo {
	return &fileInfo{name: path.Base(name), dir: true, obj: ObjectInfo{Key: dirKey(name), IsDir: true}}
}

func (i *fileInfo) Name() string { return i.name }
func (i *fileInfo) IsDir() bool  { return i.dir }
func (i *fileInfo) Sys() any     { return i.obj }

func (i *fileInfo) Size() int64 {
	if i.dir {
		return 0
	}
	return i.obj.Size
}

func (i *fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

func (i *fileInfo) ModTime() time.Time {
	if i.dir || i.obj.LastModified.IsZero() {
		return time.Time{}
	}
	// A listing reports milliseconds, a HEAD whole seconds: keep what both
	// agree on.
	return i.obj.LastModified.UTC().Truncate(time.Second)
}

func (i *fileInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i *fileInfo) Info() (fs.FileInfo, error) { return i, nil }
func (i *fileInfo) String() string             { return fs.FormatFileInfo(i) }

// stat returns what name is: a file, a directory, or an error wrapping
// ErrNotExist.
func (f *FS) stat(op, name string) (*fileInfo, error) {
	key, err := f.check(op, name)
	if err != nil {
		return nil, err
	}
	if name == "." {
		if _, err := f.hasUnder(op, ""); err != nil {
			return nil, pathErr(op, name, err)
		}
		return dirInfoOf("."), nil
	}
	obj, err := f.b.headOnly(f.ctx, op, f.b.prefix+key, "")
	if err == nil {
		return fileInfoOf(name, obj), nil
	}
	if !errors.Is(err, ErrNotExist) || errors.Is(err, ErrBucketNotExist) {
		return nil, pathErr(op, name, err)
	}
	dir, lerr := f.hasUnder(op, dirKey(name))
	if lerr != nil {
		return nil, pathErr(op, name, lerr)
	}
	if !dir {
		return nil, pathErr(op, name, err)
	}
	return dirInfoOf(name), nil
}

// hasUnder reports whether any object's key begins with prefix (relative
// to the handle), a directory marker included.
func (f *FS) hasUnder(op, prefix string) (bool, error) {
	for _, err := range f.b.List(f.ctx, &ListOptions{Prefix: prefix, PageSize: 1}) {
		if err != nil {
			return false, renameOp(err, op)
		}
		return true, nil
	}
	return false, nil
}

// Stat returns the file information of name.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	info, err := f.stat("stat", name)
	if err != nil {
		return nil, err
	}
	return info, nil
}

// Open opens name for reading. A file is read through a [Reader]
// (seekable, with ReadAt, prefetching ranges in parallel) and is pinned to
// the object seen at Open; a directory lists its entries as they are
// read. The result is a *File.
func (f *FS) Open(name string) (fs.File, error) {
	file, err := f.open("open", name)
	if err != nil {
		return nil, err
	}
	return file, nil
}

func (f *FS) open(op, name string) (*File, error) {
	info, err := f.stat(op, name)
	if err != nil {
		return nil, err
	}
	if info.dir {
		return &File{fsys: f, name: name, info: info, dir: &dirList{}}, nil
	}
	r := f.b.readerFor(f.ctx, f.b.prefix+name, info.obj, ReaderOptions{})
	return &File{fsys: f, name: name, info: info, r: r}, nil
}

// ReadFile returns the content of the file name, verified against its
// checksum as GetBytes does.
func (f *FS) ReadFile(name string) ([]byte, error) {
	const op = "readfile"
	key, err := f.check(op, name)
	if err != nil {
		return nil, err
	}
	if name == "." {
		return nil, pathErr(op, name, errIsDir)
	}
	data, _, err := f.b.GetBytes(f.ctx, key)
	if err == nil {
		return data, nil
	}
	if errors.Is(err, ErrNotExist) {
		if dir, lerr := f.hasUnder(op, dirKey(name)); lerr == nil && dir {
			return nil, pathErr(op, name, errIsDir)
		}
	}
	return nil, pathErr(op, name, renameOp(err, op))
}

// ReadDir returns the entries of the directory name, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	const op = "readdir"
	if _, err := f.check(op, name); err != nil {
		return nil, err
	}
	d := &dirList{}
	entries, err := d.read(f, op, name, -1)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 && name != "." {
		// No entries: an empty directory (only its marker), a file, or
		// nothing.
		info, err := f.stat(op, name)
		if err != nil {
			return nil, err
		}
		if !info.dir {
			return nil, pathErr(op, name, errNotDir)
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// dirList is the listing state of an open directory.
type dirList struct {
	next  func() (ObjectInfo, error, bool)
	stop  func()
	files map[string]bool // file names listed, to drop a prefix of the same name
	done  bool
	err   error
}

// read returns up to n (all if n <= 0) more entries of the directory
// name, in the store's order.
func (d *dirList) read(f *FS, op, name string, n int) ([]fs.DirEntry, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.next == nil && !d.done {
		prefix := dirKey(name)
		d.next, d.stop = iter.Pull2(f.b.List(f.ctx, &ListOptions{Prefix: prefix, Delimiter: "/"}))
		d.files = map[string]bool{}
	}
	var out []fs.DirEntry
	for !d.done && (n <= 0 || len(out) < n) {
		obj, err, ok := d.next()
		if !ok {
			d.close()
			break
		}
		if err != nil {
			d.close()
			d.err = pathErr(op, name, renameOp(err, op))
			return out, d.err
		}
		entry := strings.TrimPrefix(obj.Key, dirKey(name))
		if obj.IsDir {
			entry = strings.TrimSuffix(entry, "/")
		}
		if entry == "" || entry == "." || entry == ".." || strings.Contains(entry, "/") || d.files[entry] && obj.IsDir {
			continue // not a valid path element, or a directory behind a file
		}
		full := path.Join(name, entry)
		if obj.IsDir {
			out = append(out, dirInfoOf(full))
		} else {
			d.files[entry] = true
			out = append(out, fileInfoOf(full, obj))
		}
	}
	if n > 0 && len(out) == 0 && d.done {
		return nil, io.EOF
	}
	return out, nil
}

func (d *dirList) close() {
	if d.stop != nil {
		d.stop()
	}
	d.next, d.stop, d.done, d.files = nil, nil, true, nil
}

// Sub returns the FS of the directory dir, as the handle b.Prefix(dir)
// would give. dir need not exist yet.
func (f *FS) Sub(dir string) (fs.FS, error) {
	if _, err := f.check("sub", dir); err != nil {
		return nil, err
	}
	if dir == "." {
		return f, nil
	}
	return &FS{b: f.b.Prefix(dir), ctx: f.ctx, noClobber: f.noClobber}, nil
}

// Glob returns the names of all files and directories matching pattern,
// sorted, with path.Match's syntax, as fs.Glob does. Each directory level
// is listed once, narrowed on the server to the literal text before the
// first wildcard of that level's pattern.
func (f *FS) Glob(pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, err
	}
	m, err := f.glob(pattern)
	if err != nil {
		return nil, err
	}
	slices.Sort(m)
	return slices.Compact(m), nil
}

func (f *FS) glob(pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		if !fs.ValidPath(pattern) {
			return nil, nil
		}
		if _, err := f.stat("glob", pattern); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return nil, err
		}
		return []string{pattern}, nil
	}
	dir, file := path.Split(pattern)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	if !hasMeta(dir) {
		return f.globDir(dir, file)
	}
	dirs, err := f.glob(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dirs {
		m, err := f.globDir(d, file)
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

// globDir returns the entries of dir matching pat, listing only those
// beginning with pat's literal prefix.
func (f *FS) globDir(dir, pat string) ([]string, error) {
	if !fs.ValidPath(dir) {
		return nil, nil
	}
	if !hasMeta(pat) {
		if pat == "" || pat == "." || pat == ".." {
			return nil, nil // no entry has such a name
		}
		return f.glob(path.Join(dir, pat))
	}
	lit := pat[:strings.IndexAny(pat, `*?[\`)]
	var out []string
	prefix := dirKey(dir)
	files := map[string]bool{}
	for obj, err := range f.b.List(f.ctx, &ListOptions{Prefix: prefix + lit, Delimiter: "/"}) {
		if err != nil {
			if errors.Is(err, ErrBucketNotExist) {
				return nil, pathErr("glob", dir, err)
			}
			return nil, pathErr("glob", dir, renameOp(err, "glob"))
		}
		entry := strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/")
		if entry == "" || entry == "." || entry == ".." || strings.Contains(entry, "/") || obj.IsDir && files[entry] {
			continue
		}
		if !obj.IsDir {
			files[entry] = true
		}
		if ok, _ := path.Match(pat, entry); ok {
			out = append(out, path.Join(dir, entry))
		}
	}
	return out, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }
