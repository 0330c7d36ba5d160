package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/s3kit/s3kit"
)

// item is one file or object a verb works on.
type item struct {
	loc   location // a single object, a single local file, or "-"
	rel   string   // its path relative to the source argument, slash-separated
	size  int64    // -1 if not known before the transfer
	class string   // storage class, from a listing
}

// errNoMatch is a source that selects nothing: a failure, so that a
// mistyped glob does not pass for success in a script.
var errNoMatch = errors.New("matches nothing")

// expand returns the items of the source argument src as they are listed,
// so that memory stays flat however many there are: one item for a single
// object or file, or those a glob, a -r prefix or a -r directory select,
// filtered by f. dir reports whether src stands for many items (a glob or
// -r), so that its items are named by their relative path at the
// destination. A failure to list ends the sequence; so does errNoMatch
// when a glob or -r finds nothing at all (filters that leave nothing are
// no failure: one shard of a small job may hold nothing). Usage errors
// come back at once, as err.
func (a *app) expand(ctx context.Context, src location, recursive bool, f *filter) (items iter.Seq2[item, error], dir bool, err error) {
	switch {
	case src.std:
		return one(item{loc: src, rel: "-", size: -1}, f), false, nil
	case src.s3:
		return a.expandS3(ctx, src, recursive, f)
	}
	return expandLocal(src, recursive, f)
}

// checkSource refuses, as bad usage, an S3 source that names a prefix
// rather than an object when there is no -r and no glob.
func checkSource(src location, recursive bool) error {
	if src.s3 && !recursive && !hasWildcard(src.key) && (src.key == "" || strings.HasSuffix(src.key, "/")) {
		return usagef("%s: not an object (use -r for everything under it)", src)
	}
	return nil
}

// one is the sequence of the single item it, unless f drops it.
func one(it item, f *filter) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		if it.rel == "-" || f.keep(it.rel) {
			yield(it, nil)
		}
	}
}

func fail(err error) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) { yield(item{}, err) }
}

func (a *app) expandS3(ctx context.Context, src location, recursive bool, f *filter) (iter.Seq2[item, error], bool, error) {
	var opts s3kit.ListOptions
	var base string
	switch {
	case hasWildcard(src.key):
		var err error
		if base, err = globBase(src.key); err != nil {
			return nil, false, usagef("%s: %v", src, err)
		}
		opts = s3kit.ListOptions{Pattern: src.key, FilesOnly: true}
	case recursive:
		base = dirKey(src.key)
		opts = s3kit.ListOptions{Prefix: base, FilesOnly: true}
	default:
		if src.key == "" || strings.HasSuffix(src.key, "/") {
			return nil, false, usagef("%s: not an object (use -r for everything under it)", src)
		}
		return one(item{loc: src, rel: baseName(src.key), size: -1}, f), false, nil
	}
	b, err := a.bucket(ctx, src)
	if err != nil {
		return fail(err), true, nil
	}
	return func(yield func(item, error) bool) {
		matched := 0
		for obj, err := range b.List(ctx, &opts) {
			if err != nil {
				yield(item{}, err)
				return
			}
			matched++
			rel := strings.TrimPrefix(obj.Key, base)
			if !f.keep(rel) {
				continue
			}
			l := src
			l.key = obj.Key
			l.raw = s3URL(src.bucket, obj.Key)
			if !yield(item{loc: l, rel: rel, size: obj.Size, class: obj.StorageClass}, nil) {
				return
			}
		}
		if matched == 0 {
			yield(item{}, errNoMatch)
		}
	}, true, nil
}

func expandLocal(src location, recursive bool, f *filter) (iter.Seq2[item, error], bool, error) {
	st, err := os.Stat(src.local)
	if err != nil {
		return fail(err), false, nil
	}
	if !st.IsDir() {
		return one(item{loc: src, rel: filepath.Base(src.local), size: st.Size()}, f), false, nil
	}
	if !recursive {
		return fail(fmt.Errorf("%s is a directory (use -r)", src.local)), false, nil
	}
	return func(yield func(item, error) bool) {
		matched := 0
		stopped := false
		err := filepath.WalkDir(src.local, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			fi, err := os.Stat(p) // follows a symbolic link to a file
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(src.local, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			matched++
			if !f.keep(rel) {
				return nil
			}
			if !yield(item{loc: location{raw: p, local: p}, rel: rel, size: fi.Size()}, nil) {
				stopped = true
				return filepath.SkipAll
			}
			return nil
		})
		switch {
		case stopped:
		case err != nil:
			yield(item{}, err)
		case matched == 0:
			yield(item{}, errNoMatch)
		}
	}, true, nil
}

// forEach runs fn on every value of seq, jobs at a time, and returns when
// all are done. After ctx ends no new value is taken.
func forEach[T any](ctx context.Context, jobs int, seq iter.Seq[T], fn func(T)) {
	next := make(chan T)
	done := make(chan struct{})
	for range jobs {
		go func() {
			defer func() { done <- struct{}{} }()
			for v := range next {
				fn(v)
			}
		}()
	}
	for v := range seq {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- v:
		case <-ctx.Done():
		}
	}
	close(next)
	for range jobs {
		<-done
	}
}
