//go:build unix

package processors

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// isolate starts cmd in a process group of its own, so that killing it also
// kills whatever it started: a shell's children would otherwise outlive a
// timeout and keep its stderr open.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
}

// killGroup kills the process group of the started cmd.
func killGroup(cmd *exec.Cmd) error {
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}
