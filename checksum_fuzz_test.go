package s3kit

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// FuzzChecksumCombine checks, for every CRC s3kit computes or verifies,
// that combining the CRCs of consecutive pieces gives the CRC of the
// whole, for a two-way split at cut and for a random split drawn from
// seed, and that a CRC's base64 form decodes back to it.
func FuzzChecksumCombine(f *testing.F) {
	f.Add([]byte(""), uint(0), uint64(0))
	f.Add([]byte("a"), uint(0), uint64(1))
	f.Add([]byte("a"), uint(1), uint64(2))
	f.Add([]byte("hello, world"), uint(5), uint64(3))
	f.Add(make([]byte, 300), uint(129), uint64(4))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\x00"), uint(8), uint64(5))
	f.Fuzz(func(t *testing.T, data []byte, cut uint, seed uint64) {
		cut %= uint(len(data)) + 1
		rng := rand.New(rand.NewPCG(seed, uint64(len(data))))
		var cuts []int
		for n := rng.IntN(6); n > 0; n-- {
			cuts = append(cuts, rng.IntN(len(data)+1))
		}
		for _, c := range []*checksummer{crc64nvmeSum, crc32cSum, crc32Sum} {
			whole := c.sum(0, data)
			a, b := data[:cut], data[cut:]
			if got := c.combine(c.sum(0, a), c.sum(0, b), int64(len(b))); got != whole {
				t.Fatalf("%s: combine at %d of %d bytes = %x, want %x", c.name, cut, len(data), got, whole)
			}
			// Unsorted cuts make some pieces empty, which combine must
			// take too.
			var pieces []crcPiece
			prev := 0
			for _, at := range append(cuts, len(data)) {
				at = max(at, prev)
				pieces = append(pieces, crcPiece{c.sum(0, data[prev:at]), int64(at - prev)})
				prev = at
			}
			if got := c.combineAll(pieces); got != whole {
				t.Fatalf("%s: combineAll at %v of %d bytes = %x, want %x", c.name, cuts, len(data), got, whole)
			}
			// A run of zero bytes, as long as the seed says.
			zeros := int64(rng.IntN(1 << 12))
			if got, want := c.combine(whole, c.sum(0, make([]byte, zeros)), zeros), c.sum(whole, make([]byte, zeros)); got != want {
				t.Fatalf("%s: combine with %d zero bytes = %x, want %x", c.name, zeros, got, want)
			}
			// Lengths far beyond any data, up to S3's 5 TiB objects and
			// the operator tables' end: appending m then n zero bytes is
			// appending m+n.
			m, n := rng.Int64N(1<<62), rng.Int64N(1<<62)
			if got, want := c.combine(c.combine(whole, 0, m), 0, n), c.combine(whole, 0, m+n); got != want {
				t.Fatalf("%s: %d then %d zero bytes give %x, %d give %x", c.name, m, n, got, m+n, want)
			}

			enc := c.encode(whole)
			raw, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("%s: encode(%x) = %q, not base64: %v", c.name, whole, enc, err)
			}
			var back uint64
			switch len(raw) {
			case 4:
				back = uint64(binary.BigEndian.Uint32(raw))
			case 8:
				back = binary.BigEndian.Uint64(raw)
			}
			if len(raw)*8 != c.bits || back != whole {
				t.Fatalf("%s: encode(%x) = %q, which decodes to %x", c.name, whole, enc, raw)
			}
			if c.bits == 32 && whole>>32 != 0 {
				t.Fatalf("%s: CRC %x has more than 32 bits", c.name, whole)
			}
		}
	})
}
