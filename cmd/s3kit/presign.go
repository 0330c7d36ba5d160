package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) presignCommand() *cobra.Command {
	var (
		put     bool
		expires time.Duration
	)
	cmd := &cobra.Command{
		Use:   "presign [--put] [--expires DUR] s3://bucket/key",
		Short: "Print a presigned URL that reads (or with --put, writes) an object",
		Long: `Print a presigned URL for a GET of the object, or with --put for a PUT of
it. The URL is a bearer credential until it expires (at most 7 days):
share it like a password. Headers a PUT must send go to stderr.

  curl -o report.pdf "$(s3kit presign --expires 15m s3://docs/report.pdf)"
  curl -T file "$(s3kit presign --put s3://inbox/file)"`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			l, err := parseS3(argv[0])
			if err != nil {
				return err
			}
			if l.key == "" {
				return usagef("presign %s: want s3://bucket/key", l)
			}
			b, err := a.bucket(cmd.Context(), l)
			if err != nil {
				return err
			}
			rec := record{Operation: "presign", Source: l.raw}
			presign := b.PresignGet
			if put {
				presign = b.PresignPut
			}
			u, header, err := presign(cmd.Context(), l.key, expires, nil)
			rec.URL = u
			if err == nil && len(header) > 0 {
				h := map[string]string{}
				for k := range header {
					h[k] = header.Get(k)
					if !a.flags.json {
						fmt.Fprintf(a.stderr, "send header: %s: %s\n", k, header.Get(k))
					}
				}
				rec.Info = map[string]any{"headers": h}
			}
			a.rep.done(rec, err, u)
			return nil
		},
	}
	cmd.Flags().BoolVar(&put, "put", false, "presign an upload (PUT) instead of a download")
	cmd.Flags().DurationVar(&expires, "expires", time.Hour, "how long the URL is valid, at most 168h")
	return cmd
}
