package s3kit

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// syncDelete is a file at the destination that the source lacks.
type syncDelete struct {
	path, etag string
	size       int64
}

// syncSpillAt is how many deletions wait in memory; beyond, they wait in
// a temporary file, so that a million of them cost no memory.
const syncSpillAt = 4096

// syncDeletes collects the deletions of a Sync until the listings have
// ended, in memory up to spillAt, then in a temporary file. With a bound
// (MaxDelete), it stops keeping them once there are more than that, and
// only counts.
type syncDeletes struct {
	bound   int // 0: none
	spillAt int
	n       int          // deletions found
	mem     []syncDelete // the last ones found
	f       *os.File     // the earlier ones, if any
	w       *bufio.Writer
	spilled int
	err     error // the temporary file failed: nothing can be deleted
	held    *syncGauge
}

// add collects d. It is called from the join's goroutine only.
func (ds *syncDeletes) add(d syncDelete) {
	ds.n++
	if ds.err != nil {
		return
	}
	if ds.bound > 0 && ds.n > ds.bound {
		// Nothing will be deleted: keep counting, to say how many.
		ds.held.add(-int64(len(ds.mem)))
		ds.mem = nil
		return
	}
	ds.mem = append(ds.mem, d)
	ds.held.add(1)
	if len(ds.mem) >= ds.spillAt {
		ds.err = ds.spill()
		ds.held.add(-int64(len(ds.mem)))
		ds.mem = ds.mem[:0]
	}
}

// spill appends the deletions in memory to the temporary file, each as
// the lengths and bytes of its path and ETag, and its size.
func (ds *syncDeletes) spill() error {
	if ds.f == nil {
		f, err := os.CreateTemp("", "s3kit-sync-deletes-*")
		if err != nil {
			return err
		}
		ds.f, ds.w = f, bufio.NewWriter(f)
	}
	var num [binary.MaxVarintLen64]byte
	for _, d := range ds.mem {
		for _, s := range []string{d.path, d.etag} {
			ds.w.Write(num[:binary.PutUvarint(num[:], uint64(len(s)))])
			ds.w.WriteString(s)
		}
		ds.w.Write(num[:binary.PutVarint(num[:], d.size)])
	}
	ds.spilled += len(ds.mem)
	return ds.w.Flush()
}

// each calls fn with the deletions collected, in batches of at most n
// fresh slices, and stops when fn returns false.
func (ds *syncDeletes) each(n int, fn func([]syncDelete) bool) error {
	if ds.err != nil {
		return fmt.Errorf("keeping the list of files to delete: %w", ds.err)
	}
	batch := make([]syncDelete, 0, n)
	if ds.f != nil {
		if _, err := ds.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r := bufio.NewReader(ds.f)
		str := func() (string, error) {
			l, err := binary.ReadUvarint(r)
			if err != nil {
				return "", err
			}
			b := make([]byte, l)
			_, err = io.ReadFull(r, b)
			return string(b), err
		}
		for range ds.spilled {
			var d syncDelete
			var err error
			if d.path, err = str(); err == nil {
				if d.etag, err = str(); err == nil {
					d.size, err = binary.ReadVarint(r)
				}
			}
			if err != nil {
				return fmt.Errorf("reading the list of files to delete: %w", noEOF(err))
			}
			batch = append(batch, d)
			if len(batch) == n {
				if !fn(batch) {
					return nil
				}
				batch = make([]syncDelete, 0, n)
			}
		}
	}
	for _, d := range ds.mem {
		batch = append(batch, d)
		if len(batch) == n {
			if !fn(batch) {
				return nil
			}
			batch = make([]syncDelete, 0, n)
		}
	}
	if len(batch) > 0 {
		fn(batch)
	}
	return nil
}

// noEOF turns an end of file inside a record into ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// close removes the temporary file.
func (ds *syncDeletes) close() {
	if ds.f != nil {
		ds.f.Close()
		os.Remove(ds.f.Name())
	}
}
