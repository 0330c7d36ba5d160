package s3kit

import (
	"maps"
	"strconv"
	"strings"
	"time"
)

// mtimeMeta is the user metadata (x-amz-meta-mtime) in which Upload and
// Sync record a file's modification time, as rclone does, so that each
// tool keeps the times of the other's uploads.
const mtimeMeta = "mtime"

// formatMtime formats t as rclone does (its swift.TimeToFloatString): the
// seconds since the epoch in decimal, the fraction's trailing zeros and
// then a bare dot dropped ("1700000000.123456789", "1700000000.5",
// "1700000000"). A time before the epoch is the same with a minus sign.
func formatMtime(t time.Time) string {
	sign, sec, ns := "", t.Unix(), int64(t.Nanosecond())
	if sec < 0 {
		sign = "-"
		if ns > 0 {
			sec, ns = sec+1, 1e9-ns
		}
		sec = -sec
	}
	s := sign + strconv.FormatInt(sec, 10)
	if ns != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1e9+ns, 10)[1:], "0")
	}
	return s
}

// parseMtime parses a time in the format of formatMtime, as rclone does:
// digits past the ninth after the dot are dropped. Anything else, or
// seconds beyond 12 digits (past the year 33000), is refused.
func parseMtime(s string) (time.Time, bool) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, dot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || len(whole) > 12 || !allDigits(whole) || !allDigits(frac) || dot && frac == "" {
		return time.Time{}, false
	}
	sec, _ := strconv.ParseInt(whole, 10, 64)
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	if neg {
		sec, ns = -sec, -ns
	}
	return time.Unix(sec, ns), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// modTime is the modification time to give a file downloaded from the
// object info describes: the one its uploader recorded in the mtime
// metadata, else its LastModified.
func modTime(info ObjectInfo) time.Time {
	if t, ok := parseMtime(info.Metadata[mtimeMeta]); ok {
		return t
	}
	return info.LastModified
}

// withMtime returns put with the mtime metadata set to mtime, unless put
// already sets it (under any spelling of its name) or has no room left for
// it within MaxMetadataSize, in which case put itself is returned. put is
// never modified; nil means no options.
func withMtime(put *PutOptions, mtime time.Time) *PutOptions {
	v := formatMtime(mtime)
	var p PutOptions
	if put != nil {
		total := len(mtimeMeta) + len(v)
		for k, v := range put.Metadata {
			if sameMetaName(k, mtimeMeta) {
				return put
			}
			total += len(metaName(k)) + len(v)
		}
		if total > MaxMetadataSize {
			return put
		}
		p = *put
	}
	p.Metadata = maps.Clone(p.Metadata)
	if p.Metadata == nil {
		p.Metadata = make(map[string]string, 1)
	}
	p.Metadata[mtimeMeta] = v
	return &p
}
