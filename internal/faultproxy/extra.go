package faultproxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Faults whose outcome depends on where the connection breaks relative to
// the server's work. Their kinds are numbered apart from those of
// faultproxy.go so that both lists can grow independently.
const (
	kindLoseResponse faultKind = iota + 64
	kindResetRequest
	kindHangAfter
	kindDelayAnswer
)

// LoseResponse forwards the request whole, reads the server's whole
// response, and then resets the client connection without passing any of
// it on. The server has done the work (an object written, an upload
// completed, a key deleted), but the client sees only a broken connection,
// as when a connection dies after the server committed: a retry meets the
// consequences of the first attempt.
func LoseResponse() Fault { return Fault{kind: kindLoseResponse} }

// ResetRequest reads the first n bytes of the request body (fewer if the
// body is shorter) and then resets the connection, without contacting the
// server, as when a connection dies while an upload is on its way.
func ResetRequest(n int64) Fault { return Fault{kind: kindResetRequest, n: n} }

// HangAfter forwards the request, passes on the response header and the
// first n bytes of the body, and then sends nothing more while keeping the
// connection open, until the client gives up or the proxy is closed: a
// stall in the middle of a body.
func HangAfter(n int64) Fault { return Fault{kind: kindHangAfter, n: n} }

// DelayAnswer forwards the request at once, reads the server's whole
// response, and passes it on only after d: the server has done the work
// while the client still waits, so a client that gives up meanwhile never
// learns what was done (an upload created, an object written).
func DelayAnswer(d time.Duration) Fault { return Fault{kind: kindDelayAnswer, d: d} }

func (f Fault) extraString() string {
	switch f.kind {
	case kindLoseResponse:
		return "LoseResponse()"
	case kindResetRequest:
		return fmt.Sprintf("ResetRequest(%d)", f.n)
	case kindHangAfter:
		return fmt.Sprintf("HangAfter(%d)", f.n)
	case kindDelayAnswer:
		return fmt.Sprintf("DelayAnswer(%s)", f.d)
	}
	return ""
}

// serveExtra applies the faults of this file and reports whether f was one
// of them; ctx ends when the client goes away or the proxy is closed.
func (p *Proxy) serveExtra(ctx context.Context, w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.kind {
	case kindDelayAnswer:
		resp, err := p.roundTrip(ctx, r)
		if err != nil {
			abort(w, false, false)
			return true
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			abort(w, false, false)
			return true
		}
		select {
		case <-time.After(f.d):
		case <-ctx.Done():
			abort(w, false, false)
			return true
		}
		h := w.Header()
		for k, vv := range resp.Header {
			h[k] = vv
		}
		removeHopByHop(h)
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	case kindLoseResponse:
		resp, err := p.roundTrip(ctx, r)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		abort(w, false, true)
	case kindResetRequest:
		_, _ = io.CopyN(io.Discard, r.Body, f.n)
		abort(w, false, true)
	case kindHangAfter:
		resp, err := p.roundTrip(ctx, r)
		if err != nil {
			abort(w, false, false)
			return true
		}
		defer resp.Body.Close()
		h := w.Header()
		for k, vv := range resp.Header {
			h[k] = vv
		}
		removeHopByHop(h)
		w.WriteHeader(resp.StatusCode)
		if err := copyFlushing(w, io.LimitReader(resp.Body, f.n)); err != nil {
			abort(w, false, false)
			return true
		}
		// A body of n bytes or fewer has passed whole: the answer is
		// complete, and holding its connection would stall the client's
		// next request on it instead.
		if n, err := resp.Body.Read(make([]byte, 1)); n == 0 && err == io.EOF {
			return true
		}
		<-ctx.Done()
		abort(w, false, false)
	default:
		return false
	}
	return true
}

// ForgetRequests empties the log of requests (see [Proxy.Requests]) and
// keeps the rules, so that a long run does not keep every request it made.
func (p *Proxy) ForgetRequests() {
	p.mu.Lock()
	p.requests = nil
	p.mu.Unlock()
}
