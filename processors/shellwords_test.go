package processors_test

import (
	"bytes"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

// splitTests are the commands SplitCommand splits; TestSplitCommandLikeShell
// also gives those without shell syntax to sh.
var splitTests = []struct {
	name    string
	command string
	want    []string
}{
	{"one word", "optipng", []string{"optipng"}},
	{"plain words", "optipng -force -o7 file.png", []string{"optipng", "-force", "-o7", "file.png"}},
	{"seed png command", `optipng -force -o7 "%(filename)s"`, []string{"optipng", "-force", "-o7", "%(filename)s"}},
	{"seed jpg command", `jpegoptim -f --strip-all "%(filename)s"`, []string{"jpegoptim", "-f", "--strip-all", "%(filename)s"}},
	{"surrounding and repeated blanks", " \t a \t\t b  c  ", []string{"a", "b", "c"}},
	{"newlines separate words", "a\nb\n\nc\n", []string{"a", "b", "c"}},
	{"single quotes", `echo 'a b' 'c'`, []string{"echo", "a b", "c"}},
	{"single quotes keep backslashes and double quotes", `echo 'a\ "b" \'`, []string{"echo", `a\ "b" \`}},
	{"double quotes", `echo "a  b"`, []string{"echo", "a  b"}},
	{"double quotes keep single quotes", `echo "it's"`, []string{"echo", "it's"}},
	{"escaped double quote", `echo "say \"hi\""`, []string{"echo", `say "hi"`}},
	{"escaped backslash in double quotes", `echo "a\\b"`, []string{"echo", `a\b`}},
	{"escaped dollar and backtick in double quotes", "echo \"\\$x \\`y\\`\"", []string{"echo", "$x `y`"}},
	{"other backslashes kept in double quotes", `echo "a\nb\ c\'"`, []string{"echo", `a\nb\ c\'`}},
	{"backslash escapes a space", `echo a\ b`, []string{"echo", "a b"}},
	{"backslash escapes quotes", `echo \"a\" \'b\'`, []string{"echo", `"a"`, "'b'"}},
	{"backslash escapes a backslash", `echo a\\b`, []string{"echo", `a\b`}},
	{"backslash escapes a letter", `echo \a\b`, []string{"echo", "ab"}},
	{"line continuation", "echo a\\\nb", []string{"echo", "ab"}},
	{"line continuation in double quotes", "echo \"a\\\nb\"", []string{"echo", "ab"}},
	{"newline in single quotes", "echo 'a\nb'", []string{"echo", "a\nb"}},
	{"quotes join a word", `a"b c"'d e'f`, []string{"ab cd ef"}},
	{"empty words", `echo '' "" x`, []string{"echo", "", "", "x"}},
	{"only an empty word", `''`, []string{""}},
	{"placeholder inside a word", `cmd --out=%(filename)s.tmp`, []string{"cmd", "--out=%(filename)s.tmp"}},
	{"unicode", "échó 'ünï cødé' \"日本\"", []string{"échó", "ünï cødé", "日本"}},
	{"invalid UTF-8 kept", "a\xff 'b\xfe'", []string{"a\xff", "b\xfe"}},
	// No expansion of any kind: these reach the program as they are.
	{"variable", "echo $HOME ${HOME}", []string{"echo", "$HOME", "${HOME}"}},
	{"variable in double quotes", `echo "$HOME"`, []string{"echo", "$HOME"}},
	{"tilde", "ls ~ ~root/x", []string{"ls", "~", "~root/x"}},
	{"glob", "rm * ?.png [ab]", []string{"rm", "*", "?.png", "[ab]"}},
	{"semicolon", "true %(filename)s;rm -rf /", []string{"true", "%(filename)s;rm", "-rf", "/"}},
	{"operators", "a && b || c | d & e > f < g", []string{"a", "&&", "b", "||", "c", "|", "d", "&", "e", ">", "f", "<", "g"}},
	{"command substitution", "echo $(rm -rf /) `id`", []string{"echo", "$(rm", "-rf", "/)", "`id`"}},
	{"comment", "echo a #b", []string{"echo", "a", "#b"}},
	{"braces", "echo {a,b}", []string{"echo", "{a,b}"}},
	{"carriage return is not a separator", "echo a\r", []string{"echo", "a\r"}},
}

func TestSplitCommand(t *testing.T) {
	for _, tt := range splitTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := processors.SplitCommand(tt.command)
			if err != nil {
				t.Fatalf("SplitCommand(%q): %v", tt.command, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("SplitCommand(%q) = %q, want %q", tt.command, got, tt.want)
			}
		})
	}
}

func TestSplitCommandErrors(t *testing.T) {
	tests := []struct {
		name    string
		command string
		message string
	}{
		{"empty", "", "empty command"},
		{"blank", " \t\n ", "empty command"},
		{"only a line continuation", "\\\n", "empty command"},
		{"unclosed single quote", "echo 'abc", "the single quote at byte 5 is never closed"},
		{"unclosed double quote", `echo "abc`, "the double quote at byte 5 is never closed"},
		{"escaped closing double quote", `echo "abc\"`, "the double quote at byte 5 is never closed"},
		{"backslash does not escape in single quotes", `echo 'a\''`, "the single quote at byte 9 is never closed"},
		{"single quote in double quotes does not close", `echo "a'`, "double quote at byte 5"},
		{"trailing backslash", `echo a\`, "ends in a backslash"},
		{"trailing backslash in double quotes", `echo "a\`, "double quote at byte 5 is never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := processors.SplitCommand(tt.command)
			if !errors.Is(err, processors.ErrInvalidParameter) {
				t.Fatalf("SplitCommand(%q) = %q, %v; want an ErrInvalidParameter", tt.command, got, err)
			}
			if got != nil {
				t.Errorf("SplitCommand(%q) returned %q with the error", tt.command, got)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

// TestSplitCommandLikeShell checks the cases without shell syntax against
// sh, which splits them the same way when it has nothing to expand.
func TestSplitCommandLikeShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	for _, tt := range splitTests {
		if strings.ContainsAny(tt.command, "$`;&|<>()*?[]~#{}!\r") || tt.name == "newlines separate words" {
			continue // sh would expand or interpret it, or run two commands
		}
		t.Run(tt.name, func(t *testing.T) {
			// printf prints each word followed by a NUL, which no word holds.
			out, err := exec.Command(sh, "-c", `printf '%s\0' `+tt.command).Output()
			if err != nil {
				t.Fatalf("sh: %v", err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if !slices.Equal(got, tt.want) {
				t.Errorf("sh splits %q into %q, the test wants %q", tt.command, got, tt.want)
			}
		})
	}
}

// quote returns s quoted for a POSIX shell, so that SplitCommand gives it back.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func TestSplitCommandQuoteRoundTrip(t *testing.T) {
	words := []string{"", " ", "a b", "it's", `"`, `\`, "$HOME", "'", "''", "\n", "%(filename)s", "a\x00b", "日本"}
	var line bytes.Buffer
	for i, w := range words {
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(quote(w))
	}
	got, err := processors.SplitCommand(line.String())
	if err != nil || !slices.Equal(got, words) {
		t.Errorf("SplitCommand(%q) = %q, %v; want %q", line.String(), got, err, words)
	}
}
