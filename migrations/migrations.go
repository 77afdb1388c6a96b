// Package migrations creates and upgrades the tables of the thumbnails
// plugin: the database metadata backend's sources, thumbnails and
// placeholders (with the triggers that keep each source's summary), the
// outbox of files to delete once a change has committed, and the image
// columns of other tables that rows were copied into (thumbnails_columns).
//
// Migrations are numbered SQL files, one per dialect, embedded in the
// binary. Apply runs the ones a database has not seen yet, each in its own
// transaction together with the row that records it in
// thumbnails_schema_migrations, so it is idempotent. On PostgreSQL it holds a
// transaction-level advisory lock, so two processes starting at once apply
// each migration exactly once.
//
// A database that a newer release migrated further (versions this binary
// does not know) is used as it is, with no error: during a rolling deploy
// the processes of the older release keep running beside the newer one.
// That holds because migrations only add (tables, indexes, columns that may
// be NULL or have a default, triggers that keep derived columns) and never
// drop, rename or tighten what an older release reads or writes.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// VersionsTable records the migrations applied to a database.
const VersionsTable = "thumbnails_schema_migrations"

// advisoryLockID is the PostgreSQL advisory lock key that serialises
// concurrent Apply calls ("thumbnai" in ASCII).
const advisoryLockID = 0x7468756d626e6169

// ErrUnsupportedDialect is returned for a database other than SQLite and PostgreSQL.
var ErrUnsupportedDialect = errors.New("migrations: unsupported database dialect")

//go:embed sql/*.sql
var files embed.FS

// Migration is one versioned change of the schema.
type Migration struct {
	Version int    // applied in increasing order
	Name    string // from the file name
	SQL     string // statements for the dialect, separated by ";" at the end of a line
}

// dialectOf maps a gorm dialector name to the suffix of its SQL files.
func dialectOf(db *gorm.DB) (string, error) {
	switch name := dialect.Of(db); name {
	case dialect.SQLite, dialect.Postgres:
		return name, nil
	default:
		return "", fmt.Errorf("%w: %q (SQLite and PostgreSQL are supported)", ErrUnsupportedDialect, name)
	}
}

// List returns the migrations for the dialect of db, in order.
func List(db *gorm.DB) ([]Migration, error) {
	d, err := dialectOf(db)
	if err != nil {
		return nil, err
	}
	entries, err := fs.Glob(files, "sql/*."+d+".sql")
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(entries))
	for _, e := range entries {
		base := strings.TrimSuffix(strings.TrimPrefix(e, "sql/"), "."+d+".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migrations: bad file name %q", e)
		}
		body, err := files.ReadFile(e)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

type versionRow struct {
	Version   int       `gorm:"column:version"`
	Name      string    `gorm:"column:name"`
	AppliedAt time.Time `gorm:"column:applied_at"`
}

// Apply brings the thumbnails tables of db up to date. It is safe to call on
// every start, and from several processes at once. When nothing is pending
// it only reads, so a role without DDL rights, or a read-only session, may
// call it once the tables are made.
func Apply(ctx context.Context, db *gorm.DB) error {
	list, err := List(db)
	if err != nil {
		return err
	}
	d, _ := dialectOf(db) // List checked it
	// Up to date, it writes nothing, and needs no right to: an
	// application's role without DDL rights, a read-only replica. (Should
	// the read fail, the transactions below say why.)
	if pending, err := Pending(ctx, db); err == nil && len(pending) == 0 {
		return nil
	}
	db = db.Session(&gorm.Session{NewDB: true, Context: ctx})
	create := "CREATE TABLE IF NOT EXISTS " + VersionsTable +
		" (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
	if d == "sqlite" {
		// SQLite refuses at once ("database is locked"), without waiting,
		// a transaction that read first and then wants to write while
		// another writes. So the table is made outside, and each
		// transaction below starts with a write, which waits its turn.
		if err := db.Exec(create).Error; err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
	}
	for _, m := range list {
		err := db.Transaction(func(tx *gorm.DB) error {
			if d == "postgres" { // also "pgx"
				if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(advisoryLockID)).Error; err != nil {
					return err
				}
			}
			lock := create
			if d == "sqlite" {
				lock = "DELETE FROM " + VersionsTable + " WHERE version < 0" // deletes nothing; takes the write lock
			}
			if err := tx.Exec(lock).Error; err != nil {
				return err
			}
			var n int64
			if err := tx.Table(VersionsTable).Where("version = ?", m.Version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range statements(m.SQL) {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return tx.Table(VersionsTable).Create(&versionRow{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("migrations: apply %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// Pending returns the migrations that Apply would run on db, in order,
// without writing anything: all of them for a database that has no
// thumbnails tables. A tool that must change nothing (a dry run) can
// call it to learn whether registering the plugin would create tables.
func Pending(ctx context.Context, db *gorm.DB) ([]Migration, error) {
	list, err := List(db)
	if err != nil {
		return nil, err
	}
	db = db.Session(&gorm.Session{NewDB: true, Context: ctx})
	if !db.Migrator().HasTable(VersionsTable) {
		return list, nil
	}
	var applied []int
	if err := db.Table(VersionsTable).Pluck("version", &applied).Error; err != nil {
		return nil, fmt.Errorf("migrations: read %s: %w", VersionsTable, err)
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		done[v] = true
	}
	pending := list[:0:0]
	for _, m := range list {
		if !done[m.Version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

// statements splits a migration file into its statements: they end with
// ";" at the end of a line, except inside a dollar-quoted body ($$ ... $$,
// a PostgreSQL function's), whose own statements end so too.
func statements(sql string) []string {
	var (
		out []string
		cur strings.Builder
	)
	for _, part := range strings.SplitAfter(sql, ";\n") {
		cur.WriteString(part)
		if strings.Count(cur.String(), "$$")%2 == 1 {
			continue // inside a body
		}
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s) // an unterminated body: let the database say what is wrong
	}
	return out
}
