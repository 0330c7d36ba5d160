package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

func (a *app) syncCommand() *cobra.Command {
	var (
		del, dryRun, sizeOnly, noClobber bool
		checksum                         compareFlag
		maxDelete                        int
		put                              putFlags
		ff                               filterFlags
	)
	cmd := &cobra.Command{
		Use:   "sync [flags] SRC DST",
		Short: "Bring DST up to date with SRC: local to S3, S3 to local, or bucket to bucket",
		Long: `Copy what is missing or different at DST: compared by size and modification
time, with --size-only by size alone, or with --checksum by content. With --delete, also delete what DST has
and SRC lacks (never an excluded path), and only once both listings ended
without error; with --max-delete N, nothing at all if more than N would go.
With --no-clobber, nothing that exists at DST is replaced. SRC and DST are
local directories or s3://bucket[/prefix]. Memory stays flat however many
keys: the listings are compared as they stream. Uploads store each file's
modification time as the metadata mtime, as cp and rclone do; downloads get
the object's LastModified, which the listing carries, so that the next sync
finds them unchanged without a HEAD per object.

  s3kit sync ./site s3://www/ --delete
  s3kit sync s3://backup/photos ./photos --include '**.jpg'

In sync, --checksum is a switch that compares contents, as in rclone and
rsync; the checksum algorithm of the uploads, --checksum ALGO in the other
verbs, is --checksum-algorithm ALGO here (CRC64NVME, CRC32C, CRC32 or none):

  s3kit sync --checksum --checksum-algorithm CRC32C ./site s3://www/

--include and --exclude take globs matched against the whole path relative
to SRC: "*.jpg" matches at the top only, "**.jpg" at any depth. --shard I/N
syncs only the paths whose hash falls in shard I of N, on both sides (one
shard's --delete deletes only its own paths): N machines each running one
shard sync everything between them.

` + globHelp,
		Args: args(func(cmd *cobra.Command, argv []string) error {
			for _, s := range argv {
				if _, ok := checksumAlgorithm(s); ok && len(argv) != 2 && bool(checksum) {
					return usagef("sync: --checksum compares contents and takes no value; the uploads' algorithm is --checksum-algorithm %s", s)
				}
			}
			return cobra.ExactArgs(2)(cmd, argv)
		}),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			src, err := a.syncLocation(ctx, argv[0])
			if err != nil {
				return err
			}
			dst, err := a.syncLocation(ctx, argv[1])
			if err != nil {
				return err
			}
			p, err := put.options()
			if err != nil {
				return err
			}
			for _, pat := range append(append([]string{}, ff.include...), ff.exclude...) {
				if _, err := s3kit.CompileGlob(pat); err != nil {
					return usagef("sync: %v", err)
				}
			}
			if sizeOnly && bool(checksum) {
				return usagef("sync: --size-only and --checksum exclude each other")
			}
			if maxDelete < 0 {
				return usagef("sync: --max-delete %d: want 0 or more", maxDelete)
			}
			opts := &s3kit.SyncOptions{
				Delete:    del,
				MaxDelete: maxDelete,
				NoClobber: noClobber,
				DryRun:    dryRun,
				Checksum:  bool(checksum),
				SizeOnly:  sizeOnly,
				Include:   ff.include,
				Exclude:   ff.exclude,
				Put:       p,
				Progress:  func(p s3kit.SyncProgress) { a.prog.sync(p.Files, p.FilesTotal, p.Done, p.Total) },
				OnItem:    func(ev s3kit.SyncEvent) { a.reportSync(argv[0], argv[1], ev, dryRun) },
			}
			if ff.shard.n > 0 {
				// Applied to both sides: a path of another shard is
				// neither copied nor deleted by this one.
				opts.Filter = ff.shard.has
			}
			if a.flags.concurrency > 0 {
				opts.Concurrency = a.flags.concurrency
			}
			res, err := s3kit.Sync(ctx, src, dst, opts)
			nothing := s3kit.SyncCount{}
			if errors.Is(err, s3kit.ErrInvalid) && res.Copied == nothing && res.Deleted == nothing &&
				res.Skipped == nothing && res.Failed == nothing {
				// Refused before anything was looked at: the arguments
				// (say, a destination inside the source).
				return usagef("sync: %v", err)
			}
			if err != nil && ctx.Err() == nil && (res.Failed.Files == 0 || errors.Is(err, s3kit.ErrTooManyDeletes)) {
				// A failure of the whole sync, not of one path; the
				// refusal of --max-delete is told even when paths failed.
				a.rep.fail("sync", argv[0], err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&del, "delete", false, "delete what DST has and SRC lacks")
	fl.IntVar(&maxDelete, "max-delete", 0, "delete nothing if more than N files would be deleted (0: no bound)")
	fl.BoolVar(&noClobber, "no-clobber", false, "never replace what exists at DST, only create")
	fl.BoolVar(&dryRun, "dry-run", false, "print what would be copied and deleted, and change nothing")
	// This --checksum, a switch, shadows the global one that picks the
	// uploads' checksum algorithm: in sync it means comparing contents,
	// as in rclone and rsync; --checksum-algorithm is the other.
	fl.Var(&checksum, "checksum", "compare contents (checksums) instead of modification times; the uploads'\nalgorithm is --checksum-algorithm")
	fl.Lookup("checksum").NoOptDefVal = "true"
	fl.BoolVar(&sizeOnly, "size-only", false, "compare by size alone, not by modification time")
	put.add(fl)
	ff.add(fl, true)
	return cmd
}

// compareFlag is sync's --checksum: a switch, whose refusal of a value
// points to --checksum-algorithm, the global --checksum it shadows.
type compareFlag bool

func (c *compareFlag) String() string { return strconv.FormatBool(bool(*c)) }
func (c *compareFlag) Type() string   { return "bool" }
func (c *compareFlag) IsBoolFlag() bool {
	return true
}

func (c *compareFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q: sync's --checksum compares contents and takes no value; the uploads' algorithm is --checksum-algorithm %s", s, s)
	}
	*c = compareFlag(v)
	return nil
}

// syncLocation turns a sync argument into a Location: a local directory,
// or the objects under a bucket prefix.
func (a *app) syncLocation(ctx context.Context, s string) (s3kit.Location, error) {
	l, err := parseLocation(s)
	if err != nil {
		return nil, err
	}
	switch {
	case l.std:
		return nil, usagef("sync: - is not a directory")
	case !l.s3:
		return s3kit.LocalDir(l.local), nil
	case hasWildcard(l.key):
		return nil, usagef("sync %s: a prefix, not a glob (use --include)", s)
	}
	b, err := a.bucket(ctx, l)
	if err != nil {
		return nil, err
	}
	if l.key != "" {
		b = b.Prefix(l.key)
	}
	return b, nil
}

// reportSync reports one path a Sync copied, deleted, skipped or failed,
// as Sync reports it (SyncOptions.OnItem, one call at a time).
func (a *app) reportSync(src, dst string, ev s3kit.SyncEvent, dryRun bool) {
	prefix := ""
	if dryRun {
		prefix = "(dry run) "
	}
	it := ev.SyncItem
	switch ev.Op {
	case s3kit.SyncCopied:
		a.rep.done(record{Operation: "copy", Source: join(src, it.Path), Destination: join(dst, it.Path), Size: it.Size, DryRun: dryRun},
			nil, fmt.Sprintf("%scopy %s (%s)", prefix, it.Path, it.Reason))
	case s3kit.SyncDeleted:
		a.rep.done(record{Operation: "delete", Destination: join(dst, it.Path), Size: it.Size, DryRun: dryRun},
			nil, fmt.Sprintf("%sdelete %s", prefix, it.Path))
	case s3kit.SyncSkipped:
		a.rep.done(record{Operation: "skip", Source: join(src, it.Path), Size: it.Size, Info: map[string]string{"reason": it.Reason}},
			nil, fmt.Sprintf("skip %s (%s)", it.Path, it.Reason))
	case s3kit.SyncFailed:
		a.rep.done(record{Operation: "sync", Source: join(src, it.Path)}, ev.Err, "")
	}
}

// join names the path rel under a sync argument.
func join(base, rel string) string {
	if base == "" || base[len(base)-1] == '/' {
		return base + rel
	}
	return base + "/" + rel
}
