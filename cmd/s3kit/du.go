package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
)

func (a *app) duCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "du [s3://bucket[/prefix-or-glob]...]",
		Short: "Count the objects and bytes under prefixes, by storage class",
		Long: `Count the objects and their bytes under each prefix (everything beneath
it) or matching each glob, in all and by storage class; with no argument,
in each bucket.

  s3kit du s3://logs/2025/
  s3kit du

` + globHelp,
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			if len(argv) == 0 {
				c, err := a.clientFor(cmd.Context())
				if err != nil {
					return err
				}
				buckets, err := c.ListBuckets(cmd.Context())
				if err != nil {
					return runError{err}
				}
				for _, b := range buckets {
					argv = append(argv, "s3://"+b.Name)
				}
			}
			var locs []location
			for _, s := range argv {
				l, err := parseS3(s)
				if err != nil {
					return err
				}
				locs = append(locs, l)
			}
			for _, l := range locs {
				items, _, err := a.expand(cmd.Context(), l, !hasWildcard(l.key), &filter{})
				if err != nil {
					a.rep.fail("du", l.raw, err)
					continue
				}
				type usage struct{ count, bytes int64 }
				var total usage
				byClass := map[string]*usage{}
				failed := false
				for it, err := range items {
					if errors.Is(err, errNoMatch) && !hasWildcard(l.key) {
						break // an empty prefix holds nothing, which is an answer
					}
					if err != nil {
						a.rep.fail("du", l.raw, err)
						failed = true
						break
					}
					c := it.class
					if c == "" {
						c = "STANDARD"
					}
					u := byClass[c]
					if u == nil {
						u = &usage{}
						byClass[c] = u
					}
					u.count++
					u.bytes += it.size
					total.count++
					total.bytes += it.size
				}
				if failed {
					continue
				}
				for _, c := range slices.Sorted(maps.Keys(byClass)) {
					u := byClass[c]
					a.rep.done(record{Operation: "du", Source: l.raw, StorageClass: c, Count: u.count, Size: u.bytes}, nil,
						fmt.Sprintf("%10d objects  %14d bytes (%s)  %s  %s", u.count, u.bytes, formatBytes(u.bytes), c, l.raw))
				}
				a.rep.done(record{Operation: "du", Source: l.raw, Count: total.count, Size: total.bytes}, nil,
					fmt.Sprintf("%10d objects  %14d bytes (%s)  total  %s", total.count, total.bytes, formatBytes(total.bytes), l.raw))
			}
			return nil
		},
	}
	return cmd
}
