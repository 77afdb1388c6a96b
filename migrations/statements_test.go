package migrations

import (
	"fmt"
	"testing"
)

func TestStatements(t *testing.T) {
	for _, c := range []struct {
		name, sql string
		want      []string
	}{
		{"one", "CREATE TABLE a (x INT);\n", []string{"CREATE TABLE a (x INT)"}},
		{"no final newline", "CREATE TABLE a (x INT);\nDROP TABLE b;", []string{"CREATE TABLE a (x INT)", "DROP TABLE b"}},
		{"comments stay with their statement", "-- a\nCREATE TABLE a (x INT);\n\n-- b\nDROP TABLE b;\n",
			[]string{"-- a\nCREATE TABLE a (x INT)", "-- b\nDROP TABLE b"}},
		{"semicolons inside a line", "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n    DELETE FROM b; END;\nDROP TABLE c;\n",
			[]string{"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n    DELETE FROM b; END", "DROP TABLE c"}},
		{"a dollar-quoted body", "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    DELETE FROM b;\n    RETURN NULL;\nEND\n$$;\nDROP TABLE c;\n",
			[]string{"CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    DELETE FROM b;\n    RETURN NULL;\nEND\n$$", "DROP TABLE c"}},
		{"an unterminated body", "SELECT 1;\nCREATE FUNCTION f() AS $$\nBEGIN;\n", []string{"SELECT 1", "CREATE FUNCTION f() AS $$\nBEGIN;"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := statements(c.sql); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
				t.Errorf("statements(%q) =\n%q, want\n%q", c.sql, got, c.want)
			}
		})
	}
}
