package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/s3kit/s3kit"
)

// item is one file or object a verb works on.
type item struct {
	loc   location // a single object, a single local file, or "-"
	rel   string   // its path relative to the source argument, slash-separated
	size  int64    // -1 if not known before the transfer
	mtime time.Time
	class string // storage class, from a listing
}

// errNoMatch is a source that selects nothing: a failure, so that a
// mistyped glob does not pass for success in a script.
var errNoMatch = errors.New("matches nothing")

// expand lists the items of the source argument src: one for a single
// object or file, or those a glob, a -r prefix or a -r directory select,
// filtered by f. dir reports whether src stands for many items (a glob or
// -r), so that its items are named by their relative path at the
// destination. A failure to list is returned; so is errNoMatch when a glob
// or -r finds nothing at all (filters that leave nothing are no failure:
// one shard of a small job may hold nothing).
func (a *app) expand(ctx context.Context, src location, recursive bool, f *filter) (items []item, dir bool, err error) {
	switch {
	case src.std:
		return []item{{loc: src, rel: "-", size: -1}}, false, nil
	case src.s3:
		return a.expandS3(ctx, src, recursive, f)
	}
	return expandLocal(src, recursive, f)
}

func (a *app) expandS3(ctx context.Context, src location, recursive bool, f *filter) ([]item, bool, error) {
	b, err := a.bucket(ctx, src)
	if err != nil {
		return nil, false, err
	}
	var opts s3kit.ListOptions
	var base string
	switch {
	case hasWildcard(src.key):
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
		it := item{loc: src, rel: baseName(src.key), size: -1}
		if !f.keep(it.rel) {
			return nil, false, nil
		}
		return []item{it}, false, nil
	}
	var items []item
	matched := 0
	for obj, err := range b.List(ctx, &opts) {
		if err != nil {
			return nil, true, err
		}
		matched++
		rel := strings.TrimPrefix(obj.Key, base)
		if !f.keep(rel) {
			continue
		}
		l := src
		l.key = obj.Key
		l.raw = s3URL(src.bucket, obj.Key)
		items = append(items, item{loc: l, rel: rel, size: obj.Size, mtime: obj.LastModified, class: obj.StorageClass})
	}
	if matched == 0 {
		return nil, true, errNoMatch
	}
	return items, true, nil
}

func expandLocal(src location, recursive bool, f *filter) ([]item, bool, error) {
	st, err := os.Stat(src.local)
	if err != nil {
		return nil, false, err
	}
	if !st.IsDir() {
		it := item{loc: src, rel: filepath.Base(src.local), size: st.Size(), mtime: st.ModTime()}
		if !f.keep(it.rel) {
			return nil, false, nil
		}
		return []item{it}, false, nil
	}
	if !recursive {
		return nil, false, fmt.Errorf("%s is a directory (use -r)", src.local)
	}
	var items []item
	matched := 0
	err = filepath.WalkDir(src.local, func(p string, d fs.DirEntry, err error) error {
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
		items = append(items, item{loc: location{raw: p, local: p}, rel: rel, size: fi.Size(), mtime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, true, err
	}
	if matched == 0 {
		return nil, true, errNoMatch
	}
	return items, true, nil
}

// forEach runs fn on every item, jobs at a time, and returns when all are
// done. After ctx ends no new item is started.
func forEach[T any](ctx context.Context, jobs int, items []T, fn func(T)) {
	next := make(chan T)
	done := make(chan struct{})
	n := min(jobs, len(items))
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			for it := range next {
				fn(it)
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case next <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	for range n {
		<-done
	}
}
