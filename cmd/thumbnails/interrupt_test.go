package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

		stdout, stderr := interruptAtFirstLine(t, "regenerate", f.args("regenerate", "--size", "slow", "--workers", "2"))
		m := resumeLine.FindStringSubmatch(stderr[len(stderr)-1])
		if m == nil {
			t.Fatalf("last line of stderr is not the resume point: %q", stderr)
		}
		after, _ := strconv.Atoi(m[1]) // 0 without --after
		if after >= rows {
			t.Fatalf("resume after %d: the run was not interrupted part way", after)
		}
		if summaryLine.FindString(stdout) == "" {
			t.Errorf("no summary on stdout: %q", stdout)
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

// pruneSummary is prune's summary line, after the items it removed.
var pruneSummary = regexp.MustCompile(`(?m)^removed (\d+) files?, 0 sources, 0 records, 0 lost sources kept, 0 failed in \d+\.\ds \(\d+ items/s\)$`)

// pruneStopped is the last line of an interrupted prune.
var pruneStopped = regexp.MustCompile(`^thumbnails: interrupted: (\d+) of (\d+) items removed; run the same command again to remove the rest$`)

// TestPruneInterrupt sends SIGINT to prune after its first progress line:
// it stops removing, prints the files it removed and only those, the
// summary, and how to finish, and exits 130; the same command run again
// removes the rest.
func TestPruneInterrupt(t *testing.T) {
	t.Parallel()
	const junk = 20000 // enough for the removal to outlast the signal's way
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	live := countFiles(t, f.root)
	dir := filepath.Join(f.root, "junk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	for i := range junk {
		p := filepath.Join(dir, fmt.Sprintf("%05d.bin", i))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	stdout, stderr := interruptAtFirstLine(t, "prune", f.args("prune"))
	m := pruneStopped.FindStringSubmatch(stderr[len(stderr)-1])
	if m == nil {
		t.Fatalf("last line of stderr does not say how to finish: %q", stderr[len(stderr)-1])
	}
	removed, _ := strconv.Atoi(m[1])
	if removed == 0 || removed >= junk || m[2] != strconv.Itoa(junk) {
		t.Fatalf("%s of %s items removed: the run was not interrupted part way", m[1], m[2])
	}
	// The lines printed are the files removed: exactly those are gone.
	printed := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	for _, l := range lines[:len(lines)-1] {
		name, ok := strings.CutPrefix(l, "file    junk/")
		if !ok {
			t.Fatalf("stdout line %q is not a removed junk file", l)
		}
		printed[name] = true
	}
	s := pruneSummary.FindStringSubmatch(lines[len(lines)-1])
	if s == nil || s[1] != m[1] || len(printed) != removed {
		t.Fatalf("summary %q, %d files printed; want %d removed", lines[len(lines)-1], len(printed), removed)
	}
	for i := range junk {
		name := fmt.Sprintf("%05d.bin", i)
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != printed[name] {
			t.Fatalf("%s: gone %v, printed as removed %v", name, gone, printed[name])
		}
	}

	r := mustRun(t, f.args("prune")...)
	if s := pruneSummary.FindStringSubmatch(r.stdout); s == nil || s[1] != strconv.Itoa(junk-removed) {
		t.Errorf("the second run: %.300s\nwant %d files removed", r.stdout, junk-removed)
	}
	if n := countFiles(t, f.root); n != live {
		t.Errorf("%d files after the second run, want the row's %d", n, live)
	}
}

// interruptAtFirstLine runs the binary with args and sends it SIGINT at its
// first progress line on stderr (which starts with verb): it must then exit
// 130. It returns the run's stdout and its lines on stderr.
func interruptAtFirstLine(t *testing.T, verb string, args []string) (string, []string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
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
		if len(stderr) == 0 && strings.HasPrefix(line, verb+": ") {
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
		out := stdout.String()
		t.Fatalf("exit: %v, want status 130\nstderr: %q\nstdout (%d bytes), its end: %q", err, stderr, len(out), out[max(0, len(out)-300):])
	}
	if len(stderr) == 0 || !strings.HasPrefix(stderr[0], verb+": ") {
		t.Fatalf("no progress line first: %q", stderr)
	}
	return stdout.String(), stderr
}
