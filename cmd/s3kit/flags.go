package main

import (
	"strings"

	"github.com/s3kit/s3kit"
	"github.com/spf13/pflag"
)

// putFlags are the headers and settings of the objects a verb writes.
type putFlags struct {
	contentType  string
	cacheControl string
	metadata     []string
	tags         []string
	acl          string
	storageClass string
	sse          string
}

func (f *putFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.contentType, "content-type", "", "Content-Type of the objects written (default: by extension)")
	fs.StringVar(&f.cacheControl, "cache-control", "", "Cache-Control of the objects written")
	fs.StringArrayVar(&f.metadata, "metadata", nil, "user metadata `k=v` (repeatable)")
	fs.StringArrayVar(&f.tags, "tags", nil, "tag `k=v` (repeatable)")
	fs.StringVar(&f.acl, "acl", "", "canned ACL, such as private or public-read")
	fs.StringVar(&f.storageClass, "storage-class", "", "storage class, such as STANDARD_IA")
	fs.StringVar(&f.sse, "sse", "", "server-side encryption: AES256, aws:kms or aws:kms:dsse")
}

// options returns the PutOptions the flags give; never nil.
func (f *putFlags) options() (*s3kit.PutOptions, error) {
	meta, err := keyValues("--metadata", f.metadata)
	if err != nil {
		return nil, err
	}
	tags, err := keyValues("--tags", f.tags)
	if err != nil {
		return nil, err
	}
	return &s3kit.PutOptions{
		ContentType:  f.contentType,
		CacheControl: f.cacheControl,
		Metadata:     meta,
		Tags:         tags,
		ACL:          f.acl,
		StorageClass: f.storageClass,
		SSE:          f.sse,
	}, nil
}

// keyValues parses k=v arguments into a map; nil if there are none.
func keyValues(flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("%s %q: want k=v", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// filterFlags select the paths a verb works on.
type filterFlags struct {
	include []string
	exclude []string
	shard   shard
}

func (f *filterFlags) add(fs *pflag.FlagSet, withShard bool) {
	fs.StringArrayVar(&f.include, "include", nil, "only paths matching this glob (repeatable)")
	fs.StringArrayVar(&f.exclude, "exclude", nil, "not the paths matching this glob (repeatable)")
	if withShard {
		fs.Var(&f.shard, "shard", "only the paths whose FNV-1a hash falls in shard I of N")
	}
}

// filter is the compiled filterFlags.
type filter struct {
	include, exclude []*s3kit.Glob
	shard            shard
}

func (f *filterFlags) compile() (*filter, error) {
	c := &filter{shard: f.shard}
	for _, p := range f.include {
		g, err := s3kit.CompileGlob(p)
		if err != nil {
			return nil, usagef("--include: %v", err)
		}
		c.include = append(c.include, g)
	}
	for _, p := range f.exclude {
		g, err := s3kit.CompileGlob(p)
		if err != nil {
			return nil, usagef("--exclude: %v", err)
		}
		c.exclude = append(c.exclude, g)
	}
	return c, nil
}

// keep reports whether the path rel, relative to its source, is selected.
func (f *filter) keep(rel string) bool {
	if len(f.include) > 0 && !matchAny(f.include, rel) {
		return false
	}
	return !matchAny(f.exclude, rel) && f.shard.has(rel)
}

func matchAny(gs []*s3kit.Glob, s string) bool {
	for _, g := range gs {
		if g.Match(s) {
			return true
		}
	}
	return false
}
