package main

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// shard selects the paths of shard I of N: those whose FNV-1a hash of the
// path relative to the source, modulo N, is I. N machines running one
// command each with I = 0 … N-1 split a job between them with no
// coordinator, as long as they see the same relative paths.
type shard struct {
	i, n uint64
}

func (s *shard) String() string {
	if s.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.i, s.n)
}

func (s *shard) Set(v string) error {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.ParseUint(a, 10, 32)
	n, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil || n == 0 || i >= n {
		return fmt.Errorf("%q: want I/N with 0 <= I < N, such as 0/4", v)
	}
	s.i, s.n = i, n
	return nil
}

func (s *shard) Type() string { return "I/N" }

// has reports whether rel belongs to the shard; every path does when no
// shard was given.
func (s *shard) has(rel string) bool {
	if s.n == 0 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(rel))
	return h.Sum64()%s.n == s.i
}
