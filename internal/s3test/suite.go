package s3test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// IsolateAWS removes every AWS_* variable from the process environment
// and points the shared config and credentials files at names in dir
// that do not exist, so that tests never pick up the developer's own AWS
// setup, which could point them at a real account. For a TestMain, before
// anything reads the environment.
func IsolateAWS(dir string) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			os.Unsetenv(k)
		}
	}
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-credentials"))
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// StartAll starts every server Names selects, at once, each as Start does
// within ctx, and returns them in the order of Names. If any fails, it
// stops those that started and returns the failures joined; otherwise the
// caller stops them.
func StartAll(ctx context.Context) ([]*Server, error) {
	names := Names()
	started := make([]*Server, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { started[i], errs[i] = Start(ctx, name) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range started {
			if s != nil {
				s.Stop()
			}
		}
		return nil, err
	}
	return started, nil
}
