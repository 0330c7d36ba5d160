package s3kit

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strings"

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
	// ChecksumCRC32 is the IEEE CRC of zip and Ethernet, the SDKs' default
	// until 2025, for clients that check only it (the aws CLI without
	// awscrt checks CRC32 and the SHAs, not CRC32C or CRC64NVME) and for
	// stores that know no other (Cloudflare R2 before 2025).
	ChecksumCRC32 = "CRC32"
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
	crc32Sum = newChecksummer(ChecksumCRC32, 32, 0xedb88320,
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
	case ChecksumCRC32:
		return crc32Sum
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

// uploadChecksum returns the checksummer the Client's uploads carry now:
// nil with ChecksumNone, for a store whose profile rejects checksum
// headers, and once the Client has seen its store refuse them (see
// dropChecksums).
func (c *Client) uploadChecksum() *checksummer {
	if c.checksum == nil || c.noChecksums.Load() {
		return nil
	}
	return c.checksum
}

// stillSending returns cs, or nil once the Client has learned that its
// store refuses checksum headers: a Writer made before then sends none
// either.
func (c *Client) stillSending(cs *checksummer) *checksummer {
	if c.noChecksums.Load() {
		return nil
	}
	return cs
}

// checksumRefused reports whether err is a store's refusal of the checksum
// headers of a request the Client chose them for itself (Config.Checksum
// and Config.StoreProfile unset): the request is then worth sending once
// more without them. Stores answer so in several ways:
//
//   - 501 NotImplemented: Cloudflare R2 before it knew CRC32 ("Header
//     'x-amz-checksum-crc32' with value '…' not implemented"), s3proxy ("A
//     header you provided implies functionality that is not implemented").
//   - 400 with a message that names a checksum and says it is not
//     supported: Backblaze B2 ("InvalidArgument: Unsupported header
//     'x-amz-checksum-crc32' received for this API call."), emulators
//     refusing an algorithm they lack.
//
// A 400 that says nothing of checksums (a bad key, a bad argument) is not
// a refusal, nor is BadDigest or any other checksum mismatch: those say
// the store checked the checksum and the bytes differ, and sending them
// again unchecked would store what was damaged.
func (c *Client) checksumRefused(err error) bool {
	if !c.checksumFallback || err == nil {
		return false
	}
	var e *Error
	if !errors.As(wrapErr("", "", "", err), &e) {
		return false
	}
	code, msg := e.Code, strings.ToLower(e.Message)
	switch {
	case code == "BadDigest" || strings.Contains(code, "Mismatch"):
		return false
	case e.StatusCode == http.StatusNotImplemented || code == "NotImplemented":
		return true
	case e.StatusCode == http.StatusBadRequest && strings.Contains(msg, "checksum"):
		for _, s := range []string{"unsupported", "not supported", "not implemented", "unknown", "unrecognized", "not recognized", "not allowed"} {
			if strings.Contains(msg, s) {
				return true
			}
		}
	}
	return false
}

// dropChecksums records that the store took a request without checksum
// headers after refusing it with them (refusal): the Client's requests
// carry none from now on, and its uploads carry Content-MD5 instead. Safe
// for concurrent use.
func (c *Client) dropChecksums(refusal error) {
	if c.noChecksums.Swap(true) || c.log == nil {
		return
	}
	c.log.Warn("s3kit: the store refuses checksum headers; this Client's requests carry none from now on (uploads carry Content-MD5), and downloads verify only what the store reports",
		"error", refusal)
}

// contentMD5 returns the base64 MD5 of what r holds, for Content-MD5, and
// rewinds r; "" if the Client's store takes checksum headers, or if the
// caller chose ChecksumNone. A store that refuses the flexible checksum
// headers still knows Content-MD5, which S3 has had from its start: it
// refuses a body whose MD5 differs (BadDigest), so that an upload is
// still checked end to end where UNSIGNED-PAYLOAD is sent (over https) and
// no CRC may be.
func (c *Client) contentMD5(r io.ReadSeeker) (string, error) {
	if !c.noChecksums.Load() {
		return "", nil
	}
	return md5Of(r)
}

// md5Of returns the base64 MD5 of what r holds and rewinds it.
func md5Of(r io.ReadSeeker) (string, error) {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	h := md5.New()
	if _, err := io.CopyBuffer(h, r, *bp); err != nil {
		return "", err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}
