package main

import (
	"reflect"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

func TestPrimaryKeys(t *testing.T) {
	got, err := primaryKeys("1, 2,abc-9", textKey)
	if want := []any{"1", "2", "abc-9"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("primaryKeys: %#v, %v; want %#v", got, err, want)
	}
	if _, err := primaryKeys("1,,2", textKey); err == nil {
		t.Error("an empty key is not an error")
	}
}

// TestKeyParser checks that keys given on the command line take the type of
// the primary key column: integers for an integer column, the string as it
// is for a text one (where "00002" is not 2).
func TestKeyParser(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testKeyParser(t, testdb.SQLite(t, "")) })
	t.Run("postgres", func(t *testing.T) { testKeyParser(t, testdb.Postgres(t)) })
}

func testKeyParser(t *testing.T, db *gorm.DB) {
	for _, q := range []string{
		"CREATE TABLE numbered (id integer primary key, image text)",
		"CREATE TABLE coded (code text primary key, image text)",
		"CREATE TABLE big (id BIGINT PRIMARY KEY, image varchar(255))",
		`CREATE TABLE "odd foods" ("Key" integer primary key, image text)`,
		`CREATE TABLE "odd codes" ("Key" text primary key, image text)`,
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		table, pk, in string
		want          any
		fails         bool
	}{
		{"numbered", "id", "2", int64(2), false},
		// SQLite takes a name in any case; PostgreSQL, quoted, in its own
		{"numbered", "ID", "17", int64(17), db.Dialector.Name() == "postgres"},
		{"numbered", "id", "abc", nil, true},
		{"big", "id", "9000000000", int64(9000000000), false},
		{"coded", "code", "00002", "00002", false},
		{"coded", "code", "x-1", "x-1", false},
		{"coded", "nope", "1", nil, true},
		{"missing", "id", "1", nil, true},
		// a name with a space is a table's, not a table and its alias
		{"odd foods", "Key", "7", int64(7), false},
		{"odd codes", "Key", "7", "7", false},
		{"odd codes", "nope", "7", nil, true},
	} {
		parse, err := keyParser(db, c.table, c.pk)
		var got any
		if err == nil {
			got, err = parse(c.in)
		}
		if c.fails && err == nil || !c.fails && (err != nil || got != c.want) {
			t.Errorf("%s.%s %q: %#v, %v; want %#v (fails: %v)", c.table, c.pk, c.in, got, err, c.want, c.fails)
		}
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"17":                                   "17",
		"0b6f2a1c-5d7e-4f7a-9a51-2c1e0f3d9b10": "0b6f2a1c-5d7e-4f7a-9a51-2c1e0f3d9b10",
		"two words":                            "'two words'",
		"it's":                                 `'it'\''s'`,
		"":                                     "''",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
