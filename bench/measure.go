package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// GiB and MiB in bytes.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// CPUTime returns the user plus system CPU time this process has used so
// far, all threads together (getrusage RUSAGE_SELF).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return rusageCPU(&ru)
}

func rusageCPU(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PatternReader returns a reader of the first size bytes of the null
// server's object content that is only an io.Reader: not seekable, no
// ReaderAt, no WriterTo, so a client sees a stream of unknown length and
// does its own buffering.
func PatternReader(size int64) io.Reader { return &patternReader{size: size} }

type patternReader struct{ off, size int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off)]
	FillPattern(p, r.off)
	r.off += int64(len(p))
	return len(p), nil
}

// patternReaderAt reads the null server's object content at any offset.
type patternReaderAt struct{}

func (patternReaderAt) ReadAt(p []byte, off int64) (int, error) {
	FillPattern(p, off)
	return len(p), nil
}

// CountingWriter counts and discards what is written to it. It is only an
// io.Writer (no ReaderFrom), so a client sees a plain writer.
type CountingWriter struct{ N int64 }

func (w *CountingWriter) Write(p []byte) (int, error) {
	w.N += int64(len(p))
	return len(p), nil
}

// WritePatternFile creates the file at path holding the first size bytes of
// the null server's object content.
func WritePatternFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 4*MiB)
	if _, err := io.Copy(bw, PatternReader(size)); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func bytesReader(p []byte) *bytes.Reader { return bytes.NewReader(p) }

// ParseSize parses a size such as "4KiB", "16MiB", "1GiB" or "1048576".
func ParseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", KiB}, {"MiB", MiB}, {"GiB", GiB}, {"B", 1}} {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q (want a number of bytes, or KiB, MiB, GiB)", s)
	}
	return n * mult, nil
}

// FormatSize formats a size as ParseSize reads it, in the largest unit
// that divides it.
func FormatSize(n int64) string {
	switch {
	case n >= GiB && n%GiB == 0:
		return fmt.Sprintf("%dGiB", n/GiB)
	case n >= MiB && n%MiB == 0:
		return fmt.Sprintf("%dMiB", n/MiB)
	case n >= KiB && n%KiB == 0:
		return fmt.Sprintf("%dKiB", n/KiB)
	}
	return strconv.FormatInt(n, 10)
}
