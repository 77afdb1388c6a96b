package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowYAML has a lazy size that takes a good fraction of a second a row,
// so that a run of 40 rows is still going when it is interrupted.
const slowYAML = `
small:
  processors: [{path: resize, width: 100, height: 100, method: fill}]
  format: png
slow:
  processors: [{path: resize, width: 900, height: 600, method: stretch}]
  format: png
  lazy: true
`

// resumeLine is the last line of an interrupted regenerate; it has no
// --after when the lowest row in progress was the first one.
var resumeLine = regexp.MustCompile(`^thumbnails: interrupted: (?:resume with --after (\d+)|no row was handled; run the same command again)$`)

// TestInterruptAndResume sends SIGINT to regenerate after its first
// progress line: it finishes the rows in progress, prints where to resume
// and exits 130; the run resumed from there does the rest.
func TestInterruptAndResume(t *testing.T) {
	const rows = 40
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, slowYAML)
		f.createFoods(t, rows)

		cmd := exec.Command(binary, f.args("regenerate", "--size", "slow", "--workers", "2")...)
		cmd.Dir = t.TempDir()
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		stderrPipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
		var stderr []string
		scanner := bufio.NewScanner(stderrPipe)
		for scanner.Scan() {
			line := scanner.Text()
			if len(stderr) == 0 && strings.HasPrefix(line, "regenerate: ") {
				if err := cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatal(err)
				}
			}
			stderr = append(stderr, line)
		}
		_, _ = io.Copy(io.Discard, stderrPipe)
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 128+int(syscall.SIGINT) {
			t.Fatalf("exit: %v, want status 130\nstderr: %q\nstdout: %q", err, stderr, stdout.String())
		}
		if len(stderr) == 0 || !strings.HasPrefix(stderr[0], "regenerate: ") {
			t.Fatalf("no progress line first: %q", stderr)
		}
		m := resumeLine.FindStringSubmatch(stderr[len(stderr)-1])
		if m == nil {
			t.Fatalf("last line of stderr is not the resume point: %q", stderr)
		}
		after, _ := strconv.Atoi(m[1]) // 0 without --after
		if after >= rows {
			t.Fatalf("resume after %d: the run was not interrupted part way", after)
		}
		if summaryLine.FindString(stdout.String()) == "" {
			t.Errorf("no summary on stdout: %q", stdout.String())
		}
		for id, all := range f.thumbs(t) {
			if _, ok := all["slow"]; int(id) <= after && !ok {
				t.Errorf("row %d, before the resume point, has no slow thumbnail", id)
			}
		}

		args := f.args("regenerate", "--size", "slow", "--workers", "2")
		if m[1] != "" {
			args = append(args, "--after", m[1])
		}
		r := mustRun(t, args...)
		if s := summaryLine.FindStringSubmatch(r.stdout); s == nil || s[1] != strconv.Itoa(rows-after) || s[3] != "0" {
			t.Errorf("resumed run: %s\nwant %d rows regenerated", r, rows-after)
		}
		thumbs := f.thumbs(t)
		if len(thumbs) != rows {
			t.Fatalf("%d rows, want %d", len(thumbs), rows)
		}
		for id, all := range thumbs {
			if slow, ok := all["slow"]; !ok || slow.Width != 900 || slow.Height != 600 {
				t.Errorf("row %d: slow is %+v", id, slow)
			}
		}
	})
}
