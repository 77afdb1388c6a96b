package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// Dish is a second model whose images share the storage and metadata of
// Food's.
type Dish struct {
	ID    uint
	Photo field.Image
}

// foodsAndADish returns a fixture of a SQLite database holding a food and
// a dish saved through the plugin, the database opened, and the dish.
func foodsAndADish(t *testing.T) (fixture, *gorm.DB, Dish) {
	t.Helper()
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	db := f.open(t, "")
	if err := db.AutoMigrate(&Dish{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", photos[0]))
	if err != nil {
		t.Fatal(err)
	}
	dish := Dish{Photo: field.NewImage("dish.jpg", bytes.NewReader(data))}
	if err := db.Create(&dish).Error; err != nil {
		t.Fatal(err)
	}
	return f, db, dish
}

// TestPruneAlso: the sources of a column that prune is not told about, and
// that thumbnails_columns does not record (written before it recorded
// models' own columns), are seen as unreferenced; --also names it. Once
// recorded, by an upload, it is checked without --also.
func TestPruneAlso(t *testing.T) {
	t.Parallel()
	f, db, dish := foodsAndADish(t)
	r := mustRun(t, f.args("prune", "--dry-run", "--min-age", "0")...)
	if r.stdout != "found 0 files, 0 sources, 0 records (dry run: nothing removed)\n" {
		t.Errorf("with dishes.photo recorded by its upload: %s", r)
	}
	// As a database written by an earlier version has it.
	if err := db.Exec("DELETE FROM thumbnails_columns WHERE table_name = 'dishes'").Error; err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)

	r = mustRun(t, f.args("prune", "--dry-run", "--min-age", "0")...)
	// the dish's source, its file and its two thumbnails' files
	if !strings.Contains(r.stdout, "source  "+dish.Photo.Name()+"\n") || !strings.HasSuffix(r.stdout, "found 3 files, 1 source, 0 records (dry run: nothing removed)\n") {
		t.Errorf("without --also: %s", r)
	}
	r = mustRun(t, f.args("prune", "--dry-run", "--min-age", "0", "--also", "dishes.photo")...)
	if r.stdout != "found 0 files, 0 sources, 0 records (dry run: nothing removed)\n" {
		t.Errorf("with --also: %s", r)
	}
}

// TestPruneWrongRoot: a --storage-root that exists but holds none of the
// recorded files (another folder of the machine) makes prune fail and
// remove nothing; --force removes what it found.
func TestPruneWrongRoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	wrong := t.TempDir()
	notes := writeFile(t, wrong, "notes.txt", "not the plugin's")
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(notes, old, old); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		return append(f.args("prune", "--min-age", "0"), append([]string{"--storage-root", wrong}, extra...)...)
	}
	r := runCmd(t, args()...)
	wantError(t, r, exitFailure, "none of the files that metadata records")
	if _, err := os.Stat(notes); err != nil {
		t.Fatalf("prune without --force removed a file of the wrong root: %v", err)
	}
	if got := f.thumbs(t); len(got) != 1 || len(got[1]) != 2 {
		t.Fatalf("prune without --force changed the metadata: %v", got)
	}

	r = mustRun(t, args("--force")...)
	if !strings.Contains(r.stdout, "file    notes.txt\n") {
		t.Errorf("prune --force: %s", r)
	}
	if _, err := os.Stat(notes); !os.IsNotExist(err) {
		t.Errorf("prune --force kept notes.txt: %v", err)
	}
}

// TestPruneWrongDSN: a --dsn of another database, whose foods table is
// empty and which has no thumbnails tables, makes prune fail and remove
// nothing (every file would look like an orphan), and creates no table
// there; the dry run still reports; --force removes what it found.
func TestPruneWrongDSN(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, testdbFile(t), sizesYAML)
		f.createFoods(t, 2)
		before := countFiles(t, f.root)
		if before == 0 {
			t.Fatal("the fixture stored no file")
		}
		other := fixture{dsn: dsn, root: f.root, sizes: f.sizes}
		db := other.openPlain(t)
		if err := db.AutoMigrate(&Food{}); err != nil {
			t.Fatal(err)
		}
		r := runCmd(t, other.args("prune", "--min-age", "0")...)
		wantError(t, r, exitFailure, "records nothing while --storage-root")
		if n := countFiles(t, f.root); n != before {
			t.Fatalf("prune with a wrong --dsn removed %d of %d files", before-n, before)
		}
		if db.Migrator().HasTable("thumbnails_sources") {
			t.Error("prune with a wrong --dsn created the thumbnails tables there")
		}
		r = mustRun(t, other.args("prune", "--min-age", "0", "--dry-run")...)
		if !strings.Contains(r.stdout, fmt.Sprintf("found %d files", before)) {
			t.Errorf("dry run with a wrong --dsn: %s", r)
		}
		// The application's own database prunes as before.
		mustRun(t, f.args("prune", "--min-age", "0")...)
		if n := countFiles(t, f.root); n != before {
			t.Fatalf("prune with the right --dsn removed %d live files", before-n)
		}
		r = mustRun(t, other.args("prune", "--min-age", "0", "--force")...)
		if n := countFiles(t, f.root); n != 0 || !strings.Contains(r.stdout, fmt.Sprintf("removed %d files", before)) {
			t.Errorf("prune --force with a wrong --dsn left %d files: %s", n, r)
		}
	})
}

// TestMissingStorageRoot: delete, regenerate and prune refuse a
// --storage-root that does not exist, and change nothing.
func TestMissingStorageRoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	want := f.thumbs(t)
	missing := filepath.Join(t.TempDir(), "nowhere")
	for _, args := range [][]string{
		{"delete", "--size", "small"},
		{"regenerate"},
		{"prune", "--min-age", "0"},
	} {
		r := runCmd(t, append(f.args(args[0], args[1:]...), "--storage-root", missing)...)
		wantError(t, r, exitFailure, "--storage-root")
		if got := f.thumbs(t); len(got[1]) != len(want[1]) {
			t.Errorf("%s with a missing root changed the metadata: %v, was %v", args[0], got, want)
		}
	}
	if countFiles(t, f.root) == 0 {
		t.Error("files were removed")
	}
}

// countFiles counts the files under root.
func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPruneAlsoOtherSchema: a column of a table in another PostgreSQL
// schema, recorded by its upload, is checked without --also; one not
// recorded (a database written by an earlier version) is named by --also
// SCHEMA.TABLE.COLUMN.
func TestPruneAlsoOtherSchema(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdb.PostgresDSN(t), sizesYAML)
	f.createFoods(t, 1)
	db := f.open(t, "")
	schema, dish := dishInOtherSchema(t, db)
	r := mustRun(t, f.args("prune", "--dry-run", "--min-age", "0")...)
	if r.stdout != "found 0 files, 0 sources, 0 records (dry run: nothing removed)\n" {
		t.Errorf("with %s.dishes.photo recorded by its upload: %s", schema, r)
	}
	if err := db.Exec("DELETE FROM thumbnails_columns WHERE table_name = ?", schema+".dishes").Error; err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)

	r = mustRun(t, f.args("prune", "--dry-run", "--min-age", "0")...)
	if !strings.Contains(r.stdout, "source  "+dish.Photo.Name()+"\n") {
		t.Errorf("without --also: %s", r)
	}
	r = mustRun(t, f.args("prune", "--dry-run", "--min-age", "0", "--also", schema+".dishes.photo")...)
	if r.stdout != "found 0 files, 0 sources, 0 records (dry run: nothing removed)\n" {
		t.Errorf("with --also %s.dishes.photo: %s", schema, r)
	}
}

// TestPruneWrongDSNWithRedis: the metadata is in Redis (right
// --redis and --redis-prefix), the --dsn is another database whose foods
// table is empty. Every source would be taken for an unreferenced one:
// prune refuses, and removes nothing.
func TestPruneWrongDSNWithRedis(t *testing.T) {
	if os.Getenv(testdb.RedisAddrEnv) == "" {
		t.Skip("no redis")
	}
	forEachDB(t, func(t *testing.T, dsn string) {
		client := testdb.Redis(t)
		prefix := testdb.RedisPrefix(t, client)
		addr := os.Getenv(testdb.RedisAddrEnv)
		f := newFixture(t, testdbFile(t), sizesYAML)
		f.createFoods(t, 2)
		inRedis := []string{"--redis", addr, "--redis-prefix", prefix}
		mustRun(t, append(f.args("migrate-metadata", "--from", "database", "--to", "redis"), inRedis...)...)
		before := countFiles(t, f.root)

		// the right --dsn with Redis prunes nothing
		mustRun(t, append(f.args("prune", "--min-age", "0"), inRedis...)...)
		if n := countFiles(t, f.root); n != before {
			t.Fatalf("prune with the right --dsn removed %d files", before-n)
		}

		other := fixture{dsn: dsn, root: f.root, sizes: f.sizes}
		db := other.openPlain(t)
		if err := db.AutoMigrate(&Food{}); err != nil {
			t.Fatal(err)
		}
		r := runCmd(t, append(other.args("prune", "--min-age", "0"), inRedis...)...)
		wantError(t, r, exitFailure, "no row of foods.image holds an image")
		if n := countFiles(t, f.root); n != before {
			t.Errorf("prune with a wrong --dsn (metadata in Redis) removed %d of %d files: %s", before-n, before, r)
		}
	})
}

// TestPruneRefusalsHideRedisPassword: prune's refusals of metadata that
// does not look like the application's (nothing recorded under a wrong
// --redis-prefix, or sources recorded while no row holds an image) name the
// Redis they read, without the password of its redis:// URL. The test Redis
// has no password: its default user takes any.
func TestPruneRefusalsHideRedisPassword(t *testing.T) {
	client := testdb.Redis(t)
	prefix := testdb.RedisPrefix(t, client)
	addr := os.Getenv(testdb.RedisAddrEnv)
	const secret = "Hunter2SecretPw"
	url := "redis://default:" + secret + "@" + addr + "/0"
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	mustRun(t, append(f.args("migrate-metadata", "--from", "database", "--to", "redis"), "--redis", addr, "--redis-prefix", prefix)...)
	before := countFiles(t, f.root)
	for _, tc := range []struct {
		name, prefix, want string
		setUp              func(t *testing.T)
	}{
		{name: "wrong prefix", prefix: prefix + "-wrong", want: "records nothing while"},
		{name: "no row holds an image", prefix: prefix, want: "no row of foods.image holds an image", setUp: func(t *testing.T) {
			if err := f.openPlain(t).Exec("UPDATE foods SET image = ''").Error; err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setUp != nil {
				tc.setUp(t)
			}
			r := runCmd(t, append(f.args("prune", "--min-age", "0"), "--redis", url, "--redis-prefix", tc.prefix)...)
			wantError(t, r, exitFailure, tc.want)
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("the Redis password is printed:\n%s", r)
			}
			if want := "Redis redis://default:xxxxx@" + addr + "/0, prefix "; !strings.Contains(r.stderr, want) {
				t.Errorf("the refusal does not name the Redis as %q: %s", want, r)
			}
			if n := countFiles(t, f.root); n != before {
				t.Errorf("the refused prune removed %d files", before-n)
			}
		})
	}
}

// TestPruneTableWithSpace: prune, its checks included, takes a table and
// a column whose names hold a space.
func TestPruneTableWithSpace(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, sizesYAML)
		f.createFoods(t, 1)
		db := f.openPlain(t)
		var name string
		if err := db.Raw("SELECT image FROM foods").Scan(&name).Error; err != nil || name == "" {
			t.Fatal(name, err)
		}
		if err := db.Exec(`CREATE TABLE "my foods" (id integer primary key, "my photo" text)`).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO "my foods" (id, "my photo") VALUES (1, ?)`, name).Error; err != nil {
			t.Fatal(err)
		}
		closeDB(t, db)
		before := countFiles(t, f.root)
		args := []string{"prune", "--dsn", f.dsn, "--table", "my foods", "--column", "my photo", "--sizes", f.sizes,
			"--storage-root", f.root, "--min-age", "0", "--also", "foods.image"}
		// the dry run (no pre-check) finds nothing to remove
		r := mustRun(t, append(args, "--dry-run")...)
		if !strings.HasPrefix(r.stdout, "found 0 files, 0 sources") {
			t.Errorf("dry run: %s", r)
		}
		r = runCmd(t, args...)
		if r.code != 0 {
			t.Errorf("prune --table %q: %s", "my foods", r)
		}
		if n := countFiles(t, f.root); n != before {
			t.Errorf("removed %d files", before-n)
		}
	})
}

// TestPruneAlsoOtherSchemaOnly: the rows holding images are only in
// a table of another schema named by --also (foods has none): prune runs.
func TestPruneAlsoOtherSchemaOnly(t *testing.T) {
	f := newFixture(t, testdb.PostgresDSN(t), sizesYAML)
	f.createFoods(t, 0)
	db := f.open(t, "")
	schema, _ := dishInOtherSchema(t, db)
	if err := db.Exec("INSERT INTO foods (image) VALUES (NULL)").Error; err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)
	before := countFiles(t, f.root)
	r := mustRun(t, f.args("prune", "--min-age", "0", "--also", schema+".dishes.photo")...)
	if n := countFiles(t, f.root); n != before {
		t.Errorf("removed %d files: %s", before-n, r)
	}
}

// dishInOtherSchema creates table dishes in a PostgreSQL schema of its own
// and a dish with a photo in it through db; it returns the schema and the
// dish.
func dishInOtherSchema(t *testing.T, db *gorm.DB) (string, Dish) {
	t.Helper()
	other := testdb.PostgresDSN(t)
	schema := other[strings.LastIndex(other, "search_path=")+len("search_path="):]
	if err := db.Table(schema + ".dishes").AutoMigrate(&Dish{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", photos[0]))
	if err != nil {
		t.Fatal(err)
	}
	dish := Dish{Photo: field.NewImage("dish.jpg", bytes.NewReader(data))}
	if err := db.Table(schema + ".dishes").Create(&dish).Error; err != nil {
		t.Fatal(err)
	}
	return schema, dish
}

// TestPruneFailedItem: a file that cannot be removed (a name the storage
// refuses) is printed on stderr as it fails, not on stdout among the
// removed ones; the run goes on, its summary counts the failure, and the
// exit status is 1.
func TestPruneFailedItem(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdbFile(t), sizesYAML)
	f.createFoods(t, 1)
	dir := filepath.Join(f.root, "junk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{`bad\name.bin`, "ok.bin"} {
		p := writeFile(t, dir, name, "left by a crash")
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	r := runCmd(t, f.args("prune")...)
	if r.code != exitFailure {
		t.Errorf("exit status %d, want %d: %s", r.code, exitFailure, r)
	}
	if !strings.HasPrefix(r.stdout, "file    junk/ok.bin\nremoved 1 file, 0 sources, 0 records, 0 lost sources kept, 1 failed in ") || strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("stdout: want the removed file and the summary: %s", r)
	}
	if !strings.Contains(r.stderr, `prune: remove file "junk/bad\\name.bin": `) || !strings.HasSuffix(r.stderr, "thumbnails: 1 item failed\n") {
		t.Errorf("stderr: want the failed file, then the count: %s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, `bad\name.bin`)); err != nil {
		t.Errorf("the file that failed: %v", err)
	}
}

// TestPruneRecordedTableRenamed: a table whose image column the plugin
// recorded is renamed. prune names the column on stderr, in a dry run too,
// and removes nothing without --force, where it removed the renamed
// table's sources as unreferenced.
func TestPruneRecordedTableRenamed(t *testing.T) {
	t.Parallel()
	f, db, dish := foodsAndADish(t)
	if err := db.Migrator().RenameTable("dishes", "plates"); err != nil {
		t.Fatal(err)
	}
	closeDB(t, db)
	source := filepath.Join(f.root, filepath.FromSlash(dish.Photo.Name()))

	r := mustRun(t, f.args("prune", "--dry-run", "--min-age", "0")...)
	if !strings.Contains(r.stderr, "note: dishes.photo is recorded as holding images, but it is gone") || !strings.Contains(r.stdout, "source  "+dish.Photo.Name()+"\n") {
		t.Errorf("dry run: %s", r)
	}
	r = runCmd(t, f.args("prune", "--min-age", "0")...)
	wantError(t, r, exitFailure, "dishes.photo")
	if _, err := os.Stat(source); err != nil {
		t.Fatalf("prune without --force removed the renamed table's source: %v", err)
	}
	mustRun(t, f.args("prune", "--min-age", "0", "--force")...)
	if _, err := os.Stat(source); !os.IsNotExist(err) {
		t.Errorf("prune --force kept the source of the dropped column: %v", err)
	}
}
