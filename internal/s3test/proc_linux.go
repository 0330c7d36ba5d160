package s3test

import (
	"os"
	"syscall"
)

// sysProcAttr puts the server in a process group of its own, so that
// killGroup also reaches anything it spawns, and has the kernel kill it if
// the test process dies without calling Stop. Pdeathsig fires when the OS
// thread that started the child exits rather than the whole process; the Go
// runtime keeps its threads alive, so in practice that is process death.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by p.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		// The group is gone already, or was never made; the leader may
		// still need killing.
		_ = p.Kill()
	}
}
