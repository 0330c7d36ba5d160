package s3kit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// crc32Of is the base64 big-endian IEEE CRC32 of data, as S3 reports it.
func crc32Of(data []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data)))
}

// Every upload path with Config.Checksum CRC32 stores the CRC32 of the
// whole object, multipart uploads as a FULL_OBJECT checksum combined from
// the parts' CRCs, and Download verifies it. The sizes sit at the part
// boundaries, where the single PUT turns into parts and a last part is one
// byte.
func TestUploadCRC32(t *testing.T) {
	const part = s3kit.MinPartSize
	uploads := []struct {
		name string
		put  func(ctx context.Context, t *testing.T, b *s3kit.Bucket, key string, data []byte) error
	}{
		{"Put stream", func(ctx context.Context, _ *testing.T, b *s3kit.Bucket, key string, data []byte) error {
			_, err := b.Put(ctx, key, io.MultiReader(bytes.NewReader(data)), nil)
			return err
		}},
		{"Put ReaderAt", func(ctx context.Context, _ *testing.T, b *s3kit.Bucket, key string, data []byte) error {
			_, err := b.Put(ctx, key, bytes.NewReader(data), nil)
			return err
		}},
		{"Writer", func(ctx context.Context, _ *testing.T, b *s3kit.Bucket, key string, data []byte) error {
			w, err := b.NewWriter(ctx, key, nil)
			if err != nil {
				return err
			}
			// Writes that straddle the part boundaries.
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 3*mib+7)
				if _, err := w.Write(rest[:n]); err != nil {
					w.Abort()
					return err
				}
				rest = rest[n:]
			}
			return w.Close()
		}},
		{"Upload", func(ctx context.Context, t *testing.T, b *s3kit.Bucket, key string, data []byte) error {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := b.Upload(ctx, path, key, nil)
			return err
		}},
		{"Sync", func(ctx context.Context, t *testing.T, b *s3kit.Bucket, key string, data []byte) error {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), b.Prefix(key), nil)
			if err == nil && res.Copied.Files != 1 {
				return fmt.Errorf("Sync copied %d files, want 1", res.Copied.Files)
			}
			return err
		}},
	}
	eachServer(t, func(t *testing.T, e *env) {
		c := newClient(t, e.srv, s3kit.Config{Checksum: s3kit.ChecksumCRC32, PartSize: part})
		b := c.Bucket(e.bucket.Name())
		for _, u := range uploads {
			t.Run(u.name, func(t *testing.T) {
				for _, size := range []int{0, 1, part - 1, part, part + 1, 2*part + 1} {
					ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
					defer cancel()
					data := randomBytes(size)
					key := fmt.Sprintf("%s-%d", u.name, size)
					if err := u.put(ctx, t, b, key, data); err != nil {
						t.Fatalf("%d bytes: %v", size, err)
					}
					if u.name == "Sync" {
						key += "/f"
					}
					want := crc32Of(data)
					info, err := b.Head(ctx, key, nil)
					if err != nil {
						t.Fatal(err)
					}
					if got := info.Checksums[s3kit.ChecksumCRC32]; got != want || info.Size != int64(size) {
						t.Errorf("%d bytes: the store has %d bytes, CRC32 %q, want %q (all: %v)", size, info.Size, got, want, info.Checksums)
					}
					if size > part && info.ChecksumType != "FULL_OBJECT" {
						t.Errorf("%d bytes: checksum type %q, want FULL_OBJECT", size, info.ChecksumType)
					}
					local := filepath.Join(t.TempDir(), "down")
					d, err := b.Download(ctx, key, local, nil)
					if err != nil {
						t.Fatalf("%d bytes: Download: %v", size, err)
					}
					got, err := os.ReadFile(local)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, data) || d.Verified != s3kit.ChecksumCRC32 {
						t.Errorf("%d bytes: downloaded %d bytes, equal %v, verified %q, want CRC32", size, len(got), bytes.Equal(got, data), d.Verified)
					}
					os.Remove(local)
				}
			})
		}
		// A profile's CRC32 is used as Config.Checksum's is.
		t.Run("StoreProfile", func(t *testing.T) {
			p, _ := s3kit.KnownStoreProfile(s3kit.StoreGeneric)
			p.Name, p.Checksum = "crc32-store", s3kit.ChecksumCRC32
			b := newClient(t, e.srv, s3kit.Config{StoreProfile: &p}).Bucket(e.bucket.Name())
			data := randomBytes(1000)
			if _, err := b.Put(t.Context(), "profile", bytes.NewReader(data), nil); err != nil {
				t.Fatal(err)
			}
			if info, err := b.Head(t.Context(), "profile", nil); err != nil || info.Checksums[s3kit.ChecksumCRC32] != crc32Of(data) {
				t.Errorf("the store has %v, %v; want CRC32 %s", info.Checksums, err, crc32Of(data))
			}
		})
	})
}

// A name that is not an algorithm is refused before any request, wherever
// an algorithm is chosen; CRC32 and its neighbours are taken.
func TestChecksumNames(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	base := s3kit.Config{Endpoint: "http://127.0.0.1:1", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b"}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{s3kit.ChecksumCRC32, true}, {s3kit.ChecksumCRC32C, true}, {s3kit.ChecksumCRC64NVME, true}, {s3kit.ChecksumNone, true},
		{"crc32", false}, {"CRC-32", false}, {"CRC32 ", false}, {"CRC16", false}, {"SHA256", false}, {"MD5", false},
	} {
		cfg := base
		cfg.Checksum = tc.name
		_, err := s3kit.New(ctx, cfg)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, s3kit.ErrInvalid)) {
			t.Errorf("Config.Checksum %q: %v", tc.name, err)
		}
		p, _ := s3kit.KnownStoreProfile(s3kit.StoreGeneric)
		p.Name, p.Checksum = "test", tc.name
		cfg = base
		cfg.StoreProfile = &p
		_, err = s3kit.New(ctx, cfg)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, s3kit.ErrInvalid)) {
			t.Errorf("StoreProfile.Checksum %q: %v", tc.name, err)
		}
	}
}

// The ObjectInfo of a write says FULL_OBJECT, as a HEAD then does (where
// it says a type), for a single PUT and a multipart upload alike, also
// where the store's answer to the write leaves the type out (MinIO after a
// multipart upload, SeaweedFS after a PUT).
func TestWriteReportsChecksumType(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		for _, size := range []int{1, s3kit.MinPartSize + 1} {
			data := bytes.Repeat([]byte{'t'}, size)
			key := fmt.Sprintf("typed-%d", size)
			w, err := e.bucket.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: s3kit.MinPartSize})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			h, err := e.bucket.Head(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			// SeaweedFS's HEAD of a single-part object says no type.
			if got := w.Info().ChecksumType; got != "FULL_OBJECT" || h.ChecksumType != "" && got != h.ChecksumType {
				t.Errorf("%d bytes: the Writer's ObjectInfo says checksum type %q, HEAD %q; want FULL_OBJECT", size, got, h.ChecksumType)
			}
			info, err := e.bucket.PutBytes(ctx, key, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.ChecksumType != "FULL_OBJECT" {
				t.Errorf("%d bytes: PutBytes's ObjectInfo says checksum type %q, want FULL_OBJECT", size, info.ChecksumType)
			}
		}
	})
}
