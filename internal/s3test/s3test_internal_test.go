package s3test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A server that dies at startup must be reported at once, with its log, and
// a port clash must be recognisable so that Start can retry.
func TestStartReportsEarlyExit(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "fake-server")
	script := "#!/bin/sh\necho 'listen tcp: bind: address already in use'\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err := start(t.Context(), VersityGW, fake, false)
	if err == nil {
		t.Fatal("start succeeded")
	}
	if !errors.Is(err, errBind) || !strings.Contains(err.Error(), "bind: address already in use") {
		t.Errorf("error lacks the bind clash or the log tail: %v", err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("early exit reported after %v", d)
	}
}

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module github.com/s3kit/s3kit\n\ngo 1.26\n":     "github.com/s3kit/s3kit",
		"// c\nmodule \"github.com/s3kit/s3kit\" // x\n": "github.com/s3kit/s3kit",
		"modulex foo\n": "",
		"go 1.26\n":     "",
	} {
		if got := modulePath([]byte(in)); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}
