package s3kit

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestRenameOpCopies checks that renaming the operation of an error leaves
// the original alone: it may be a Reader's or Writer's sticky error, which
// is returned again and read from other goroutines.
func TestRenameOpCopies(t *testing.T) {
	sticky := &Error{Op: "Read", Bucket: "b", Key: "k", StatusCode: 500, Err: ErrNotExist}
	var wg sync.WaitGroup
	for _, op := range []string{"Download", "DownloadAll", "Sync"} {
		wg.Go(func() {
			err := renameOp(sticky, op)
			var e *Error
			if !errors.As(err, &e) || e.Op != op || e.Key != "k" || e.StatusCode != 500 || !errors.Is(err, ErrNotExist) {
				t.Errorf("renameOp(%s) = %#v", op, err)
			}
		})
		_ = sticky.Error() // reads Op while the renames run: -race catches a write
	}
	wg.Wait()
	if sticky.Op != "Read" {
		t.Fatalf("renameOp changed the original error's Op to %q", sticky.Op)
	}
	// An *Error inside another error cannot be replaced by a copy: it is
	// returned as it is, untouched.
	wrapped := fmt.Errorf("context: %w", sticky)
	if got := renameOp(wrapped, "Download"); got != wrapped || sticky.Op != "Read" {
		t.Fatalf("renameOp of a wrapped error = %v; original Op %q", got, sticky.Op)
	}
}
