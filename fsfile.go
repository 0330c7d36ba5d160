package s3kit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// File is a file or directory of an [FS]: a file opened for reading by
// [FS.Open], a directory, or a file opened for writing by [FS.OpenFile] or
// [FS.Create].
//
// A file opened for reading reads through a [Reader]: it is seekable, has
// ReadAt and WriteTo, and is pinned to the object seen at open.
//
// A file opened for writing is one of two kinds:
//
//   - Streamed: opened write-only (O_WRONLY) and truncated (O_TRUNC, as
//     [FS.Create] does) or new. Its bytes go to a [Writer] as they are
//     written, in parallel parts within the Client's memory budget, so a
//     file of any size takes bounded memory. It cannot seek (except to
//     where it is) nor Sync; the object appears on Close.
//   - Spooled: opened O_RDWR, or O_WRONLY on an existing object without
//     O_TRUNC (to overwrite some bytes, or append with O_APPEND). It is
//     readable, writable and seekable. The object's content is fetched
//     only when it is needed (a read, a write, a Truncate to a non-zero
//     size), into memory up to the Client's part size and into an unlinked
//     temporary file beyond it. Close and Sync upload the whole content,
//     and only if it changed.
//
// A write whose result depends on the object seen at open is conditional
// on it: if the object existed, the upload carries If-Match with its ETag;
// if it did not (O_EXCL, or an open without O_TRUNC that found nothing),
// If-None-Match "*". If another writer changed the object meanwhile, Sync
// or Close fails with ErrPreconditionFailed (ErrExist too for a file that
// was new) and the other writer's object stays. A truncating create (the
// flags of Create, without O_EXCL) replaces whatever is there, as
// os.Create does. A file opened on an existing object without O_TRUNC
// keeps, through every upload, the object's content type, cache control,
// content disposition, encoding and language, user metadata, storage
// class, encryption and tags; with O_TRUNC the new object gets defaults,
// as from WriteFile.
//
// Close returns nil only once the bytes are in the bucket. If the upload of
// a spooled file fails, Close returns the error and the File stays open
// with its content: read it back (Seek to 0 and Read, or WriteTo) to save
// it elsewhere, call Close again to retry, or Discard to drop it. A
// streamed file has no copy of its bytes: when its Close fails, nothing
// was written and the caller must write again from its own source.
type File struct {
	fsys *FS
	name string
	info *fileInfo // at open
	r    *Reader   // a file opened for reading
	dir  *dirList  // a directory
	w    *fileWriter
	done bool // closed
}

// fileWriter is the state of a File opened for writing.
type fileWriter struct {
	flag   int
	key    string      // relative to the FS's handle
	base   ObjectInfo  // the object seen at open; ETag "" if there was none
	cond   bool        // the upload is conditional on base
	trunc  bool        // the content does not derive from base's
	keep   *PutOptions // what every upload keeps of the old object; nil until the first
	stream *Writer     // a streamed file
	spool  *spool      // a spooled file
	loaded bool        // spool holds base's content (or it is not needed)
	size   int64
	pos    int64
	dirty  bool
	mtime  time.Time
}

// Name returns the name the file was opened with.
func (f *File) Name() string { return f.name }

func (f *File) fail(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == f.name {
		return err
	}
	return pathErr(op, f.name, err)
}

// Stat returns the file's information: as seen at open for a file opened
// for reading or a directory, with the current size for a file opened for
// writing.
func (f *File) Stat() (fs.FileInfo, error) {
	if f.done {
		return nil, f.fail("stat", fs.ErrClosed)
	}
	if f.w == nil {
		return f.info, nil
	}
	obj := f.w.base
	obj.Key, obj.Size, obj.IsDir = f.w.key, f.w.size, false
	if f.w.stream != nil {
		obj.Size = f.w.pos
	}
	if f.w.dirty || obj.LastModified.IsZero() {
		obj.LastModified = f.w.mtime
	}
	return fileInfoOf(f.name, obj), nil
}

// Read reads from the file.
func (f *File) Read(p []byte) (int, error) {
	if err := f.usable("read", true); err != nil {
		return 0, err
	}
	if f.r != nil {
		n, err := f.r.Read(p)
		if err != nil && err != io.EOF {
			err = f.fail("read", err)
		}
		return n, err
	}
	w := f.w
	if err := f.load(); err != nil {
		return 0, f.fail("read", err)
	}
	if w.pos >= w.size {
		return 0, io.EOF
	}
	n, err := w.spool.ReadAt(p[:min(int64(len(p)), w.size-w.pos)], w.pos)
	w.pos += int64(n)
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		err = f.fail("read", err)
	}
	return n, err
}

// ReadAt reads len(p) bytes at offset off. On a file opened for reading it
// is safe for concurrent use.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if err := f.usable("read", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, f.fail("read", invalidf("negative offset %d", off))
	}
	if f.r != nil {
		n, err := f.r.ReadAt(p, off)
		if err != nil && err != io.EOF {
			err = f.fail("read", err)
		}
		return n, err
	}
	if err := f.load(); err != nil {
		return 0, f.fail("read", err)
	}
	if off >= f.w.size {
		return 0, io.EOF
	}
	n, err := f.w.spool.ReadAt(p[:min(int64(len(p)), f.w.size-off)], off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	if err != nil && err != io.EOF {
		err = f.fail("read", err)
	}
	return n, err
}

// WriteTo writes the rest of the file to w; a file opened for reading
// fetches ranges in parallel, as [Reader.WriteTo] does.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	if err := f.usable("read", true); err != nil {
		return 0, err
	}
	if f.r != nil {
		n, err := f.r.WriteTo(w)
		if err != nil {
			err = f.fail("read", err)
		}
		return n, err
	}
	if err := f.load(); err != nil {
		return 0, f.fail("read", err)
	}
	fw := f.w
	if fw.pos >= fw.size {
		return 0, nil
	}
	n, err := io.Copy(w, io.NewSectionReader(fw.spool, fw.pos, fw.size-fw.pos))
	fw.pos += n
	if err != nil {
		err = f.fail("read", err)
	}
	return n, err
}

// Seek sets the offset of the next Read or Write. A streamed file can
// only "seek" to where it is.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if f.done {
		return 0, f.fail("seek", fs.ErrClosed)
	}
	switch {
	case f.r != nil:
		n, err := f.r.Seek(offset, whence)
		if err != nil {
			err = f.fail("seek", err)
		}
		return n, err
	case f.dir != nil:
		return 0, f.fail("seek", errIsDir)
	}
	w := f.w
	size := w.size
	if w.stream != nil {
		size = w.pos
	}
	abs, err := seekTo(offset, whence, w.pos, size)
	if err != nil {
		return 0, f.fail("seek", err)
	}
	if w.stream != nil && abs != w.pos {
		return 0, f.fail("seek", fmt.Errorf("%w: a file opened write-only and truncated streams its bytes to the store; open it O_RDWR to seek", errors.ErrUnsupported))
	}
	w.pos = abs
	return abs, nil
}

// Write writes p at the file's offset (at its end with O_APPEND).
func (f *File) Write(p []byte) (int, error) {
	if err := f.usable("write", false); err != nil {
		return 0, err
	}
	w := f.w
	if w.stream != nil {
		n, err := w.stream.Write(p)
		w.pos += int64(n)
		w.mtime = time.Now()
		if err != nil {
			err = f.fail("write", err)
		}
		return n, err
	}
	if err := f.load(); err != nil {
		return 0, f.fail("write", err)
	}
	if w.flag&os.O_APPEND != 0 {
		w.pos = w.size
	}
	n, err := f.writeAt(p, w.pos)
	w.pos += int64(n)
	return n, err
}

// WriteAt writes p at offset off of a spooled file, growing it (with
// zeros between its end and off) if needed. Files opened with O_APPEND
// refuse it, as os.File does.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if err := f.usable("write", false); err != nil {
		return 0, err
	}
	w := f.w
	switch {
	case w.stream != nil && off == w.pos:
		return f.Write(p)
	case w.stream != nil:
		return 0, f.fail("write", fmt.Errorf("%w: a file opened write-only and truncated streams its bytes; open it O_RDWR to write at an offset", errors.ErrUnsupported))
	case w.flag&os.O_APPEND != 0:
		return 0, f.fail("write", invalidf("WriteAt on a file opened with O_APPEND"))
	case off < 0:
		return 0, f.fail("write", invalidf("negative offset %d", off))
	}
	if err := f.load(); err != nil {
		return 0, f.fail("write", err)
	}
	return f.writeAt(p, off)
}

func (f *File) writeAt(p []byte, off int64) (int, error) {
	w := f.w
	n, err := w.spool.WriteAt(p, off)
	if n > 0 {
		w.size = max(w.size, off+int64(n))
		w.dirty, w.mtime = true, time.Now()
	}
	if err != nil {
		err = f.fail("write", err)
	}
	return n, err
}

// WriteString is Write of s.
func (f *File) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

// ReadFrom writes everything r holds to the file. A streamed file uploads
// an io.ReaderAt source (such as an *os.File) in parallel parts straight
// from it, as [Writer.ReadFrom] does.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if err := f.usable("write", false); err != nil {
		return 0, err
	}
	if w := f.w; w.stream != nil {
		n, err := w.stream.ReadFrom(r)
		w.pos += n
		w.mtime = time.Now()
		if err != nil {
			err = f.fail("write", err)
		}
		return n, err
	}
	return io.Copy(writeOnly{f}, r)
}

type writeOnly struct{ io.Writer }

// Truncate changes the size of a spooled file. Truncating to 0 never
// fetches the object's content.
func (f *File) Truncate(size int64) error {
	if err := f.usable("truncate", false); err != nil {
		return err
	}
	w := f.w
	switch {
	case w.stream != nil:
		return f.fail("truncate", fmt.Errorf("%w: a file opened write-only and truncated streams its bytes; open it O_RDWR to truncate", errors.ErrUnsupported))
	case size < 0:
		return f.fail("truncate", invalidf("negative size %d", size))
	}
	if size == 0 {
		w.loaded = true
	} else if err := f.load(); err != nil {
		return f.fail("truncate", err)
	}
	if err := w.spool.Truncate(size); err != nil {
		return f.fail("truncate", err)
	}
	w.size = size
	w.dirty, w.mtime = true, time.Now()
	return nil
}

// Sync uploads the content of a spooled file if it changed since it was
// opened or last synced; the object is replaced at once, as by Close, and
// later Syncs are conditional on the object this one wrote. It does
// nothing for a file opened for reading or a directory, and a streamed
// file cannot Sync (errors.ErrUnsupported): its object appears on Close.
func (f *File) Sync() error {
	if f.done {
		return f.fail("sync", fs.ErrClosed)
	}
	if f.w == nil {
		return nil
	}
	if f.w.stream != nil {
		return f.fail("sync", fmt.Errorf("%w: a file opened write-only and truncated streams its bytes; its object is written on Close", errors.ErrUnsupported))
	}
	if err := f.upload(); err != nil {
		return f.fail("sync", err)
	}
	return nil
}

// Close closes the file. For a file opened for writing, it writes the
// object and returns nil only if it is in the bucket; see [File] for what
// is left when it fails.
func (f *File) Close() error {
	if f.done {
		return f.fail("close", fs.ErrClosed)
	}
	switch {
	case f.r != nil:
		f.done = true
		return f.r.Close()
	case f.dir != nil:
		f.done = true
		f.dir.close()
		return nil
	case f.w.stream != nil:
		f.done = true
		if err := f.w.stream.Close(); err != nil {
			return f.fail("close", err)
		}
		return nil
	}
	if err := f.upload(); err != nil {
		return f.fail("close", err)
	}
	f.done = true
	return f.w.spool.Close()
}

// Discard closes the file without writing anything: a streamed file's
// upload is aborted and a spooled file's changes are dropped. The object
// in the bucket stays as it was. For a file opened for reading or a
// directory it is Close.
func (f *File) Discard() error {
	if f.done {
		return f.fail("close", fs.ErrClosed)
	}
	if f.w == nil {
		return f.Close()
	}
	f.done = true
	if f.w.stream != nil {
		if err := f.w.stream.Abort(); err != nil {
			return f.fail("close", err)
		}
		return nil
	}
	return f.w.spool.Close()
}

// ReadDir reads the entries of a directory, as fs.ReadDirFile defines
// it: up to n (all if n <= 0), in the store's order.
func (f *File) ReadDir(n int) ([]fs.DirEntry, error) {
	if f.done {
		return nil, f.fail("readdir", fs.ErrClosed)
	}
	if f.dir == nil {
		return nil, f.fail("readdir", errNotDir)
	}
	return f.dir.read(f.fsys, "readdir", f.name, n)
}

// usable checks that the file is open and can be read (or written).
func (f *File) usable(op string, read bool) error {
	switch {
	case f.done:
		return f.fail(op, fs.ErrClosed)
	case f.dir != nil:
		return f.fail(op, errIsDir)
	case read && f.r != nil:
		return nil
	case f.w == nil:
		return f.fail(op, errBadFileMode)
	case read && (f.w.stream != nil || f.w.flag&(os.O_WRONLY|os.O_RDWR) == os.O_WRONLY):
		return f.fail(op, errBadFileMode)
	}
	return nil
}

// load fetches the object's content into the spool, once, pinned to the
// ETag seen at open: if the object changed since, it fails with
// ErrPreconditionFailed.
func (f *File) load() error {
	w := f.w
	if w.loaded {
		return nil
	}
	if w.base.Size > 0 {
		b := f.fsys.b
		r := b.readerFor(f.fsys.ctx, b.prefix+w.key, w.base, ReaderOptions{})
		_, err := r.WriteTo(io.NewOffsetWriter(w.spool, 0))
		r.Close()
		if err != nil {
			w.spool.Truncate(0)
			return err
		}
	}
	w.loaded = true
	return nil
}

// upload writes the spooled content to the object, if it changed.
func (f *File) upload() error {
	w := f.w
	if !w.dirty {
		return nil
	}
	if err := f.load(); err != nil {
		return err
	}
	b, ctx := f.fsys.b, f.fsys.ctx
	if w.keep == nil {
		// The first upload settles what every later one keeps: the old
		// object's headers if the content derives from it, else defaults.
		w.keep = &PutOptions{}
		if obj := w.base; obj.ETag != "" && !w.trunc {
			tags, err := b.GetTags(ctx, w.key)
			if errors.Is(err, errors.ErrUnsupported) {
				tags, err = nil, nil // a store without tagging
			}
			if err != nil {
				w.keep = nil
				return err
			}
			*w.keep = PutOptions{
				ContentType: obj.ContentType, CacheControl: obj.CacheControl,
				ContentDisposition: obj.ContentDisposition, ContentEncoding: obj.ContentEncoding,
				ContentLanguage: obj.ContentLanguage, Metadata: obj.Metadata, Tags: tags,
				StorageClass: obj.StorageClass, SSE: obj.SSE, SSEKMSKeyID: obj.SSEKMSKeyID,
			}
		}
	}
	opts := *w.keep
	w.condition(&opts)
	info, err := b.Put(ctx, w.key, io.NewSectionReader(w.spool, 0, w.size), &opts)
	if err != nil {
		return err
	}
	w.base = info
	w.base.Size = w.size
	w.cond, w.dirty = true, false
	return nil
}

// condition makes opts conditional on the object seen at open, if the
// write's result depends on it.
func (w *fileWriter) condition(opts *PutOptions) {
	switch {
	case !w.cond:
	case w.base.ETag != "":
		opts.IfMatch = w.base.ETag
	default:
		opts.IfNoneMatch = "*"
	}
}

// spool holds the content of a spooled file: in memory up to limit bytes,
// beyond that in a temporary file, unlinked at once where the system
// allows so that nothing is left behind if the process dies.
type spool struct {
	mem   []byte
	file  *os.File
	size  int64
	limit int64
	// linked is the file's name if it could not be unlinked at once
	// (Windows); Close removes it. Once unlinked, the name may be another
	// file's, which must not be touched.
	linked string
}

func (s *spool) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), s.size-off)
	var n int
	var err error
	if s.file != nil {
		n, err = s.file.ReadAt(p[:want], off)
	} else {
		n = copy(p[:want], s.mem[off:])
	}
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

func (s *spool) WriteAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	end := off + int64(len(p))
	if s.file == nil && end > s.limit {
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
	if s.file != nil {
		n, err := s.file.WriteAt(p, off)
		s.size = max(s.size, off+int64(n))
		return n, err
	}
	if end > int64(len(s.mem)) {
		s.mem = append(s.mem, make([]byte, end-int64(len(s.mem)))...)
	}
	copy(s.mem[off:], p)
	s.size = max(s.size, end)
	return len(p), nil
}

func (s *spool) Truncate(n int64) error {
	if s.file == nil && n > s.limit {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if s.file != nil {
		if err := s.file.Truncate(n); err != nil {
			return err
		}
	} else if n <= int64(len(s.mem)) {
		s.mem = s.mem[:n]
	} else {
		s.mem = append(s.mem, make([]byte, n-int64(len(s.mem)))...)
	}
	s.size = n
	return nil
}

// spill moves the content from memory to a temporary file.
func (s *spool) spill() error {
	tmp, err := os.CreateTemp("", "s3kit-spool-*")
	if err != nil {
		return err
	}
	linked := ""
	if os.Remove(tmp.Name()) != nil {
		linked = tmp.Name()
	}
	if _, err := tmp.Write(s.mem[:s.size]); err != nil {
		tmp.Close()
		if linked != "" {
			os.Remove(linked)
		}
		return err
	}
	s.file, s.mem, s.linked = tmp, nil, linked
	return nil
}

func (s *spool) Close() error {
	s.mem = nil
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if s.linked != "" {
		os.Remove(s.linked)
	}
	s.file, s.linked = nil, ""
	return err
}
