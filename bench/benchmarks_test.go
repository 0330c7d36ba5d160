package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks are named Benchmark<Case>/<parameters>/server=S/client=C,
// so that benchstat -col /client puts the clients of one case side by
// side. Every client of a case runs against the same server process, one
// after another; run.sh repeats whole rounds so that the clients
// interleave in time, and -round rotates their order.

// transferClients are the clients of the large cases: all of them.
var transferClients = ClientNames

// smallClients are the clients of the small-object cases: transfermanager
// has no small-object operations of its own.
var smallClients = []string{"s3kit", "s3kit-tuned", "sdk", "sdk-tuned", "minio", "minio-tuned", "raw"}

// listClients are the clients of the listing case: the tuned settings do
// not apply to a listing.
var listClients = []string{"s3kit", "sdk", "minio", "raw"}

// forEach runs fn as a sub-benchmark "server=S/client=C" for every
// selected server and client.
func forEach(b *testing.B, clients []string, servers []string, fn func(b *testing.B, s *Server, c Client)) {
	for _, sname := range servers {
		b.Run("server="+sname, func(b *testing.B) {
			s := env.server(b, sname)
			for _, cname := range selectedClients(clients) {
				b.Run("client="+cname, func(b *testing.B) {
					fn(b, s, env.client(b, s, cname))
				})
			}
		})
	}
}

// skipIfUnsupported skips b if err says the client lacks the operation,
// and fails it on any other error.
func skipIfUnsupported(b *testing.B, err error) {
	b.Helper()
	if errors.Is(err, ErrNotSupported) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// timeLarge times b.N runs of op, each moving size bytes, and reports
// throughput (b.SetBytes), allocations, and the process's CPU time per
// GiB moved. after, if not nil, runs after each op with the timer and the
// CPU meter stopped, to check and clean up.
func timeLarge(b *testing.B, size int64, op func() error, after func()) {
	b.SetBytes(size)
	b.ReportAllocs()
	var cpu time.Duration
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		c0 := CPUTime()
		b.StartTimer()
		err := op()
		b.StopTimer()
		cpu += CPUTime() - c0
		skipIfUnsupported(b, err)
		if after != nil {
			after()
		}
	}
	b.ReportMetric(cpu.Seconds()/(float64(size)*float64(b.N)/GiB), "cpu-s/GiB")
}

func large(b *testing.B, fn func(b *testing.B, s *Server, c Client, size int64)) {
	size := largeSize(b)
	b.Run("size="+FormatSize(size), func(b *testing.B) {
		forEach(b, transferClients, selectedServers(), func(b *testing.B, s *Server, c Client) {
			fn(b, s, c, size)
		})
	})
}

// checkSize fails b unless the server holds size bytes at key.
func checkSize(b *testing.B, s *Server, key string, size int64) {
	b.Helper()
	n, err := env.verifier(b, s).Head(context.Background(), key)
	if err != nil {
		b.Fatal(err)
	}
	if n != size {
		b.Fatalf("%s holds %d bytes at %s, want %d", s.Server, n, key, size)
	}
}

// checkAndDelete checks the object an upload benchmark wrote and deletes
// it. Left in place, every client's 1 GiB would stay on versitygw's disk,
// and the kernel would still be writing those gigabytes back while the
// next cases run (deleting a file drops its dirty pages unwritten).
func checkAndDelete(b *testing.B, s *Server, key string, size int64) {
	b.Helper()
	checkSize(b, s, key, size)
	if err := env.delete(s, key); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUploadFile uploads a local file of -large bytes.
func BenchmarkUploadFile(b *testing.B) {
	large(b, func(b *testing.B, s *Server, c Client, size int64) {
		ctx, src, key := context.Background(), env.source(b), "up/file/"+c.Name()
		timeLarge(b, size, func() error { return c.UploadFile(ctx, key, src) }, nil)
		checkAndDelete(b, s, key, size)
	})
}

// BenchmarkUploadStream uploads -large bytes from a reader that is not
// seekable and whose size the client is not told.
func BenchmarkUploadStream(b *testing.B) {
	large(b, func(b *testing.B, s *Server, c Client, size int64) {
		ctx, key := context.Background(), "up/stream/"+c.Name()
		timeLarge(b, size, func() error { return c.UploadStream(ctx, key, PatternReader(size)) }, nil)
		checkAndDelete(b, s, key, size)
	})
}

// BenchmarkDownloadFile downloads an object of -large bytes, uploaded in
// 8 MiB parts, to a local file.
func BenchmarkDownloadFile(b *testing.B) {
	large(b, func(b *testing.B, s *Server, c Client, size int64) {
		env.object(b, s, bigKey)
		ctx, dst := context.Background(), filepath.Join(env.tempDir(b), "download-"+c.Name())
		timeLarge(b, size, func() error { return c.DownloadFile(ctx, bigKey, dst) }, func() {
			fi, err := os.Stat(dst)
			if err != nil {
				b.Fatal(err)
			}
			if fi.Size() != size {
				b.Fatalf("downloaded %d bytes, want %d", fi.Size(), size)
			}
			os.Remove(dst)
		})
	})
}

// BenchmarkDownloadWriter downloads an object of -large bytes, uploaded
// in 8 MiB parts, in order into an io.Writer.
func BenchmarkDownloadWriter(b *testing.B) {
	large(b, func(b *testing.B, s *Server, c Client, size int64) {
		env.object(b, s, bigKey)
		ctx := context.Background()
		var w CountingWriter
		timeLarge(b, size, func() error {
			w.N = 0
			_, err := c.DownloadWriter(ctx, bigKey, &w)
			return err
		}, func() {
			if w.N != size {
				b.Fatalf("downloaded %d bytes, want %d", w.N, size)
			}
		})
	})
}

// small runs op b.N times, from conc goroutines at once, for every server
// and client, and reports operations per second, allocations and the
// process's CPU time per operation.
func small(b *testing.B, op func(ctx context.Context, c Client, i int) error) {
	for _, conc := range []int{1, 32} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			forEach(b, smallClients, selectedServers(), func(b *testing.B, s *Server, c Client) {
				env.object(b, s, smallKey)
				ctx := context.Background()
				// One untimed operation opens a connection and fills
				// caches (minio-go looks up the bucket's region).
				skipIfUnsupported(b, op(ctx, c, 0))
				var next atomic.Int64
				var failed atomic.Pointer[error]
				work := func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N || failed.Load() != nil {
							return
						}
						if err := op(ctx, c, i); err != nil {
							failed.CompareAndSwap(nil, &err)
							return
						}
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				c0 := CPUTime()
				var wg sync.WaitGroup
				for range conc {
					wg.Go(work)
				}
				wg.Wait()
				cpu := CPUTime() - c0
				b.StopTimer()
				if err := failed.Load(); err != nil {
					b.Fatal(*err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
			})
		})
	}
}

var smallData = func() []byte {
	p := make([]byte, smallSize)
	FillPattern(p, 0)
	return p
}()

// BenchmarkPut4K writes 4 KiB objects (over 1,000 keys per client).
func BenchmarkPut4K(b *testing.B) {
	small(b, func(ctx context.Context, c Client, i int) error {
		return c.PutBytes(ctx, fmt.Sprintf("put4k/%s/%04d", c.Name(), i%1000), smallData)
	})
}

// BenchmarkGet4K reads a 4 KiB object whole.
func BenchmarkGet4K(b *testing.B) {
	small(b, func(ctx context.Context, c Client, _ int) error {
		data, err := c.GetBytes(ctx, smallKey)
		if err == nil && len(data) != smallSize {
			err = fmt.Errorf("read %d bytes, want %d", len(data), smallSize)
		}
		return err
	})
}

// BenchmarkHead4K heads a 4 KiB object.
func BenchmarkHead4K(b *testing.B) {
	small(b, func(ctx context.Context, c Client, _ int) error {
		n, err := c.Head(ctx, smallKey)
		if err == nil && n != smallSize {
			err = fmt.Errorf("size %d, want %d", n, smallSize)
		}
		return err
	})
}

// BenchmarkList lists the null server's canned listing of -keys keys
// (1,000 a page), decoding every entry.
func BenchmarkList(b *testing.B) {
	b.Run(fmt.Sprintf("keys=%d", *flagKeys), func(b *testing.B) {
		forEach(b, listClients, []string{"null"}, func(b *testing.B, s *Server, c Client) {
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := CPUTime()
			for range b.N {
				n, err := c.List(ctx, "", func(string, int64) {})
				skipIfUnsupported(b, err)
				if n != *flagKeys {
					b.Fatalf("listed %d keys, want %d", n, *flagKeys)
				}
			}
			cpu := CPUTime() - c0
			b.StopTimer()
			b.ReportMetric(float64(*flagKeys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	})
}

// BenchmarkUploadStreamRSS uploads -rss-size bytes of a non-seekable
// stream of unknown size in a child process that does nothing else, at
// each client's defaults and tuned, and reports the child's peak RSS
// (VmHWM; see UploadResult for why not ru_maxrss): the memory a program
// needs for that upload, Go runtime included. It runs against the null
// server only: the client's memory does not depend on the server.
func BenchmarkUploadStreamRSS(b *testing.B) {
	size := rssSize(b)
	b.Run("size="+FormatSize(size), func(b *testing.B) {
		b.Run("server=null", func(b *testing.B) {
			s := env.server(b, "null")
			for _, name := range selectedClients(transferClients) {
				b.Run("client="+name, func(b *testing.B) {
					key := "rss/" + name
					b.SetBytes(size)
					var peak int64
					var cpu time.Duration
					for range b.N {
						ru, res, err := RunUploadChild(context.Background(), s.Endpoint, name, key, size)
						if ChildUnsupported(err) {
							b.Skip("the client cannot upload a stream")
						}
						if err != nil {
							b.Fatal(err)
						}
						peak = max(peak, res.PeakRSSKiB)
						cpu += rusageCPU(ru)
					}
					b.StopTimer()
					checkSize(b, s, key, size)
					b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
					b.ReportMetric(cpu.Seconds()/(float64(size)*float64(b.N)/GiB), "cpu-s/GiB")
				})
			}
		})
	})
}
