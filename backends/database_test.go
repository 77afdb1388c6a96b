package backends_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/migrations"
)

// databases are the databases every metadata test runs on. SQLite runs
// twice: as users usually open it (foreign keys off) and with foreign keys
// enforced, which PostgreSQL always does.
var databases = []struct {
	name string
	open func(t testing.TB) *gorm.DB
}{
	{"sqlite", func(t testing.TB) *gorm.DB { return testdb.SQLite(t, "") }},
	{"sqlite_fk", func(t testing.TB) *gorm.DB { return testdb.SQLite(t, "&_foreign_keys=1") }},
	{"postgres", testdb.Postgres},
}

// forEachDatabase runs fn as a subtest on each database, migrated, with a
// DatabaseMetadata on it.
func forEachDatabase(t *testing.T, fn func(t *testing.T, db *gorm.DB, m backends.TxMetadata)) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			if err := migrations.Apply(context.Background(), db); err != nil {
				t.Fatalf("migrations.Apply: %v", err)
			}
			fn(t, db, backends.NewDatabaseMetadata(db))
		})
	}
}

// count returns the number of rows of a table.
func count(t *testing.T, db *gorm.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// thumbs reads the thumbnails of source, failing the test on error.
func thumbs(t *testing.T, m backends.Metadata, source string) map[string]backends.Thumbnail {
	t.Helper()
	got, err := m.Thumbnails(context.Background(), source)
	if err != nil {
		t.Fatalf("Thumbnails(%q): %v", source, err)
	}
	if got == nil {
		t.Fatalf("Thumbnails(%q) returned a nil map", source)
	}
	return got
}

// checkThumbs compares got with want, ignoring CreatedAt, which must be
// recent.
func checkThumbs(t *testing.T, got, want map[string]backends.Thumbnail) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d thumbnails %+v, want %d %+v", len(got), got, len(want), want)
	}
	for size, w := range want {
		g, ok := got[size]
		if !ok {
			t.Errorf("size %q missing from %+v", size, got)
			continue
		}
		if age := time.Since(g.CreatedAt); g.CreatedAt.IsZero() || age < -time.Minute || age > time.Minute {
			t.Errorf("size %q: CreatedAt = %v, want about now", size, g.CreatedAt)
		}
		g.CreatedAt = time.Time{}
		if g != w {
			t.Errorf("size %q = %+v, want %+v", size, g, w)
		}
	}
}

func TestDatabaseMetadataPutThumbnails(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		small := backends.Thumbnail{Source: "foods/a.jpg", Size: "small", Name: "foods/small/a.png", Width: 100, Height: 100}
		large := backends.Thumbnail{Source: "foods/a.jpg", Size: "large", Name: "foods/large/a.jpg", Width: 1200, Height: 750}
		other := backends.Thumbnail{Source: "foods/b.jpg", Size: "small", Name: "foods/small/b.png", Width: 100, Height: 60}
		if err := m.Put(ctx, "foods/a.jpg", small, large); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if err := m.Put(ctx, "foods/b.jpg", other); err != nil {
			t.Fatalf("Put: %v", err)
		}

		checkThumbs(t, thumbs(t, m, "foods/a.jpg"), map[string]backends.Thumbnail{"small": small, "large": large})
		checkThumbs(t, thumbs(t, m, "foods/b.jpg"), map[string]backends.Thumbnail{"small": other})
		checkThumbs(t, thumbs(t, m, "foods/unknown.jpg"), map[string]backends.Thumbnail{})
		if n := count(t, db, backends.SourcesTable); n != 2 {
			t.Errorf("%s has %d rows, want 2", backends.SourcesTable, n)
		}
		if n := count(t, db, backends.ThumbnailsTable); n != 3 {
			t.Errorf("%s has %d rows, want 3", backends.ThumbnailsTable, n)
		}
	})
}

func TestDatabaseMetadataPutReplaces(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		first := backends.Thumbnail{Source: "a.jpg", Size: "small", Name: "small/a-1.png", Width: 100, Height: 100}
		second := backends.Thumbnail{Source: "a.jpg", Size: "small", Name: "small/a-2.png", Width: 80, Height: 60}
		large := backends.Thumbnail{Source: "a.jpg", Size: "large", Name: "large/a.jpg", Width: 1200, Height: 800}

		if err := m.Put(ctx, "a.jpg", first, large); err != nil {
			t.Fatal(err)
		}
		before := thumbs(t, m, "a.jpg")["small"].CreatedAt
		// The same record again is not an error.
		if err := m.Put(ctx, "a.jpg", first); err != nil {
			t.Fatalf("Put of the same thumbnail again: %v", err)
		}
		checkThumbs(t, thumbs(t, m, "a.jpg"), map[string]backends.Thumbnail{"small": first, "large": large})

		// A new record for (a.jpg, small) replaces name, width and height, and
		// leaves the other sizes alone.
		if err := m.Put(ctx, "a.jpg", second); err != nil {
			t.Fatalf("Put of a replacement: %v", err)
		}
		got := thumbs(t, m, "a.jpg")
		checkThumbs(t, got, map[string]backends.Thumbnail{"small": second, "large": large})
		if got["small"].CreatedAt.Before(before) {
			t.Errorf("CreatedAt went back from %v to %v", before, got["small"].CreatedAt)
		}
		if n := count(t, db, backends.ThumbnailsTable); n != 2 {
			t.Errorf("%s has %d rows, want 2", backends.ThumbnailsTable, n)
		}
		if n := count(t, db, backends.SourcesTable); n != 1 {
			t.Errorf("%s has %d rows, want 1", backends.SourcesTable, n)
		}
	})
}

func TestDatabaseMetadataPutSourceOnly(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		for range 2 {
			if err := m.Put(ctx, "foods/a.jpg"); err != nil {
				t.Fatalf("Put without thumbnails: %v", err)
			}
		}
		var names []string
		if err := db.Table(backends.SourcesTable).Pluck("name", &names).Error; err != nil {
			t.Fatal(err)
		}
		if len(names) != 1 || names[0] != "foods/a.jpg" {
			t.Errorf("%s holds %q, want [foods/a.jpg]", backends.SourcesTable, names)
		}
		if n := count(t, db, backends.ThumbnailsTable); n != 0 {
			t.Errorf("%s has %d rows, want 0", backends.ThumbnailsTable, n)
		}
		checkThumbs(t, thumbs(t, m, "foods/a.jpg"), map[string]backends.Thumbnail{})

		// Thumbnails put later attach to the recorded source.
		small := backends.Thumbnail{Source: "foods/a.jpg", Size: "small", Name: "small/a.png", Width: 10, Height: 10}
		if err := m.Put(ctx, "foods/a.jpg", small); err != nil {
			t.Fatal(err)
		}
		checkThumbs(t, thumbs(t, m, "foods/a.jpg"), map[string]backends.Thumbnail{"small": small})
		if n := count(t, db, backends.SourcesTable); n != 1 {
			t.Errorf("%s has %d rows, want 1", backends.SourcesTable, n)
		}
	})
}

func TestDatabaseMetadataDelete(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		a1 := backends.Thumbnail{Source: "a.jpg", Size: "small", Name: "small/a.png", Width: 1, Height: 1}
		a2 := backends.Thumbnail{Source: "a.jpg", Size: "large", Name: "large/a.jpg", Width: 2, Height: 2}
		b1 := backends.Thumbnail{Source: "b.jpg", Size: "small", Name: "small/b.png", Width: 3, Height: 3}
		if err := m.Put(ctx, "a.jpg", a1, a2); err != nil {
			t.Fatal(err)
		}
		if err := m.Put(ctx, "b.jpg", b1); err != nil {
			t.Fatal(err)
		}

		if err := m.Delete(ctx, "a.jpg"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		checkThumbs(t, thumbs(t, m, "a.jpg"), map[string]backends.Thumbnail{})
		checkThumbs(t, thumbs(t, m, "b.jpg"), map[string]backends.Thumbnail{"small": b1})
		var sources []string
		if err := db.Table(backends.SourcesTable).Pluck("name", &sources).Error; err != nil {
			t.Fatal(err)
		}
		if len(sources) != 1 || sources[0] != "b.jpg" {
			t.Errorf("%s holds %q after Delete, want [b.jpg]", backends.SourcesTable, sources)
		}
		if n := count(t, db, backends.ThumbnailsTable); n != 1 {
			t.Errorf("%s has %d rows after Delete, want 1", backends.ThumbnailsTable, n)
		}

		for _, source := range []string{"a.jpg", "unknown.jpg", ""} {
			if err := m.Delete(ctx, source); err != nil {
				t.Errorf("Delete(%q) of a source without records = %v, want nil", source, err)
			}
		}
		if n := count(t, db, backends.SourcesTable); n != 1 {
			t.Errorf("%s has %d rows, want 1", backends.SourcesTable, n)
		}

		// The name of a deleted thumbnail is free again.
		if err := m.Put(ctx, "c.jpg", backends.Thumbnail{Source: "c.jpg", Size: "small", Name: "small/a.png", Width: 4, Height: 4}); err != nil {
			t.Errorf("Put reusing the name of a deleted thumbnail: %v", err)
		}
	})
}

var errRollback = errors.New("roll back")

func TestDatabaseMetadataWithDB(t *testing.T) {
	tests := []struct {
		name    string
		txErr   error // what the transaction function returns
		persist bool
	}{
		{"commit", nil, true},
		{"rollback", errRollback, false},
	}
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		for _, tt := range tests {
			source := tt.name + ".jpg"
			small := backends.Thumbnail{Source: source, Size: "small", Name: tt.name + "/small.png", Width: 5, Height: 7}
			err := db.Transaction(func(tx *gorm.DB) error {
				in := m.WithDB(tx)
				if err := in.Put(ctx, source, small); err != nil {
					return err
				}
				// The transaction sees its own records.
				if got, err := in.Thumbnails(ctx, source); err != nil || len(got) != 1 {
					t.Errorf("%s: Thumbnails inside the transaction = %v, %v; want 1 record", tt.name, got, err)
				}
				return tt.txErr
			})
			if !errors.Is(err, tt.txErr) {
				t.Errorf("%s: Transaction = %v, want %v", tt.name, err, tt.txErr)
			}
			want := map[string]backends.Thumbnail{}
			if tt.persist {
				want["small"] = small
			}
			checkThumbs(t, thumbs(t, m, source), want)
			var n int64
			if err := db.Table(backends.SourcesTable).Where("name = ?", source).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if persisted := n == 1; persisted != tt.persist {
				t.Errorf("%s: source recorded = %v, want %v", tt.name, persisted, tt.persist)
			}
		}

		// Delete through WithDB rolls back too.
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.WithDB(tx).Delete(ctx, "commit.jpg"); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Errorf("Transaction = %v, want %v", err, errRollback)
		}
		if got := thumbs(t, m, "commit.jpg"); len(got) != 1 {
			t.Errorf("rolled-back Delete removed the records: %+v", got)
		}
	})
}

func TestDatabaseMetadataUniqueName(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		a := backends.Thumbnail{Source: "a.jpg", Size: "small", Name: "small/x.png", Width: 10, Height: 10}
		if err := m.Put(ctx, "a.jpg", a); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			source string
			thumbs []backends.Thumbnail
		}{
			{"other source", "b.jpg", []backends.Thumbnail{{Source: "b.jpg", Size: "small", Name: "small/x.png", Width: 1, Height: 1}}},
			{"other size", "a.jpg", []backends.Thumbnail{{Source: "a.jpg", Size: "large", Name: "small/x.png", Width: 1, Height: 1}}},
			{"within one Put", "c.jpg", []backends.Thumbnail{
				{Source: "c.jpg", Size: "small", Name: "c/dup.png", Width: 1, Height: 1},
				{Source: "c.jpg", Size: "large", Name: "c/dup.png", Width: 2, Height: 2},
			}},
		}
		for _, tt := range tests {
			err := m.Put(ctx, tt.source, tt.thumbs...)
			if err == nil {
				t.Errorf("%s: Put of a thumbnail name already used succeeded", tt.name)
				continue
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("backends: record thumbnails of %q", tt.source)) {
				t.Errorf("%s: error %q does not say what failed", tt.name, err)
			}
		}
		// The first record is untouched, and nothing else was recorded: a
		// failed Put does not leave its source behind either.
		checkThumbs(t, thumbs(t, m, "a.jpg"), map[string]backends.Thumbnail{"small": a})
		for _, source := range []string{"b.jpg", "c.jpg"} {
			checkThumbs(t, thumbs(t, m, source), map[string]backends.Thumbnail{})
		}
		if n := count(t, db, backends.ThumbnailsTable); n != 1 {
			t.Errorf("%s has %d rows, want 1", backends.ThumbnailsTable, n)
		}
		if n := count(t, db, backends.SourcesTable); n != 1 {
			t.Errorf("%s has %d rows, want 1 (a.jpg)", backends.SourcesTable, n)
		}
	})
}

// TestDatabaseMetadataConcurrentPut is several processes generating the
// same lazy thumbnail at once: every Put succeeds and the records land on
// one row. Each round is a new source, so that the sources' rows are
// inserted concurrently too.
func TestDatabaseMetadataConcurrentPut(t *testing.T) {
	const rounds, workers = 20, 8
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		for round := range rounds {
			source := fmt.Sprintf("foods/%d.jpg", round)
			small := backends.Thumbnail{Source: source, Size: "small", Name: fmt.Sprintf("foods/%d_small.png", round), Width: 10, Height: 10}
			errs := make(chan error, workers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range workers {
				wg.Go(func() {
					<-start
					errs <- m.Put(ctx, source, small)
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("round %d: concurrent Put: %v", round, err)
				}
			}
			checkThumbs(t, thumbs(t, m, source), map[string]backends.Thumbnail{"small": small})
		}
		if got := count(t, db, backends.SourcesTable); got != rounds {
			t.Errorf("%s has %d rows, want %d", backends.SourcesTable, got, rounds)
		}
		if got := count(t, db, backends.ThumbnailsTable); got != rounds {
			t.Errorf("%s has %d rows, want %d", backends.ThumbnailsTable, got, rounds)
		}
	})
}

func TestDatabaseMetadataCancelledContext(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		small := backends.Thumbnail{Source: "a.jpg", Size: "small", Name: "small/a.png", Width: 1, Height: 1}
		if err := m.Put(ctx, "a.jpg", small); err == nil {
			t.Error("Put with a cancelled context succeeded")
		}
		if _, err := m.Thumbnails(ctx, "a.jpg"); err == nil {
			t.Error("Thumbnails with a cancelled context succeeded")
		}
		if err := m.Delete(ctx, "a.jpg"); err == nil {
			t.Error("Delete with a cancelled context succeeded")
		}
		if n := count(t, db, backends.SourcesTable); n != 0 {
			t.Errorf("%s has %d rows, want 0", backends.SourcesTable, n)
		}
	})
}

func BenchmarkDatabaseMetadataThumbnails(b *testing.B) {
	ctx := context.Background()
	db := testdb.SQLite(b, "")
	if err := migrations.Apply(ctx, db); err != nil {
		b.Fatal(err)
	}
	m := backends.NewDatabaseMetadata(db)
	err := m.Put(ctx, "a.jpg",
		backends.Thumbnail{Size: "small", Name: "small/a.png", Width: 100, Height: 100},
		backends.Thumbnail{Size: "large", Name: "large/a.jpg", Width: 1200, Height: 800},
	)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := m.Thumbnails(ctx, "a.jpg")
		if err != nil || len(got) != 2 {
			b.Fatalf("Thumbnails = %v, %v", got, err)
		}
	}
}

// BenchmarkDatabaseThumbnailsIn reads the records of 10,000 sources of two
// records each in one batch on SQLite, as Preload does: their names are
// random, as the plugin's are, and come in the order of the rows.
func BenchmarkDatabaseThumbnailsIn(b *testing.B) {
	ctx := context.Background()
	db := testdb.SQLite(b, "")
	if err := migrations.Apply(ctx, db); err != nil {
		b.Fatal(err)
	}
	m := backends.NewDatabaseMetadata(db).(backends.AlignedMetadata)
	sources := make([]string, 10000)
	err := db.Transaction(func(tx *gorm.DB) error {
		tm := backends.NewDatabaseMetadata(tx)
		for i := range sources {
			sources[i] = fmt.Sprintf("foods/%016x%016x.jpg", rand.Uint64(), rand.Uint64())
			err := tm.Put(ctx, sources[i],
				backends.Thumbnail{Size: "small", Name: "thumbnails/" + sources[i] + "_small.png", Width: 100, Height: 100},
				backends.Thumbnail{Size: "medium", Name: "thumbnails/" + sources[i] + "_medium.jpg", Width: 400, Height: 267})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := m.ThumbnailsIn(ctx, sources)
		if err != nil || len(got) != len(sources) || len(got[len(got)-1]) != 2 {
			b.Fatalf("ThumbnailsIn: %d, %v", len(got), err)
		}
	}
}
