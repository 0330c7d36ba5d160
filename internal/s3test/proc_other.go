//go:build !linux

package s3test

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to add where Pdeathsig does not exist: a server
// outlives a test process that dies without calling Stop.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p alone; only Linux has process groups set up here.
func killGroup(p *os.Process) { _ = p.Kill() }
