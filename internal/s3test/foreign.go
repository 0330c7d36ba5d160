package s3test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The foreign clients of the interchange tests, by the name of their
// command.
const (
	AWSCLI = "aws"
	Rclone = "rclone"
	S5cmd  = "s5cmd"
)

// ForeignClients returns the names of the foreign clients, in the order
// the interchange tests run them.
func ForeignClients() []string { return []string{AWSCLI, Rclone, S5cmd} }

// ForeignPartSize is the part size, and the multipart threshold, that
// NewForeignCLI configures the aws CLI with, and that the tests pass to
// rclone (--s3-chunk-size, --s3-upload-cutoff) and s5cmd (--part-size):
// S3's minimum, so that a file of a few parts is a multipart upload.
const ForeignPartSize = 5 << 20

// foreignCLITimeout bounds one run of a foreign client: the aws CLI alone
// takes seconds to start on a loaded machine.
const foreignCLITimeout = 3 * time.Minute

// ForeignTool returns the path of the named command-line client, from
// <repo>/.tools/bin or else PATH. If it is missing, tb is skipped with a
// message that says how to install it, or, under CI=true (where
// scripts/test.sh installs the clients first), failed: there the
// interchange tests must run.
func ForeignTool(tb testing.TB, name string) string {
	tb.Helper()
	if root, err := RepoRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed; install it with `bash bench/tools/install.sh %s`", name, name)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + " (under CI=true the interchange tests must run)")
	}
	tb.Skip(msg)
	return ""
}

// ForeignCLI runs one foreign S3 client (AWSCLI, Rclone or S5cmd) against
// one server. Each run gets an environment of its own holding the
// server's endpoint, credentials and region, and nothing of the
// developer's: no AWS_* variable, shared config file or rclone remote of
// theirs is read, and HOME and TMPDIR are a temporary directory of the
// test. The aws CLI is configured with multipart uploads above
// ForeignPartSize in parts of that size. rclone reaches the server as the
// remote "s3:" (see Remote). A ForeignCLI may run commands from several
// goroutines at once.
type ForeignCLI struct {
	Name string // AWSCLI, Rclone or S5cmd
	Path string // of its executable
	srv  *Server
	env  []string
}

// NewForeignCLI returns the client name configured for srv, or skips tb
// as ForeignTool does if it is not installed. Its configuration files
// live in a temporary directory of tb.
func NewForeignCLI(tb testing.TB, name string, srv *Server) *ForeignCLI {
	tb.Helper()
	switch name {
	case AWSCLI, Rclone, S5cmd:
	default:
		tb.Fatalf("s3test: unknown foreign client %q", name)
	}
	c := &ForeignCLI{Name: name, Path: ForeignTool(tb, name), srv: srv}
	home := tb.TempDir()
	awsConfig := filepath.Join(home, "aws-config")
	part := fmt.Sprintf("%dMB", ForeignPartSize>>20)
	if err := os.WriteFile(awsConfig, []byte("[default]\nregion = "+srv.Region+
		"\ns3 =\n  multipart_threshold = "+part+"\n  multipart_chunksize = "+part+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	rcloneConfig := filepath.Join(home, "rclone.conf")
	if err := os.WriteFile(rcloneConfig, nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	c.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + home,
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_REGION=" + srv.Region, "AWS_DEFAULT_REGION=" + srv.Region,
		"AWS_CONFIG_FILE=" + awsConfig, "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		// botocore asks for 100-continue even with an empty file; when
		// the store answers such a PUT (of an aws-chunked body, so not
		// empty on the wire) at once, botocore sends no body but keeps
		// the connection, whose next response it then misreads (urllib3's
		// MissingHeaderBodySeparatorDefect, then "upload failed: 'ETag'"):
		// a recursive upload with an empty file failed that way on MinIO
		// about one run in three. This variable of botocore's own skips
		// the Expect header for empty bodies.
		"BOTO_EXPERIMENTAL__NO_EMPTY_CONTINUE=true",
		"RCLONE_CONFIG=" + rcloneConfig,
		"RCLONE_CONFIG_S3_TYPE=s3", "RCLONE_CONFIG_S3_PROVIDER=Other",
		"RCLONE_CONFIG_S3_ENDPOINT=" + srv.Endpoint, "RCLONE_CONFIG_S3_REGION=" + srv.Region,
		"RCLONE_CONFIG_S3_ACCESS_KEY_ID=" + srv.AccessKey, "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true",
	}
	if srv.CAFile != "" {
		c.env = append(c.env, "AWS_CA_BUNDLE="+srv.CAFile, "RCLONE_CA_CERT="+srv.CAFile)
	}
	return c
}

// Env returns the environment the client runs in, for a test that runs
// it itself (another endpoint, its standard error kept).
func (c *ForeignCLI) Env() []string { return slices.Clone(c.env) }

// Remote names bucket/key as rclone does: "s3:bucket/key".
func Remote(bucket, key string) string { return "s3:" + bucket + "/" + key }

// Run runs the client with args, the endpoint added for the aws CLI and
// s5cmd, and returns its standard output; it fails tb if the client
// fails, with its standard error.
func (c *ForeignCLI) Run(tb testing.TB, args ...string) []byte {
	tb.Helper()
	out, err := c.Try(tb, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Try runs the client as Run does, returning its failure (with its
// standard error) rather than failing tb.
func (c *ForeignCLI) Try(tb testing.TB, args ...string) ([]byte, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), foreignCLITimeout)
	defer cancel()
	if c.Name != Rclone {
		args = append([]string{"--endpoint-url", c.srv.Endpoint}, args...)
	}
	cmd := exec.CommandContext(ctx, c.Path, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %v\n%s", c.Name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// RcloneEntry is one entry of `rclone lsjson` output.
type RcloneEntry struct {
	Path     string
	Name     string
	Size     int64
	MimeType string
	// ModTime is rclone's modification time of the object: its
	// X-Amz-Meta-Mtime, else its LastModified.
	ModTime time.Time
	IsDir   bool
	// Metadata (with --metadata) holds the user metadata, lower case, and
	// rclone's names for the headers: content-type, cache-control,
	// content-disposition, tier (the storage class), mtime and btime
	// (RFC 3339).
	Metadata map[string]string
	Hashes   map[string]string // with --hash
}

// RcloneStat returns rclone's view of the object bucket/key, with its
// metadata and hashes. The client must be Rclone.
func (c *ForeignCLI) RcloneStat(tb testing.TB, bucket, key string) RcloneEntry {
	tb.Helper()
	var e RcloneEntry
	out := c.Run(tb, "lsjson", "--stat", "--metadata", "--hash", Remote(bucket, key))
	if err := json.Unmarshal(out, &e); err != nil {
		tb.Fatalf("rclone lsjson --stat: %v: %s", err, out)
	}
	return e
}

// RcloneList returns the entries rclone lists under bucket/prefix (Path
// relative to it), with their metadata; args are further lsjson flags,
// such as -R. The client must be Rclone.
func (c *ForeignCLI) RcloneList(tb testing.TB, bucket, prefix string, args ...string) []RcloneEntry {
	tb.Helper()
	var es []RcloneEntry
	out := c.Run(tb, append(append([]string{"lsjson", "--metadata"}, args...), Remote(bucket, prefix))...)
	if err := json.Unmarshal(out, &es); err != nil {
		tb.Fatalf("rclone lsjson: %v: %s", err, out)
	}
	return es
}

// AWSObject is an object as `aws s3api head-object` reports it.
type AWSObject struct {
	ContentLength      int64
	ETag               string // with its quotes
	LastModified       string // in HTTP's format
	ContentType        string
	CacheControl       string
	ContentDisposition string
	Metadata           map[string]string // names in lower case
	StorageClass       string            // empty for STANDARD on Amazon S3
}

// AWSHead returns the object bucket/key as `aws s3api head-object`
// reports it. The client must be AWSCLI.
func (c *ForeignCLI) AWSHead(tb testing.TB, bucket, key string) AWSObject {
	tb.Helper()
	var o AWSObject
	out := c.Run(tb, "s3api", "head-object", "--bucket", bucket, "--key", key)
	if err := json.Unmarshal(out, &o); err != nil {
		tb.Fatalf("aws s3api head-object: %v: %s", err, out)
	}
	return o
}

// AWSTags returns the tags of bucket/key as `aws s3api
// get-object-tagging` reports them; never nil. The client must be AWSCLI.
func (c *ForeignCLI) AWSTags(tb testing.TB, bucket, key string) map[string]string {
	tb.Helper()
	var tg struct{ TagSet []struct{ Key, Value string } }
	out := c.Run(tb, "s3api", "get-object-tagging", "--bucket", bucket, "--key", key)
	if err := json.Unmarshal(out, &tg); err != nil {
		tb.Fatalf("aws s3api get-object-tagging: %v: %s", err, out)
	}
	tags := map[string]string{}
	for _, kv := range tg.TagSet {
		tags[kv.Key] = kv.Value
	}
	return tags
}

// S5cmdObject is an object as `s5cmd --json head` reports it.
type S5cmdObject struct {
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // without quotes
	ContentType  string            `json:"content_type"`
	StorageClass string            `json:"storage_class"`
	Metadata     map[string]string `json:"metadata"` // names in lower case
}

// S5cmdHead returns the object bucket/key as `s5cmd --json head` reports
// it. The client must be S5cmd.
func (c *ForeignCLI) S5cmdHead(tb testing.TB, bucket, key string) S5cmdObject {
	tb.Helper()
	var o S5cmdObject
	out := c.Run(tb, "--json", "head", "s3://"+bucket+"/"+key)
	if err := json.Unmarshal(out, &o); err != nil {
		tb.Fatalf("s5cmd --json head: %v: %s", err, out)
	}
	return o
}
