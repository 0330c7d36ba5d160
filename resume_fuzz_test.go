package s3kit

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rangeServer answers every GET with the response the current fuzz input
// sets: a status, perhaps a Content-Range, and a body.
type rangeServer struct {
	*httptest.Server
	mu           sync.Mutex
	status       int
	contentRange *string
	body         []byte
}

func (s *rangeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	status, cr, body := s.status, s.contentRange, s.body
	s.mu.Unlock()
	w.Header().Set("ETag", `"e"`)
	if cr != nil {
		w.Header()["Content-Range"] = []string{*cr}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// FuzzContentRange checks the bytes a ranged read (rangeBody) accepts
// from a store, against parseByteRange (a strict reading of RFC 9110): a response whose status,
// Content-Range and length do not describe the range asked for is
// refused; one that does is read, and its bytes are the object's at the
// offsets asked for.
func FuzzContentRange(f *testing.F) {
	const size = 200
	object := make([]byte, size)
	for i := range object {
		object[i] = byte(i*7 + 3)
	}
	type seed struct {
		start, n  int // n < 0: the whole object, no Range header
		status    int
		cr        string
		hasCR     bool
		bodyStart int
		bodyLen   int
	}
	for _, s := range []seed{
		{0, -1, 200, "", false, 0, size},
		{0, 10, 206, "bytes 0-9/200", true, 0, 10},
		{5, 10, 206, "bytes 5-14/200", true, 5, 10},
		{5, 10, 206, "bytes 5-14/*", true, 5, 10},
		{199, 1, 206, "bytes 199-199/200", true, 199, 1},
		{150, 50, 206, "bytes 150-199/200", true, 150, 50},
		// Refused: the store ignored the Range, or answered another one.
		{5, 10, 200, "", false, 0, size},
		{5, 10, 206, "bytes 6-15/200", true, 6, 10},
		{5, 10, 206, "bytes 50-59/200", true, 50, 10},
		{5, 10, 206, "bytes 05-14/200", true, 5, 10},
		{5, 10, 206, "", true, 5, 10},
		{5, 10, 206, "bytes 0-199/200", true, 0, size},
		{5, 10, 206, "bytes 5-14/200", true, 5, 9},
		{5, 10, 416, "bytes */200", true, 0, 0},
		{0, 10, 206, "bytes 1-10/200", true, 1, 10},
		{0, 10, 200, "", false, 0, size},
	} {
		f.Add(s.start, max(s.n-1, -1), s.status, s.cr, s.hasCR, s.bodyStart, s.bodyLen)
	}
	srv := &rangeServer{}
	srv.Server = httptest.NewServer(srv)
	f.Cleanup(srv.Close)
	c, err := New(context.Background(), Config{
		Endpoint: srv.URL, Region: "us-east-1", AccessKeyID: "AKIAFUZZ", SecretAccessKey: "fuzz-secret",
		MaxAttempts: 1, Checksum: ChecksumNone,
	})
	if err != nil {
		f.Fatal(err)
	}
	b := c.Bucket("b-1")
	f.Fuzz(func(t *testing.T, start, length, status int, cr string, hasCR bool, bodyStart, bodyLen int) {
		// The reads s3kit makes: the whole object without a Range, or a
		// range [start, end) of 1+length bytes inside it.
		start = (start%size + size) % size
		end := int64(-1)
		if length >= 0 {
			end = int64(start + 1 + length%(size-start))
		} else {
			start = 0
		}
		if status != 200 && status != 206 && status != 416 {
			status = []int{200, 206, 416}[(status%3+3)%3]
		}
		bodyStart = (bodyStart%size + size) % size
		bodyLen = (bodyLen%(size+1) + size + 1) % (size + 1)
		body := object[bodyStart:min(bodyStart+bodyLen, size)]
		if strings.ContainsAny(cr, "\r\n\x00") {
			return // not a header a response can carry
		}

		// Whether the response describes the range asked for, and
		// whether its body is the bytes it says (an honest store).
		var consistent, honest bool
		p, parsed := parseByteRange(cr)
		switch {
		case end < 0 && !hasCR:
			consistent = status == 200
			honest = consistent && bodyStart == 0 && len(body) == size
		case end < 0:
			consistent = parsed && (status == 200 || status == 206) && p.first == 0 &&
				p.last == p.total-1 && int64(len(body)) == p.total
			honest = consistent && bodyStart == 0 && len(body) == size && p.total == size
		default:
			consistent = hasCR && parsed && status == 206 && p.first == int64(start) &&
				int64(len(body)) == p.last-p.first+1 && p.last <= end-1 &&
				(p.last == end-1 || p.total == p.last+1)
			honest = consistent && bodyStart == start && (p.total < 0 || p.total == size)
		}

		srv.mu.Lock()
		srv.status, srv.body, srv.contentRange = status, body, nil
		if hasCR {
			srv.contentRange = &cr
		}
		srv.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var got []byte
		rb, _, err := b.openRange(ctx, "Read", "k", `"e"`, "", int64(start), end)
		if err == nil {
			got, err = io.ReadAll(rb)
			rb.Close()
		}
		asked := "the whole object"
		if end >= 0 {
			asked = "bytes=" + strconv.Itoa(start) + "-" + strconv.FormatInt(end-1, 10)
		}
		header := "no Content-Range"
		if hasCR {
			header = "Content-Range " + strconv.Quote(cr)
		}
		if err == nil && !consistent {
			t.Fatalf("asked for %s, the store answered %d with %s and %d bytes: accepted %d bytes",
				asked, status, header, len(body), len(got))
		}
		if !honest {
			return
		}
		stop := int64(size)
		if end >= 0 {
			stop = end
		}
		// An honest answer that ends before the range does (the object
		// is shorter) cannot be read whole.
		if p.total == p.last+1 && end >= 0 && p.last < end-1 {
			return
		}
		if err != nil {
			t.Fatalf("asked for %s, the store answered %d with %s and the right %d bytes: %v",
				asked, status, header, len(body), err)
		}
		if !bytes.Equal(got, object[start:stop]) {
			t.Fatalf("asked for %s, the store answered %d with %s: read %d bytes, not the object's", asked, status, header, len(got))
		}
	})
}
