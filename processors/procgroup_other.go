//go:build !unix

package processors

import "os/exec"

// isolate leaves cmd as it is: without process groups, a timeout kills the
// command itself, and Cmd.WaitDelay bounds the wait for anything it started.
func isolate(*exec.Cmd) {}

// killGroup kills the started cmd.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
