package s3kit

import "os"

// writeBehindChunk is how many bytes a download writes before it asks the
// kernel to start writing them to disk.
const writeBehindChunk = 8 << 20

// writeBehind is the file of a download: every writeBehindChunk bytes it
// starts the write-back of what came before, so that the fsync before the
// rename finds little left to write and the disk works while the network
// does, instead of after it.
type writeBehind struct {
	f       *os.File
	off     int64 // bytes written
	flushed int64 // bytes whose write-back was started
}

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= writeBehindChunk {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}
