// Package faultproxy is a fault-injecting HTTP reverse proxy for tests.
//
// A Proxy sits between an S3 client and a real S3-compatible server on
// 127.0.0.1. By default it forwards every request unchanged; rules added with
// [Proxy.Add] replace or damage the answers of chosen requests, so that tests
// can reproduce throttling, server errors, dropped connections, truncated or
// corrupted bodies, hung requests and stalled bodies deterministically.
//
// Forwarding keeps the request line, the Host header, the other end-to-end
// headers and the body exactly as the client sent them, because an AWS
// Signature Version 4 covers them: the client signs for the proxy's address
// and the server verifies the signature against that same Host value, which
// both versitygw and MinIO accept. Hop-by-hop headers (Connection and the
// ones it names, Transfer-Encoding, Keep-Alive, ...) are dropped as by any
// proxy, and HTTP trailers of responses are not passed on; S3 uses neither.
//
// Bodies are streamed in both directions; nothing is buffered whole.
package faultproxy

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a reverse proxy with fault injection, listening on 127.0.0.1.
// All its methods are safe for concurrent use.
type Proxy struct {
	// URL is the proxy's base URL, "http://127.0.0.1:PORT", to be used as
	// the client's endpoint.
	URL string

	target    *url.URL
	srv       *httptest.Server
	transport *http.Transport
	// ctx is cancelled by Close so that delayed, hung and forwarded
	// requests return at once; httptest.Server.Close waits for every
	// handler and would otherwise block forever on a Hang.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	rules    []*Rule
	requests []Request
	seq      int64 // requests received since New, never reset; names faults
}

// Request is one request as the proxy received it.
type Request struct {
	Method   string
	Host     string // the Host header, as signed by the client
	Path     string // still escaped, exactly as on the request line
	RawQuery string
	Header   http.Header // a copy; Host is in the Host field instead
	// Fault describes the fault applied (see [Fault.String]); "" when the
	// request was forwarded unchanged.
	Fault string
}

// New starts a proxy that forwards to target, the base URL of the real
// server (for example "http://127.0.0.1:9000"; only scheme and host are
// used). It panics if target is not an absolute http or https URL, since
// that is a mistake in the test itself. Call Close when done.
func New(target string) *Proxy {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		panic(fmt.Sprintf("faultproxy: bad target URL %q", target))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target: &url.URL{Scheme: u.Scheme, Host: u.Host},
		transport: &http.Transport{
			// Never route test traffic through a proxy from the environment.
			Proxy: nil,
			// Otherwise the transport would ask for gzip and transparently
			// decompress it, changing bodies and lengths behind the client's
			// back.
			DisableCompression:  true,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
		ctx:    ctx,
		cancel: cancel,
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serveHTTP))
	p.URL = p.srv.URL
	return p
}

// Close cuts short any delayed or hung request, stops the listener, waits for
// running handlers and drops idle connections to the target. It is safe to
// call more than once.
func (p *Proxy) Close() {
	p.cancel()
	p.srv.Close()
	p.transport.CloseIdleConnections()
}

// Add appends a copy of r to the rules and returns the copy, whose Fired
// method tells how often it was used. Rules are tried in the order they were
// added; the first one that matches a request and has fires left is applied.
// A request no rule takes is forwarded unchanged.
func (p *Proxy) Add(r Rule) *Rule {
	rc := r
	rc.fired = 0
	p.mu.Lock()
	p.rules = append(p.rules, &rc)
	p.mu.Unlock()
	return &rc
}

// Reset drops all rules and the request log, so that Count starts again from
// zero. Rules returned by earlier Add calls keep their Fired counts but are no
// longer applied.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.rules = nil
	p.requests = nil
	p.mu.Unlock()
}

// Requests returns a copy of the log of every request received since New or
// the last Reset, in order of arrival.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Request, len(p.requests))
	copy(out, p.requests)
	return out
}

// Count returns the number of requests received since New or the last Reset.
func (p *Proxy) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.requests)
}

// Rule selects requests and the fault to apply to them.
type Rule struct {
	// Method, if not empty, is the only HTTP method the rule matches.
	Method string
	// Match, if not nil, must report true for the rule to match. It is
	// called with the proxy's lock held, so it must be quick, must not read
	// the request body and must not call methods of the Proxy.
	Match func(*http.Request) bool
	// Times is how many matching requests the rule applies to; afterwards
	// it is skipped. Zero means every matching request.
	Times int
	// Fault is what happens to the requests the rule takes. The zero Fault
	// forwards them unchanged, which makes a rule that only counts.
	Fault Fault
	// Choose, if not nil, picks the fault of each request the rule takes
	// instead of Fault (see [Random]). Like Match, it is called with the
	// proxy's lock held and must be quick.
	Choose func(*http.Request) Fault

	fired int64 // accessed atomically; written with Proxy.mu held
}

// Fired returns how many requests the rule has been applied to.
func (r *Rule) Fired() int { return int(atomic.LoadInt64(&r.fired)) }

// HasQuery matches requests whose query string has the parameter name, with
// or without a value (S3 uses bare names such as "uploads").
func HasQuery(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Query().Has(name) }
}

// PathHasPrefix matches requests whose unescaped path starts with prefix.
func PathHasPrefix(prefix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, prefix) }
}

// PathHasSuffix matches requests whose unescaped path ends with suffix.
func PathHasSuffix(suffix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, suffix) }
}

// Not matches the requests m does not match.
func Not(m func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool { return !m(r) }
}

// And matches the requests every one of ms matches; with no arguments it
// matches every request.
func And(ms ...func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool {
		for _, m := range ms {
			if !m(r) {
				return false
			}
		}
		return true
	}
}

type faultKind int

const (
	kindPass faultKind = iota
	kindStatus
	kindOKWithError
	kindResetAfter
	kindTruncate
	kindDelay
	kindFlipByte
	kindHang
	kindStallAfter
)

// Fault is what a Rule does to a request. Build one with the functions
// below; the zero Fault forwards the request unchanged.
type Fault struct {
	kind   faultKind
	status int
	s3code string
	msg    string // the error's Message; "" for the usual wording
	n      int64
	d      time.Duration
}

// Status answers with the HTTP status code and an S3 XML error body whose
// Code is s3code, without contacting the server, as for example
// Status(503, "SlowDown") or Status(500, "InternalError"). The request body
// is read and discarded first: a client still sending it would otherwise get
// a write error instead of the response.
func Status(code int, s3code string) Fault {
	return Fault{kind: kindStatus, status: code, s3code: s3code}
}

// OKWithError answers 200 OK with an S3 XML error body whose Code is s3code,
// without contacting the server, so the operation has no side effect. This
// is how S3 reports some failures of CopyObject, UploadPartCopy and
// CompleteMultipartUpload, after it has already sent the status line. The
// request body is read and discarded first, as for Status.
func OKWithError(s3code string) Fault {
	return Fault{kind: kindOKWithError, status: http.StatusOK, s3code: s3code}
}

// ResetAfter forwards the request, passes on the response header and the
// first n bytes of the body, then aborts the TCP connection with a reset
// (SO_LINGER 0). A body of n bytes or fewer is passed on whole before the
// reset.
func ResetAfter(n int64) Fault { return Fault{kind: kindResetAfter, n: n} }

// Truncate forwards the request, passes on the response header unchanged
// (so Content-Length still announces the full body) and the first n bytes
// of the body, then closes the connection cleanly; the client sees an
// unexpected EOF. A body of n bytes or fewer is passed on whole, and the
// connection is still closed.
func Truncate(n int64) Fault { return Fault{kind: kindTruncate, n: n} }

// Delay waits for d, then forwards the request unchanged. A client that
// gives up meanwhile gets no answer and the request never reaches the
// server.
func Delay(d time.Duration) Fault { return Fault{kind: kindDelay, d: d} }

// FlipByte forwards the request and inverts every bit of the response body
// byte at offset (counted from 0), leaving headers such as Content-Length
// and ETag untouched. Bodies too short to have that byte pass unchanged.
func FlipByte(offset int64) Fault { return Fault{kind: kindFlipByte, n: offset} }

// Hang never answers and never contacts the server; the request ends when
// the client gives up or the proxy is closed.
func Hang() Fault { return Fault{kind: kindHang} }

// StallAfter forwards the request, passes on the response header and the
// first n bytes of the body, then sends nothing more while keeping the
// connection open; the request ends when the client gives up or the proxy
// is closed, and the connection is then closed without finishing the
// response. A body of n bytes or fewer is passed on whole: with a
// Content-Length the client then has its whole answer, while a chunked
// body still lacks its end.
func StallAfter(n int64) Fault { return Fault{kind: kindStallAfter, n: n} }

// String describes the fault as in the log of Requests, for example
// "Status(503, SlowDown)"; it is "" for the zero Fault.
func (f Fault) String() string {
	switch f.kind {
	case kindLoseResponse, kindResetRequest, kindHangAfter, kindDelayAnswer:
		return f.extraString()
	case kindStatus:
		if f.msg != "" {
			return fmt.Sprintf("StatusMessage(%d, %s, %q)", f.status, f.s3code, f.msg)
		}
		return fmt.Sprintf("Status(%d, %s)", f.status, f.s3code)
	case kindOKWithError:
		return fmt.Sprintf("OKWithError(%s)", f.s3code)
	case kindResetAfter:
		return fmt.Sprintf("ResetAfter(%d)", f.n)
	case kindTruncate:
		return fmt.Sprintf("Truncate(%d)", f.n)
	case kindDelay:
		return fmt.Sprintf("Delay(%s)", f.d)
	case kindFlipByte:
		return fmt.Sprintf("FlipByte(%d)", f.n)
	case kindHang:
		return "Hang()"
	case kindStallAfter:
		return fmt.Sprintf("StallAfter(%d)", f.n)
	}
	return ""
}

// pick logs r and returns the fault to apply to it and its sequence number.
func (p *Proxy) pick(r *http.Request) (Fault, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	var f Fault
	for _, rule := range p.rules {
		if rule.Method != "" && rule.Method != r.Method {
			continue
		}
		if rule.Times > 0 && atomic.LoadInt64(&rule.fired) >= int64(rule.Times) {
			continue
		}
		if rule.Match != nil && !rule.Match(r) {
			continue
		}
		atomic.AddInt64(&rule.fired, 1)
		f = rule.Fault
		if rule.Choose != nil {
			f = rule.Choose(r)
		}
		break
	}
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(path, "/") {
		// Absolute-form request target, as sent to forward proxies.
		path = r.URL.EscapedPath()
	}
	p.requests = append(p.requests, Request{
		Method:   r.Method,
		Host:     r.Host,
		Path:     path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Fault:    f.String(),
	})
	return f, p.seq
}

func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f, seq := p.pick(r)
	// The request body may still be on its way to the server when its
	// answer starts coming back (an early error, a streaming server); by
	// default net/http would cut the request body off at that point.
	_ = http.NewResponseController(w).EnableFullDuplex()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(p.ctx, cancel)
	defer stop()
	if p.serveExtra(ctx, w, r, f) {
		return
	}

	switch f.kind {
	case kindStatus, kindOKWithError:
		_, _ = io.Copy(io.Discard, r.Body)
		writeS3Error(w, f.status, f.s3code, f.msg, "fault-"+strconv.FormatInt(seq, 10))
		return
	case kindHang:
		<-ctx.Done()
		// Returning normally would send an empty 200 OK if the proxy is
		// being closed and the client is still there.
		abort(w, false, false)
		return
	case kindDelay:
		t := time.NewTimer(f.d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			abort(w, false, false)
			return
		case <-t.C:
		}
	}

	resp, err := p.roundTrip(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			abort(w, false, false)
			return
		}
		writeS3Error(w, http.StatusBadGateway, "FaultProxyError", "", "fault-"+strconv.FormatInt(seq, 10))
		return
	}
	defer resp.Body.Close()

	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = vv
	}
	removeHopByHop(h)
	w.WriteHeader(resp.StatusCode)

	var body io.Reader = resp.Body
	switch f.kind {
	case kindResetAfter, kindTruncate, kindStallAfter:
		body = io.LimitReader(body, f.n)
	case kindFlipByte:
		body = &flipReader{r: body, at: f.n}
	}
	if err := copyFlushing(w, body); err != nil {
		// The server or the client went away mid-body. Ending the handler
		// normally would close a chunked body properly and pass a short
		// answer off as complete.
		abort(w, false, false)
		return
	}

	switch f.kind {
	case kindStallAfter:
		// With n = 0 nothing was written: the header must still go out.
		_ = http.NewResponseController(w).Flush()
		<-ctx.Done()
		abort(w, false, false)
	case kindResetAfter:
		abort(w, true, true)
	case kindTruncate:
		abort(w, true, false)
	}
}

// roundTrip sends r to the target with the request line, Host header and
// body untouched.
func (p *Proxy) roundTrip(ctx context.Context, r *http.Request) (*http.Response, error) {
	out := r.Clone(ctx)
	// The server-side URL holds the path and query exactly as received
	// (RawPath keeps the client's escaping), so only the address changes.
	out.URL.Scheme = p.target.Scheme
	out.URL.Host = p.target.Host
	out.Host = r.Host
	out.RequestURI = ""
	out.Close = false
	if r.ContentLength == 0 {
		out.Body = nil
	}
	removeHopByHop(out.Header)
	if _, ok := out.Header["User-Agent"]; !ok {
		// An empty value stops the transport adding its own User-Agent.
		out.Header["User-Agent"] = []string{""}
	}
	return p.transport.RoundTrip(out)
}

// hopByHop lists the headers that belong to one connection (RFC 9110,
// section 7.6.1) and so must not be passed on.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// copyFlushing copies src to w, flushing after every write so that what the
// client has received is exactly what was copied when a fault cuts the
// connection.
func copyFlushing(w http.ResponseWriter, src io.Reader) error {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// abort ends the client connection of w without finishing the response,
// with a TCP reset if reset is true, else with an orderly close. If flush is
// true, what was written to w is sent first (including the header, which is
// why it must be false while nothing has been written).
func abort(w http.ResponseWriter, flush, reset bool) {
	rc := http.NewResponseController(w)
	// Hijack discards whatever is still buffered in the ResponseWriter.
	if flush && rc.Flush() != nil {
		return
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		if reset {
			_ = tc.SetLinger(0)
		} else {
			// Half-close first so that the client reads a FIN even if
			// unread request bytes make the final close send a reset.
			_ = tc.CloseWrite()
		}
	}
	_ = conn.Close()
}

type flipReader struct {
	r   io.Reader
	at  int64 // offset of the byte to flip
	pos int64 // offset of the next byte read
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if i := f.at - f.pos; i >= 0 && i < int64(n) {
		p[i] ^= 0xFF
	}
	f.pos += int64(n)
	return n, err
}

// messages gives the wording S3 uses for common codes, so that clients
// logging the message see something familiar.
var messages = map[string]string{
	"SlowDown":           "Please reduce your request rate.",
	"InternalError":      "We encountered an internal error. Please try again.",
	"ServiceUnavailable": "Service is unable to handle request.",
	"RequestTimeout":     "Your socket connection to the server was not read from or written to within the timeout period.",
	"AccessDenied":       "Access Denied",
	"NoSuchKey":          "The specified key does not exist.",
	"NoSuchBucket":       "The specified bucket does not exist.",
	"NoSuchUpload":       "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
}

type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	RequestID string `xml:"RequestId"`
}

func writeS3Error(w http.ResponseWriter, status int, code, msg, requestID string) {
	if msg == "" {
		var ok bool
		if msg, ok = messages[code]; !ok {
			msg = "Injected by faultproxy."
		}
	}
	body, err := xml.Marshal(s3Error{Code: code, Message: msg, RequestID: requestID})
	if err != nil {
		// Only strings are marshalled, which cannot fail.
		panic(err)
	}
	body = append([]byte(xml.Header), body...)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amz-Request-Id", requestID)
	w.WriteHeader(status)
	// For HEAD the server drops the body itself, as S3 does.
	_, _ = w.Write(body)
}
