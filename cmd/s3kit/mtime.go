package main

import (
	"strconv"
	"strings"
	"time"
)

// mtimeKey is the user metadata that holds a file's modification time, as
// rclone stores it (X-Amz-Meta-Mtime), so that each tool keeps the times
// of the other's uploads.
const mtimeKey = "mtime"

// formatMtime formats t as rclone does (its swift.TimeToFloatString):
// seconds since the epoch in fixed point, with the nanoseconds after a dot
// and their trailing zeros dropped ("1700000000.123456789",
// "1700000000.5", "1700000000").
func formatMtime(t time.Time) string {
	s := strconv.FormatInt(t.Unix(), 10)
	if ns := t.Nanosecond(); ns != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(int64(1e9+ns), 10)[1:], "0")
	}
	return s
}

// parseMtime parses a modification time in that format; digits past the
// ninth after the dot are dropped, as rclone does.
func parseMtime(s string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || strings.Trim(whole, "0123456789") != "" ||
		strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	frac = (frac + "000000000")[:9]
	ns, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(sec, ns), true
}
