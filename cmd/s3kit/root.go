package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/s3kit/s3kit"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// globalFlags are the flags every verb takes.
type globalFlags struct {
	endpoint    string
	profile     string
	region      string
	concurrency int
	partSize    byteSize
	memory      byteSize
	checksum    string
	// checksumAlgorithm is --checksum-algorithm, the same setting under
	// a name that sync's own --checksum (compare contents) leaves free.
	checksumAlgorithm string
	json              bool
	quiet             bool
	noProgress        bool
}

// app is one run of the command: its streams, flags, client and report.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	flags          globalFlags
	clientMu       sync.Mutex // guards client, made on first use by any job
	client         *s3kit.Client
	clientErr      error // why the client could not be made
	rep            *reporter
	prog           *progress
}

// usageError is bad usage: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// runError is a failure of the run as a whole, after the arguments were
// accepted: exit status 1.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if a.prog != nil {
		a.prog.wait()
	}
	interrupted := ctx.Err() != nil
	if a.rep != nil {
		a.rep.summary(interrupted)
	}
	var re runError
	var ue usageError
	switch {
	case errors.As(a.clientErr, &ue) && err == nil:
		// Reported already, as the failure of the first operation.
		return exitUsage
	case interrupted:
		fmt.Fprintln(stderr, "s3kit: interrupted")
		return exitInterrupted
	case errors.As(err, &re):
		fmt.Fprintln(stderr, "s3kit:", err)
		return exitFailed
	case err != nil:
		fmt.Fprintf(stderr, "s3kit: %v\nRun 's3kit help' for usage.\n", err)
		return exitUsage
	case a.rep != nil && a.rep.failed > 0:
		return exitFailed
	}
	return exitOK
}

const globHelp = `Paths are s3://bucket/key, local paths, or "-" for stdin or stdout.

Globs in S3 sources match keys as s3kit's library does: "*" and "?" stop
at "/", "**" crosses it, "[a-z]" is a class and "\" escapes. The literal
text before the first wildcard narrows the listing on the server.

  s3kit ls 's3://logs/2025/*.gz'     objects directly under 2025/ only
  s3kit ls 's3://logs/2025/**.gz'    every .gz at any depth under 2025/

s5cmd's "*" crosses "/", so its 's3://logs/2025/*.gz' is s3kit's
's3://logs/2025/**.gz'. A glob that matches nothing is a failure (exit 1).

Configuration comes from the AWS environment and profiles (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ~/.aws/config, SSO, ...);
no secret is accepted on the command line.

Exit status: 0 done; 1 some operations failed (each reported on stderr);
2 bad usage; 130 interrupted (transfers in flight are aborted, nothing
partial is left).`

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "s3kit",
		Short:         "Copy, list, sync and manage objects in S3 and S3-compatible stores",
		Long:          "s3kit copies, lists, syncs and manages objects in Amazon S3 and S3-compatible stores.\n\n" + globHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	f := root.PersistentFlags()
	f.StringVar(&a.flags.endpoint, "endpoint", "", "base URL of an S3-compatible store (default: AWS_ENDPOINT_URL or the profile's, else Amazon S3)")
	f.StringVar(&a.flags.profile, "profile", "", "AWS profile of the shared config and credentials files")
	f.StringVar(&a.flags.region, "region", "", "region of the buckets (default: AWS_REGION or the profile's)")
	f.IntVar(&a.flags.concurrency, "concurrency", 0, "requests and transfers at once (default 8)")
	f.Var(&a.flags.partSize, "part-size", "part size of multipart transfers, e.g. 64MiB (default 8MiB)")
	f.Var(&a.flags.memory, "memory", "memory for part buffers and read-ahead, e.g. 256MiB (default 64MiB)")
	f.StringVar(&a.flags.checksum, "checksum", "", "checksum algorithm of uploads: CRC64NVME (default), CRC32C, CRC32 or none (sync's own\n--checksum compares contents: there use --checksum-algorithm)")
	f.StringVar(&a.flags.checksumAlgorithm, "checksum-algorithm", "", "checksum algorithm of uploads, as --checksum ALGO: the name that sync takes too")
	f.BoolVar(&a.flags.json, "json", false, "one JSON object per line per operation, and a summary line")
	f.BoolVarP(&a.flags.quiet, "quiet", "q", false, "print only errors")
	f.BoolVar(&a.flags.noProgress, "no-progress", false, "show no progress display")
	root.AddCommand(
		a.lsCommand(), a.cpCommand(), a.mvCommand(), a.rmCommand(), a.syncCommand(),
		a.catCommand(), a.statCommand(), a.presignCommand(), a.tagCommand(),
		a.metaCommand(), a.mbCommand(), a.rbCommand(), a.duCommand(),
	)
	return root
}

// setup checks the global flags and prepares the report and progress
// display. The client is made on first use, so that usage errors come
// before any configuration is read.
func (a *app) setup(cmd *cobra.Command) error {
	algo, flag := a.flags.checksum, "--checksum"
	if c := a.flags.checksumAlgorithm; c != "" {
		if algo != "" && !strings.EqualFold(algo, c) {
			return usagef("--checksum %q and --checksum-algorithm %q disagree", algo, c)
		}
		algo, flag = c, "--checksum-algorithm"
	}
	a.flags.checksum = ""
	if algo != "" {
		var ok bool
		if a.flags.checksum, ok = checksumAlgorithm(algo); !ok {
			return usagef("%s %q: want CRC64NVME, CRC32C, CRC32 or none", flag, algo)
		}
	}
	if a.flags.concurrency < 0 {
		return usagef("--concurrency %d: want a positive number", a.flags.concurrency)
	}
	a.rep = newReporter(a.stdout, a.stderr, a.flags.json, a.flags.quiet, cmd.Name())
	a.prog = newProgress(a.stderr, a.showProgress())
	if a.prog.on() {
		// Lines written to the terminal under the display would tear it:
		// they go through it, which prints them above its bars.
		a.rep.errs = a.prog.above(a.stderr)
		if isTerminal(a.stdout) {
			a.rep.text = a.prog.above(a.stdout)
		}
	}
	return nil
}

// checksumAlgorithm returns the library's name of the upload checksum
// algorithm s, in any case, and whether s names one.
func checksumAlgorithm(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "crc64nvme":
		return s3kit.ChecksumCRC64NVME, true
	case "crc32c":
		return s3kit.ChecksumCRC32C, true
	case "crc32":
		return s3kit.ChecksumCRC32, true
	case "none":
		return s3kit.ChecksumNone, true
	}
	return "", false
}

// showProgress reports whether the progress display goes on stderr: only
// on a terminal, and not with --quiet, --json or --no-progress.
func (a *app) showProgress() bool {
	if a.flags.quiet || a.flags.json || a.flags.noProgress {
		return false
	}
	return isTerminal(a.stderr)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// clientFor returns the Client, made on first use from the flags and the
// AWS environment exactly as s3kit.New takes them. It is safe for
// concurrent use.
func (a *app) clientFor(ctx context.Context) (*s3kit.Client, error) {
	a.clientMu.Lock()
	defer a.clientMu.Unlock()
	if a.client != nil || a.clientErr != nil {
		return a.client, a.clientErr
	}
	c, err := s3kit.New(ctx, s3kit.Config{
		Endpoint:    a.flags.endpoint,
		Profile:     a.flags.profile,
		Region:      a.flags.region,
		Concurrency: a.flags.concurrency,
		PartSize:    int64(a.flags.partSize),
		MemoryLimit: int64(a.flags.memory),
		Checksum:    a.flags.checksum,
	})
	switch {
	case errors.Is(err, s3kit.ErrInvalid):
		a.clientErr = usageError{err} // a flag the library refuses
		return nil, a.clientErr
	case err != nil:
		a.clientErr = runError{err}
		return nil, a.clientErr
	}
	a.client = c
	return c, nil
}

// bucket returns the handle of the bucket of an S3 location.
func (a *app) bucket(ctx context.Context, l location) (*s3kit.Bucket, error) {
	c, err := a.clientFor(ctx)
	if err != nil {
		return nil, err
	}
	return c.Bucket(l.bucket), nil
}

// jobs is how many objects are transferred at once.
func (a *app) jobs() int {
	if a.flags.concurrency > 0 {
		return a.flags.concurrency
	}
	return s3kit.DefaultConcurrency
}

// args returns a cobra argument check whose failures are usage errors.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}
