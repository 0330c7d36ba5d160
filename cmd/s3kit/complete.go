package main

import (
	"context"
	"strings"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

// completePath completes s3:// arguments with bucket names and the keys
// and directories one level down; other arguments as local files.
func (a *app) completePath(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	rest, ok := strings.CutPrefix(toComplete, "s3://")
	if !ok {
		if strings.HasPrefix("s3://", toComplete) && toComplete != "" {
			return []cobra.Completion{"s3://"}, cobra.ShellCompDirectiveNoSpace
		}
		return nil, cobra.ShellCompDirectiveDefault
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	c, err := a.clientFor(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	bucket, key, hasKey := strings.Cut(rest, "/")
	if !hasKey {
		buckets, err := c.ListBuckets(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, b := range buckets {
			if strings.HasPrefix(b.Name, bucket) {
				out = append(out, "s3://"+b.Name+"/")
			}
		}
		return out, cobra.ShellCompDirectiveNoSpace
	}
	var out []cobra.Completion
	opts := &s3kit.ListOptions{Prefix: key, Delimiter: "/", PageSize: s3kit.MaxListPage}
	for obj, err := range c.Bucket(bucket).List(ctx, opts) {
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		out = append(out, s3URL(bucket, obj.Key))
		if len(out) == s3kit.MaxListPage {
			break
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace
}
