package s3kit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// The flags OpenFile knows.
const openFlags = os.O_RDONLY | os.O_WRONLY | os.O_RDWR | os.O_CREATE | os.O_EXCL | os.O_TRUNC | os.O_APPEND

// Create creates or truncates the file name and opens it write-only: its
// bytes stream to the store as they are written and the object appears,
// whole, on Close (see [File]). It is OpenFile(name,
// os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644), unlike os.Create, which opens
// read-write; open with os.O_RDWR to read back or seek. It sends no
// request before Close, so it does not check that name is not a directory:
// a file created over one hides it from the FS (its objects stay in the
// bucket).
func (f *FS) Create(name string) (*File, error) {
	return f.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// OpenFile opens name with the flags of os.OpenFile: os.O_RDONLY,
// os.O_WRONLY or os.O_RDWR, with os.O_CREATE, os.O_EXCL (create-only),
// os.O_TRUNC and os.O_APPEND. Other flags, and flags that contradict each
// other (O_TRUNC or O_APPEND read-only, O_EXCL without O_CREATE) are
// ErrInvalid. perm is ignored: S3 objects have no permission bits.
//
// Opening a file for writing sends one HEAD, unless the flags are those of
// a truncating create (O_CREATE|O_TRUNC without O_EXCL), which sends
// nothing until the upload. See [File] for how writes reach the bucket.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (*File, error) {
	const op = "open"
	acc := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	if err := checkOpenFlags(flag); err != nil {
		return nil, pathErr(op, name, f.b.fail(op, f.b.prefix+name, err))
	}
	if acc == os.O_RDONLY {
		return f.open(op, name)
	}
	key, err := f.check(op, name)
	if err != nil {
		return nil, err
	}
	if name == "." {
		return nil, pathErr(op, name, errIsDir)
	}
	w := &fileWriter{flag: flag, key: key, trunc: flag&os.O_TRUNC != 0}
	if !(flag&os.O_CREATE != 0 && w.trunc && flag&os.O_EXCL == 0) {
		obj, err := f.b.headOnly(f.ctx, op, f.b.prefix+key, "")
		switch {
		case err == nil && flag&os.O_EXCL != 0:
			return nil, pathErr(op, name, f.b.fail(op, f.b.prefix+key, ErrExist))
		case err == nil:
			w.base = obj
		case errors.Is(err, ErrNotExist) && !errors.Is(err, ErrBucketNotExist):
			if dir, lerr := f.hasUnder(op, dirKey(name)); lerr != nil {
				return nil, pathErr(op, name, lerr)
			} else if dir {
				return nil, pathErr(op, name, errIsDir)
			}
			if flag&os.O_CREATE == 0 {
				return nil, pathErr(op, name, err)
			}
		default:
			return nil, pathErr(op, name, err)
		}
		w.cond = true
	}
	// A new or truncated file written front to back needs nothing of the
	// old object: stream it.
	if acc == os.O_WRONLY && (w.trunc || w.base.ETag == "") {
		wo := &WriterOptions{}
		w.condition(&wo.PutOptions)
		if w.stream, err = f.b.NewWriter(f.ctx, key, wo); err != nil {
			return nil, pathErr(op, name, err)
		}
	} else {
		w.spool = &spool{limit: f.b.c.partSize}
		w.loaded = w.trunc || w.base.ETag == ""
		if !w.loaded {
			w.size = w.base.Size
		}
		// Creating a file, or truncating one, is a change even if nothing
		// is written.
		w.dirty = w.trunc || w.base.ETag == ""
	}
	w.mtime = w.base.LastModified
	return &File{fsys: f, name: name, w: w}, nil
}

// checkOpenFlags refuses the flags OpenFile does not take.
func checkOpenFlags(flag int) error {
	acc := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	switch {
	case flag&^openFlags != 0:
		return invalidf("flags %#x are not supported (only O_RDONLY, O_WRONLY, O_RDWR, O_CREATE, O_EXCL, O_TRUNC and O_APPEND)", flag&^openFlags)
	case acc == os.O_RDONLY && flag&(os.O_CREATE|os.O_EXCL|os.O_TRUNC|os.O_APPEND) != 0:
		return invalidf("O_CREATE, O_EXCL, O_TRUNC and O_APPEND need O_WRONLY or O_RDWR")
	case acc != os.O_RDONLY && acc != os.O_WRONLY && acc != os.O_RDWR:
		return invalidf("O_WRONLY and O_RDWR cannot both be set")
	case flag&os.O_EXCL != 0 && flag&os.O_CREATE == 0:
		return invalidf("O_EXCL needs O_CREATE")
	}
	return nil
}

// WriteFile writes data to the file name, replacing any file there, with
// one PUT (a multipart upload above the Client's part size), as
// [Bucket.PutBytes] does: the content type is the one of name's
// extension. perm is ignored. As with Create, nothing checks that name is
// not a directory.
func (f *FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	const op = "writefile"
	key, err := f.check(op, name)
	if err != nil {
		return err
	}
	if name == "." {
		return pathErr(op, name, errIsDir)
	}
	if _, err := f.b.PutBytes(f.ctx, key, data, nil); err != nil {
		return pathErr(op, name, renameOp(err, op))
	}
	return nil
}

// Mkdir creates the directory name as a zero-byte marker object
// "name/". Its parent must exist (fs.ErrNotExist otherwise) and name must
// not (fs.ErrExist, also for an implicit directory). perm is ignored.
func (f *FS) Mkdir(name string, perm fs.FileMode) error {
	const op = "mkdir"
	if _, err := f.check(op, name); err != nil {
		return err
	}
	if _, err := f.stat(op, name); err == nil {
		return pathErr(op, name, f.b.fail(op, f.b.prefix+name, ErrExist))
	} else if !errors.Is(err, ErrNotExist) {
		return err
	}
	if parent := path.Dir(name); parent != "." {
		info, err := f.stat(op, parent)
		if err != nil {
			return err
		}
		if !info.dir {
			return pathErr(op, name, errNotDir)
		}
	}
	if _, err := f.b.PutBytes(f.ctx, dirKey(name), nil, dirMarker); err != nil {
		return pathErr(op, name, renameOp(err, op)) // ErrExist if another Mkdir won
	}
	return nil
}

// dirMarker are the options of a directory marker object.
var dirMarker = &PutOptions{IfNoneMatch: "*", ContentType: "application/x-directory"}

// mkdir puts the marker of the directory name, unless there is one.
func (f *FS) mkdir(op, name string) error {
	_, err := f.b.PutBytes(f.ctx, dirKey(name), nil, dirMarker)
	if err != nil && !errors.Is(err, ErrExist) {
		return pathErr(op, name, renameOp(err, op))
	}
	return nil
}

// MkdirAll creates the directory name and every missing parent, as marker
// objects, so that each stays a directory when what is under it is
// removed. An existing directory is not an error; an existing file on the
// way is. perm is ignored.
func (f *FS) MkdirAll(name string, perm fs.FileMode) error {
	const op = "mkdir"
	if _, err := f.check(op, name); err != nil {
		return err
	}
	if name == "." {
		return nil
	}
	elems := strings.Split(name, "/")
	for i := range elems {
		dir := strings.Join(elems[:i+1], "/")
		info, err := f.stat(op, dir)
		switch {
		case err == nil && info.dir:
			continue
		case err == nil:
			return pathErr(op, dir, errNotDir)
		case !errors.Is(err, ErrNotExist) || errors.Is(err, ErrBucketNotExist):
			return err
		}
		if err := f.mkdir(op, dir); err != nil {
			return err
		}
	}
	return nil
}

// Remove removes the file name, or the directory name if it is empty
// (ErrDirNotEmpty otherwise). A missing name is fs.ErrNotExist.
func (f *FS) Remove(name string) error {
	const op = "remove"
	if _, err := f.check(op, name); err != nil {
		return err
	}
	if name == "." {
		return pathErr(op, name, f.b.fail(op, f.b.prefix, invalidf("cannot remove the root of the FS")))
	}
	info, err := f.stat(op, name)
	if err != nil {
		return err
	}
	key := name
	if info.dir {
		d := &dirList{}
		entries, err := d.read(f, op, name, 1)
		d.close()
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(entries) > 0 {
			return pathErr(op, name, f.b.fail(op, f.b.prefix+dirKey(name), ErrDirNotEmpty))
		}
		key = dirKey(name)
	}
	if err := f.b.Delete(f.ctx, key); err != nil {
		return pathErr(op, name, renameOp(err, op))
	}
	return nil
}

// RemoveAll removes name and everything under it: the file name, the
// marker "name/" and every object whose key begins with "name/". A missing
// name is not an error. Removing the root (".") is refused; use
// [Bucket.DeleteAll] for that. If some objects could not be deleted, the
// error says how many and wraps the first failure.
func (f *FS) RemoveAll(name string) error {
	const op = "removeall"
	if _, err := f.check(op, name); err != nil {
		return err
	}
	if name == "." {
		return pathErr(op, name, f.b.fail(op, f.b.prefix, invalidf("RemoveAll of the root of the FS; use Bucket.DeleteAll")))
	}
	if err := f.b.Delete(f.ctx, name); err != nil {
		return pathErr(op, name, renameOp(err, op))
	}
	if _, err := f.b.Prefix(name).DeleteAll(f.ctx); err != nil {
		return pathErr(op, name, renameOp(err, op))
	}
	return nil
}

// Rename moves the file or directory oldname to newname, by server-side
// copies followed by deletes of the sources. A file replaces a file at
// newname, unless the FS was made with [FS.WithNoClobber]; a directory or
// a file cannot replace a directory (fs.ErrExist), and a directory cannot
// move into itself.
//
// A file moves as by [Bucket.Move], pinned to the ETag Stat saw. A
// directory is listed first and every destination key is checked before
// anything is written. It then moves in batches of up to 1,000 objects:
// each batch is copied (each copy pinned to the ETag the listing saw),
// and at once the sources of that batch's copies are deleted, each on the
// condition that it still has the ETag that was copied. Directory markers
// are made anew at newname last, and their sources deleted.
//
// If a step fails, Rename stops after the batch it was in and returns the
// error, and no object is lost: every object not yet moved is still under
// oldname, and those moved are under newname. newname then exists, so
// Rename cannot be run again to finish; move the rest with
// [Bucket.CopyMany] and [FS.RemoveAll], or [Sync] between the two
// prefixes. An object that changed after the listing is not copied, and
// the error matches ErrPreconditionFailed.
//
// S3 has no rename, and the delete of a source follows its copy. An object
// rewritten at oldname between its copy and that delete is kept, under
// both names, by a store that honours the delete's condition: Rename then
// fails with an error that matches ErrPreconditionFailed and says so. The
// race that remains: a rewrite with the same bytes may keep its ETag and
// is then deleted, its content safe at newname but not any new metadata;
// and a store that ignores the condition deletes the rewritten object,
// whose new content is lost, if it was written within the window between
// its copy and its delete: the time of one batch of a directory, or of
// one request for a file. Conditional deletes are documented by Amazon
// S3; of the stores s3kit is tested with, versitygw honours the condition
// of a single delete (a file's Rename) but not that of a batch (a
// directory's), and MinIO honours neither.
func (f *FS) Rename(oldname, newname string) error {
	const op = "rename"
	if _, err := f.check(op, oldname); err != nil {
		return err
	}
	if _, err := f.check(op, newname); err != nil {
		return err
	}
	if oldname == "." || newname == "." {
		return pathErr(op, oldname, f.b.fail(op, f.b.prefix, invalidf("cannot rename the root of the FS")))
	}
	src, err := f.stat(op, oldname)
	if err != nil {
		return err
	}
	if oldname == newname {
		return nil
	}
	dst, err := f.stat(op, newname)
	switch {
	case err == nil && (dst.dir || src.dir || f.noClobber):
		return pathErr(op, newname, f.b.fail(op, f.b.prefix+newname, ErrExist))
	case err != nil && !errors.Is(err, ErrNotExist):
		return err
	}
	if !src.dir {
		// Pinned to the object Stat saw.
		if err := f.b.Move(f.ctx, oldname, newname, &CopyOptions{IfMatch: src.obj.ETag, NoClobber: f.noClobber}); err != nil {
			return pathErr(op, oldname, renameOp(err, op))
		}
		return nil
	}
	if strings.HasPrefix(newname+"/", oldname+"/") {
		return pathErr(op, newname, f.b.fail(op, f.b.prefix+newname, invalidf("cannot move directory %q into itself", oldname)))
	}
	// Objects are copied; directory markers (some stores cannot copy
	// them) are made anew, last. Every destination key is checked before
	// anything is written.
	var pairs, markers []CopyPair
	var etags, markerETags []string
	for obj, err := range f.b.List(f.ctx, &ListOptions{Prefix: dirKey(oldname)}) {
		if err != nil {
			return pathErr(op, oldname, renameOp(err, op))
		}
		p := CopyPair{Src: obj.Key, Dst: dirKey(newname) + strings.TrimPrefix(obj.Key, dirKey(oldname))}
		if full, err := f.b.key(p.Dst); err != nil {
			return pathErr(op, newname, f.b.fail(op, full, err))
		}
		if obj.IsDir {
			markers, markerETags = append(markers, p), append(markerETags, obj.ETag)
		} else {
			pairs, etags = append(pairs, p), append(etags, obj.ETag)
		}
	}
	// A batch's sources are deleted right after its copies, so that on a
	// store that ignores the delete's condition an object rewritten after
	// its copy is at risk for one batch, not the whole Rename.
	for start := 0; start < len(pairs); start += MaxDeleteBatch {
		end := min(start+MaxDeleteBatch, len(pairs))
		res, err := f.b.copyMany(f.ctx, op, pairs[start:end], etags[start:end], &BatchOptions{Copy: &CopyOptions{NoClobber: f.noClobber}})
		failed := make(map[string]bool, len(res.Failed))
		for _, p := range res.Failed {
			failed[p.Src] = true
		}
		var srcs, tags []string
		for i, p := range pairs[start:end] {
			if !failed[p.Src] {
				srcs, tags = append(srcs, f.b.prefix+p.Src), append(tags, etags[start+i])
			}
		}
		if derr := f.deleteMoved(op, srcs, tags); err == nil {
			err = derr
		}
		if err != nil {
			return pathErr(op, oldname, renameOp(err, op))
		}
	}
	var srcs, tags []string
	for i, m := range markers {
		if err := f.mkdir(op, strings.TrimSuffix(m.Dst, "/")); err != nil {
			if derr := f.deleteMoved(op, srcs, tags); derr != nil {
				err = errors.Join(err, derr)
			}
			return pathErr(op, oldname, renameOp(err, op))
		}
		srcs, tags = append(srcs, f.b.prefix+m.Src), append(tags, markerETags[i])
	}
	if err := f.deleteMoved(op, srcs, tags); err != nil {
		return pathErr(op, oldname, renameOp(err, op))
	}
	return nil
}

// deleteMoved deletes the sources (full keys) that Rename has copied, each
// only while it has the ETag that was copied (tags); the error says how
// many failed and why the first did, naming an object that changed since
// it was copied as kept under both names.
func (f *FS) deleteMoved(op string, full, tags []string) error {
	if len(full) == 0 {
		return nil
	}
	res, err := f.b.deleteKeys(f.ctx, op, full, tags)
	if err == nil {
		return nil
	}
	changed, first := 0, KeyError{}
	for _, ke := range res.Failed {
		if errors.Is(ke.Err, ErrPreconditionFailed) {
			if changed == 0 {
				first = ke
			}
			changed++
		}
	}
	if changed == 0 {
		return err
	}
	return &Error{Op: op, Bucket: f.b.name, Err: fmt.Errorf("%d of %d sources not deleted, %d of them because they changed since they were copied (each is kept under both names), the first changed at %q: %w",
		len(res.Failed), len(full), changed, first.Key, first.Err)}
}
