package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
)

func (a *app) statCommand() *cobra.Command {
	var tags bool
	cmd := &cobra.Command{
		Use:               "stat [--tags] s3://bucket/key...",
		Short:             "Print all the metadata of objects (and their tags with --tags)",
		Args:              args(cobra.MinimumNArgs(1)),
		ValidArgsFunction: a.completePath,
		RunE: func(cmd *cobra.Command, argv []string) error {
			var locs []location
			for _, s := range argv {
				l, err := parseS3(s)
				if err != nil {
					return err
				}
				if l.key == "" {
					return usagef("stat %s: want s3://bucket/key", l)
				}
				locs = append(locs, l)
			}
			for _, l := range locs {
				b, err := a.bucket(cmd.Context(), l)
				if err != nil {
					return err
				}
				info, err := b.Head(cmd.Context(), l.key, &s3kit.HeadOptions{WithTags: tags})
				rec := record{Operation: "stat", Source: l.raw, Size: info.Size}
				if err == nil {
					rec.Info = toJSON(info)
				}
				a.rep.done(rec, err, formatInfo(l, info))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&tags, "tags", false, "also fetch the object's tags")
	return cmd
}

// formatInfo prints an object's metadata one field a line, empty ones left
// out.
func formatInfo(l location, o s3kit.ObjectInfo) string {
	var sb strings.Builder
	line := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&sb, "%-20s %s\n", name+":", value)
		}
	}
	line("URL", l.raw)
	line("Size", fmt.Sprint(o.Size))
	line("Last-Modified", o.LastModified.UTC().Format(time.RFC3339))
	line("ETag", o.ETag)
	line("Version-ID", o.VersionID)
	line("Storage-Class", o.StorageClass)
	line("Content-Type", o.ContentType)
	line("Cache-Control", o.CacheControl)
	line("Content-Disposition", o.ContentDisposition)
	line("Content-Encoding", o.ContentEncoding)
	line("Content-Language", o.ContentLanguage)
	line("SSE", o.SSE)
	line("SSE-KMS-Key-ID", o.SSEKMSKeyID)
	for _, k := range slices.Sorted(maps.Keys(o.Checksums)) {
		line("Checksum-"+k, o.Checksums[k])
	}
	line("Checksum-Type", o.ChecksumType)
	for _, k := range slices.Sorted(maps.Keys(o.Metadata)) {
		line("Metadata", k+"="+o.Metadata[k])
	}
	for _, k := range slices.Sorted(maps.Keys(o.Tags)) {
		line("Tag", k+"="+o.Tags[k])
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// objectJSON is an object's metadata as --json prints it, with names in
// the same style as the records'.
type objectJSON struct {
	Key                string            `json:"key"`
	Size               int64             `json:"size"`
	ETag               string            `json:"etag,omitempty"`
	LastModified       time.Time         `json:"last_modified"`
	StorageClass       string            `json:"storage_class,omitempty"`
	VersionID          string            `json:"version_id,omitempty"`
	ContentType        string            `json:"content_type,omitempty"`
	CacheControl       string            `json:"cache_control,omitempty"`
	ContentDisposition string            `json:"content_disposition,omitempty"`
	ContentEncoding    string            `json:"content_encoding,omitempty"`
	ContentLanguage    string            `json:"content_language,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	SSE                string            `json:"sse,omitempty"`
	SSEKMSKeyID        string            `json:"sse_kms_key_id,omitempty"`
	Checksums          map[string]string `json:"checksums,omitempty"`
	ChecksumType       string            `json:"checksum_type,omitempty"`
}

func toJSON(o s3kit.ObjectInfo) objectJSON {
	return objectJSON{
		Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified, StorageClass: o.StorageClass,
		VersionID: o.VersionID, ContentType: o.ContentType, CacheControl: o.CacheControl,
		ContentDisposition: o.ContentDisposition, ContentEncoding: o.ContentEncoding, ContentLanguage: o.ContentLanguage,
		Metadata: o.Metadata, Tags: o.Tags, SSE: o.SSE, SSEKMSKeyID: o.SSEKMSKeyID,
		Checksums: o.Checksums, ChecksumType: o.ChecksumType,
	}
}
