package processors

import (
	"strings"
	"unicode/utf8"
)

// Placeholder is the text that a post-processor's command has in place of the
// path of the file it works on, as in django-thumbnails' settings.
const Placeholder = "%(filename)s"

// command is one configured command line, split into words.
type command struct {
	line string   // as configured, for messages
	argv []string // with Placeholder still in them
}

// parseCommand splits line and checks that it names a program and works on
// the file; otherwise it returns why not.
func parseCommand(line string) (command, string) {
	argv, msg := splitWords(line)
	switch {
	case msg != "":
		return command{}, msg
	case argv[0] == "":
		return command{}, "the program name is empty"
	case strings.Contains(argv[0], Placeholder):
		return command{}, "the program name cannot hold " + Placeholder
	}
	for _, w := range argv[1:] {
		if strings.Contains(w, Placeholder) {
			return command{line: line, argv: argv}, ""
		}
	}
	return command{}, "it has no " + Placeholder + ", so it could not work on the file"
}

// program returns the name of the program the command runs.
func (c command) program() string { return c.argv[0] }

// args returns the command's words with path in place of Placeholder. A word
// stays one argument whatever path holds.
func (c command) args(path string) []string {
	args := make([]string, len(c.argv))
	for i, w := range c.argv {
		args[i] = strings.ReplaceAll(w, Placeholder, path)
	}
	return args
}

// tailBuffer is an io.Writer that keeps only the last max bytes written to it,
// so that a chatty command cannot make the error about it arbitrarily large.
type tailBuffer struct {
	max int
	buf []byte
	cut bool // bytes were dropped from the start
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max { // drop in bulk, not on every write
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
		t.cut = true
	}
	return len(p), nil
}

// String returns the last max bytes, trimmed of spaces, starting with "…"
// when the start was dropped.
func (t *tailBuffer) String() string {
	b, cut := t.buf, t.cut
	if len(b) > t.max {
		b, cut = b[len(b)-t.max:], true
	}
	if cut {
		for len(b) > 0 && !utf8.RuneStart(b[0]) { // start on a whole character
			b = b[1:]
		}
	}
	s := strings.TrimSpace(string(b))
	if cut {
		s = "…" + s
	}
	return s
}
