package s3kit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// TestStoreFromHost: stores known by their host get their profile at New,
// without a request, and Backblaze B2's makes uploads carry no checksum.
func TestStoreFromHost(t *testing.T) {
	for host, want := range map[string]string{
		"s3.us-west-004.backblazeb2.com":            StoreBackblazeB2,
		"bucket.s3.eu-central-003.backblazeb2.com.": StoreBackblazeB2,
		"s3.eu-west-1.amazonaws.com":                StoreAmazonS3,
		"notbackblazeb2.com":                        "",
		"127.0.0.1":                                 "",
	} {
		if got := storeFromHost(host); got != want {
			t.Errorf("storeFromHost(%q) = %q, want %q", host, got, want)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := New(ctx, Config{Endpoint: "https://s3.us-west-004.backblazeb2.com", Region: "us-west-004", AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Settled by New: no probe could reach the host from here.
	p, err := c.StoreProfile(ctx)
	if err != nil || p.Name != StoreBackblazeB2 || p.Checksum != ChecksumNone {
		t.Fatalf("StoreProfile: %+v, %v", p, err)
	}
	if c.uploadChecksum() != nil || !c.noChecksums.Load() {
		t.Fatal("uploads to Backblaze B2 would carry a checksum")
	}
	// Config.Checksum still chooses.
	c2, err := New(ctx, Config{Endpoint: "https://s3.us-west-004.backblazeb2.com", Checksum: ChecksumCRC32C, AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.uploadChecksum() != crc32cSum {
		t.Fatal("Config.Checksum did not win over the host's profile")
	}
}

// TestChecksumRefused: the answers of real stores to checksum headers
// they do not know are refusals; other 400s, checksum mismatches, and any
// answer to a Client whose checksum the caller chose are not.
func TestChecksumRefused(t *testing.T) {
	apiErr := func(status int, code, msg string) error {
		return &Error{StatusCode: status, Code: code, Message: msg, Err: &smithy.GenericAPIError{Code: code, Message: msg}}
	}
	c := &Client{checksumFallback: true}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{apiErr(400, "InvalidArgument", "Unsupported header 'x-amz-checksum-crc32' received for this API call."), true},
		{apiErr(400, "InvalidArgument", "Unsupported header 'x-amz-sdk-checksum-algorithm' received for this API call."), true},
		{apiErr(501, "NotImplemented", "Header 'x-amz-checksum-algorithm' with value 'CRC32C' not implemented"), true},
		{apiErr(501, "NotImplemented", "A header you provided implies functionality that is not implemented."), true},
		{apiErr(400, "InvalidRequest", "Checksum algorithm CRC32C is not supported."), true},
		{apiErr(400, "InvalidArgument", "Invalid key name."), false},
		{apiErr(400, "KeyTooLongError", "Your key is too long"), false},
		{apiErr(400, "BadDigest", "The CRC64NVME you specified did not match the calculated checksum."), false},
		{apiErr(400, "XAmzContentChecksumMismatch", "The provided 'x-amz-checksum' header does not match what was computed."), false},
		{apiErr(400, "InvalidRequest", "Value for x-amz-checksum-crc64nvme header is invalid."), false},
		{apiErr(403, "AccessDenied", "Access Denied"), false},
		{apiErr(500, "InternalError", "checksum not supported"), false},
		{errors.New("connection reset"), false},
		{nil, false},
	} {
		if got := c.checksumRefused(tc.err); got != tc.want {
			t.Errorf("checksumRefused(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	chosen := &Client{}
	if chosen.checksumRefused(apiErr(501, "NotImplemented", "Header 'x-amz-checksum-crc64nvme' with value 'x' not implemented")) {
		t.Error("a checksum the caller chose would be dropped")
	}
}
