package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

func (a *app) rmCommand() *cobra.Command {
	var (
		recursive, dryRun, incomplete bool
		olderThan                     time.Duration
		ff                            filterFlags
	)
	cmd := &cobra.Command{
		Use:   "rm [flags] s3://bucket/key-or-glob...",
		Short: "Delete objects (batched), or abort unfinished multipart uploads",
		Long: `Delete objects: single keys, everything under a prefix with -r, or what a
glob matches, in batches of up to 1000 keys per request.

With --incomplete, abort the unfinished multipart uploads under
s3://bucket[/prefix] instead (those started more than --older-than ago),
whose parts are otherwise stored and billed until aborted.

  s3kit rm s3://logs/old.txt
  s3kit rm -r s3://logs/2023/
  s3kit rm 's3://logs/2024/*.tmp'
  s3kit rm --incomplete --older-than 24h s3://backups

` + globHelp,
		Args:              args(cobra.MinimumNArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			if olderThan != 0 && !incomplete {
				return usagef("--older-than goes with --incomplete")
			}
			var locs []location
			for _, s := range argv {
				l, err := parseS3(s)
				if err != nil {
					return err
				}
				locs = append(locs, l)
			}
			filt, err := ff.compile()
			if err != nil {
				return err
			}
			for _, l := range locs {
				if err := checkSource(l, recursive || incomplete); err != nil {
					return err
				}
			}
			for _, l := range locs {
				if incomplete {
					a.abortUploads(cmd.Context(), l, olderThan, filt, dryRun)
				} else {
					a.remove(cmd.Context(), l, recursive, filt, dryRun)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&recursive, "recursive", "r", false, "delete everything under the prefix")
	fl.BoolVar(&dryRun, "dry-run", false, "print what would be deleted and delete nothing")
	fl.BoolVar(&incomplete, "incomplete", false, "abort unfinished multipart uploads instead of deleting objects")
	fl.DurationVar(&olderThan, "older-than", 0, "with --incomplete, only uploads started more than this long ago, e.g. 24h")
	ff.add(fl, true)
	return cmd
}

// remove deletes the objects l selects, as the listing yields them, in
// batches of MaxDeleteBatch keys, so memory stays flat however many there
// are.
func (a *app) remove(ctx context.Context, l location, recursive bool, filt *filter, dryRun bool) {
	items, _, err := a.expand(ctx, l, recursive, filt)
	if err != nil {
		a.rep.fail("rm", l.raw, err)
		return
	}
	b, err := a.bucket(ctx, l)
	if err != nil {
		a.rep.fail("rm", l.raw, err)
		return
	}
	batch := make([]item, 0, s3kit.MaxDeleteBatch)
	flush := func() {
		if len(batch) > 0 && ctx.Err() == nil {
			a.deleteBatch(ctx, b, batch, dryRun)
		}
		batch = batch[:0]
	}
	for it, err := range items {
		if err != nil {
			a.rep.fail("rm", l.raw, err)
			break
		}
		if batch = append(batch, it); len(batch) == s3kit.MaxDeleteBatch {
			flush()
		}
	}
	flush()
}

// deleteBatch deletes the objects of one batch with one DeleteObjects
// request and reports each.
func (a *app) deleteBatch(ctx context.Context, b *s3kit.Bucket, batch []item, dryRun bool) {
	if dryRun {
		for _, it := range batch {
			a.rep.done(record{Operation: "rm", Source: it.loc.raw, Size: max(it.size, 0), DryRun: true}, nil, "(dry run) rm "+it.loc.raw)
		}
		return
	}
	keys := make([]string, len(batch))
	for i, it := range batch {
		keys[i] = it.loc.key
	}
	res, err := b.DeleteMany(ctx, keys)
	failed := map[string]error{}
	for _, ke := range res.Failed {
		failed[ke.Key] = ke.Err
	}
	if err != nil && len(res.Failed) == 0 {
		// The batch failed as a whole.
		for _, k := range keys {
			failed[k] = err
		}
	}
	for _, it := range batch {
		a.rep.done(record{Operation: "rm", Source: it.loc.raw, Size: max(it.size, 0)}, failed[it.loc.key], "rm "+it.loc.raw)
	}
}

// abortUploads aborts the unfinished multipart uploads under l started
// before olderThan ago.
func (a *app) abortUploads(ctx context.Context, l location, olderThan time.Duration, filt *filter, dryRun bool) {
	if hasWildcard(l.key) {
		a.rep.fail("rm", l.raw, usagef("--incomplete takes a prefix, not a glob"))
		return
	}
	b, err := a.bucket(ctx, l)
	if err != nil {
		a.rep.fail("rm", l.raw, err)
		return
	}
	cutoff := time.Now().Add(-olderThan)
	for u, err := range b.ListUploads(ctx, &s3kit.ListUploadsOptions{Prefix: l.key}) {
		if err != nil {
			a.rep.fail("abort", l.raw, err)
			return
		}
		if olderThan > 0 && !u.Initiated.Before(cutoff) {
			continue
		}
		if !filt.keep(strings.TrimPrefix(u.Key, l.key)) {
			continue
		}
		src := s3URL(l.bucket, u.Key)
		rec := record{Operation: "abort", Source: src, DryRun: dryRun, Info: map[string]any{"upload_id": u.UploadID, "initiated": u.Initiated}}
		if dryRun {
			a.rep.done(rec, nil, fmt.Sprintf("(dry run) abort %s (started %s)", src, u.Initiated.UTC().Format(time.DateTime)))
			continue
		}
		err := b.AbortUpload(ctx, u.Key, u.UploadID)
		if errors.Is(err, context.Canceled) {
			return
		}
		a.rep.done(rec, err, fmt.Sprintf("abort %s (started %s)", src, u.Initiated.UTC().Format(time.DateTime)))
	}
}
