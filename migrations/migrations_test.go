package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/migrations"
)

// tables are the tables that the migrations create.
var tables = []string{
	migrations.VersionsTable,
	"thumbnails_sources",
	"thumbnails_thumbnails",
	"thumbnails_outbox",
	"thumbnails_placeholders",
	"thumbnails_columns",
}

// databases are the databases every test runs on.
var databases = []struct {
	name string
	open func(t testing.TB) *gorm.DB
}{
	{"sqlite", func(t testing.TB) *gorm.DB { return testdb.SQLite(t, "") }},
	{"postgres", testdb.Postgres},
}

// renamed is a real dialector that reports another name, to see how
// migrations treats a database it does not know or an alias of one it does.
type renamed struct {
	gorm.Dialector
	name string
}

func (r renamed) Name() string { return r.name }

// dialectOnly is a *gorm.DB that is not connected, for List, which only
// looks at the dialect.
func dialectOnly(d gorm.Dialector) *gorm.DB {
	return &gorm.DB{Config: &gorm.Config{Dialector: d}}
}

type versionRow struct {
	Version int
	Name    string
}

// applied returns the rows of the versions table, in version order.
func applied(t *testing.T, db *gorm.DB) []versionRow {
	t.Helper()
	var rows []versionRow
	if err := db.Table(migrations.VersionsTable).Order("version").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkApplied checks that db holds every table and exactly one record of
// each migration.
func checkApplied(t *testing.T, db *gorm.DB) {
	t.Helper()
	for _, table := range tables {
		if !db.Migrator().HasTable(table) {
			t.Errorf("table %s does not exist", table)
		}
	}
	list, err := migrations.List(db)
	if err != nil {
		t.Fatal(err)
	}
	rows := applied(t, db)
	if len(rows) != len(list) {
		t.Fatalf("%s has %d rows %+v, want one per migration (%d)", migrations.VersionsTable, len(rows), rows, len(list))
	}
	for i, m := range list {
		if rows[i].Version != m.Version || rows[i].Name != m.Name {
			t.Errorf("%s row %d = %+v, want version %d name %q", migrations.VersionsTable, i, rows[i], m.Version, m.Name)
		}
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			db := d.open(t)
			for i := range 3 {
				if err := migrations.Apply(ctx, db); err != nil {
					t.Fatalf("Apply #%d: %v", i+1, err)
				}
				checkApplied(t, db)
			}
			// The tables work together: a thumbnail refers to its source.
			if err := db.Exec("INSERT INTO thumbnails_sources (name) VALUES (?)", "a.jpg").Error; err != nil {
				t.Fatalf("insert source: %v", err)
			}
			err := db.Exec("INSERT INTO thumbnails_thumbnails (source, size, name, width, height) VALUES (?, ?, ?, ?, ?)",
				"a.jpg", "small", "small/a.png", 10, 10).Error
			if err != nil {
				t.Fatalf("insert thumbnail: %v", err)
			}
			// A recorded migration is not run again, even if its tables are gone.
			if err := db.Migrator().DropTable("thumbnails_outbox"); err != nil {
				t.Fatal(err)
			}
			if err := migrations.Apply(ctx, db); err != nil {
				t.Fatalf("Apply after drop: %v", err)
			}
			if db.Migrator().HasTable("thumbnails_outbox") {
				t.Error("Apply ran a recorded migration again")
			}
			var n int64
			if err := db.Table("thumbnails_thumbnails").Count(&n).Error; err != nil || n != 1 {
				t.Errorf("thumbnails_thumbnails has %d rows (%v) after re-Apply, want 1", n, err)
			}
		})
	}
}

func TestPending(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			db := d.open(t)
			all, err := migrations.List(db)
			if err != nil {
				t.Fatal(err)
			}
			pending, err := migrations.Pending(ctx, db)
			if err != nil || len(pending) != len(all) {
				t.Fatalf("Pending on an empty database: %d of %d (%v)", len(pending), len(all), err)
			}
			if db.Migrator().HasTable(migrations.VersionsTable) {
				t.Fatal("Pending created the versions table")
			}
			if err := migrations.Apply(ctx, db); err != nil {
				t.Fatal(err)
			}
			if pending, err = migrations.Pending(ctx, db); err != nil || len(pending) != 0 {
				t.Fatalf("Pending after Apply: %v (%v)", pending, err)
			}
			// A database that saw all but the last migration.
			last := all[len(all)-1]
			if err := db.Exec("DELETE FROM "+migrations.VersionsTable+" WHERE version = ?", last.Version).Error; err != nil {
				t.Fatal(err)
			}
			pending, err = migrations.Pending(ctx, db)
			if err != nil || len(pending) != 1 || pending[0].Version != last.Version {
				t.Fatalf("Pending without the last migration: %v (%v), want [%d]", pending, err, last.Version)
			}
		})
	}
}

func TestApplyCancelledContext(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := migrations.Apply(ctx, db); err == nil {
				t.Fatal("Apply with a cancelled context succeeded")
			}
			if db.Migrator().HasTable("thumbnails_sources") {
				t.Error("Apply with a cancelled context created tables")
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		dialect gorm.Dialector
		keyword string // in the SQL of the first migration
	}{
		{sqlite.Open(""), "AUTOINCREMENT"},
		{renamed{sqlite.Open(""), "sqlite3"}, "AUTOINCREMENT"},
		{postgres.New(postgres.Config{}), "BIGSERIAL"},
		{renamed{postgres.New(postgres.Config{}), "pgx"}, "BIGSERIAL"},
	}
	var first []migrations.Migration
	for _, tt := range tests {
		name := tt.dialect.Name()
		list, err := migrations.List(dialectOnly(tt.dialect))
		if err != nil {
			t.Errorf("%s: List: %v", name, err)
			continue
		}
		if len(list) == 0 {
			t.Errorf("%s: List is empty", name)
			continue
		}
		for i, m := range list {
			if m.Version != i+1 {
				t.Errorf("%s: migration %d has version %d, want %d (ordered, from 1, no gaps)", name, i, m.Version, i+1)
			}
			if m.Name == "" || strings.TrimSpace(m.SQL) == "" {
				t.Errorf("%s: migration %d has name %q and %d bytes of SQL", name, m.Version, m.Name, len(m.SQL))
			}
		}
		if !strings.Contains(list[0].SQL, tt.keyword) {
			t.Errorf("%s: first migration is not the %s one:\n%s", name, tt.keyword, list[0].SQL)
		}
		// Every dialect has the same migrations, in the same order.
		if first == nil {
			first = list
			continue
		}
		if len(list) != len(first) {
			t.Errorf("%s has %d migrations, %s has %d", name, len(list), tests[0].dialect.Name(), len(first))
			continue
		}
		for i := range list {
			if list[i].Version != first[i].Version || list[i].Name != first[i].Name {
				t.Errorf("%s migration %d is %d_%s, want %d_%s", name, i, list[i].Version, list[i].Name, first[i].Version, first[i].Name)
			}
		}
	}
}

func TestUnsupportedDialect(t *testing.T) {
	for _, name := range []string{"mysql", "sqlserver", ""} {
		t.Run("dialect="+name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "test.db")
			db := testdb.Open(t, renamed{sqlite.Open(path), name})

			list, err := migrations.List(db)
			if !errors.Is(err, migrations.ErrUnsupportedDialect) || list != nil {
				t.Errorf("List = %v, %v; want ErrUnsupportedDialect", list, err)
			}
			err = migrations.Apply(context.Background(), db)
			if !errors.Is(err, migrations.ErrUnsupportedDialect) {
				t.Errorf("Apply = %v, want ErrUnsupportedDialect", err)
			}
			if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
				t.Errorf("Apply error %q does not name the dialect %q", err, name)
			}
			var n int64
			if err := db.Raw("SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("Apply on an unsupported dialect created %d tables", n)
			}
		})
	}
}

// TestApplyConcurrent is four processes starting at once on a fresh
// database: on PostgreSQL the advisory lock, on SQLite the database lock,
// make each migration run exactly once. The "pgx" run is PostgreSQL under
// the other name that List accepts.
func TestApplyConcurrent(t *testing.T) {
	const workers = 4
	dialects := []struct {
		name string
		// fresh returns how to open one more connection to a new database.
		fresh func(t *testing.T) func() gorm.Dialector
	}{
		{"postgres", func(t *testing.T) func() gorm.Dialector {
			dsn := testdb.PostgresDSN(t)
			return func() gorm.Dialector { return postgres.Open(dsn) }
		}},
		{"pgx", func(t *testing.T) func() gorm.Dialector {
			dsn := testdb.PostgresDSN(t)
			return func() gorm.Dialector { return renamed{postgres.Open(dsn), "pgx"} }
		}},
		{"sqlite", func(t *testing.T) func() gorm.Dialector {
			dsn := testdb.SQLiteDSN(t, "")
			return func() gorm.Dialector { return sqlite.Open(dsn) }
		}},
	}
	for _, d := range dialects {
		for round := range 3 {
			t.Run(fmt.Sprintf("%s/round%d", d.name, round), func(t *testing.T) {
				dialector := d.fresh(t)
				dbs := make([]*gorm.DB, workers)
				for i := range dbs {
					dbs[i] = testdb.Open(t, dialector())
					// Connect now, so that the Apply calls start together.
					if sqlDB, err := dbs[i].DB(); err != nil {
						t.Fatal(err)
					} else if err := sqlDB.Ping(); err != nil {
						t.Fatal(err)
					}
				}
				ctx := context.Background()
				start := make(chan struct{})
				errs := make([]error, workers)
				var wg sync.WaitGroup
				for i, db := range dbs {
					wg.Go(func() {
						<-start
						errs[i] = migrations.Apply(ctx, db)
					})
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("Apply #%d: %v", i, err)
					}
				}
				checkApplied(t, dbs[0])
			})
		}
	}
}

func ExampleApply() {
	dir, err := os.MkdirTemp("", "migrations-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		fmt.Println(err)
		return
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}

	ctx := context.Background()
	for range 2 { // safe on every start
		if err := migrations.Apply(ctx, db); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, table := range []string{"thumbnails_sources", "thumbnails_thumbnails", "thumbnails_outbox"} {
		fmt.Println(table, db.Migrator().HasTable(table))
	}
	// Output:
	// thumbnails_sources true
	// thumbnails_thumbnails true
	// thumbnails_outbox true
}

func BenchmarkApplyUpToDate(b *testing.B) {
	ctx := context.Background()
	db := testdb.SQLite(b, "")
	if err := migrations.Apply(ctx, db); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := migrations.Apply(ctx, db); err != nil {
			b.Fatal(err)
		}
	}
}

// TestApplyUpToDateWritesNothing applies the migrations, then applies them
// again through a connection that cannot write (a SQLite file opened read
// only, a read-only PostgreSQL session, as a replica's or an application
// role's without DDL rights): nothing is pending, so Apply succeeds.
func TestApplyUpToDateWritesNothing(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		dsn := testdb.SQLiteDSN(t, "")
		if err := migrations.Apply(ctx, testdb.Open(t, sqlite.Open(dsn))); err != nil {
			t.Fatal(err)
		}
		file, _, _ := strings.Cut(dsn, "?")
		ro := testdb.Open(t, sqlite.Open("file:"+file+"?mode=ro"))
		if err := migrations.Apply(ctx, ro); err != nil {
			t.Errorf("Apply, up to date, read only: %v", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testdb.PostgresDSN(t)
		if err := migrations.Apply(ctx, testdb.Open(t, postgres.Open(dsn))); err != nil {
			t.Fatal(err)
		}
		ro := testdb.Open(t, postgres.Open(dsn+"&default_transaction_read_only=on"))
		if err := ro.Exec("CREATE TABLE probe (x int)").Error; err == nil {
			t.Fatal("the read-only session wrote")
		}
		if err := migrations.Apply(ctx, ro); err != nil {
			t.Errorf("Apply, up to date, read only: %v", err)
		}
	})
}

// TestNewerDatabase: a database that a newer release migrated further (a
// version this binary does not know, a column of its own added) is used as
// it is: nothing pending, Apply changes nothing and fails nothing, and the
// tables take this release's writes.
func TestNewerDatabase(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			db := d.open(t)
			if err := migrations.Apply(ctx, db); err != nil {
				t.Fatal(err)
			}
			// what a migration 0099 of a later release might do: add
			if err := db.Exec("ALTER TABLE thumbnails_thumbnails ADD COLUMN variant TEXT DEFAULT ''").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("INSERT INTO " + migrations.VersionsTable + " (version, name, applied_at) VALUES (99, '0099_future', CURRENT_TIMESTAMP)").Error; err != nil {
				t.Fatal(err)
			}
			if pending, err := migrations.Pending(ctx, db); err != nil || len(pending) != 0 {
				t.Fatalf("Pending: %v (%v)", pending, err)
			}
			if err := migrations.Apply(ctx, db); err != nil {
				t.Fatalf("Apply on a newer database: %v", err)
			}
			var versions int64
			if err := db.Table(migrations.VersionsTable).Count(&versions).Error; err != nil {
				t.Fatal(err)
			}
			all, _ := migrations.List(db)
			if versions != int64(len(all)+1) {
				t.Errorf("%d versions recorded, want %d", versions, len(all)+1)
			}
			if err := db.Exec("INSERT INTO thumbnails_sources (name, created_at) VALUES ('a.jpg', CURRENT_TIMESTAMP)").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("INSERT INTO thumbnails_thumbnails (source, size, name, width, height, created_at) VALUES ('a.jpg', 'small', 't/a_small.jpg', 10, 10, CURRENT_TIMESTAMP)").Error; err != nil {
				t.Fatalf("a record of this release: %v", err)
			}
		})
	}
}
