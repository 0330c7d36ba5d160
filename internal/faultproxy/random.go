package faultproxy

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Random picks faults at random for [Rule.Choose], reproducibly: whether a
// request gets a fault, and which, depends only on Seed, on the request
// (method, key, query, range headers) and on how many identical requests
// came before it, never on when it arrived. Clients whose own sequences of
// requests repeat from run to run therefore meet the same faults with the
// same seed, however their requests interleave. The bucket name and upload
// IDs are left out of a request's identity, since they change from run to
// run.
//
// Set the fields before the first request; a Random is then safe for
// concurrent use.
type Random struct {
	Seed uint64
	// Rate is the probability that a request gets a fault, from 0 to 1.
	Rate float64
	// Choices are the faults to pick from, by weight among those that
	// apply to the request; nil means [DefaultChoices].
	Choices []Choice

	mu   sync.Mutex
	seen map[string]uint64
}

// Choice is one kind of fault that Random picks.
type Choice struct {
	Name   string
	Weight int
	// Make returns the fault for r, drawing its parameters from rnd, or
	// false if it does not apply to r. It must not read r's body.
	Make func(r *http.Request, rnd *rand.Rand) (Fault, bool)
}

// DefaultChoices are the faults of a soak: throttling and server errors,
// 200 with an error body where S3 sends one (copies and the completion of
// multipart uploads), resets and truncations at random points of bodies,
// corrupted bytes, short delays, stalls before and during a body, and
// answers lost after the server did the work.
//
// The answer of a CreateMultipartUpload is never damaged once the server
// has created the upload: no client can abort an upload whose ID it never
// saw, so every such fault would leave one behind, whatever the client
// does.
func DefaultChoices() []Choice {
	always := func(f func(rnd *rand.Rand) Fault) func(*http.Request, *rand.Rand) (Fault, bool) {
		return func(_ *http.Request, rnd *rand.Rand) (Fault, bool) { return f(rnd), true }
	}
	// answered: the fault damages an answer after the server acted.
	answered := func(f func(rnd *rand.Rand) Fault) func(*http.Request, *rand.Rand) (Fault, bool) {
		return func(r *http.Request, rnd *rand.Rand) (Fault, bool) {
			return f(rnd), !(r.Method == http.MethodPost && r.URL.Query().Has("uploads"))
		}
	}
	return []Choice{
		{"SlowDown", 6, always(func(*rand.Rand) Fault { return Status(http.StatusServiceUnavailable, "SlowDown") })},
		{"InternalError", 4, always(func(*rand.Rand) Fault { return Status(http.StatusInternalServerError, "InternalError") })},
		{"OKWithError", 4, func(r *http.Request, _ *rand.Rand) (Fault, bool) {
			copySource := r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != ""
			complete := r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
			return OKWithError("InternalError"), copySource || complete
		}},
		{"ResetAfter", 6, answered(func(rnd *rand.Rand) Fault { return ResetAfter(offset(rnd)) })},
		{"Truncate", 4, answered(func(rnd *rand.Rand) Fault { return Truncate(offset(rnd)) })},
		{"ResetRequest", 4, func(r *http.Request, rnd *rand.Rand) (Fault, bool) {
			// -1: a body of unknown length, such as an aws-chunked one.
			return ResetRequest(offset(rnd)), r.ContentLength != 0
		}},
		{"FlipByte", 3, func(r *http.Request, rnd *rand.Rand) (Fault, bool) {
			return FlipByte(offset(rnd)), r.Method == http.MethodGet
		}},
		{"Delay", 6, always(func(rnd *rand.Rand) Fault { return Delay(time.Duration(rnd.Int64N(int64(300 * time.Millisecond)))) })},
		{"LoseResponse", 6, answered(func(*rand.Rand) Fault { return LoseResponse() })},
		{"Hang", 1, always(func(*rand.Rand) Fault { return Hang() })},
		{"HangAfter", 1, func(r *http.Request, rnd *rand.Rand) (Fault, bool) {
			return HangAfter(offset(rnd)), r.Method == http.MethodGet
		}},
	}
}

// offset draws a byte offset from 0 to 1 MiB, log-uniformly, so that the
// first bytes of a body, its middle and the edges of 64 KiB blocks all get
// their share.
func offset(rnd *rand.Rand) int64 {
	return rnd.Int64N(int64(1) << rnd.IntN(21))
}

// Choose returns the fault for r: the zero Fault (forward unchanged) with
// probability 1-Rate.
func (rf *Random) Choose(r *http.Request) Fault {
	id := identity(r)
	rf.mu.Lock()
	if rf.seen == nil {
		rf.seen = map[string]uint64{}
	}
	nth := rf.seen[id]
	rf.seen[id] = nth + 1
	rf.mu.Unlock()

	h := fnv.New64a()
	_ = binary.Write(h, binary.LittleEndian, rf.Seed)
	_ = binary.Write(h, binary.LittleEndian, nth)
	h.Write([]byte(id))
	sum := h.Sum64()
	rnd := rand.New(rand.NewPCG(sum, sum^0x9e3779b97f4a7c15))
	if rnd.Float64() >= rf.Rate {
		return Fault{}
	}
	choices := rf.Choices
	if choices == nil {
		choices = DefaultChoices()
	}
	type option struct {
		f      Fault
		weight int
	}
	var opts []option
	total := 0
	for _, c := range choices {
		if c.Weight <= 0 {
			continue
		}
		if f, ok := c.Make(r, rnd); ok {
			opts = append(opts, option{f, c.Weight})
			total += c.Weight
		}
	}
	if total == 0 {
		return Fault{}
	}
	pick := rnd.IntN(total)
	for _, o := range opts {
		if pick < o.weight {
			return o.f
		}
		pick -= o.weight
	}
	return Fault{}
}

// identity names r for Choose: what stays the same when a client sends the
// same request again in another run.
func identity(r *http.Request) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte(' ')
	// Path-style "/bucket/key": the bucket's name changes between runs.
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	b.WriteString(key)
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for name := range q {
		if name != "uploadId" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		b.WriteString(" " + url.QueryEscape(name) + "=" + url.QueryEscape(strings.Join(q[name], ",")))
	}
	if v := r.Header.Get("Range"); v != "" {
		b.WriteString(" range=" + v)
	}
	if v := r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		b.WriteString(" copy-range=" + v)
	}
	if v := r.Header.Get("X-Amz-Copy-Source"); v != "" {
		if _, src, ok := strings.Cut(strings.TrimPrefix(v, "/"), "/"); ok {
			b.WriteString(" copy=" + src)
		}
	}
	return b.String()
}
