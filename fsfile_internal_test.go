package s3kit

import (
	"os"
	"runtime"
	"testing"
)

// TestSpoolCloseKeepsNewerFile checks that closing a spool never removes a
// file by the name its temporary file once had: that name was unlinked at
// creation and may since belong to another file.
func TestSpoolCloseKeepsNewerFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot unlink an open file; there the name stays the spool's until Close")
	}
	t.Setenv("TMPDIR", t.TempDir())
	s := &spool{limit: 4}
	if _, err := s.WriteAt([]byte("more than four bytes"), 0); err != nil {
		t.Fatal(err)
	}
	if s.file == nil {
		t.Fatal("the spool did not spill to a file")
	}
	name := s.file.Name()
	if _, err := os.Lstat(name); !os.IsNotExist(err) {
		t.Fatalf("spool file %s not unlinked while open: %v", name, err)
	}
	// Another program takes the free name.
	if err := os.WriteFile(name, []byte("newer"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(name); err != nil || string(got) != "newer" {
		t.Fatalf("after the spool's Close, the newer file at its old name: %q, %v", got, err)
	}
}
