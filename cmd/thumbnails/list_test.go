package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/migrations"
)

// TestListPlaceholder checks that list shows a source's placeholder record
// as inline data, not as a file with a URL.
func TestListPlaceholder(t *testing.T) {
	f := newFixture(t, testdb.SQLiteDSN(t, ""), sizesYAML)
	f.createFoods(t, 1)
	db := f.open(t, "")
	var names []string
	if err := db.Table("foods").Where("id = 1").Pluck("image", &names).Error; err != nil || len(names) != 1 {
		t.Fatalf("source of row 1: %v, %v", names, err)
	}
	uri := "data:image/png;base64,iVBORw0KGgo=" // 34 bytes
	err := backends.NewDatabaseMetadata(db).Put(context.Background(), names[0],
		backends.Thumbnail{Size: backends.PlaceholderSize, Name: uri, Width: 12, Height: 8})
	if err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)

	r := mustRun(t, f.args("list", "--id", "1")...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines: %s", r)
	}
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "@placeholder inline (34 bytes) 12x8 -" {
		t.Errorf("placeholder line %q", lines[0])
	}
	if strings.Contains(r.stdout, "/media/data:") {
		t.Errorf("the placeholder got a URL: %s", r.stdout)
	}
}

// TestListWithoutMetadata: list on a database without the plugin's tables
// (a wrong --dsn, or metadata kept in Redis and no --redis given) says so,
// rather than naming a table the operator never heard of, and exits 1;
// so it does on a database whose tables predate the command's, and it
// creates nothing.
func TestListWithoutMetadata(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, sizesYAML)
		db := f.plainFoods(t)
		if err := db.Exec("INSERT INTO foods (id, image) VALUES (1, 'foods/a.jpg')").Error; err != nil {
			t.Fatal(err)
		}
		r := runCmd(t, f.args("list", "--id", "1")...)
		wantError(t, r, exitFailure, "list: the database has no thumbnails metadata: check --dsn, or give --redis")
		if strings.Contains(r.stderr, "thumbnails_") {
			t.Errorf("the message names an internal table: %s", r)
		}

		// the tables of the first version, without placeholders
		list, err := migrations.List(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(list[0].SQL).Error; err != nil {
			t.Fatal(err)
		}
		before, err := db.Migrator().GetTables()
		if err != nil {
			t.Fatal(err)
		}
		r = runCmd(t, f.args("list", "--id", "1")...)
		wantError(t, r, exitFailure, "list: the thumbnails tables of the database are older than this command's")
		after, err := db.Migrator().GetTables()
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("tables before %v, after %v", before, after)
		}
	})
}

// TestListTablesDownTheSearchPath: on PostgreSQL, the plugin's tables in
// the second schema of the DSN's search_path are where list's queries find
// them, not missing ("the database has no thumbnails metadata", as gorm's
// HasTable, which looks in the first schema only, had it).
func TestListTablesDownTheSearchPath(t *testing.T) {
	second := testdb.PostgresDSN(t)
	f := newFixture(t, second, sizesYAML)
	f.createFoods(t, 1)
	first := testdb.PostgresDSN(t)
	u, err := url.Parse(second)
	if err != nil {
		t.Fatal(err)
	}
	f.dsn = first + "," + u.Query().Get("search_path")
	r := mustRun(t, f.args("list", "--id", "1")...)
	if !strings.Contains(r.stdout, "small") {
		t.Errorf("list through the search_path: %s", r)
	}
}
