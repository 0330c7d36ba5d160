package s3kit

import (
	"strings"
	"testing"
)

// TestParsePolicy covers the forms of a bucket policy the test servers
// do not store: a single statement not in a list, and no statements.
func TestParsePolicy(t *testing.T) {
	for _, c := range []struct {
		name, raw string
		sids      []string
		bad       string
	}{
		{name: "none", raw: ""},
		{name: "list", raw: `{"Version":"2012-10-17","Statement":[{"Sid":"A"},{"Sid":"B"}]}`, sids: []string{"A", "B"}},
		{name: "single statement", raw: `{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow"}}`, sids: []string{"A"}},
		{name: "no statements", raw: `{"Version":"2012-10-17"}`},
		{name: "statement without Sid", raw: `{"Statement":[{"Effect":"Allow"}]}`, sids: []string{""}},
		{name: "not an object", raw: `[1]`, bad: "not a JSON object"},
		{name: "null", raw: `null`, bad: "not a JSON object"},
		{name: "bad statement", raw: `{"Statement":"x"}`, bad: "neither a statement nor a list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stmts, err := parsePolicy(c.raw)
			if c.bad != "" {
				if err == nil || !strings.Contains(err.Error(), c.bad) {
					t.Fatalf("error %v, want one saying %q", err, c.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(stmts) != len(c.sids) {
				t.Fatalf("%d statements, want %d", len(stmts), len(c.sids))
			}
			for i, st := range stmts {
				if got := statementSid(st); got != c.sids[i] {
					t.Errorf("statement %d has Sid %q, want %q", i, got, c.sids[i])
				}
			}
		})
	}
	if a, b := publicSid("www/"), publicSid("docs/"); a == b || len(a) != len("S3kitPublicRead")+16 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		t.Errorf("Sids %q and %q: want distinct, letters and digits only", a, b)
	}
}
