package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// record is one operation as --json prints it: one object per line.
type record struct {
	Operation   string `json:"operation"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination,omitempty"`
	Size        int64  `json:"size"`
	Error       string `json:"error,omitempty"`

	// Details of listings and lookups.
	Dir          bool              `json:"dir,omitempty"`
	Modified     *time.Time        `json:"modified,omitempty"`
	StorageClass string            `json:"storage_class,omitempty"`
	ETag         string            `json:"etag,omitempty"`
	Count        int64             `json:"count,omitempty"`
	URL          string            `json:"url,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	Info         any               `json:"info,omitempty"`
	DryRun       bool              `json:"dry_run,omitempty"`
	Skipped      string            `json:"skipped,omitempty"` // why nothing was done, such as "exists"
}

// summaryRecord is the last line of --json output.
type summaryRecord struct {
	Operation   string `json:"operation"` // "summary"
	Command     string `json:"command"`
	OK          int64  `json:"ok"`
	Failed      int64  `json:"failed"`
	Bytes       int64  `json:"bytes"`
	Interrupted bool   `json:"interrupted,omitempty"`
}

// reporter prints the outcome of each operation: with --json one line each
// on stdout; otherwise failures on stderr and, unless quiet, successes on
// stdout. It counts failures for the exit status. It is safe for
// concurrent use.
type reporter struct {
	mu         sync.Mutex
	stdout     io.Writer
	stderr     io.Writer
	json       bool
	quiet      bool
	command    string
	ok, failed int64
	bytes      int64
	// text and errs receive the lines of successes and of failures:
	// stdout and stderr, or the progress display, which prints them
	// above its bars, when they would otherwise tear it.
	text, errs io.Writer
	// stdoutTaken is set when stdout carries data (cat, cp to "-"): then
	// no record goes there, and failures still go to stderr.
	stdoutTaken bool
}

func newReporter(stdout, stderr io.Writer, json, quiet bool, command string) *reporter {
	return &reporter{stdout: stdout, stderr: stderr, text: stdout, errs: stderr, json: json, quiet: quiet, command: command}
}

// takeStdout reserves stdout for data: the records then go nowhere but
// failures, which still go to stderr.
func (r *reporter) takeStdout() {
	r.mu.Lock()
	r.stdoutTaken = true
	r.mu.Unlock()
}

// done reports one operation; err nil means it succeeded. text is the line
// printed for a success without --json; empty prints nothing.
func (r *reporter) done(rec record, err error, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failed++
		rec.Error = err.Error()
		fmt.Fprintf(r.errs, "ERROR %s %s: %v\n", rec.Operation, describe(rec), err)
	} else {
		r.ok++
		if !rec.DryRun && transfers[rec.Operation] {
			r.bytes += rec.Size
		}
	}
	switch {
	case r.stdoutTaken:
	case r.json:
		b, _ := json.Marshal(rec)
		fmt.Fprintf(r.stdout, "%s\n", b)
	case err == nil && !r.quiet && text != "":
		fmt.Fprintln(r.text, text)
	}
}

// fail reports a failure that is not one operation on one key, such as a
// glob that matched nothing.
func (r *reporter) fail(op, source string, err error) {
	r.done(record{Operation: op, Source: source}, err, "")
}

// transfers are the operations whose sizes add up to the bytes of the
// summary: those that move bytes.
var transfers = map[string]bool{"cp": true, "mv": true, "cat": true, "copy": true}

func describe(rec record) string {
	switch {
	case rec.Source != "" && rec.Destination != "":
		return rec.Source + " -> " + rec.Destination
	case rec.Source != "":
		return rec.Source
	}
	return rec.Destination
}

// summary prints the summary line of --json output.
func (r *reporter) summary(interrupted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.json || r.stdoutTaken {
		return
	}
	b, _ := json.Marshal(summaryRecord{Operation: "summary", Command: r.command, OK: r.ok, Failed: r.failed, Bytes: r.bytes, Interrupted: interrupted})
	fmt.Fprintf(r.stdout, "%s\n", b)
}
