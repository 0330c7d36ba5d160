package main

import "github.com/spf13/cobra"

// mv is cp followed by the deletion of each source that was copied; between
// S3 locations it is the library's Move, pinned to the version copied.
func (a *app) mvCommand() *cobra.Command { return a.copyCommand("mv", true) }
