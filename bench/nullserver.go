package bench

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// NullServer is an S3 endpoint that stores nothing: the client-side ceiling
// of the benchmarks. It answers path-style requests for any bucket without
// checking signatures:
//
//   - PUT object, and multipart uploads (CreateMultipartUpload, UploadPart,
//     CompleteMultipartUpload, AbortMultipartUpload), read the body and throw
//     it away, remembering only the object's size (and its part sizes).
//   - GET and HEAD serve every object from one in-memory pattern of
//     PatternSize bytes repeated to the object's size (see FillPattern), with
//     single Range and partNumber requests, ETag (If-Match, If-None-Match),
//     Content-Length and Last-Modified.
//   - ListObjectsV2 returns a canned listing of ListKeys keys (see ListKey),
//     paginated, pages rendered once and then served from memory. Objects
//     written to the server do not appear in it.
//
// Whatever else a client asks is answered with 501 NotImplemented, so a
// client that needs more fails loudly instead of being measured doing
// something else.
type NullServer struct {
	// ListKeys is the number of keys of the canned listing.
	ListKeys int

	modTime  time.Time
	reqID    atomic.Uint64
	gen      atomic.Uint64
	mu       sync.Mutex
	objects  map[string]nullObject // by "bucket/key"
	uploads  map[string]*nullUpload
	pages    sync.Map // listPageKey -> []byte
	drainBuf sync.Pool
}

type nullObject struct {
	size  int64
	etag  string
	parts []int64 // sizes of the parts of a multipart object; nil otherwise
}

type nullUpload struct {
	bucketKey string
	parts     map[int]int64
}

// PatternSize is the length of the pattern every object's content repeats.
const PatternSize = 1 << 20

// pattern is the content of every object of the null server, repeated:
// pseudo-random so that no layer can compress it, fixed so that tests can
// check what they read.
var pattern = func() []byte {
	p := make([]byte, PatternSize)
	r := rand.NewChaCha8([32]byte{'s', '3', 'k', 'i', 't'})
	_, _ = r.Read(p)
	return p
}()

// FillPattern fills p with the content of a null-server object from offset
// off on; it is also the content of the benchmarks' source files and
// streams.
func FillPattern(p []byte, off int64) {
	for len(p) > 0 {
		i := int(off % PatternSize)
		n := copy(p, pattern[i:])
		p = p[n:]
		off += int64(n)
	}
}

// ListKey returns the i-th key of the null server's canned listing. Keys
// sort in the order of i.
func ListKey(i int) string { return fmt.Sprintf("logs/2025/06/01/object-%07d.json", i) }

// ListSize returns the size the canned listing reports for key i.
func ListSize(i int) int64 { return int64(1000 + i%4096) }

// NewNullServer returns a NullServer with a canned listing of listKeys keys.
func NewNullServer(listKeys int) *NullServer {
	return &NullServer{
		ListKeys: listKeys,
		modTime:  time.Now().UTC().Truncate(time.Second),
		objects:  make(map[string]nullObject),
		uploads:  make(map[string]*nullUpload),
		drainBuf: sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }},
	}
}

// SetObject makes key of bucket an object of size bytes, as if uploaded in
// parts of partSize bytes (0: in one PUT), without any request.
func (s *NullServer) SetObject(bucket, key string, size, partSize int64) {
	o := nullObject{size: size}
	if partSize > 0 {
		for off := int64(0); off < size; off += partSize {
			o.parts = append(o.parts, min(partSize, size-off))
		}
	}
	o.etag = s.etag(len(o.parts))
	s.mu.Lock()
	s.objects[bucket+"/"+key] = o
	s.mu.Unlock()
}

func (s *NullServer) etag(parts int) string {
	g := s.gen.Add(1)
	if parts > 0 {
		return fmt.Sprintf("\"%032x-%d\"", g, parts)
	}
	return fmt.Sprintf("\"%032x\"", g)
}

func (s *NullServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("x-amz-request-id", strconv.FormatUint(s.reqID.Add(1), 16))
	h.Set("Server", "s3kit-bench-null")
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	// The SDK names the operation in x-id; it changes nothing.
	delete(q, "x-id")
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			s.listBuckets(w)
			return
		}
	case key == "":
		s.serveBucket(w, r, bucket, q)
		return
	default:
		s.serveObject(w, r, bucket, key, q)
		return
	}
	notImplemented(w, r)
}

func (s *NullServer) serveBucket(w http.ResponseWriter, r *http.Request, bucket string, q map[string][]string) {
	has := func(k string) bool { _, ok := q[k]; return ok }
	switch r.Method {
	case http.MethodPut:
		if len(q) == 0 { // CreateBucket
			s.drain(r.Body)
			w.Header().Set("Location", "/"+bucket)
			return
		}
	case http.MethodHead: // HeadBucket: every bucket exists
		return
	case http.MethodGet:
		switch {
		case has("location"):
			writeXML(w, http.StatusOK, struct {
				XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
			}{})
			return
		case get(q, "list-type") == "2":
			s.listObjectsV2(w, r, bucket, q)
			return
		}
	}
	notImplemented(w, r)
}

func (s *NullServer) serveObject(w http.ResponseWriter, r *http.Request, bucket, key string, q map[string][]string) {
	has := func(k string) bool { _, ok := q[k]; return ok }
	uploadID := get(q, "uploadId")
	switch r.Method {
	case http.MethodPut:
		switch {
		case r.Header.Get("x-amz-copy-source") != "":
		case uploadID != "" && has("partNumber"):
			s.uploadPart(w, r, uploadID, get(q, "partNumber"))
			return
		case len(q) == 0:
			s.putObject(w, r, bucket, key)
			return
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			s.createUpload(w, r, bucket, key)
			return
		case uploadID != "":
			s.completeUpload(w, r, bucket, key, uploadID)
			return
		}
	case http.MethodDelete:
		switch {
		case uploadID != "":
			s.mu.Lock()
			_, ok := s.uploads[uploadID]
			delete(s.uploads, uploadID)
			s.mu.Unlock()
			if !ok {
				writeError(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		case len(q) == 0:
			s.mu.Lock()
			delete(s.objects, bucket+"/"+key)
			s.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
	case http.MethodGet, http.MethodHead:
		if len(q) == 0 || has("partNumber") || onlyResponseOverrides(q) {
			s.getObject(w, r, bucket, key, q)
			return
		}
	}
	notImplemented(w, r)
}

// onlyResponseOverrides reports whether every query parameter is one of
// GetObject's response-* overrides, which change nothing here.
func onlyResponseOverrides(q map[string][]string) bool {
	for k := range q {
		if !strings.HasPrefix(k, "response-") {
			return false
		}
	}
	return true
}

// bodySize reads and discards a request body and returns the size of the
// object it carries: x-amz-decoded-content-length for aws-chunked bodies
// (streaming signatures, trailing checksums), else the bytes read.
func (s *NullServer) bodySize(r *http.Request) (int64, error) {
	n, err := s.drain(r.Body)
	if err != nil {
		return 0, err
	}
	if v := r.Header.Get("x-amz-decoded-content-length"); v != "" {
		return strconv.ParseInt(v, 10, 64)
	}
	return n, nil
}

func (s *NullServer) drain(body io.Reader) (int64, error) {
	bp := s.drainBuf.Get().(*[]byte)
	defer s.drainBuf.Put(bp)
	buf := *bp
	var n int64
	for {
		m, err := body.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// echoChecksums returns the checksums a client sent in headers, as S3 does
// after verifying them (this server does not verify them).
func echoChecksums(w http.ResponseWriter, r *http.Request) {
	for k, v := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") && len(v) > 0 {
			w.Header().Set(k, v[0])
		}
	}
}

func (s *NullServer) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	size, err := s.bodySize(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	bk := bucket + "/" + key
	s.mu.Lock()
	old, exists := s.objects[bk]
	if inm := r.Header.Get("If-None-Match"); inm == "*" && exists {
		s.mu.Unlock()
		writeError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	if im := r.Header.Get("If-Match"); im != "" && (!exists || im != old.etag) {
		s.mu.Unlock()
		writeError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	o := nullObject{size: size, etag: s.etag(0)}
	s.objects[bk] = o
	s.mu.Unlock()
	echoChecksums(w, r)
	w.Header().Set("ETag", o.etag)
}

type initiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

func (s *NullServer) createUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	s.drain(r.Body)
	id := fmt.Sprintf("%016x", s.gen.Add(1))
	s.mu.Lock()
	s.uploads[id] = &nullUpload{bucketKey: bucket + "/" + key, parts: make(map[int]int64)}
	s.mu.Unlock()
	if a := r.Header.Get("x-amz-checksum-algorithm"); a != "" {
		w.Header().Set("x-amz-checksum-algorithm", a)
	}
	if t := r.Header.Get("x-amz-checksum-type"); t != "" {
		w.Header().Set("x-amz-checksum-type", t)
	}
	writeXML(w, http.StatusOK, initiateResult{Bucket: bucket, Key: key, UploadID: id})
}

func (s *NullServer) uploadPart(w http.ResponseWriter, r *http.Request, uploadID, partNumber string) {
	n, err := strconv.Atoi(partNumber)
	if err != nil || n < 1 || n > 10000 {
		writeError(w, r, http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		return
	}
	s.mu.Lock()
	_, ok := s.uploads[uploadID]
	s.mu.Unlock()
	if !ok {
		s.drain(r.Body)
		writeError(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
		return
	}
	size, err := s.bodySize(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	s.mu.Lock()
	if u, ok := s.uploads[uploadID]; ok {
		u.parts[n] = size
	}
	s.mu.Unlock()
	echoChecksums(w, r)
	w.Header().Set("ETag", fmt.Sprintf("\"%032x\"", n))
}

type completeRequest struct {
	Parts []struct {
		PartNumber int
		ETag       string
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

func (s *NullServer) completeUpload(w http.ResponseWriter, r *http.Request, bucket, key, uploadID string) {
	var req completeRequest
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed: "+err.Error())
		return
	}
	s.mu.Lock()
	u, ok := s.uploads[uploadID]
	if !ok {
		s.mu.Unlock()
		writeError(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
		return
	}
	o := nullObject{}
	last := 0
	for i, p := range req.Parts {
		size, ok := u.parts[p.PartNumber]
		if !ok || p.PartNumber <= last {
			s.mu.Unlock()
			code := "InvalidPart"
			if ok {
				code = "InvalidPartOrder"
			}
			writeError(w, r, http.StatusBadRequest, code, fmt.Sprintf("part %d (number %d) was not uploaded or is out of order", i, p.PartNumber))
			return
		}
		last = p.PartNumber
		o.parts = append(o.parts, size)
		o.size += size
	}
	if len(o.parts) == 0 {
		s.mu.Unlock()
		writeError(w, r, http.StatusBadRequest, "MalformedXML", "no parts")
		return
	}
	o.etag = s.etag(len(o.parts))
	s.objects[bucket+"/"+key] = o
	delete(s.uploads, uploadID)
	s.mu.Unlock()
	echoChecksums(w, r)
	writeXML(w, http.StatusOK, completeResult{
		Location: "http://" + r.Host + "/" + bucket + "/" + key,
		Bucket:   bucket, Key: key, ETag: o.etag,
	})
}

func (s *NullServer) getObject(w http.ResponseWriter, r *http.Request, bucket, key string, q map[string][]string) {
	s.mu.Lock()
	o, ok := s.objects[bucket+"/"+key]
	s.mu.Unlock()
	if !ok {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	h := w.Header()
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", s.modTime.Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	if im := r.Header.Get("If-Match"); im != "" && im != o.etag && im != "*" {
		writeError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == o.etag || inm == "*") {
		w.WriteHeader(http.StatusNotModified)
		return
	}

	start, end, partial := int64(0), o.size, false // [start, end)
	if pn := get(q, "partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		count := max(len(o.parts), 1)
		if err != nil || n < 1 || n > count {
			writeError(w, r, http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
			return
		}
		if o.parts != nil {
			for _, p := range o.parts[:n-1] {
				start += p
			}
			end = start + o.parts[n-1]
			h.Set("x-amz-mp-parts-count", strconv.Itoa(len(o.parts)))
		}
		partial = true
	} else if rh := r.Header.Get("Range"); rh != "" {
		var ok bool
		start, end, ok = parseRange(rh, o.size)
		if !ok {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", o.size))
			writeError(w, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
			return
		}
		partial = true
	}
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	status := http.StatusOK
	if partial {
		if end > start {
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, o.size))
		}
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	for off := start; off < end; {
		i := off % PatternSize
		n := min(PatternSize-i, end-off)
		if _, err := w.Write(pattern[i : i+n]); err != nil {
			return
		}
		off += n
	}
}

// parseRange parses a Range header of one range and returns [start, end)
// within size. An unsupported header (several ranges, other units) is
// ignored as S3 does, giving the whole object.
func parseRange(h string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, true
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, size, true
	}
	if a == "" { // suffix: the last b bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			return 0, size, true
		}
		if n == 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size, true
	}
	s, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, size, true
	}
	e := size - 1
	if b != "" {
		if e, err = strconv.ParseInt(b, 10, 64); err != nil || e < s {
			return 0, size, true
		}
	}
	if s >= size {
		return 0, 0, false
	}
	return s, min(e+1, size), true
}

type listPageKey struct {
	bucket, prefix, encoding string
	from, max                int
}

func (s *NullServer) listObjectsV2(w http.ResponseWriter, r *http.Request, bucket string, q map[string][]string) {
	if get(q, "delimiter") != "" {
		writeError(w, r, http.StatusNotImplemented, "NotImplemented", "the null server lists without a delimiter only")
		return
	}
	prefix := get(q, "prefix")
	maxKeys := 1000
	if v := get(q, "max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, r, http.StatusBadRequest, "InvalidArgument", "max-keys must be a non-negative integer")
			return
		}
		maxKeys = min(n, 1000)
	}
	// The first key to list: after the continuation token (the index of
	// the next key), else after start-after, else the first with prefix.
	from := sort.Search(s.ListKeys, func(i int) bool { return ListKey(i) >= prefix })
	if sa := get(q, "start-after"); sa != "" {
		from = max(from, sort.Search(s.ListKeys, func(i int) bool { return ListKey(i) > sa }))
	}
	if tok := get(q, "continuation-token"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			writeError(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
			return
		}
		from = n
	}
	k := listPageKey{bucket: bucket, prefix: prefix, encoding: get(q, "encoding-type"), from: from, max: maxKeys}
	page, ok := s.pages.Load(k)
	if !ok {
		page, _ = s.pages.LoadOrStore(k, s.renderPage(k, get(q, "continuation-token"), get(q, "start-after")))
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(page.([]byte))))
	w.Write(page.([]byte))
}

func (s *NullServer) renderPage(k listPageKey, token, startAfter string) []byte {
	var b bytes.Buffer
	esc := func(v string) {
		if k.encoding == "url" {
			v = strings.ReplaceAll(urlEscape(v), "%2F", "/")
		}
		xml.EscapeText(&b, []byte(v))
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	b.WriteString("<Name>")
	esc(k.bucket)
	b.WriteString("</Name><Prefix>")
	esc(k.prefix)
	b.WriteString("</Prefix>")
	if token != "" {
		b.WriteString("<ContinuationToken>")
		esc(token)
		b.WriteString("</ContinuationToken>")
	}
	if startAfter != "" {
		b.WriteString("<StartAfter>")
		esc(startAfter)
		b.WriteString("</StartAfter>")
	}
	if k.encoding != "" {
		b.WriteString("<EncodingType>")
		esc(k.encoding)
		b.WriteString("</EncodingType>")
	}
	lm := s.modTime.Format("2006-01-02T15:04:05.000Z")
	n, i := 0, k.from
	for ; i < s.ListKeys && n < k.max; i++ {
		key := ListKey(i)
		if !strings.HasPrefix(key, k.prefix) {
			break
		}
		b.WriteString("<Contents><Key>")
		esc(key)
		b.WriteString("</Key><LastModified>" + lm + "</LastModified><ETag>&quot;")
		fmt.Fprintf(&b, "%032x", i)
		b.WriteString("&quot;</ETag><Size>")
		b.WriteString(strconv.FormatInt(ListSize(i), 10))
		b.WriteString("</Size><StorageClass>STANDARD</StorageClass></Contents>")
		n++
	}
	truncated := i < s.ListKeys && strings.HasPrefix(ListKey(i), k.prefix)
	fmt.Fprintf(&b, "<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys><IsTruncated>%t</IsTruncated>", n, k.max, truncated)
	if truncated {
		fmt.Fprintf(&b, "<NextContinuationToken>%d</NextContinuationToken>", i)
	}
	b.WriteString("</ListBucketResult>")
	return b.Bytes()
}

func (s *NullServer) listBuckets(w http.ResponseWriter) {
	type bucket struct {
		Name         string
		CreationDate string
	}
	writeXML(w, http.StatusOK, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
		Owner   struct{ ID, DisplayName string }
		Buckets []bucket `xml:"Buckets>Bucket"`
	}{Buckets: []bucket{{Name: BenchBucket, CreationDate: s.modTime.Format(time.RFC3339)}}})
}

// urlEscape escapes a key as S3 does for encoding-type=url.
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func get(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func writeXML(w http.ResponseWriter, status int, v any) {
	data, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(data)))
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(data)
}

type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string
	RequestID string `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeXML(w, status, s3Error{Code: code, Message: msg, Resource: r.URL.Path, RequestID: w.Header().Get("x-amz-request-id")})
}

func notImplemented(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotImplemented, "NotImplemented",
		fmt.Sprintf("the null server does not implement %s %s", r.Method, r.URL.RequestURI()))
}

// ObjectSize returns the size of an object the server holds.
func (s *NullServer) ObjectSize(bucket, key string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[bucket+"/"+key]
	return o.size, ok
}
