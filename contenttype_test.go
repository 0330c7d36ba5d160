package s3kit

import "testing"

func TestDetectContentType(t *testing.T) {
	tests := []struct {
		name                    string
		explicit, key, fallback string
		want                    string
	}{
		{"explicit wins over extension", "text/x-custom", "a.json", typeBinary, "text/x-custom"},
		{"explicit wins over fallback", "image/png", "blob", typeJSON, "image/png"},
		{"extension", "", "data/report.csv", typeBinary, "text/csv; charset=utf-8"},
		{"extension beats fallback", "", "doc.json", typeText, typeJSON},
		{"upper-case extension", "", "DOC.JSON", typeBinary, typeJSON},
		{"mixed-case extension", "", "photo.JpG", typeBinary, "image/jpeg"},
		{"last extension counts", "", "a.tar.gz", typeBinary, "application/gzip"},
		// A made-up extension that neither the table nor any mime.types
		// file knows.
		{"unknown extension", "", "a.s3kit-unknown-ext", typeText, typeText},
		{"no extension", "", "README", typeJSON, typeJSON},
		{"no extension, binary", "", "dir/blob", typeBinary, typeBinary},
		// The extension is that of the last path element only; ".d/file"
		// is not one.
		{"dot in a directory name", "", "a.d/file", typeBinary, typeBinary},
		{"dot in a directory name, text fallback", "", "v1.2/notes", typeText, typeText},
		{"trailing dot", "", "file.", typeBinary, typeBinary},
		{"directory marker", "", "dir.json/", typeBinary, typeBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectContentType(tt.explicit, tt.key, tt.fallback); got != tt.want {
				t.Errorf("detectContentType(%q, %q, %q) = %q, want %q", tt.explicit, tt.key, tt.fallback, got, tt.want)
			}
		})
	}
}
