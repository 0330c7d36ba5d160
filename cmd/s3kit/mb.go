package main

import (
	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

func (a *app) mbCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "mb s3://bucket...",
		Short: "Make buckets (in --region, else the configured one)",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			names, err := bucketArgs("mb", argv)
			if err != nil {
				return err
			}
			c, err := a.clientFor(cmd.Context())
			if err != nil {
				return err
			}
			for _, n := range names {
				err := c.CreateBucket(cmd.Context(), n, &s3kit.CreateBucketOptions{Region: a.flags.region})
				a.rep.done(record{Operation: "mb", Destination: "s3://" + n}, err, "mb s3://"+n)
			}
			return nil
		},
	}
}

// bucketArgs parses arguments that must name whole buckets.
func bucketArgs(op string, argv []string) ([]string, error) {
	var names []string
	for _, s := range argv {
		l, err := parseS3(s)
		if err != nil {
			return nil, err
		}
		if l.key != "" {
			return nil, usagef("%s %s: want s3://bucket, with no key", op, s)
		}
		names = append(names, l.bucket)
	}
	return names, nil
}
