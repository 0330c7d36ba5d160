package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) tagCommand() *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "tag s3://bucket/key [k=v...] [--clear]",
		Short: "Print, replace or clear the tags of an object",
		Long: `With no k=v, print the object's tags. With k=v arguments, replace its tags
with them. With --clear, remove them all.

  s3kit tag s3://docs/report.pdf team=finance year=2025
  s3kit tag s3://docs/report.pdf`,
		Args:              args(cobra.MinimumNArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			l, err := parseObject("tag", argv[0])
			if err != nil {
				return err
			}
			tags, err := keyValues("tag", argv[1:])
			if err != nil {
				return err
			}
			if clear && len(tags) > 0 {
				return usagef("tag: --clear takes no k=v")
			}
			b, err := a.bucket(cmd.Context(), l)
			if err != nil {
				return err
			}
			if !clear && len(tags) == 0 {
				got, err := b.GetTags(cmd.Context(), l.key)
				a.rep.done(record{Operation: "tag", Source: l.raw, Tags: got}, err, formatKV(got))
				return nil
			}
			if clear {
				tags = map[string]string{}
			}
			err = b.SetTags(cmd.Context(), l.key, tags)
			a.rep.done(record{Operation: "tag", Destination: l.raw, Tags: tags}, err, "")
			return nil
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove all the tags")
	return cmd
}

// formatKV prints a map as sorted k=v lines.
func formatKV(m map[string]string) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		lines = append(lines, fmt.Sprintf("%s=%s", k, m[k]))
	}
	return strings.Join(lines, "\n")
}
