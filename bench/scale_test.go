package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The whole-process cases of issue 10: every download and every sync
// runs in a process of its own (see Spawn), so that wall time, CPU time
// and peak RSS are those of a program that does nothing else, start-up
// included, as a user of each library or tool would see them.

var (
	flagProcServers = flag.String("proc-servers", "null,versitygw,minio", "servers of the whole-process download cases, comma-separated")
	flagProcClients = flag.String("proc-clients", "s3kit,tm,minio,sdk", "clients of the whole-process download cases, comma-separated, each at its defaults")
	flagScaleKeys   = flag.String("scale-keys", "", "key counts of the sync-at-scale cases, comma-separated (default 10000,100000,1000000; 300 with -test.short)")
	flagScaleTools  = flag.String("scale-clients", "s3kit,s3kit-cli,s5cmd,rclone,aws", "contenders of the sync-at-scale cases, comma-separated (s3kit: s3kit.Sync; s3kit-cli: the s3kit command)")
	flagScaleOps    = flag.String("scale-ops", "noop,first", "sync-at-scale cases: noop (nothing to copy), first (everything to copy)")
	flagScaleDir    = flag.String("scale-dir", "", "where the local trees of the sync-at-scale cases go (default /dev/shm if it is a directory, else the temporary directory)")
	flagAWSMax      = flag.Int("aws-max-keys", 100000, "largest tree the aws CLI syncs (it is slow); larger cases say it is capped")
	flagAWSFirstMax = flag.Int("aws-first-max", 10000, "largest tree the aws CLI uploads in the first-sync case (about 10 files/s on the shared 2 cores)")
	flagFirstMax    = flag.Int("scale-first-max", 1000000, "largest tree of the first-sync case")
	flagS5cmdMax    = flag.Int("s5cmd-max-keys", 100000, "largest tree s5cmd syncs: it holds both listings in memory (1.4 GiB of RSS at 100k keys measured here), so 1M keys would take some 14 GiB of a shared machine")
)

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// downloadParts returns the part counts of the downloaded objects: one
// part (one PUT), and as many parts of 8 MiB as the size holds (128 for
// 1 GiB).
func downloadParts(tb testing.TB) []int {
	return []int{1, max(2, int(largeSize(tb)/seedPartSize))}
}

func downloadKey(parts int) string { return fmt.Sprintf("dl/parts-%d", parts) }

func downloadObject(tb testing.TB, parts int) Object {
	size := largeSize(tb)
	o := Object{Key: downloadKey(parts), Size: size}
	if parts > 1 {
		o.PartSize = (size + int64(parts) - 1) / int64(parts)
	}
	return o
}

// BenchmarkProcDownload downloads a -large object (1 GiB) stored in one
// part and in parts of 8 MiB, to a file and to an io.Writer, each
// download a process of its own, and reports its wall time (MB/s), CPU
// time and peak RSS.
func BenchmarkProcDownload(b *testing.B) {
	size := largeSize(b)
	for _, to := range []string{"file", "writer"} {
		for _, parts := range downloadParts(b) {
			b.Run(fmt.Sprintf("to=%s/parts=%d/size=%s", to, parts, FormatSize(size)), func(b *testing.B) {
				for _, sname := range splitList(*flagProcServers) {
					b.Run("server="+sname, func(b *testing.B) {
						s := env.server(b, sname)
						key := downloadKey(parts)
						env.object(b, s, key)
						for _, c := range selectedClients(splitList(*flagProcClients)) {
							b.Run("client="+c, func(b *testing.B) { procDownload(b, s, c, to, key, size) })
						}
					})
				}
			})
		}
	}
}

func procDownload(b *testing.B, s *Server, client, to, key string, size int64) {
	dir := env.tempDir(b)
	dst, out := filepath.Join(dir, "dl-"+client), filepath.Join(dir, "out-"+client)
	defer os.Remove(out)
	ep, err := json.Marshal(s.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	argv, environ, err := SelfCommand("download", envEndpoint+"="+string(ep), envClient+"="+client, envKey+"="+key,
		envSize+"="+strconv.FormatInt(size, 10), envMode+"="+to, envDst+"="+dst)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	var wall, cpu float64
	var rss int64
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		b.StartTimer()
		res, err := Spawn(context.Background(), argv, environ, out)
		b.StopTimer()
		// Deleting the file drops its dirty pages unwritten: the next
		// download does not pay for this one's write-back.
		os.Remove(dst)
		if err != nil {
			b.Fatal(err)
		}
		if res.ExitCode == childUnsupportedStatus {
			b.Skip(tail(out))
		}
		if res.ExitCode != 0 {
			b.Fatalf("%s exited with %d: %s", client, res.ExitCode, tail(out))
		}
		wall += res.Wall
		cpu += res.CPU
		rss = max(rss, res.PeakRSSKiB)
	}
	b.ReportMetric(wall/float64(b.N), "wall-s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s")
	b.ReportMetric(float64(rss)/KiB, "peak-RSS-MiB")
}

// tail returns the last lines of the file at path.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(string(data), 10)
}

func scaleKeys(tb testing.TB) []int {
	spec := *flagScaleKeys
	if spec == "" {
		spec = "10000,100000,1000000"
		if testing.Short() {
			spec = "300"
		}
	}
	var out []int
	for _, v := range splitList(spec) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			tb.Fatalf("-scale-keys: bad count %q", v)
		}
		out = append(out, n)
	}
	return out
}

func scaleDir(tb testing.TB) string {
	if *flagScaleDir != "" {
		return *flagScaleDir
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return env.tempDir(tb)
}

// BenchmarkSyncScale syncs a local tree of -scale-keys tiny files (0 to
// 16 bytes, 1,000 to a directory, written to tmpfs) to the null server,
// each sync a process of its own: "noop" to the synthetic twin of the
// tree (nothing to copy: the listings and the comparison only), "first"
// to an empty prefix (every file uploaded, and forgotten by the server).
// It reports keys/s, CPU time, peak RSS, and the requests the server
// counted by kind.
func BenchmarkSyncScale(b *testing.B) {
	for _, n := range scaleKeys(b) {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s := env.server(b, "null")
			dir, err := os.MkdirTemp(scaleDir(b), "s3kit-bench-scale-")
			if err != nil {
				b.Fatal(err)
			}
			// tmpfs is memory, shared with everyone on the machine: the
			// tree lives only as long as its cases.
			defer os.RemoveAll(dir)
			if err := WriteScaleTree(dir, n); err != nil {
				b.Fatal(err)
			}
			for _, op := range splitList(*flagScaleOps) {
				if op == "first" && n > *flagFirstMax {
					continue
				}
				b.Run("op="+op+"/server=null", func(b *testing.B) {
					for _, tool := range selectedClients(splitList(*flagScaleTools)) {
						b.Run("client="+tool, func(b *testing.B) { scaleSync(b, s, tool, op, dir, n) })
					}
				})
			}
		})
	}
}

func scaleSync(b *testing.B, s *Server, tool, op, dir string, n int) {
	if tool == "s5cmd" && n > *flagS5cmdMax {
		b.Skipf("s5cmd is capped at %d keys (-s5cmd-max-keys): its memory grows with the number of keys", *flagS5cmdMax)
	}
	if tool == "aws" && n > *flagAWSMax {
		b.Skipf("the aws CLI is capped at %d keys (-aws-max-keys)", *flagAWSMax)
	}
	if tool == "aws" && op == "first" && n > *flagAWSFirstMax {
		b.Skipf("the aws CLI's first sync is capped at %d keys (-aws-first-max)", *flagAWSFirstMax)
	}
	ctx := context.Background()
	out := filepath.Join(env.tempDir(b), "out-"+tool)
	defer os.Remove(out)
	var wantPuts int64
	var lists, heads, gets, puts, other, wall, cpu float64
	var rss int64
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		prefix := fmt.Sprintf("scale/%d", n)
		if op == "first" {
			prefix = fmt.Sprintf("%s%s/%d", discardPrefix, tool, syncSeq.Add(1))
			wantPuts = int64(n)
		}
		argv, environ := scaleCommand(b, tool, s.Endpoint, dir, prefix)
		before, err := NullServerStats(ctx, s.Endpoint)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := Spawn(ctx, argv, environ, out)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.ExitCode != 0 {
			b.Fatalf("%s exited with %d: %s", tool, res.ExitCode, tail(out))
		}
		after, err := NullServerStats(ctx, s.Endpoint)
		if err != nil {
			b.Fatal(err)
		}
		st := after.Sub(before)
		if st.Put != wantPuts {
			b.Errorf("%s %s sync of %d keys made %d PUTs, want %d; its output ends:\n%s", tool, op, n, st.Put, wantPuts, tail(out))
		}
		if tool == "s3kit" {
			var rep SyncReport
			data, _ := os.ReadFile(out)
			if err := json.Unmarshal(bytes.TrimSpace(data), &rep); err != nil || rep.Failed != 0 || int64(rep.Copied) != wantPuts {
				b.Errorf("s3kit reports %+v (%v), want %d copied", rep, err, wantPuts)
			}
		}
		lists += float64(st.List)
		heads += float64(st.Head)
		gets += float64(st.Get)
		puts += float64(st.Put)
		other += float64(st.Other + st.Delete)
		wall += res.Wall
		cpu += res.CPU
		rss = max(rss, res.PeakRSSKiB)
	}
	N := float64(b.N)
	b.ReportMetric(float64(n)*N/wall, "keys/s")
	b.ReportMetric(wall/N, "wall-s")
	b.ReportMetric(cpu/N, "cpu-s")
	b.ReportMetric(float64(rss)/KiB, "peak-RSS-MiB")
	b.ReportMetric(lists/N, "LISTs")
	b.ReportMetric(heads/N, "HEADs")
	b.ReportMetric(gets/N, "GETs")
	b.ReportMetric(puts/N, "PUTs")
	b.ReportMetric(other/N, "other-reqs")
}

// scaleCommand returns the command and environment of one sync of dir to
// prefix of BenchBucket by tool, each at its defaults, with the endpoint
// and credentials given on the command line or in the environment and a
// HOME of its own (no configuration file is read; see toolEnv). "s3kit"
// is s3kit.Sync in a child process, "s3kit-cli" the s3kit command's sync.
func scaleCommand(b *testing.B, tool string, ep Endpoint, dir, prefix string) (argv, environ []string) {
	b.Helper()
	if tool == "s3kit" {
		epJSON, err := json.Marshal(ep)
		if err != nil {
			b.Fatal(err)
		}
		argv, environ, err := SelfCommand("sync", envEndpoint+"="+string(epJSON), envDst+"="+dir, envPrefix+"="+prefix)
		if err != nil {
			b.Fatal(err)
		}
		return argv, environ
	}
	bin, environ := toolEnv(b, tool, ep)
	switch tool {
	case "s3kit-cli":
		return []string{bin, "--endpoint", ep.URL, "sync", dir, "s3://" + BenchBucket + "/" + prefix + "/"}, environ
	case "s5cmd":
		// The trailing slash syncs the directory's content.
		return []string{bin, "--endpoint-url", ep.URL, "sync", dir + "/", "s3://" + BenchBucket + "/" + prefix + "/"}, environ
	case "rclone":
		return []string{bin, "sync", dir, ":s3:" + BenchBucket + "/" + prefix}, environ
	case "aws":
		return []string{bin, "s3", "sync", dir, "s3://" + BenchBucket + "/" + prefix, "--endpoint-url", ep.URL}, environ
	}
	b.Fatalf("unknown sync contender %q (want s3kit, s3kit-cli, s5cmd, rclone or aws)", tool)
	return nil, nil
}

// BenchmarkFSRange serves a 1 MiB range from the middle of a -large
// object (1 GiB) through http.FileServerFS over s3kit's FS, and reports
// the bytes the null server sent for it and its requests by kind.
func BenchmarkFSRange(b *testing.B) {
	size := largeSize(b)
	for _, parts := range downloadParts(b) {
		b.Run(fmt.Sprintf("range=1MiB/parts=%d/size=%s/server=null/client=s3kit", parts, FormatSize(size)), func(b *testing.B) {
			s := env.server(b, "null")
			ctx := context.Background()
			c, err := newS3kit(ctx, "s3kit", s.Endpoint, false)
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(http.FileServerFS(c.b.FS(ctx)))
			defer hs.Close()
			off := size/2 + 12345 // in no part's or pattern's step
			n := min(int64(MiB), size-off)
			var fetched, gets, heads float64
			b.SetBytes(n)
			b.ResetTimer()
			b.StopTimer()
			for range b.N {
				before, err := NullServerStats(ctx, s.Endpoint)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				got, err := rangeGet(ctx, hs.URL+"/"+downloadKey(parts), off, n)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				want := make([]byte, n)
				FillPattern(want, off)
				if i := firstDiff(got, want); i >= 0 {
					b.Fatalf("the range (%d bytes) differs from the object's at byte %d", len(got), i)
				}
				// Read-ahead that the close of the file cancelled may
				// still be on the wire for a moment.
				time.Sleep(500 * time.Millisecond)
				after, err := NullServerStats(ctx, s.Endpoint)
				if err != nil {
					b.Fatal(err)
				}
				st := after.Sub(before)
				fetched += float64(st.BytesSent)
				gets += float64(st.Get)
				heads += float64(st.Head)
			}
			N := float64(b.N)
			b.ReportMetric(fetched/N/MiB, "fetched-MiB")
			b.ReportMetric(fetched/N/float64(n), "fetched/served")
			b.ReportMetric(gets/N, "GETs")
			b.ReportMetric(heads/N, "HEADs")
		})
	}
}

func rangeGet(ctx context.Context, url string, off, n int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusPartialContent {
		return nil, fmt.Errorf("%s: %s: %.200s", url, resp.Status, data)
	}
	return data, nil
}
