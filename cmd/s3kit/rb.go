package main

import (
	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

func (a *app) rbCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rb [--force] s3://bucket...",
		Short: "Remove buckets; with --force, everything in them first",
		Long: `Remove empty buckets. With --force, first delete everything in them: every
object, every version and delete marker, and every unfinished multipart
upload.`,
		Args:              args(cobra.MinimumNArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			names, err := bucketArgs("rb", argv)
			if err != nil {
				return err
			}
			c, err := a.clientFor(cmd.Context())
			if err != nil {
				return err
			}
			for _, n := range names {
				err := c.DeleteBucket(cmd.Context(), n, &s3kit.DeleteBucketOptions{Empty: force})
				a.rep.done(record{Operation: "rb", Source: "s3://" + n}, err, "rb s3://"+n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete everything in the bucket first")
	return cmd
}
