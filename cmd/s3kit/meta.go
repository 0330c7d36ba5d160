package main

import (
	"github.com/spf13/cobra"
)

func (a *app) metaCommand() *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "meta s3://bucket/key [k=v...] [--clear]",
		Short: "Print, replace or clear the user metadata of an object, in place",
		Long: `With no k=v, print the object's user metadata. With k=v arguments, replace
it with them, in place (a copy of the object onto itself, guarded by its
ETag, that keeps its content headers, storage class and tags). With
--clear, remove it all.

  s3kit meta s3://docs/report.pdf owner=ana reviewed=yes`,
		Args:              args(cobra.MinimumNArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			l, err := parseObject("meta", argv[0])
			if err != nil {
				return err
			}
			meta, err := keyValues("meta", argv[1:])
			if err != nil {
				return err
			}
			if clear && len(meta) > 0 {
				return usagef("meta: --clear takes no k=v")
			}
			b, err := a.bucket(cmd.Context(), l)
			if err != nil {
				return err
			}
			if !clear && len(meta) == 0 {
				info, err := b.Head(cmd.Context(), l.key, nil)
				a.rep.done(record{Operation: "meta", Source: l.raw, Info: info.Metadata}, err, formatKV(info.Metadata))
				return nil
			}
			err = b.SetMetadata(cmd.Context(), l.key, meta)
			a.rep.done(record{Operation: "meta", Destination: l.raw, Info: meta}, err, "")
			return nil
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove all the user metadata")
	return cmd
}
