package bench

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
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
//   - Under a prefix "scale/N/" it holds a synthetic tree of N objects
//     (ScalePath, ScaleSize, ScaleContent, ScaleModTime): listed (with or
//     without the delimiter "/"), HEAD and GET, computed on every request,
//     so that a sync of a million keys costs the server no memory. It is
//     what WriteScaleTree writes locally, so a sync of that tree to it has
//     nothing to copy.
//   - Objects written under "discard/RUN/" are kept only until the first
//     write under another RUN, so that syncs of millions of files to fresh
//     prefixes do not pile up in the server's memory.
//   - GET /_bench/stats returns the requests served so far by kind and the
//     bytes of object content sent (NullStats, as JSON).
//
// Whatever else a client asks is answered with 501 NotImplemented, so a
// client that needs more fails loudly instead of being measured doing
// something else.
type NullServer struct {
	// ListKeys is the number of keys of the canned listing.
	ListKeys int

	modTime time.Time
	reqID   atomic.Uint64
	gen     atomic.Uint64
	mu      sync.Mutex
	objects map[string]nullObject // by "bucket/key"
	// discarded holds the objects written under discardRun, a prefix
	// "discard/A/B/" (see putObject).
	discarded  map[string]nullObject
	discardRun string
	uploads    map[string]*nullUpload
	pages      sync.Map // listPageKey -> []byte
	drainBuf   sync.Pool
	stats      struct{ list, head, get, put, delete, other, bytesSent atomic.Int64 }
}

// NullStats counts what a NullServer served.
type NullStats struct {
	List, Head, Get, Put, Delete, Other int64 // requests: ListObjectsV2, HEAD and GET of objects, PUT of objects and parts, DELETE of one or more objects, the rest
	BytesSent                           int64 // of object content, in GET bodies
}

// Sub returns the requests and bytes of s since the earlier figures o.
func (s NullStats) Sub(o NullStats) NullStats {
	return NullStats{s.List - o.List, s.Head - o.Head, s.Get - o.Get, s.Put - o.Put, s.Delete - o.Delete, s.Other - o.Other, s.BytesSent - o.BytesSent}
}

// Stats returns what the server has served so far.
func (s *NullServer) Stats() NullStats {
	st := &s.stats
	return NullStats{st.list.Load(), st.head.Load(), st.get.Load(), st.put.Load(), st.delete.Load(), st.other.Load(), st.bytesSent.Load()}
}

// statsPath is where a NullServer answers with its NullStats.
const statsPath = "/_bench/stats"

// count counts a request by its kind.
func (s *NullServer) count(r *http.Request, bucket, key string, q map[string][]string) {
	st := &s.stats
	_, copySrc := r.Header["X-Amz-Copy-Source"]
	switch {
	case key == "" && bucket != "" && r.Method == http.MethodGet && (get(q, "list-type") == "2" || onlyListV1(q)):
		st.list.Add(1)
	case key != "" && r.Method == http.MethodHead:
		st.head.Add(1)
	case key != "" && r.Method == http.MethodGet && get(q, "uploadId") == "":
		st.get.Add(1)
	case key != "" && r.Method == http.MethodPut && !copySrc:
		st.put.Add(1)
	case r.Method == http.MethodDelete && key != "" && get(q, "uploadId") == "", r.Method == http.MethodPost && key == "":
		st.delete.Add(1)
	default:
		st.other.Add(1)
	}
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
	if r.URL.Path == statsPath {
		data, _ := json.Marshal(s.Stats())
		h.Set("Content-Type", "application/json")
		w.Write(data)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	// The SDK names the operation in x-id; it changes nothing.
	delete(q, "x-id")
	s.count(r, bucket, key, q)
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
		case len(q) == 0 || onlyListV1(q):
			// ListObjects (version 1): rclone's default for an S3 of
			// provider Other.
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

// onlyListV1 reports whether every query parameter is one of ListObjects
// version 1.
func onlyListV1(q map[string][]string) bool {
	for k := range q {
		switch k {
		case "prefix", "delimiter", "marker", "max-keys", "encoding-type":
		default:
			return false
		}
	}
	return true
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
	var size int64
	var sum []byte
	var err error
	if _, discard := discardRunOf(key); discard && r.Header.Get("x-amz-decoded-content-length") == "" {
		// The small files of the sync cases get the MD5 ETag of S3, which
		// rclone checks after each upload; the large objects of the other
		// cases do not, so that the server spends no CPU on them.
		h := md5.New()
		size, err = io.Copy(h, r.Body)
		sum = h.Sum(nil)
	} else {
		size, err = s.bodySize(r)
	}
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
	if sum != nil {
		o.etag = fmt.Sprintf("\"%x\"", sum)
	}
	if run, ok := discardRunOf(key); ok {
		if run != s.discardRun {
			s.discarded, s.discardRun = map[string]nullObject{}, run
		}
		s.discarded[bk] = o
	} else {
		s.objects[bk] = o
	}
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
	if !ok {
		o, ok = s.discarded[bucket+"/"+key]
	}
	s.mu.Unlock()
	if _, i, synthetic := parseScaleKey(key); !ok && synthetic {
		s.getScaleObject(w, r, i)
		return
	}
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
		s.stats.bytesSent.Add(n)
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
	bucket, prefix, delimiter, encoding string
	from, max                           int
	v1                                  bool // ListObjects version 1: markers, not tokens
}

// keySet is a sorted set of keys the server lists: the canned listing or
// a synthetic tree.
type keySet struct {
	n     int
	key   func(i int) string
	size  func(i int) int64
	etag  func(i int) string
	mtime time.Time
	cache bool // pages rendered once and kept
}

// keySetOf returns the keys listed under prefix: the synthetic tree of a
// "scale/N/" prefix, else the canned listing.
func (s *NullServer) keySetOf(prefix string) keySet {
	if n, ok := parseScalePrefix(prefix); ok {
		return keySet{n: n, key: func(i int) string { return ScaleKey(n, i) }, size: ScaleSize, etag: scaleETag, mtime: ScaleModTime}
	}
	return keySet{n: s.ListKeys, key: ListKey, size: ListSize, etag: func(i int) string { return fmt.Sprintf("%032x", i) }, mtime: s.modTime, cache: true}
}

func (s *NullServer) listObjectsV2(w http.ResponseWriter, r *http.Request, bucket string, q map[string][]string) {
	delim := get(q, "delimiter")
	if delim != "" && delim != "/" {
		writeError(w, r, http.StatusNotImplemented, "NotImplemented", "the null server lists with the delimiter / or none")
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
	ks := s.keySetOf(prefix)
	// The first key to list: after the continuation token (the index of
	// the next key), else after start-after, else the first with prefix.
	from := sort.Search(ks.n, func(i int) bool { return ks.key(i) >= prefix })
	if sa := get(q, "start-after"); sa != "" {
		from = max(from, sort.Search(ks.n, func(i int) bool { return ks.key(i) > sa }))
	}
	v1 := get(q, "list-type") != "2"
	marker := get(q, "marker")
	if v1 && marker != "" {
		// After the marker, and after every key of the common prefix a
		// marker that is one (NextMarker) stands for.
		from = max(from, sort.Search(ks.n, func(i int) bool {
			k := ks.key(i)
			return k > marker && !(delim != "" && strings.HasSuffix(marker, delim) && strings.HasPrefix(k, marker))
		}))
	}
	if tok := get(q, "continuation-token"); tok != "" && !v1 {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			writeError(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
			return
		}
		from = n
	}
	k := listPageKey{bucket: bucket, prefix: prefix, delimiter: delim, encoding: get(q, "encoding-type"), from: from, max: maxKeys, v1: v1}
	token, startAfter := get(q, "continuation-token"), get(q, "start-after")
	if v1 {
		token, startAfter = marker, ""
	}
	var page []byte
	if ks.cache {
		p, ok := s.pages.Load(k)
		if !ok {
			p, _ = s.pages.LoadOrStore(k, renderPage(ks, k, token, startAfter))
		}
		page = p.([]byte)
	} else {
		page = renderPage(ks, k, token, startAfter)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	w.Write(page)
}

func renderPage(ks keySet, k listPageKey, token, startAfter string) []byte {
	var b bytes.Buffer
	esc := func(v string) {
		if k.encoding == "url" {
			v = strings.ReplaceAll(urlEscape(v), "%2F", "/")
		}
		xml.EscapeText(&b, []byte(v))
	}
	elem := func(name, v string) {
		b.WriteString("<" + name + ">")
		esc(v)
		b.WriteString("</" + name + ">")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	elem("Name", k.bucket)
	elem("Prefix", k.prefix)
	if k.delimiter != "" {
		elem("Delimiter", k.delimiter)
	}
	switch {
	case k.v1:
		elem("Marker", token)
	case token != "":
		elem("ContinuationToken", token)
	}
	if startAfter != "" {
		elem("StartAfter", startAfter)
	}
	if k.encoding != "" {
		elem("EncodingType", k.encoding)
	}
	lm := ks.mtime.Format("2006-01-02T15:04:05.000Z")
	var prefixes []string
	last := "" // the last key or common prefix listed: version 1's NextMarker
	n, i := 0, k.from
	for ; i < ks.n && n < k.max; i++ {
		key := ks.key(i)
		if !strings.HasPrefix(key, k.prefix) {
			break
		}
		if k.delimiter != "" {
			if j := strings.Index(key[len(k.prefix):], k.delimiter); j >= 0 {
				// Every key of a common prefix counts once: skip to the
				// first key after them (keys are sorted, so contiguous).
				cp := key[:len(k.prefix)+j+len(k.delimiter)]
				prefixes = append(prefixes, cp)
				last = cp
				i = sort.Search(ks.n, func(x int) bool { kx := ks.key(x); return kx > cp && !strings.HasPrefix(kx, cp) }) - 1
				n++
				continue
			}
		}
		b.WriteString("<Contents>")
		elem("Key", key)
		b.WriteString("<LastModified>" + lm + "</LastModified><ETag>&quot;" + ks.etag(i) + "&quot;</ETag><Size>")
		b.WriteString(strconv.FormatInt(ks.size(i), 10))
		b.WriteString("</Size><StorageClass>STANDARD</StorageClass></Contents>")
		last = key
		n++
	}
	for _, cp := range prefixes {
		b.WriteString("<CommonPrefixes>")
		elem("Prefix", cp)
		b.WriteString("</CommonPrefixes>")
	}
	truncated := i < ks.n && strings.HasPrefix(ks.key(i), k.prefix)
	if !k.v1 {
		fmt.Fprintf(&b, "<KeyCount>%d</KeyCount>", n)
	}
	fmt.Fprintf(&b, "<MaxKeys>%d</MaxKeys><IsTruncated>%t</IsTruncated>", k.max, truncated)
	switch {
	case truncated && k.v1:
		elem("NextMarker", last)
	case truncated:
		fmt.Fprintf(&b, "<NextContinuationToken>%d</NextContinuationToken>", i)
	}
	b.WriteString("</ListBucketResult>")
	return b.Bytes()
}

// The synthetic trees of the scale cases: under "scale/N/", N keys
// ScalePath(0..N-1) of 0 to 16 bytes, all modified at ScaleModTime.
const (
	scalePrefix   = "scale/"
	discardPrefix = "discard/"
	// ScaleFilesPerDir is how many files each directory of a tree holds.
	ScaleFilesPerDir = 1000
)

// ScaleModTime is the modification time of every file of a synthetic
// tree, in whole seconds, as its objects' LastModified.
var ScaleModTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// ScalePath returns the path of file i of a synthetic tree, relative to
// it. Paths sort in the order of i, as bytes and as a directory walk.
func ScalePath(i int) string {
	return fmt.Sprintf("d%04d/f%07d", i/ScaleFilesPerDir, i)
}

// ScaleKey returns the key of file i of the synthetic tree of n keys.
func ScaleKey(n, i int) string { return scalePrefix + strconv.Itoa(n) + "/" + ScalePath(i) }

// ScaleSize returns the size of file i of a synthetic tree: 0 to 16 bytes.
func ScaleSize(i int) int64 { return int64(i % 17) }

// ScaleContent returns the content of file i of a synthetic tree.
func ScaleContent(i int) []byte {
	return []byte(fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15))[:ScaleSize(i)]
}

func scaleETag(i int) string {
	return fmt.Sprintf("%x", md5.Sum(ScaleContent(i)))
}

// discardRunOf returns the "discard/A/B/" prefix of a key under it.
func discardRunOf(key string) (string, bool) {
	if !strings.HasPrefix(key, discardPrefix) {
		return "", false
	}
	n := 0
	for i := range len(key) {
		if key[i] == '/' {
			if n++; n == 3 {
				return key[:i+1], true
			}
		}
	}
	return "", false
}

// parseScalePrefix returns N of a prefix within "scale/N/".
func parseScalePrefix(prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(prefix, scalePrefix)
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "/")
	n, err := strconv.Atoi(num)
	return n, ok && err == nil && n > 0
}

// parseScaleKey returns N and the index of a key of a synthetic tree.
func parseScaleKey(key string) (n, i int, ok bool) {
	if n, ok = parseScalePrefix(key); !ok {
		return 0, 0, false
	}
	_, file, found := strings.Cut(key, "/f")
	if !found {
		return 0, 0, false
	}
	i, err := strconv.Atoi(file)
	if err != nil || i < 0 || i >= n || ScaleKey(n, i) != key {
		return 0, 0, false
	}
	return n, i, true
}

// getScaleObject answers a HEAD or GET of file i of a synthetic tree,
// whole (a Range is ignored, as S3 may).
func (s *NullServer) getScaleObject(w http.ResponseWriter, r *http.Request, i int) {
	data := ScaleContent(i)
	h := w.Header()
	h.Set("ETag", `"`+scaleETag(i)+`"`)
	h.Set("Last-Modified", ScaleModTime.Format(http.TimeFormat))
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(data)
	s.stats.bytesSent.Add(int64(len(data)))
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
