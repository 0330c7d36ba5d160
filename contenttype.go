package s3kit

import (
	"mime"
	"path"
	"strings"
)

// Content types s3kit gives bodies whose key has no known extension.
const (
	typeBinary = "application/octet-stream"
	typeText   = "text/plain; charset=utf-8"
	typeJSON   = "application/json"
)

// extTypes are the content types of common extensions. They are consulted
// before mime.TypeByExtension because that one also reads the machine's
// mime.types files, so the same upload would get a different type on
// another machine.
var extTypes = map[string]string{
	".7z":      "application/x-7z-compressed",
	".avif":    "image/avif",
	".bz2":     "application/x-bzip2",
	".css":     "text/css; charset=utf-8",
	".csv":     "text/csv; charset=utf-8",
	".gif":     "image/gif",
	".gz":      "application/gzip",
	".htm":     "text/html; charset=utf-8",
	".html":    "text/html; charset=utf-8",
	".ico":     "image/vnd.microsoft.icon",
	".jpeg":    "image/jpeg",
	".jpg":     "image/jpeg",
	".js":      "text/javascript; charset=utf-8",
	".json":    "application/json",
	".jsonl":   "application/jsonl",
	".log":     "text/plain; charset=utf-8",
	".md":      "text/markdown; charset=utf-8",
	".mjs":     "text/javascript; charset=utf-8",
	".mp3":     "audio/mpeg",
	".mp4":     "video/mp4",
	".ndjson":  "application/x-ndjson",
	".parquet": "application/vnd.apache.parquet",
	".pdf":     "application/pdf",
	".png":     "image/png",
	".svg":     "image/svg+xml",
	".tar":     "application/x-tar",
	".tgz":     "application/gzip",
	".tsv":     "text/tab-separated-values; charset=utf-8",
	".txt":     "text/plain; charset=utf-8",
	".wasm":    "application/wasm",
	".webm":    "video/webm",
	".webp":    "image/webp",
	".xml":     "application/xml",
	".yaml":    "application/yaml",
	".yml":     "application/yaml",
	".zip":     "application/zip",
	".zst":     "application/zstd",
}

// detectContentType returns the content type of an object: explicit if
// set, else by the key's extension, else fallback (the type the Go value
// implies: JSON for PutJSON, text for PutString, binary otherwise).
func detectContentType(explicit, key, fallback string) string {
	if explicit != "" {
		return explicit
	}
	ext := strings.ToLower(path.Ext(key))
	if ext != "" {
		if t, ok := extTypes[ext]; ok {
			return t
		}
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
	}
	return fallback
}
