package s3kit_test

import (
	"html/template"
	"io/fs"
)

func templateParseFS(fsys fs.FS, patterns ...string) (*template.Template, error) {
	return template.ParseFS(fsys, patterns...)
}
