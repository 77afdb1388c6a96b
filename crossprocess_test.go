package thumbnails_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// anotherProcess opens db's database again, as another process (or this
// one after a restart) would, with a plugin of its own on e's storage and
// db's metadata, that has used none of the models yet.
func anotherProcess(t *testing.T, db *gorm.DB, e *env) *gorm.DB {
	t.Helper()
	other, err := gorm.Open(db.Dialector, gormConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := other.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	cfg := thumbnails.Config{Sizes: testSizes(), Storage: e.storage}
	if m, ok := redisMetadata.Load(db); ok {
		cfg.Metadata = m.(backends.Metadata)
	}
	usePlugin(t, other, cfg)
	return other
}

// foodCopiedToDish sets the plugin up on db with Food and Dish, saves a
// food with an upload and a dish whose cover is the food's image.
func foodCopiedToDish(t *testing.T, db *gorm.DB) (*env, Food, Dish) {
	t.Helper()
	e, food := setupFood(t, db)
	dish := Dish{Cover: food.Image}
	if err := db.Create(&dish).Error; err != nil {
		t.Fatal(err)
	}
	return e, food, dish
}

// TestCopiesAcrossProcesses: an image copied from one model into another
// (a food's photo made a dish's cover) is checked by the clean-up of a
// process that never used the model it was copied to, or from: deleting
// either row there keeps the files the other row holds; deleting both
// removes them.
func TestCopiesAcrossProcesses(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e, food, dish := foodCopiedToDish(t, db)
		source := food.Image.Name()
		medium, err := dish.Cover.Thumbnail(ctx, "medium")
		if err != nil {
			t.Fatal(err)
		}

		// A process that only knows Food deletes the food.
		foods := anotherProcess(t, db, e)
		if err := foods.Delete(&Food{}, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, source) || !e.exists(t, medium.Name) {
			t.Fatalf("deleting the food in a process that never used Dish removed the dish's files (source %v, medium %v)",
				e.exists(t, source), e.exists(t, medium.Name))
		}

		// A process that only knows Dish reads the dish's cover.
		dishes := anotherProcess(t, db, e)
		var got Dish
		if err := dishes.First(&got, dish.ID).Error; err != nil {
			t.Fatal(err)
		}
		if th, err := got.Cover.Thumbnail(ctx, "medium"); err != nil || th.Name != medium.Name {
			t.Fatalf("the dish's cover after the food's delete: %+v, %v", th, err)
		}
		// Deleting the last row that holds the source removes it.
		if err := dishes.Unscoped().Delete(&got).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, source) || e.exists(t, medium.Name) {
			t.Errorf("the source and its medium outlived the last row holding them")
		}
	})
}

// TestCopyDeletedInAnotherProcess: the copy's row deleted by a process
// that never used the model the image came from keeps the original's
// files.
func TestCopyDeletedInAnotherProcess(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e, food, _ := foodCopiedToDish(t, db)
		dishes := anotherProcess(t, db, e)
		if err := dishes.Unscoped().Where("1 = 1").Delete(&Dish{}).Error; err != nil {
			t.Fatal(err)
		}
		var got Food
		if err := db.First(&got, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, got.Image.Name()) {
			t.Fatal("deleting the dish in a process that never used Food removed the food's source")
		}
		if th, err := got.Image.Thumbnail(ctx, "small"); err != nil || !e.exists(t, th.Name) {
			t.Errorf("the food's small after the dish's delete: %+v, %v", th, err)
		}
	})
}

// recordedColumns returns the "table.column" rows of thumbnails_columns.
func recordedColumns(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var rows []struct{ TableName, ColumnName string }
	if err := db.Table("thumbnails_columns").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.TableName+"."+r.ColumnName)
	}
	slices.Sort(out)
	return out
}

// TestColumnsRecordedOnceCommitted: a model's image column is recorded in
// thumbnails_columns by the first upload into it that commits; one rolled
// back records nothing, and the next upload records it.
func TestColumnsRecordedOnceCommitted(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{}, &Dish{})
		err := db.Transaction(func(tx *gorm.DB) error {
			f := newFood(t, "pizza", pizzaJPG)
			if err := tx.Create(&f).Error; err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if got := recordedColumns(t, db); len(got) != 0 {
			t.Fatalf("after a rolled back upload: %v recorded; want none", got)
		}
		f := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&f).Error; err != nil {
			t.Fatal(err)
		}
		if got := recordedColumns(t, db); !slices.Equal(got, []string{"foods.image"}) {
			t.Fatalf("after an upload: %v recorded; want foods.image", got)
		}
		// A copy records the column copied into, and the columns the
		// process has used, where the name may come from.
		if err := db.Create(&Dish{Cover: f.Image}).Error; err != nil {
			t.Fatal(err)
		}
		if got := recordedColumns(t, db); !slices.Equal(got, []string{"dishes.cover", "dishes.photo", "foods.image"}) {
			t.Errorf("after a copy into dishes: %v recorded", got)
		}
	})
}

// TestCopyOfANameInAnotherProcess: a process that never used Food copies a
// food's image into a dish by its name; another such process deletes the
// dish: the food keeps its files, as its column was recorded by its
// upload.
func TestCopyOfANameInAnotherProcess(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{}, &Dish{})
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		copyByNameThenDelete(t, db, e, food.Image.Name())
		if !e.exists(t, food.Image.Name()) {
			t.Fatal("deleting the dish removed the food's source")
		}
	})
}

// copyByNameThenDelete writes name into a new dish's cover (Image.Scan: a
// name, with no trace of where it comes from) in a process that never used
// another model, and deletes that dish in another such process.
func copyByNameThenDelete(t *testing.T, db *gorm.DB, e *env, name string) {
	t.Helper()
	var cover field.Image
	if err := cover.Scan(name); err != nil {
		t.Fatal(err)
	}
	dish := Dish{Cover: cover}
	if err := anotherProcess(t, db, e).Create(&dish).Error; err != nil {
		t.Fatal(err)
	}
	if err := anotherProcess(t, db, e).Unscoped().Delete(&Dish{}, dish.ID).Error; err != nil {
		t.Fatal(err)
	}
}

// TestCopyOutOfAnotherTable: an image read from another table of a model
// (db.Table, one that only ever got uploads of its own) and copied into
// another model's column is kept for the row of that table when the copy
// is deleted, in the process that copied it and in one that never used
// that table.
func TestCopyOutOfAnotherTable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e, f := tenantFood(t, db)
		var loaded Food
		if err := db.Table("foods_tenant").First(&loaded, f.ID).Error; err != nil {
			t.Fatal(err)
		}
		first := Dish{Cover: loaded.Image}
		if err := db.Create(&first).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Unscoped().Delete(&first).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, loaded.Image.Name()) {
			t.Fatal("the tenant row's source was deleted with a dish it was copied to")
		}
		second := Dish{Cover: loaded.Image}
		if err := db.Create(&second).Error; err != nil {
			t.Fatal(err)
		}
		if err := anotherProcess(t, db, e).Unscoped().Delete(&Dish{}, second.ID).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, loaded.Image.Name()) {
			t.Fatal("the tenant row's source was deleted with a dish, by a process that never used the tenant table")
		}
	})
}

// TestDrainRereadsColumnsUnderItsLocks: on PostgreSQL, a first copy into a
// column no process had recorded, committed after a drain of another
// process read the recorded columns and before it locked the sources,
// is seen by the drain's check under the locks: the copy keeps its files.
func TestDrainRereadsColumnsUnderItsLocks(t *testing.T) {
	db := testdb.Postgres(t)
	e, food := setupFood(t, db)
	b := anotherProcess(t, db, e)
	var loaded Food
	if err := b.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	a := anotherProcess(t, db, e)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	err := a.Callback().Row().Before("gorm:row").Register("test:gate", func(tx *gorm.DB) {
		if strings.Contains(tx.Statement.SQL.String(), "pg_try_advisory_xact_lock(") {
			once.Do(func() { close(entered); <-release })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Delete(&Food{}, food.ID).Error }()
	<-entered // a's drain is about to lock the sources it found unreferenced
	dish := Dish{Cover: loaded.Image}
	if err := b.Create(&dish).Error; err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	requireKept(t, db, e, dish.Cover.Name(), "the dish's cover, after the drain")
}

// requireKept fails the test when the stored file name, which a row holds,
// is gone, naming the recorded columns.
func requireKept(t *testing.T, db *gorm.DB, e *env, name, what string) {
	t.Helper()
	if !e.exists(t, name) {
		t.Fatalf("%s: %s, which a row holds, was deleted; recorded columns: %v", what, name, recordedColumns(t, db))
	}
}

// setupFood sets the plugin up on db with Food and Dish (no dish row
// written, so that dishes.* is not recorded) and saves a food.
func setupFood(t *testing.T, db *gorm.DB) (*env, Food) {
	t.Helper()
	e := setup(t, db, &Food{}, &Dish{})
	food := newFood(t, "pizza", pizzaJPG)
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	return e, food
}

// TestPruneRacingACopy: a source no row holds (its row deleted by the
// database on its own, which leaves its files to Prune) is copied into a
// new row by another process, which loaded the row before, while Prune
// runs: the copy commits after Prune read the rows, before it deletes.
// Prune checks the sources again where no copy can commit meanwhile (the
// write lock on SQLite, the sources' locks on PostgreSQL), and keeps it.
func TestPruneRacingACopy(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e, food := setupFood(t, db)
		other := anotherProcess(t, db, e)
		var loaded Food
		if err := other.First(&loaded, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM foods WHERE id = ?", food.ID).Error; err != nil {
			t.Fatal(err)
		}
		var copied Food
		var copyErr error
		var once sync.Once
		// After Prune's last read of foods (its models', then the columns'
		// recorded), at its next statement: the copy commits then. Prune
		// reads the names through Rows (gorm's row callbacks), in one
		// DISTINCT query or, on SQLite, in chunks ordered by rowid; a
		// row callback runs before the rows are read.
		reads := 0
		if err := db.Callback().Row().After("gorm:row").Register("test:count_reads", func(q *gorm.DB) {
			sql := q.Statement.SQL.String()
			if strings.Contains(sql, "foods") && !strings.Contains(sql, "thumbnails_") &&
				(strings.Contains(sql, "DISTINCT") || strings.Contains(sql, "ORDER BY _rowid_")) {
				reads++
			}
		}); err != nil {
			t.Fatal(err)
		}
		next := func(*gorm.DB) {
			if reads < 2 {
				return
			}
			once.Do(func() {
				copied = Food{Name: "copy", Image: loaded.Image}
				copyErr = other.Create(&copied).Error
			})
		}
		cb := db.Callback()
		for _, err := range []error{
			cb.Query().Before("*").Register("test:copy", next), cb.Row().Before("*").Register("test:copy", next),
			cb.Raw().Before("*").Register("test:copy", next), cb.Create().Before("*").Register("test:copy", next),
			cb.Update().Before("*").Register("test:copy", next), cb.Delete().Before("*").Register("test:copy", next),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			_ = cb.Row().Remove("test:count_reads")
			for _, rm := range []func(string) error{cb.Query().Remove, cb.Row().Remove, cb.Raw().Remove, cb.Create().Remove, cb.Update().Remove, cb.Delete().Remove} {
				_ = rm("test:copy")
			}
		}()
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Delete: true, MinAge: -1, Models: []any{&Food{}}})
		if err != nil {
			t.Fatal(err)
		}
		if copyErr != nil {
			t.Fatalf("the copy (of a source still stored): %v", copyErr)
		}
		if copied.ID == 0 {
			t.Fatal("the copy did not run during Prune")
		}
		if slices.Contains(report.Sources, food.Image.Name()) || !e.exists(t, food.Image.Name()) {
			t.Errorf("Prune removed %s, which the copy committed during the run holds (report: %+v)", food.Image.Name(), report)
		}
		var got Food
		if err := db.First(&got, copied.ID).Error; err != nil {
			t.Fatal(err)
		}
		if s, err := got.Image.Thumbnail(ctx, "small"); err != nil || !e.exists(t, s.Name) {
			t.Errorf("the copy's small: %+v, %v", s, err)
		}
	})
}

// TestPruneRacingACopyOfTheSameProcess: a copy by a statement of the
// process that runs Prune, which waits for the locks Prune deletes the
// source under, is refused once it has them (backends.ErrNotFound), as a
// copy waiting for a clean-up is, rather than commit a row holding the
// deleted source.
func TestPruneRacingACopyOfTheSameProcess(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e, food := setupFood(t, db)
		var loaded Food
		if err := db.First(&loaded, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM foods WHERE id = ?", food.ID).Error; err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		var wg sync.WaitGroup
		var copied Food
		var copyErr error
		progress := func(thumbnails.Progress) {
			once.Do(func() {
				wg.Add(1)
				go func() {
					defer wg.Done()
					copied = Food{Name: "copy", Image: loaded.Image}
					copyErr = db.Create(&copied).Error
				}()
				time.Sleep(300 * time.Millisecond) // the copy waits for Prune's locks
			})
		}
		if _, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Delete: true, MinAge: -1, Models: []any{&Food{}}, Progress: progress}); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if copyErr == nil && !e.exists(t, food.Image.Name()) {
			t.Fatalf("the copy committed row %d holding %s, which Prune deleted", copied.ID, food.Image.Name())
		}
	})
}

// TestPruneInTheCallersTransaction: Prune with Delete given a transaction
// of the caller's runs in it (its locks held until the caller commits).
func TestPruneInTheCallersTransaction(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e, food := setupFood(t, db)
		if err := db.Exec("DELETE FROM foods WHERE id = ?", food.ID).Error; err != nil {
			t.Fatal(err)
		}
		var report thumbnails.PruneReport
		err := db.Transaction(func(tx *gorm.DB) error {
			var err error
			report, err = thumbnails.Prune(ctx, tx, thumbnails.PruneOptions{Delete: true, MinAge: -1, Models: []any{&Food{}}})
			return err
		})
		if err != nil {
			t.Fatalf("Prune in the caller's transaction: %v", err)
		}
		if e.exists(t, food.Image.Name()) || !slices.Contains(report.Sources, food.Image.Name()) {
			t.Errorf("the source no row holds is still there: %+v", report)
		}
		if recs, err := metadataOf(db).Thumbnails(ctx, food.Image.Name()); err != nil || len(recs) != 0 {
			t.Errorf("its records: %v, %v", recs, err)
		}
	})
}
