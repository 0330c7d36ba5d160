package faultproxy_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/s3kit/s3kit/internal/faultproxy"
)

// TestRefuseHeaders: a request carrying one of the headers is answered
// with the store's error naming it, without reaching the server; one
// without them is forwarded.
func TestRefuseHeaders(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	r := p.Add(faultproxy.RefuseHeaders(400, "InvalidArgument", "Unsupported header '%s' received for this API call.",
		"x-amz-checksum-", "X-Amz-Sdk-Checksum-"))

	req, err := http.NewRequest(http.MethodPut, p.URL+"/bucket/key", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Checksum-Crc64nvme", "AAAAAAAAAAA=")
	resp := mustDo(t, client(), req)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e s3Error
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	want := "Unsupported header 'x-amz-checksum-crc64nvme' received for this API call."
	if resp.StatusCode != 400 || e.Code != "InvalidArgument" || e.Message != want {
		t.Errorf("got %s %+v, want 400 InvalidArgument %q", resp.Status, e, want)
	}
	if n := b.hits.Load(); n != 0 {
		t.Errorf("the server saw %d requests, want 0", n)
	}

	req, err = http.NewRequest(http.MethodPut, p.URL+"/bucket/key", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if resp := mustDo(t, client(), req); resp.StatusCode != http.StatusOK {
		t.Errorf("a request without the headers: %s, want it forwarded", resp.Status)
	}
	if n := b.hits.Load(); n != 1 || r.Fired() != 1 {
		t.Errorf("server saw %d requests, rule fired %d times; want 1 and 1", n, r.Fired())
	}
	reqs := p.Requests()
	if len(reqs) != 2 || !strings.HasPrefix(reqs[0].Fault, "StatusMessage(400, InvalidArgument,") || reqs[1].Fault != "" {
		t.Errorf("log %+v", reqs)
	}
}
