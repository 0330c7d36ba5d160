package faultproxy_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/s3kit/s3kit/internal/faultproxy"
	"github.com/s3kit/s3kit/internal/s3test"
)

// backend is a plain HTTP server standing in for S3.
type backend struct {
	*httptest.Server
	hits atomic.Int64
}

// seen is what the backend's /echo endpoint reports about a request.
type seen struct {
	Method     string
	RequestURI string
	Host       string
	Header     http.Header
	BodyLen    int64
	BodySHA256 string
}

// newBackend serves
//   - /blob/N: N bytes of blobData, with Content-Length unless ?chunked;
//   - anything else: a JSON description of the request (seen).
func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if size, ok := strings.CutPrefix(r.URL.Path, "/blob/"); ok {
			n, err := strconv.Atoi(size)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if !r.URL.Query().Has("chunked") {
				w.Header().Set("Content-Length", strconv.Itoa(n))
			}
			w.Header().Set("ETag", `"blob"`)
			_, _ = w.Write(blobData(n))
			return
		}
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Request-Id", "backend")
		_ = json.NewEncoder(w).Encode(seen{
			Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Header: r.Header,
			BodyLen: n, BodySHA256: hex.EncodeToString(h.Sum(nil)),
		})
	}))
	t.Cleanup(b.Close)
	return b
}

func blobData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func newProxy(t *testing.T, target string) *faultproxy.Proxy {
	p := faultproxy.New(target)
	t.Cleanup(p.Close)
	return p
}

// client returns an HTTP client that does not reuse connections, so that a
// fault cutting one connection cannot affect the next request.
func client() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

func mustDo(t *testing.T, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return mustDo(t, client(), req)
}

func TestForwardUnchanged(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)

	body := blobData(3<<20 + 17)
	const path = "/bucket/dir/a%20b%2Bc%2Fd!'()*~"
	const query = "partNumber=1&uploadId=x%2By&uploads"
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var rd io.Reader = bytes.NewReader(body)
			if chunked {
				rd = io.MultiReader(rd) // hides the length
			}
			req, err := http.NewRequest(http.MethodPut, p.URL+path+"?"+query, rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			req.Header.Set("X-Amz-Meta-Odd", "spaced  value")
			req.Header.Set("Content-Md5", "abc==")
			req.Header.Set("Connection", "X-Hop")
			req.Header.Set("X-Hop", "must not pass")
			resp := mustDo(t, client(), req)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Request-Id") != "backend" {
				t.Fatalf("status %s, headers %v", resp.Status, resp.Header)
			}
			var s seen
			if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
				t.Fatal(err)
			}
			proxyHost := strings.TrimPrefix(p.URL, "http://")
			if s.Method != http.MethodPut || s.RequestURI != path+"?"+query || s.Host != proxyHost {
				t.Errorf("backend saw %s %s Host %s, want PUT %s Host %s", s.Method, s.RequestURI, s.Host, path+"?"+query, proxyHost)
			}
			sum := sha256.Sum256(body)
			if s.BodyLen != int64(len(body)) || s.BodySHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("backend got %d body bytes with SHA-256 %s, want %d and %x", s.BodyLen, s.BodySHA256, len(body), sum)
			}
			for _, k := range []string{"Authorization", "X-Amz-Meta-Odd", "Content-Md5"} {
				if got, want := s.Header.Get(k), req.Header.Get(k); got != want {
					t.Errorf("backend got %s %q, want %q", k, got, want)
				}
			}
			if v := s.Header.Get("X-Hop"); v != "" {
				t.Errorf("hop-by-hop header X-Hop passed on: %q", v)
			}
		})
	}

	log := p.Requests()
	if len(log) != 2 || p.Count() != 2 {
		t.Fatalf("Requests() has %d entries, Count() = %d, want 2", len(log), p.Count())
	}
	r := log[0]
	if r.Method != http.MethodPut || r.Path != path || r.RawQuery != query || r.Host != strings.TrimPrefix(p.URL, "http://") || r.Fault != "" {
		t.Errorf("logged %+v", r)
	}
	if r.Header.Get("X-Amz-Meta-Odd") == "" {
		t.Errorf("logged header lacks X-Amz-Meta-Odd: %v", r.Header)
	}
}

// Large bodies must flow through while the other end is still sending.
func TestStreams(t *testing.T) {
	firstIn := make(chan struct{})
	releaseOut := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			t.Error(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			t.Errorf("reading the first request bytes: %v", err)
			return
		}
		close(firstIn)
		_, _ = w.Write([]byte("head"))
		w.(http.Flusher).Flush()
		<-releaseOut
		_, _ = io.Copy(w, r.Body)
	}))
	defer srv.Close()
	p := newProxy(t, srv.URL)

	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPut, p.URL+"/k", pr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req = req.WithContext(ctx)
	go func() {
		_, _ = pw.Write([]byte("abcd"))
		select {
		case <-firstIn:
		case <-ctx.Done():
		}
		_, _ = pw.Write([]byte("tail"))
		pw.Close()
	}()
	resp := mustDo(t, client(), req)
	head := make([]byte, 4)
	if _, err := io.ReadFull(resp.Body, head); err != nil || string(head) != "head" {
		t.Fatalf("first response bytes %q, %v", head, err)
	}
	close(releaseOut)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "tail" {
		t.Fatalf("rest of response %q, %v", rest, err)
	}
}

func TestRules(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)

	once := p.Add(faultproxy.Rule{Method: http.MethodGet, Match: faultproxy.PathHasSuffix("/a"), Times: 1, Fault: faultproxy.Status(503, "SlowDown")})
	always := p.Add(faultproxy.Rule{Match: faultproxy.And(faultproxy.PathHasPrefix("/x/"), faultproxy.Not(faultproxy.HasQuery("uploads"))), Fault: faultproxy.Status(500, "InternalError")})
	counter := p.Add(faultproxy.Rule{Match: faultproxy.HasQuery("uploads")})

	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/x/a", 503},         // once
		{http.MethodGet, "/x/a", 500},         // once is used up; always
		{http.MethodHead, "/y/a", 200},        // wrong method for once
		{http.MethodGet, "/y/b?uploads", 200}, // counter only
		{http.MethodPost, "/x/a?uploads", 200},
		{http.MethodGet, "/y/a", 200},
	} {
		req, err := http.NewRequest(tc.method, p.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp := mustDo(t, client(), req); resp.StatusCode != tc.want {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, resp.Status, tc.want)
		}
	}
	if once.Fired() != 1 || always.Fired() != 1 || counter.Fired() != 2 {
		t.Errorf("Fired() = %d, %d, %d, want 1, 1, 2", once.Fired(), always.Fired(), counter.Fired())
	}
	if got := b.hits.Load(); got != 4 {
		t.Errorf("backend got %d requests, want 4", got)
	}
	log := p.Requests()
	var faults []string
	for _, r := range log {
		faults = append(faults, r.Fault)
	}
	if got, want := strings.Join(faults, "|"), "Status(503, SlowDown)|Status(500, InternalError)||||"; got != want {
		t.Errorf("logged faults %q, want %q", got, want)
	}

	p.Reset()
	if p.Count() != 0 || len(p.Requests()) != 0 {
		t.Errorf("after Reset: Count() = %d, %d requests logged", p.Count(), len(p.Requests()))
	}
	if resp := get(t, p.URL+"/x/a"); resp.StatusCode != 200 {
		t.Errorf("after Reset: %s, want 200", resp.Status)
	}
	if p.Count() != 1 || always.Fired() != 1 {
		t.Errorf("after Reset and one request: Count() = %d, old rule fired %d", p.Count(), always.Fired())
	}
}

type s3Error struct {
	Code      string
	Message   string
	RequestID string `xml:"RequestId"`
}

func checkS3Error(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e s3Error
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if resp.StatusCode != status || e.Code != code || e.Message == "" || !strings.HasPrefix(e.RequestID, "fault-") {
		t.Errorf("got %s %+v, want %d %s", resp.Status, e, status, code)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type %q", ct)
	}
	if id := resp.Header.Get("X-Amz-Request-Id"); id != e.RequestID {
		t.Errorf("x-amz-request-id %q, body RequestId %q", id, e.RequestID)
	}
}

func TestStatusAndOKWithError(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	p.Add(faultproxy.Rule{Method: http.MethodPut, Times: 1, Fault: faultproxy.Status(503, "SlowDown")})
	p.Add(faultproxy.Rule{Method: http.MethodPut, Times: 1, Fault: faultproxy.OKWithError("InternalError")})
	p.Add(faultproxy.Rule{Method: http.MethodHead, Times: 1, Fault: faultproxy.Status(404, "NoSuchKey")})

	// A body far larger than socket buffers: the client must see the
	// answer, not a failure to send the body.
	body := blobData(8 << 20)
	put := func() *http.Response {
		req, err := http.NewRequest(http.MethodPut, p.URL+"/b/k", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return mustDo(t, client(), req)
	}
	checkS3Error(t, put(), 503, "SlowDown")
	checkS3Error(t, put(), 200, "InternalError")

	req, err := http.NewRequest(http.MethodHead, p.URL+"/b/k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp := mustDo(t, client(), req); resp.StatusCode != 404 {
		t.Errorf("HEAD: %s, want 404", resp.Status)
	}
	if got := b.hits.Load(); got != 0 {
		t.Errorf("backend got %d requests, want 0", got)
	}
	if resp := put(); resp.StatusCode != 200 || resp.Header.Get("X-Amz-Request-Id") != "backend" {
		t.Errorf("third PUT: %s, want the backend's 200", resp.Status)
	}
}

func TestResetAfter(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	const size, n = 1 << 20, 100_000
	p.Add(faultproxy.Rule{Times: 1, Fault: faultproxy.ResetAfter(n)})

	resp := get(t, p.URL+fmt.Sprintf("/blob/%d", size))
	if resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("%s, Content-Length %d", resp.Status, resp.ContentLength)
	}
	got, err := io.ReadAll(resp.Body)
	if len(got) != n || !bytes.Equal(got, blobData(size)[:n]) {
		t.Errorf("read %d bytes before the reset, want the first %d", len(got), n)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read error %v, want ECONNRESET", err)
	}

	// The rule is used up; the next request gets everything.
	if got, err := io.ReadAll(get(t, p.URL+fmt.Sprintf("/blob/%d", size)).Body); err != nil || len(got) != size {
		t.Errorf("second request: %d bytes, %v", len(got), err)
	}
}

func TestTruncate(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	const size, n = 1 << 20, 40_000
	p.Add(faultproxy.Rule{Fault: faultproxy.Truncate(n)})

	for _, q := range []string{"", "?chunked"} {
		resp := get(t, p.URL+fmt.Sprintf("/blob/%d%s", size, q))
		if q == "" && resp.ContentLength != size {
			t.Errorf("Content-Length %d, want %d", resp.ContentLength, size)
		}
		got, err := io.ReadAll(resp.Body)
		if len(got) != n || !bytes.Equal(got, blobData(size)[:n]) {
			t.Errorf("%q: read %d bytes, want the first %d", q, len(got), n)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: read error %v, want unexpected EOF", q, err)
		}
	}
}

func TestFlipByte(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	const size = 100_000
	for _, off := range []int64{0, 5, 40_000, size - 1, size} {
		p.Reset()
		p.Add(faultproxy.Rule{Fault: faultproxy.FlipByte(off)})
		resp := get(t, p.URL+fmt.Sprintf("/blob/%d", size))
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		want := blobData(size)
		if off < size {
			want[off] ^= 0xFF
		}
		if !bytes.Equal(got, want) || resp.Header.Get("ETag") != `"blob"` {
			t.Errorf("offset %d: body or ETag differs from the expected one", off)
		}
	}
}

func TestDelay(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	const d = 300 * time.Millisecond
	p.Add(faultproxy.Rule{Fault: faultproxy.Delay(d)})

	began := time.Now()
	if resp := get(t, p.URL+"/k"); resp.StatusCode != 200 {
		t.Errorf("%s, want 200", resp.Status)
	}
	if el := time.Since(began); el < d {
		t.Errorf("answered after %v, want at least %v", el, d)
	}

	// A client giving up during the delay keeps the request from the server.
	ctx, cancel := context.WithTimeout(context.Background(), d/6)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("cancelled request: %v, want a deadline error", err)
	}
	time.Sleep(d)
	if got := b.hits.Load(); got != 1 {
		t.Errorf("backend got %d requests, want 1", got)
	}
}

func TestHang(t *testing.T) {
	b := newBackend(t)
	p := faultproxy.New(b.URL)
	defer p.Close()
	p.Add(faultproxy.Rule{Fault: faultproxy.Hang()})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("hung request: %v, want a deadline error", err)
	}

	// Close must not wait for a hung request, and the client must see a
	// broken connection rather than an answer.
	errc := make(chan error, 1)
	go func() {
		resp, err := client().Get(p.URL + "/k")
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("got an answer: %s", resp.Status)
		}
		errc <- err
	}()
	for p.Count() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	began := time.Now()
	p.Close()
	if el := time.Since(began); el > 2*time.Second {
		t.Errorf("Close took %v", el)
	}
	if err := <-errc; err == nil || strings.Contains(err.Error(), "got an answer") {
		t.Errorf("request hung at Close: %v, want a connection error", err)
	}
	if got := b.hits.Load(); got != 0 {
		t.Errorf("backend got %d requests, want 0", got)
	}
}

func TestTargetDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := newProxy(t, "http://"+addr)
	checkS3Error(t, get(t, p.URL+"/k"), http.StatusBadGateway, "FaultProxyError")
}

func TestConcurrent(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	slow := p.Add(faultproxy.Rule{Times: 10, Fault: faultproxy.Status(503, "SlowDown")})
	c := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
	defer c.CloseIdleConnections()

	const workers, each = 8, 25
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Go(func() {
			for range each {
				resp, err := c.Get(p.URL + "/blob/70000")
				if err != nil {
					t.Error(err)
					return
				}
				data, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					t.Error(err)
				case resp.StatusCode == 503:
					failed.Add(1)
				case !bytes.Equal(data, blobData(70000)):
					t.Error("body differs")
				}
				_ = p.Requests()
			}
		})
	}
	wg.Wait()
	if failed.Load() != 10 || slow.Fired() != 10 || p.Count() != workers*each {
		t.Errorf("%d failed, rule fired %d, Count() %d; want 10, 10, %d", failed.Load(), slow.Fired(), p.Count(), workers*each)
	}
}

func TestNewPanicsOnBadTarget(t *testing.T) {
	for _, target := range []string{"", "127.0.0.1:9000", "ftp://127.0.0.1/", "http://"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%q) did not panic", target)
				}
			}()
			faultproxy.New(target).Close()
		}()
	}
}

// sigV4 signs req for S3 with AWS Signature Version 4, covering the Host
// header the client sends (req.URL.Host), the payload hash and the date. It
// is the minimal signer needed to show that a signature made for the proxy's
// address is accepted by the server behind it.
func sigV4(req *http.Request, payload []byte, accessKey, secretKey, region string, now time.Time) {
	sum := sha256.Sum256(payload)
	payloadHash := hex.EncodeToString(sum[:])
	amzDate := now.UTC().Format("20060102T150405Z")
	day := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)

	var query []string
	for k, vs := range req.URL.Query() {
		for _, v := range vs {
			query = append(query, awsEscape(k)+"="+awsEscape(v))
		}
	}
	slices.Sort(query)
	const signed = "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{
		req.Method,
		req.URL.EscapedPath(), // S3 signs the path as sent, escaped once
		strings.Join(query, "&"),
		"host:" + req.URL.Host + "\nx-amz-content-sha256:" + payloadHash + "\nx-amz-date:" + amzDate + "\n",
		signed,
		payloadHash,
	}, "\n")
	scope := day + "/" + region + "/s3/aws4_request"
	csum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(csum[:])
	key := []byte("AWS4" + secretKey)
	for _, part := range []string{day, region, "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%x",
		accessKey, scope, signed, hmacSHA256(key, toSign)))
}

// awsEscape percent-encodes everything but the unreserved characters of RFC
// 3986, as SigV4 requires for query names and values.
func awsEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// TestRealServers sends SigV4-signed requests through the proxy to each
// test server: signatures cover the Host header, so this shows that the
// proxy passes on the Host the client signed and that the servers accept a
// Host naming the proxy rather than themselves.
func TestRealServers(t *testing.T) {
	for _, name := range s3test.Names() {
		t.Run(name, func(t *testing.T) {
			s := s3test.StartTB(t, name)
			p := newProxy(t, s.Endpoint)
			c := client()
			// do signs a request for signHost (the proxy's when "") and
			// sends it through the proxy with the Host header sendHost
			// (the signed one when "").
			do := func(method, path string, body []byte, signHost, sendHost string) (*http.Response, string) {
				t.Helper()
				req, err := http.NewRequest(method, p.URL+path, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if signHost != "" {
					req.URL.Host = signHost
				}
				sigV4(req, body, s.AccessKey, s.SecretKey, s.Region, time.Now())
				req.Host = req.URL.Host
				if sendHost != "" {
					req.Host = sendHost
				}
				req.URL.Host = strings.TrimPrefix(p.URL, "http://")
				resp := mustDo(t, c, req)
				data, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp, string(data)
			}
			proxyHost := strings.TrimPrefix(p.URL, "http://")
			serverHost := strings.TrimPrefix(s.Endpoint, "http://")

			const bucket = "/s3kit-faultproxy"
			const key = bucket + "/dir/a%20b%2Bc"
			if resp, body := do(http.MethodPut, bucket, nil, "", ""); resp.StatusCode != 200 {
				t.Fatalf("CreateBucket: %s %s", resp.Status, body)
			}
			if resp, body := do(http.MethodPut, key, []byte("hello"), "", ""); resp.StatusCode != 200 {
				t.Fatalf("PutObject: %s %s", resp.Status, body)
			}
			if resp, body := do(http.MethodGet, key, nil, "", ""); resp.StatusCode != 200 || body != "hello" {
				t.Fatalf("GetObject: %s %q", resp.Status, body)
			}
			if resp, body := do(http.MethodGet, bucket+"?list-type=2&prefix=dir%2F", nil, "", ""); resp.StatusCode != 200 || !strings.Contains(body, "<Key>dir/a b+c</Key>") {
				t.Fatalf("ListObjectsV2: %s %s", resp.Status, body)
			}

			// The servers do check the Host header against the signature,
			// and the proxy passes on whatever Host the client sent.
			resp, body := do(http.MethodGet, key, nil, serverHost, proxyHost)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
				t.Errorf("signed for Host %s, sent with Host %s: %s %s, want 403 SignatureDoesNotMatch", serverHost, proxyHost, resp.Status, body)
			}
			if resp, body := do(http.MethodGet, key, nil, serverHost, ""); resp.StatusCode != 200 || body != "hello" {
				t.Errorf("signed for and sent with Host %s: %s %q", serverHost, resp.Status, body)
			}

			// An unsigned request gets the server's own refusal.
			resp = get(t, p.URL+key)
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(data), "<Code>AccessDenied</Code>") || strings.Contains(string(data), "fault-") {
				t.Errorf("unsigned GET: %s %s, want the server's 403 AccessDenied", resp.Status, data)
			}

			// AWS SDKs send larger bodies with "Expect: 100-continue"; the
			// proxy answers the client's expectation and the server's
			// 100 Continue must not confuse it.
			big := blobData(3 << 20)
			req, err := http.NewRequest(http.MethodPut, p.URL+bucket+"/big", bytes.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Expect", "100-continue")
			sigV4(req, big, s.AccessKey, s.SecretKey, s.Region, time.Now())
			expecting := &http.Client{Transport: &http.Transport{Proxy: nil, ExpectContinueTimeout: 5 * time.Second}}
			if resp := mustDo(t, expecting, req); resp.StatusCode != 200 {
				body, _ := io.ReadAll(resp.Body)
				t.Errorf("PutObject with Expect: 100-continue: %s %s", resp.Status, body)
			}
			if resp, body := do(http.MethodGet, bucket+"/big", nil, "", ""); resp.StatusCode != 200 || body != string(big) {
				t.Errorf("GetObject of the 100-continue upload: %s, %d bytes", resp.Status, len(body))
			}

			rule := p.Add(faultproxy.Rule{Method: http.MethodGet, Match: faultproxy.PathHasSuffix("/a b+c"), Times: 1, Fault: faultproxy.Status(503, "SlowDown")})
			if resp, body := do(http.MethodGet, key, nil, "", ""); resp.StatusCode != 503 || !strings.Contains(body, "<Code>SlowDown</Code>") {
				t.Errorf("GetObject with fault: %s %s", resp.Status, body)
			}
			if resp, body := do(http.MethodGet, key, nil, "", ""); resp.StatusCode != 200 || body != "hello" || rule.Fired() != 1 {
				t.Errorf("GetObject after fault: %s %q, rule fired %d", resp.Status, body, rule.Fired())
			}
		})
	}
}
