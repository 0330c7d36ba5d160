package s3kit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// maxRedirects is how many same-origin redirects one request follows, as
// many as net/http's default policy.
const maxRedirects = 10

// newHTTPClient returns the http.Client of a Client: s3kit's own tuned one,
// or a copy of the caller's (so that the caller's value is never changed)
// with s3kit's redirect policy when it has none of its own. Either way
// every response goes through the stall watchdog.
func newHTTPClient(hc *http.Client, concurrency int, insecure bool, roots *x509.CertPool, stall time.Duration) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Transport = newTransport(concurrency, insecure, roots)
	}
	if c.CheckRedirect == nil {
		c.CheckRedirect = checkRedirect
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &stallTransport{base: base, timeout: stall}
	return &c
}

// newTransport returns the Client's HTTP transport: enough idle
// connections per host for its concurrency (net/http keeps 2 by default, so
// parallel requests would otherwise open and close connections), and no
// transparent gzip, which would hand out decompressed bytes of objects
// stored with Content-Encoding: gzip. roots, if not nil, replace the
// system's certificate authorities.
func newTransport(concurrency int, insecure bool, roots *x509.CertPool) *http.Transport {
	// A program may have replaced http.DefaultTransport (tracing,
	// logging); start from its settings only if it is still a Transport.
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second}
	}
	idle := max(2*concurrency, 64)
	t.MaxIdleConns = idle
	t.MaxIdleConnsPerHost = idle
	t.IdleConnTimeout = 90 * time.Second
	t.DisableCompression = true
	t.ExpectContinueTimeout = time.Second
	if insecure || roots != nil {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = insecure
		if roots != nil {
			t.TLSClientConfig.RootCAs = roots
		}
	}
	return t
}

// sdkRootCAs returns the certificate authorities the SDK's configuration
// loader put into the HTTP client it built, which it does only for a CA
// bundle (AWS_CA_BUNDLE, or ca_bundle in the profile): s3kit uses its own
// client, and would otherwise ignore the bundle. nil means none.
func sdkRootCAs(hc aws.HTTPClient) *x509.CertPool {
	bc, ok := hc.(*awshttp.BuildableClient)
	if !ok {
		return nil
	}
	if tc := bc.GetTransport().TLSClientConfig; tc != nil {
		return tc.RootCAs
	}
	return nil
}

// checkRedirect is the redirect policy of s3kit's http.Client. It is
// stricter than the SDK's own (which follows 307 and 308 anywhere, removing
// only the session token on a change of host) and than net/http's (which
// keeps Authorization when only the port changes, and follows downgrades
// to http):
//
//   - only 307 and 308 are followed, because they keep the method and body
//     the request was signed for; any other 3xx is handed to the SDK as the
//     response, which makes it an error;
//   - only to the same scheme, host and port, since the request carries a
//     signature and maybe a session token: a redirect anywhere else is
//     refused with a redirectError, never followed without them, so that
//     another server's answer is never taken for the store's.
func checkRedirect(req *http.Request, via []*http.Request) error {
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	if status != http.StatusTemporaryRedirect && status != http.StatusPermanentRedirect {
		return http.ErrUseLastResponse
	}
	from := via[0].URL
	if !sameOrigin(from, req.URL) {
		return &redirectError{status: status, from: origin(from), to: origin(req.URL)}
	}
	if len(via) >= maxRedirects {
		return &redirectError{status: status, from: origin(from), to: origin(req.URL), loop: true}
	}
	return nil
}

// redirectError is a redirect s3kit refused to follow. It is never retried:
// the store would send the same redirect again.
type redirectError struct {
	status   int
	from, to string // scheme://host:port only: the rest may hold a signature
	loop     bool
}

func (e *redirectError) Error() string {
	if e.loop {
		return fmt.Sprintf("stopped after %d redirects (HTTP %d) within %s", maxRedirects, e.status, e.from)
	}
	return fmt.Sprintf("refused to follow an HTTP %d redirect from %s to %s: credentials go only to the scheme, host and port a request was sent to", e.status, e.from, e.to)
}

// sameOrigin reports whether a and b have the same scheme, host and port,
// a missing port standing for the scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// origin returns scheme://host[:port] of u.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + u.Host
}

// stallError is a request that made no progress for the stall timeout:
// none of it was sent, no response headers came, or a Read of the response
// body waited. It is transient: the SDK retries the request, and a
// download resumes.
type stallError struct {
	timeout time.Duration
	body    bool
}

func (e *stallError) Error() string {
	if e.body {
		return fmt.Sprintf("response body stalled: no byte for %v (Config.StallTimeout)", e.timeout)
	}
	return fmt.Sprintf("request stalled: nothing sent or received for %v (Config.StallTimeout)", e.timeout)
}

// Timeout and Temporary make it a net.Error, as a read timeout would be.
func (e *stallError) Timeout() bool   { return true }
func (e *stallError) Temporary() bool { return true }

// stallTransport bounds how long a request may go without progress. Until
// the response headers arrive, its clock starts once a connection is
// obtained (dialling has timeouts of its own, and a transport that limits
// connections may make a request wait its turn for reasons of its own),
// and starts again whenever the transport takes bytes of the request body,
// and once the request is written: a server that stops reading an upload
// or never answers is a stall, an upload over a slow link is not. Then
// every Read of the response body is timed while it waits, so a caller
// slow to call Read never trips it. On a stall the request's context is
// cancelled, which makes the transport drop the connection.
//
// The connection and the end of the request are learnt from an
// httptrace.ClientTrace, which net/http's transports report to; over a
// RoundTripper that does not, only the response body is watched.
type stallTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	w := &watchdog{timeout: t.timeout, onFire: cancel}
	trace := &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { w.start() },
		WroteRequest: func(httptrace.WroteRequestInfo) { w.start() },
	}
	out := req.WithContext(httptrace.WithClientTrace(ctx, trace))
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &sendBody{ReadCloser: req.Body, w: w}
		if req.GetBody != nil {
			out.GetBody = func() (io.ReadCloser, error) {
				b, err := req.GetBody()
				if err != nil || b == nil || b == http.NoBody {
					return b, err
				}
				return &sendBody{ReadCloser: b, w: w}, nil
			}
		}
	}
	resp, err := t.base.RoundTrip(out)
	// For good: the transport may still report the end of a request whose
	// answer came early.
	if w.finish() {
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		return nil, &stallError{timeout: t.timeout}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		cancel()
		return resp, nil
	}
	b := &stallBody{body: resp.Body, cancel: cancel}
	b.w = &watchdog{timeout: t.timeout, onFire: func() {
		// Cancelling makes net/http's transports drop the connection;
		// closing the body unblocks the Read of any other RoundTripper.
		cancel()
		b.close()
	}}
	resp.Body = b
	return resp, nil
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on to the
// wrapped transport.
func (t *stallTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// sendBody is a request body whose Reads by the transport count as
// progress.
type sendBody struct {
	io.ReadCloser
	w *watchdog
}

func (b *sendBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.w.touch()
	return n, err
}

// watchdog calls onFire once its clock, started and not stopped, has run
// for its timeout.
type watchdog struct {
	timeout time.Duration
	onFire  func()

	mu      sync.Mutex
	timer   *time.Timer
	running bool
	since   time.Time
	fired   bool
	done    bool // finished: the clock never starts again
}

// start starts the clock again from zero.
func (w *watchdog) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.restart()
}

// touch starts the clock again from zero if it is running.
func (w *watchdog) touch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		w.restart()
	}
}

func (w *watchdog) restart() {
	if w.fired || w.done {
		return
	}
	w.running, w.since = true, time.Now()
	if w.timer == nil {
		w.timer = time.AfterFunc(w.timeout, w.fire)
	} else {
		w.timer.Reset(w.timeout)
	}
}

// stop stops the clock and reports whether it had already run out.
func (w *watchdog) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = false
	if w.timer != nil {
		w.timer.Stop()
	}
	return w.fired
}

// finish stops the clock for good and reports whether it had run out.
func (w *watchdog) finish() bool {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	return w.stop()
}

func (w *watchdog) fire() {
	w.mu.Lock()
	// A timer that fired while stop and start ran again belongs to an
	// earlier wait.
	stale := !w.running || w.fired || time.Since(w.since) < w.timeout
	if !stale {
		w.fired = true
	}
	w.mu.Unlock()
	if !stale {
		w.onFire()
	}
}

// stallBody is a response body whose Reads fail with a stallError, and
// which is closed, once a Read has waited for the timeout without a byte.
type stallBody struct {
	body      io.ReadCloser
	w         *watchdog
	cancel    context.CancelFunc // of the request's context
	closeOnce sync.Once
	closeErr  error
}

func (b *stallBody) Read(p []byte) (int, error) {
	b.w.start()
	n, err := b.body.Read(p)
	if b.w.stop() {
		return n, &stallError{timeout: b.w.timeout, body: true}
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.w.stop()
	err := b.close()
	// Only now: cancelling earlier would cut a body still being read.
	b.cancel()
	return err
}

func (b *stallBody) close() error {
	b.closeOnce.Do(func() { b.closeErr = b.body.Close() })
	return b.closeErr
}

// isRedirectError and isStallError classify errors for the retryer.
func isRedirectError(err error) bool {
	var e *redirectError
	return errors.As(err, &e)
}

func isStallError(err error) bool {
	var e *stallError
	return errors.As(err, &e)
}
