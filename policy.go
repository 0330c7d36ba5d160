package s3kit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// policyVersion is the version of the IAM policy language.
const policyVersion = "2012-10-17"

// SetPublicRead makes every object under the handle's prefix (every object
// of the bucket, for a handle without one) readable by anyone, without
// credentials, at its [Bucket.URL], or, with public false, no longer so.
// It works where object ACLs do not (Amazon S3 buckets made since 2023,
// MinIO, versitygw): it adds to the bucket policy one statement that s3kit
// owns, or removes it,
//
//	{"Sid": "S3kitPublicRead<16 hex digits>", "Effect": "Allow", "Principal": "*",
//	 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/PREFIX*"}
//
// whose Sid is made from the prefix, so that each prefix has its own. The
// other statements of the policy, and its other fields, are kept as they
// are; a policy left without statements is deleted. Anyone may then read
// the objects, not list them. Statements add up: the one of an unscoped
// handle covers the whole bucket whatever the statements of its prefixes,
// and making a prefix private removes only that prefix's statement.
//
// The policy is read and written back (GetBucketPolicy, then
// PutBucketPolicy or DeleteBucketPolicy), which S3 cannot make atomic: a
// change another client makes to the policy in between is lost. Serialize
// changes to the policy of one bucket, including calls of SetPublicRead
// for different prefixes. A prefix with "*", "?" or "${", which a policy
// reads as wildcards or variables, is ErrInvalid. Amazon S3 refuses a
// public statement while the bucket's or the account's Block Public
// Access settings forbid it (ErrPermission); a store without bucket
// policies fails with errors.ErrUnsupported.
func (b *Bucket) SetPublicRead(ctx context.Context, public bool) error {
	const op = "SetPublicRead"
	if err := b.publicPrefix(); err != nil {
		return b.fail(op, b.prefix, err)
	}
	doc, stmts, err := b.getPolicy(ctx, op)
	if err != nil {
		return err
	}
	sid := publicSid(b.prefix)
	kept := stmts[:0]
	found := false
	for _, st := range stmts {
		if statementSid(st) == sid {
			found = true
			continue
		}
		kept = append(kept, st)
	}
	if !public && !found {
		return nil
	}
	if public {
		st, err := json.Marshal(struct {
			Sid       string
			Effect    string
			Principal string
			Action    string
			Resource  string
		}{sid, "Allow", "*", "s3:GetObject", b.policyARN() + "*"})
		if err != nil {
			return b.fail(op, b.prefix, err)
		}
		kept = append(kept, st)
	}
	if len(kept) == 0 {
		if _, err := b.c.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b.name)}); err != nil {
			return b.fail(op, b.prefix, err)
		}
		return nil
	}
	if doc == nil {
		doc = map[string]json.RawMessage{"Version": json.RawMessage(`"` + policyVersion + `"`)}
	}
	list, err := json.Marshal(kept)
	if err != nil {
		return b.fail(op, b.prefix, err)
	}
	doc["Statement"] = list
	policy, err := json.Marshal(doc)
	if err != nil {
		return b.fail(op, b.prefix, err)
	}
	if _, err := b.c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.name), Policy: aws.String(string(policy))}); err != nil {
		return b.fail(op, b.prefix, err)
	}
	return nil
}

// PublicRead reports whether the bucket policy has the statement that
// SetPublicRead(ctx, true) adds for the handle's prefix. It does not
// evaluate the policy: other statements, ACLs or Block Public Access
// settings may still grant or deny public reads.
func (b *Bucket) PublicRead(ctx context.Context) (bool, error) {
	const op = "PublicRead"
	if err := b.publicPrefix(); err != nil {
		return false, b.fail(op, b.prefix, err)
	}
	_, stmts, err := b.getPolicy(ctx, op)
	if err != nil {
		return false, err
	}
	sid := publicSid(b.prefix)
	for _, st := range stmts {
		if statementSid(st) == sid {
			return true, nil
		}
	}
	return false, nil
}

// publicPrefix checks the handle and its prefix for a policy's Resource.
func (b *Bucket) publicPrefix() error {
	if b.err != nil {
		return b.err
	}
	if strings.ContainsAny(b.prefix, "*?") || strings.Contains(b.prefix, "${") {
		return invalidf("key prefix %q has a character a bucket policy reads as a wildcard or a variable (*, ? or ${)", b.prefix)
	}
	return nil
}

// getPolicy returns the bucket policy's fields and its statements; a
// bucket without a policy has none (doc is then nil).
func (b *Bucket) getPolicy(ctx context.Context, op string) (map[string]json.RawMessage, []json.RawMessage, error) {
	out, err := b.c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.name)})
	if err != nil {
		err = b.fail(op, b.prefix, err)
		if e := (*Error)(nil); errors.As(err, &e) && e.Code == "NoSuchBucketPolicy" {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	doc, stmts, err := parsePolicy(aws.ToString(out.Policy))
	if err != nil {
		return nil, nil, b.fail(op, b.prefix, err)
	}
	return doc, stmts, nil
}

// parsePolicy returns the fields of a bucket policy and its statements.
func parsePolicy(raw string) (map[string]json.RawMessage, []json.RawMessage, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &doc); err != nil || doc == nil {
		return nil, nil, fmt.Errorf("the bucket policy is not a JSON object: %v", cmp.Or(err, errors.New("null")))
	}
	st := bytes.TrimSpace(doc["Statement"])
	switch {
	case len(st) == 0 || string(st) == "null":
		return doc, nil, nil
	case st[0] == '{': // a single statement need not be in a list
		return doc, []json.RawMessage{st}, nil
	}
	var stmts []json.RawMessage
	if err := json.Unmarshal(st, &stmts); err != nil {
		return nil, nil, fmt.Errorf("the bucket policy's Statement is neither a statement nor a list of them: %v", err)
	}
	return doc, stmts, nil
}

// statementSid returns the Sid of a policy statement, "" if it has none.
func statementSid(st json.RawMessage) string {
	var s struct{ Sid string }
	if json.Unmarshal(st, &s) != nil {
		return ""
	}
	return s.Sid
}

// publicSid is the Sid of s3kit's public-read statement for the full
// key prefix: letters and digits only, as IAM requires of a Sid.
func publicSid(prefix string) string {
	sum := sha256.Sum256([]byte(prefix))
	return "S3kitPublicRead" + hex.EncodeToString(sum[:8])
}

// policyARN is the ARN of the handle's prefix, in the partition of the
// Client's region.
func (b *Bucket) policyARN() string {
	partition := "aws"
	switch r := b.c.region; {
	case strings.HasPrefix(r, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(r, "us-gov-"):
		partition = "aws-us-gov"
	}
	return "arn:" + partition + ":s3:::" + b.name + "/" + b.prefix
}

// errNoObjectACLs is the cause of a request for a public object ACL on a
// store or bucket without object ACLs.
var errNoObjectACLs = fmt.Errorf("%w: the store or bucket has no object ACLs, so no object can be made public by one; "+
	"make its prefix public with Bucket.SetPublicRead, which adds a statement to the bucket policy", errors.ErrUnsupported)

// aclsOff tells why the bucket does not apply object ACLs, or "" if it
// does or cannot be asked: its object ownership is BucketOwnerEnforced
// (ACLs disabled, as on new Amazon S3 buckets), or the store does not
// implement ownership controls, as stores without ACLs do not.
func (c *Client) aclsOff(ctx context.Context, bucket string) string {
	out, err := c.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if err != nil {
		if errors.Is(wrapErr("", bucket, "", err), errors.ErrUnsupported) {
			return "the store does not implement object ACLs"
		}
		return ""
	}
	if out.OwnershipControls != nil {
		for _, r := range out.OwnershipControls.Rules {
			if r.ObjectOwnership == "BucketOwnerEnforced" {
				return "the bucket has object ACLs disabled (object ownership BucketOwnerEnforced)"
			}
		}
	}
	return ""
}
