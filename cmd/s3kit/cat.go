package main

import (
	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

func (a *app) catCommand() *cobra.Command {
	var offset, length byteSize
	cmd := &cobra.Command{
		Use:   "cat [--offset N] [--length N] s3://bucket/key",
		Short: "Write an object to stdout, fetched in parallel ranges, in order",
		Long: `Write an object, or the bytes [offset, offset+length) of it, to stdout. Ranges
are fetched in parallel ahead of the output; a whole object is verified
against its checksum at the end.

  s3kit cat s3://logs/app.log | grep ERROR
  s3kit cat --offset 1MiB --length 4KiB s3://data/blob`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			l, err := parseObject("cat", argv[0])
			if err != nil {
				return err
			}
			a.rep.takeStdout()
			t := a.prog.begin(l.key, 0)
			err = a.downloadStream(cmd.Context(), l, &s3kit.ReaderOptions{Offset: int64(offset), Length: int64(length)}, t)
			t.end()
			a.rep.done(record{Operation: "cat", Source: l.raw}, err, "")
			return nil
		},
	}
	cmd.Flags().Var(&offset, "offset", "first byte to write, e.g. 1MiB")
	cmd.Flags().Var(&length, "length", "how many bytes to write (default: to the end)")
	return cmd
}
