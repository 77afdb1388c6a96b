package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses. An interrupted run exits with signalStatus instead.
const (
	exitOK      = 0
	exitFailure = 1 // a runtime failure, a failed row included
	exitUsage   = 2 // bad or missing flags, unknown subcommand
)

// usageError is a mistake in the command line; it exits with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// interruptedError is returned by a command stopped by a signal; hint says
// how to go on from where it stopped.
type interruptedError struct{ hint string }

func (e interruptedError) Error() string { return "interrupted: " + e.hint }

// exitStatus prints err, if any, as one line on stderr and returns the exit
// status for it; sig is the signal that interrupted the run, if one did.
func exitStatus(err error, sig os.Signal, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var interrupted interruptedError
	if sig != nil && !errors.As(err, &interrupted) {
		err = interruptedError{hint: "run the same command again"}
	}
	fmt.Fprintln(stderr, "thumbnails: "+oneLine(err))
	var usage usageError
	switch {
	case sig != nil:
		return signalStatus(sig)
	case errors.As(err, &usage):
		return exitUsage
	default:
		return exitFailure
	}
}

// oneLine returns the message of err on one line, without the package
// prefix the library's errors carry (the line gets its own).
func oneLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "thumbnails: ")
	msg = strings.ReplaceAll(msg, "\r", "")
	return strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' }), "; ")
}
