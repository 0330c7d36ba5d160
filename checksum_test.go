package s3kit

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/minio/crc64nvme"
)

func TestChecksumCombine(t *testing.T) {
	data := make([]byte, 1<<20+13)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	for _, c := range []*checksummer{crc64nvmeSum, crc32cSum} {
		want := c.sum(0, data)
		for _, cut := range [][]int{{0}, {1}, {len(data) - 1}, {7, 1 << 16, 1<<16 + 1, 900_000}, {len(data)}} {
			var pieces []crcPiece
			prev := 0
			for _, at := range append(cut, len(data)) {
				pieces = append(pieces, crcPiece{c.sum(0, data[prev:at]), int64(at - prev)})
				prev = at
			}
			if got := c.combineAll(pieces); got != want {
				t.Errorf("%s cut at %v: combined %x, want %x", c.name, cut, got, want)
			}
		}
	}
	// Known values: the libraries themselves, and S3's documented encoding.
	if got, want := crc32cSum.sum(0, []byte("hello")), uint64(crc32.Checksum([]byte("hello"), castagnoli)); got != want {
		t.Errorf("crc32c = %x, want %x", got, want)
	}
	if got, want := crc64nvmeSum.sum(0, []byte("hello")), crc64nvme.Checksum([]byte("hello")); got != want {
		t.Errorf("crc64nvme = %x, want %x", got, want)
	}
	if got := crc32cSum.encode(crc32cSum.sum(0, []byte("hello"))); len(got) != 8 {
		t.Errorf("CRC32C encoding %q, want 4 bytes in base64", got)
	}
}
