package main

import (
	"context"
	"fmt"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

func (a *app) lsCommand() *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "ls [-r] [s3://bucket[/prefix-or-glob]]",
		Short: "List buckets, or the objects under a prefix or matching a glob",
		Long: `List the buckets (no argument), the entries under a prefix (one level,
or everything with -r), or the objects matching a glob.

  s3kit ls
  s3kit ls s3://logs/2025/
  s3kit ls -r s3://logs/
  s3kit ls 's3://logs/**.gz'

` + globHelp,
		Args:              args(cobra.MaximumNArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			if len(argv) == 0 {
				return a.listBuckets(cmd.Context())
			}
			l, err := parseS3(argv[0])
			if err != nil {
				return err
			}
			return a.list(cmd.Context(), l, recursive)
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list everything under the prefix, not one level")
	return cmd
}

func (a *app) listBuckets(ctx context.Context) error {
	c, err := a.clientFor(ctx)
	if err != nil {
		return err
	}
	buckets, err := c.ListBuckets(ctx)
	if err != nil {
		return runError{err}
	}
	for _, b := range buckets {
		created := b.Created
		a.rep.done(record{Operation: "ls", Source: "s3://" + b.Name, Dir: true, Modified: &created},
			nil, fmt.Sprintf("%s  s3://%s", created.UTC().Format(time.DateTime), b.Name))
	}
	return nil
}

func (a *app) list(ctx context.Context, l location, recursive bool) error {
	b, err := a.bucket(ctx, l)
	if err != nil {
		return err
	}
	opts := &s3kit.ListOptions{Prefix: l.key}
	glob := hasWildcard(l.key)
	switch {
	case glob:
		opts = &s3kit.ListOptions{Pattern: l.key}
	case !recursive:
		opts.Delimiter = "/"
	}
	n := 0
	for obj, err := range b.List(ctx, opts) {
		if err != nil {
			a.rep.fail("ls", l.raw, err)
			return nil
		}
		n++
		rec := record{Operation: "ls", Source: s3URL(l.bucket, obj.Key), Size: obj.Size, Dir: obj.IsDir,
			StorageClass: obj.StorageClass, ETag: obj.ETag}
		var text string
		if obj.IsDir {
			text = fmt.Sprintf("%19s  %12s  %s", "", "DIR", obj.Key)
		} else {
			mod := obj.LastModified
			rec.Modified = &mod
			text = fmt.Sprintf("%s  %12d  %s", mod.UTC().Format(time.DateTime), obj.Size, obj.Key)
		}
		a.rep.done(rec, nil, text)
	}
	if n == 0 && glob {
		a.rep.fail("ls", l.raw, errNoMatch)
	}
	return nil
}
