package main

import (
	"strconv"
	"strings"
)

// shellWord returns s as one word of a shell command line: as it is when it
// has only characters that need no quoting, else in single quotes.
func shellWord(s string) string {
	safe := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/+@%,=", r))
	})
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// primaryKey converts a primary key given on the command line: an integer
// when it is one, so that it compares as a number with an integer column on
// every database, else the string as it is.
func primaryKey(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

// primaryKeys parses a comma-separated list of primary keys; an empty
// element is an error.
func primaryKeys(list string) ([]any, error) {
	var out []any
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, usagef("--ids %q: empty primary key", list)
		}
		out = append(out, primaryKey(s))
	}
	return out, nil
}
