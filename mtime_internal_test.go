package s3kit

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestMtimeFormat(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1700000000, 0), "1700000000"},
		{time.Unix(1700000000, 500000000), "1700000000.5"},
		{time.Unix(1700000000, 123456789), "1700000000.123456789"},
		{time.Unix(1700000000, 1), "1700000000.000000001"},
		{time.Unix(1700000000, 100), "1700000000.0000001"},
		{time.Unix(0, 0), "0"},
		{time.Unix(0, 1), "0.000000001"},
		{time.Unix(-1, 0), "-1"},
		{time.Unix(-1, 500000000), "-0.5"},
		{time.Unix(-2, 999999999), "-1.000000001"},
	} {
		got := formatMtime(tc.t)
		if got != tc.want {
			t.Errorf("formatMtime(%v) = %q, want %q", tc.t, got, tc.want)
		}
		back, ok := parseMtime(got)
		if !ok || !back.Equal(tc.t) {
			t.Errorf("parseMtime(%q) = %v, %v; want %v", got, back, ok, tc.t)
		}
	}
}

func TestMtimeParse(t *testing.T) {
	for s, want := range map[string]time.Time{
		"1700000000":            time.Unix(1700000000, 0),
		"1700000000.5":          time.Unix(1700000000, 500000000),
		"1700000000.50":         time.Unix(1700000000, 500000000),
		"1700000000.123456789":  time.Unix(1700000000, 123456789),
		"1700000000.1234567899": time.Unix(1700000000, 123456789), // past the ninth digit: dropped, as rclone
		"-0.25":                 time.Unix(0, -250000000),
	} {
		got, ok := parseMtime(s)
		if !ok || !got.Equal(want) {
			t.Errorf("parseMtime(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{
		"", ".", "-", ".5", "1700000000.", "1.2.3", "abc", "1e9", "+1", " 1", "1 ", "0x10",
		"1700000000,5", "-1700000000.-5", "1700000000.5x", "1234567890123", "--1", "١٧٠٠",
	} {
		if got, ok := parseMtime(s); ok {
			t.Errorf("parseMtime(%q) = %v, accepted", s, got)
		}
	}
}

func TestModTime(t *testing.T) {
	lm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for meta, want := range map[string]time.Time{
		"1700000000.25": time.Unix(1700000000, 250000000),
		"":              lm,
		"yesterday":     lm,
		"1.2.3":         lm,
	} {
		if got := modTime(ObjectInfo{LastModified: lm, Metadata: map[string]string{"mtime": meta}}); !got.Equal(want) {
			t.Errorf("mtime %q: modTime %v, want %v", meta, got, want)
		}
	}
	if got := modTime(ObjectInfo{LastModified: lm}); !got.Equal(lm) {
		t.Errorf("no metadata: modTime %v, want %v", got, lm)
	}
}

func TestWithMtime(t *testing.T) {
	mt := time.Unix(1700000000, 5)
	if p := withMtime(nil, mt); p == nil || !maps.Equal(p.Metadata, map[string]string{"mtime": "1700000000.000000005"}) {
		t.Fatalf("nil options: %+v", p)
	}
	user := &PutOptions{ContentType: "text/x", Metadata: map[string]string{"a": "b"}}
	p := withMtime(user, mt)
	if p.ContentType != "text/x" || !maps.Equal(p.Metadata, map[string]string{"a": "b", "mtime": "1700000000.000000005"}) {
		t.Fatalf("added to the caller's: %+v", p)
	}
	if !maps.Equal(user.Metadata, map[string]string{"a": "b"}) {
		t.Fatalf("the caller's metadata was modified: %v", user.Metadata)
	}
	for _, name := range []string{"mtime", "MTime", "x-amz-meta-mtime", "X-Amz-Meta-Mtime"} {
		own := &PutOptions{Metadata: map[string]string{name: "42"}}
		if p := withMtime(own, mt); p != own {
			t.Errorf("the caller's %s was not kept: %+v", name, p)
		}
	}
	// Metadata that leaves no room: sent as given, not refused.
	full := &PutOptions{Metadata: map[string]string{"big": strings.Repeat("x", MaxMetadataSize-len("big")-len("mtime")-len("1700000000"))}}
	if p := withMtime(full, time.Unix(1700000000, 0)); p == full || validMetadata(p.Metadata) != nil {
		t.Errorf("room for exactly the mtime: %+v", p)
	}
	if p := withMtime(full, mt); p != full {
		t.Errorf("no room left: the mtime was added anyway")
	}
}
