// Command s3kit copies, lists, syncs and manages objects in Amazon S3 and
// S3-compatible stores, over the s3kit library.
//
// Exit status: 0 when everything was done; 1 when some operation failed
// (each is reported on stderr with its key and cause); 2 on bad usage; 130
// when interrupted, after the interrupted transfers have been aborted.
//
// Run "s3kit help" for the verbs and flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
