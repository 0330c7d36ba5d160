package s3kit

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"

	"github.com/minio/crc64nvme"
)

// Checksum algorithms for Config.Checksum.
const (
	// ChecksumCRC64NVME is the default: the full-object checksum S3 itself
	// computes for every upload, so objects written by s3kit and by other
	// tools compare alike; computed with SIMD instructions.
	ChecksumCRC64NVME = "CRC64NVME"
	// ChecksumCRC32C is the Castagnoli CRC, hardware-accelerated on amd64
	// and arm64, for stores that know CRC32C but not CRC64NVME.
	ChecksumCRC32C = "CRC32C"
	// ChecksumNone sends no checksum headers, for stores that reject them;
	// downloads are then checked only where the store reports a checksum.
	ChecksumNone = "none"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A checksummer computes one full-object CRC algorithm, and combines the
// CRCs of consecutive pieces so that parts checksummed in parallel still
// give the checksum of the whole object.
type checksummer struct {
	name  string
	bits  int
	poly  uint64 // reflected polynomial, for combine
	sum   func(crc uint64, p []byte) uint64
	zeros [64][64]uint64 // zeros[i]: the operator appending 2^i zero bytes
}

var (
	crc64nvmeSum = newChecksummer(ChecksumCRC64NVME, 64, 0x9a6c9329ac4bc9b5,
		func(crc uint64, p []byte) uint64 { return crc64nvme.Update(crc, p) })
	crc32cSum = newChecksummer(ChecksumCRC32C, 32, 0x82f63b78,
		func(crc uint64, p []byte) uint64 { return uint64(crc32.Update(uint32(crc), castagnoli, p)) })
	// crc32Sum only verifies downloads of objects other tools stored with
	// CRC32 (the SDKs' default until 2025).
	crc32Sum = newChecksummer("CRC32", 32, 0xedb88320,
		func(crc uint64, p []byte) uint64 { return uint64(crc32.Update(uint32(crc), crc32.IEEETable, p)) })
)

// checksummerFor returns the checksummer of an algorithm name, or nil for
// ChecksumNone.
func checksummerFor(name string) *checksummer {
	switch name {
	case ChecksumCRC64NVME:
		return crc64nvmeSum
	case ChecksumCRC32C:
		return crc32cSum
	}
	return nil
}

func newChecksummer(name string, bits int, poly uint64, sum func(uint64, []byte) uint64) *checksummer {
	c := &checksummer{name: name, bits: bits, poly: poly, sum: sum}
	// The operator for one zero bit, then squared up to 2^63 zero bytes;
	// zlib's crc32_combine does the same, one squaring per call.
	var op [64]uint64
	op[0] = poly
	for n := 1; n < bits; n++ {
		op[n] = 1 << (n - 1)
	}
	var sq [64]uint64
	c.square(&sq, &op) // 2 zero bits
	c.square(&op, &sq) // 4 zero bits
	c.square(&c.zeros[0], &op)
	for i := 1; i < 64; i++ {
		c.square(&c.zeros[i], &c.zeros[i-1])
	}
	return c
}

func (c *checksummer) times(mat *[64]uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func (c *checksummer) square(dst, mat *[64]uint64) {
	for n := 0; n < c.bits; n++ {
		dst[n] = c.times(mat, mat[n])
	}
}

// combine returns the CRC of A followed by B, given crcA, crcB and the
// length of B.
func (c *checksummer) combine(crcA, crcB uint64, lenB int64) uint64 {
	for i := 0; lenB > 0; i, lenB = i+1, lenB>>1 {
		if lenB&1 != 0 {
			crcA = c.times(&c.zeros[i], crcA)
		}
	}
	return crcA ^ crcB
}

// encode returns the base64 form S3 uses for a CRC value.
func (c *checksummer) encode(crc uint64) string {
	if c.bits == 32 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(crc))
		return base64.StdEncoding.EncodeToString(b[:])
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], crc)
	return base64.StdEncoding.EncodeToString(b[:])
}

// crcPiece is the CRC of one piece of an object.
type crcPiece struct {
	crc  uint64
	size int64
}

// combineAll returns the CRC of the pieces in order.
func (c *checksummer) combineAll(pieces []crcPiece) uint64 {
	var crc uint64
	for i, p := range pieces {
		if i == 0 {
			crc = p.crc
			continue
		}
		crc = c.combine(crc, p.crc, p.size)
	}
	return crc
}
