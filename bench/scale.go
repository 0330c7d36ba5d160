package bench

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteScaleTree writes the local twin of the null server's synthetic
// tree of n keys into dir: file i at ScalePath(i), holding ScaleContent(i)
// (0 to 16 bytes), modified at ScaleModTime. A sync of dir to the prefix
// "scale/n" of a null server has nothing to copy.
func WriteScaleTree(dir string, n int) error {
	for i := range n {
		if i%ScaleFilesPerDir == 0 {
			if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("d%04d", i/ScaleFilesPerDir)), 0o755); err != nil {
				return err
			}
		}
		name := filepath.Join(dir, filepath.FromSlash(ScalePath(i)))
		if err := os.WriteFile(name, ScaleContent(i), 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(name, ScaleModTime, ScaleModTime); err != nil {
			return err
		}
	}
	return nil
}
