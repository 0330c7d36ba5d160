package faultproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3kit/s3kit/internal/faultproxy"
)

func TestLoseResponse(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	p.Add(faultproxy.Rule{Times: 1, Fault: faultproxy.LoseResponse()})

	body := blobData(300_000)
	req, err := http.NewRequest(http.MethodPut, p.URL+"/k", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%s), want a broken connection", resp.Status)
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Errorf("error %v, want a reset connection", err)
	}
	// The server did the work: it received the whole body.
	if got := b.hits.Load(); got != 1 {
		t.Fatalf("backend got %d requests, want 1", got)
	}
	if got := p.Requests()[0].Fault; got != "LoseResponse()" {
		t.Errorf("logged fault %q", got)
	}
	p.ForgetRequests()
	if n := p.Count(); n != 0 {
		t.Errorf("%d requests logged after ForgetRequests", n)
	}
}

func TestResetRequest(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	p.Add(faultproxy.Rule{Times: 1, Fault: faultproxy.ResetRequest(1000)})

	req, err := http.NewRequest(http.MethodPut, p.URL+"/k", bytes.NewReader(blobData(4<<20)))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%s), want a broken connection", resp.Status)
	}
	if got := b.hits.Load(); got != 0 {
		t.Errorf("backend got %d requests, want 0", got)
	}

	// The rule is used up: the next upload arrives whole.
	req, err = http.NewRequest(http.MethodPut, p.URL+"/k", bytes.NewReader(blobData(1000)))
	if err != nil {
		t.Fatal(err)
	}
	var s seen
	if err := json.NewDecoder(mustDo(t, client(), req).Body).Decode(&s); err != nil || s.BodyLen != 1000 {
		t.Errorf("second upload: %d bytes arrived, %v", s.BodyLen, err)
	}
}

func TestHangAfter(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	const size, n = 1 << 20, 70_000
	p.Add(faultproxy.Rule{Fault: faultproxy.HangAfter(n)})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+fmt.Sprintf("/blob/%d", size), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := mustDo(t, client(), req)
	if resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("%s, Content-Length %d", resp.Status, resp.ContentLength)
	}
	got, err := io.ReadAll(resp.Body)
	if len(got) != n || !bytes.Equal(got, blobData(size)[:n]) {
		t.Errorf("read %d bytes before the stall, want the first %d", len(got), n)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read error %v, want the client's deadline", err)
	}

	// A body no longer than n passes whole and ends normally.
	if got, err := io.ReadAll(get(t, p.URL+fmt.Sprintf("/blob/%d", n)).Body); err != nil || len(got) != n {
		t.Errorf("short body: %d bytes, %v", len(got), err)
	}
}

func TestRandom(t *testing.T) {
	reqs := func() []*http.Request {
		var out []*http.Request
		for i := range 200 {
			// Upload IDs and bucket names differ between runs; keys do not.
			r, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://x/bucket-%d/key%d?partNumber=1&uploadId=u%d", i, i%20, i), nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	choose := func(seed uint64, rate float64, rs []*http.Request) []string {
		rf := &faultproxy.Random{Seed: seed, Rate: rate}
		var out []string
		for _, r := range rs {
			out = append(out, rf.Choose(r).String())
		}
		return out
	}

	a := choose(1, 0.3, reqs())
	// The same requests in another order meet the same faults. Identical
	// requests (those of one key) are told apart by their arrival order,
	// so each key must meet the same faults, in any order.
	rs := reqs()
	slices.Reverse(rs)
	rev := choose(1, 0.3, rs)
	perKey := func(rs []*http.Request, fs []string) map[string][]string {
		m := map[string][]string{}
		for i, r := range rs {
			key := r.URL.Path[strings.LastIndex(r.URL.Path, "/"):]
			m[key] = append(m[key], fs[i])
		}
		for _, v := range m {
			slices.Sort(v)
		}
		return m
	}
	ma, mr := perKey(reqs(), a), perKey(rs, rev)
	for k, fs := range ma {
		if !slices.Equal(fs, mr[k]) {
			t.Errorf("key %s: faults %q in one order, %q in the other", k, fs, mr[k])
		}
	}
	faults := 0
	for _, f := range a {
		if f != "" {
			faults++
		}
	}
	if faults < 30 || faults > 90 {
		t.Errorf("%d faults in 200 requests at rate 0.3", faults)
	}
	if fmt.Sprint(choose(2, 0.3, reqs())) == fmt.Sprint(a) {
		t.Error("another seed picked the same faults")
	}
	for _, f := range choose(1, 0, reqs()) {
		if f != "" {
			t.Fatalf("rate 0 picked %s", f)
		}
	}

	// Faults that damage an answer spare CreateMultipartUpload; OKWithError
	// only goes where S3 sends it.
	rf := &faultproxy.Random{Seed: 3, Rate: 1}
	for i := range 300 {
		r, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://x/b/k%d?uploads", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		f := rf.Choose(r).String()
		for _, bad := range []string{"ResetAfter", "Truncate", "LoseResponse", "OKWithError", "FlipByte", "HangAfter", "ResetRequest"} {
			if strings.HasPrefix(f, bad) {
				t.Fatalf("CreateMultipartUpload got %s", f)
			}
		}
	}
}

func TestDelayAnswer(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	p.Add(faultproxy.Rule{Times: 2, Fault: faultproxy.DelayAnswer(300 * time.Millisecond)})

	// A client that waits gets the server's answer, late.
	req, err := http.NewRequest(http.MethodPut, p.URL+"/k", bytes.NewReader(blobData(1000)))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || time.Since(start) < 300*time.Millisecond {
		t.Errorf("answer %s after %s, want 200 OK after the delay", resp.Status, time.Since(start))
	}
	// A client that gives up meanwhile gets nothing, but the server did
	// the work.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err = http.NewRequestWithContext(ctx, http.MethodPut, p.URL+"/k", bytes.NewReader(blobData(1000)))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%s) after giving up", resp.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.hits.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := b.hits.Load(); got != 2 {
		t.Errorf("backend got %d requests, want 2", got)
	}
	if got := p.Requests()[0].Fault; got != "DelayAnswer(300ms)" {
		t.Errorf("logged fault %q", got)
	}
}
