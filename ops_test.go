package thumbnails_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// createFoods saves n rows with the pizza photo and one row without an image.
func createFoods(t *testing.T, db *gorm.DB, n int) []Food {
	t.Helper()
	rows := make([]Food, n)
	for i := range rows {
		rows[i] = newFood(t, "food", pizzaJPG)
	}
	rows = append(rows, Food{Name: "empty"})
	if err := db.Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows[:n]
}

// sizesOf returns the sizes recorded for food's source, read from metadata.
func sizesOf(t *testing.T, db *gorm.DB, food Food) map[string]backends.Thumbnail {
	t.Helper()
	recs, err := metadataOf(db).Thumbnails(context.Background(), food.Image.Name())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestDeleteSizeAndRegenerate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		foods := createFoods(t, db, 6)

		// dry run: counts, changes nothing
		c, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", "small", thumbnails.WithDryRun())
		if err != nil || c.Done != 6 {
			t.Fatalf("dry run = %+v, %v", c, err)
		}
		for _, f := range foods {
			if len(sizesOf(t, db, f)) != 2 {
				t.Fatal("the dry run deleted something")
			}
		}
		var reported int
		c, err = thumbnails.DeleteSize(ctx, db, &Food{}, "", "SMALL", thumbnails.WithProgress(func(p thumbnails.Progress) {
			reported++
			if p.Total != 6 {
				t.Errorf("progress total %d", p.Total)
			}
		}))
		if err != nil || c.Done != 6 || c.Skipped != 0 || c.Failed != 0 || reported != 6 {
			t.Fatalf("DeleteSize = %+v, %v (%d reported)", c, err, reported)
		}
		for _, f := range foods {
			recs := sizesOf(t, db, f)
			if _, ok := recs["small"]; ok || len(recs) != 1 {
				t.Fatalf("after DeleteSize: %v", recs)
			}
		}
		if n := len(e.files(t)); n != 6*2 {
			t.Fatalf("files after DeleteSize: %d, want sources and mediums", n)
		}

		// only the missing size comes back
		saves := e.storage.saves.Load()
		c, err = thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{OnlyMissing: true})
		if err != nil || c.Done != 6 || e.storage.saves.Load()-saves != 6 {
			t.Fatalf("Regenerate only missing = %+v, %v, %d saves", c, err, e.storage.saves.Load()-saves)
		}
		for _, f := range foods {
			var got Food
			db.First(&got, f.ID)
			requireThumbs(t, e, &got)
		}
		// nothing is missing now
		if c, err = thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{OnlyMissing: true}); err != nil || c.Skipped != 6 || c.Done != 0 {
			t.Fatalf("second run = %+v, %v", c, err)
		}
		// named rows and sizes
		saves = e.storage.saves.Load()
		c, err = thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"medium"}, IDs: []any{foods[1].ID, foods[2].ID}})
		if err != nil || c.Done != 2 || e.storage.saves.Load()-saves != 2 {
			t.Fatalf("Regenerate medium of 2 rows = %+v, %v", c, err)
		}
		if _, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"huge"}}); !errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Fatalf("unknown size: %v", err)
		}
		// all sizes: the eager ones, and the lazy ones a row already has
		if _, err := foods[0].Image.Thumbnail(ctx, "large"); err != nil {
			t.Fatal(err)
		}
		saves = e.storage.saves.Load()
		if c, err = thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{}); err != nil || c.Done != 6 || e.storage.saves.Load()-saves != 6*2+1 {
			t.Fatalf("Regenerate all = %+v, %v, %d saves", c, err, e.storage.saves.Load()-saves)
		}

		// a size no longer configured is deleted by the name its metadata has
		old := "thumbnails/" + foods[3].Image.Name() + "_old.jpg"
		e.write(t, old, photo(t, pizzaJPG))
		if err := metadataOf(db).Put(ctx, foods[3].Image.Name(), backends.Thumbnail{Size: "old", Name: old, Width: 1, Height: 1}); err != nil {
			t.Fatal(err)
		}
		if c, err = thumbnails.DeleteSize(ctx, db, &Food{}, "image", "old"); err != nil || c.Done != 1 || c.Skipped != 5 {
			t.Fatalf("DeleteSize of an unconfigured size = %+v, %v", c, err)
		}
		if e.exists(t, old) || len(sizesOf(t, db, foods[3])) != 2 {
			t.Fatalf("old size left: file %v, records %v", e.exists(t, old), sizesOf(t, db, foods[3]))
		}
	})
}

func TestRegenerateFailuresAndResume(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		foods := createFoods(t, db, 8)
		// a row whose source file is gone fails, and the run goes on
		e.remove(t, foods[4].Image.Name())
		var failed []any
		c, err := thumbnails.Regenerate(context.Background(), db, &Food{}, thumbnails.RegenerateOptions{
			Workers: 2, BatchSize: 3,
			Progress: func(p thumbnails.Progress) {
				if p.Err != nil {
					failed = append(failed, p.PrimaryKey)
				}
			},
		})
		if err != nil || c.Done != 7 || c.Failed != 1 || len(failed) != 1 {
			t.Fatalf("Regenerate = %+v, %v; failed rows %v", c, err, failed)
		}

		// cancelled after 3 rows: stops, and resumes from Counts.Last
		ctx, cancel := context.WithCancel(context.Background())
		seen := 0
		c, err = thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{
			Workers: 1, BatchSize: 100,
			Progress: func(p thumbnails.Progress) {
				if seen++; seen == 3 {
					cancel()
				}
			},
		})
		if !errors.Is(err, context.Canceled) || c.Done+c.Failed != 3 || c.Last == nil {
			t.Fatalf("cancelled run = %+v, %v", c, err)
		}
		// the key as the model has it (Food.ID is a uint), not as the
		// driver reads it (an int64): it compares equal to the row's
		if id, ok := c.Last.(uint); !ok || id != foods[2].ID {
			t.Errorf("Counts.Last = %v (%T), want the third food's ID %d (uint)", c.Last, c.Last, foods[2].ID)
		}
		rest, err := thumbnails.Regenerate(context.Background(), db, &Food{}, thumbnails.RegenerateOptions{After: c.Last})
		if err != nil || rest.Done+rest.Failed != 5 {
			t.Fatalf("resumed run = %+v, %v", rest, err)
		}
	})
}

func TestMigrateMetadata(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	foods := createFoods(t, db, 5)
	ctx := context.Background()
	client := testdb.Redis(t)
	to := backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client))
	from := backends.NewDatabaseMetadata(db)
	// a source recorded without thumbnails (its sizes are all lazy) is
	// copied too: Prune keeps the file of a recorded source
	const lazy = "lazies/a.jpg"
	if err := from.Put(ctx, lazy); err != nil {
		t.Fatal(err)
	}
	recorded := func(m backends.Metadata) bool {
		found := false
		err := m.Each(ctx, func(source string, thumbs []backends.Thumbnail) error {
			found = found || source == lazy && len(thumbs) == 0
			return nil
		})
		return err == nil && found
	}
	for run := 0; run < 2; run++ { // idempotent
		c, err := thumbnails.MigrateMetadata(ctx, from, to)
		if err != nil || c.Done != 6 || c.Failed != 0 {
			t.Fatalf("run %d: %+v, %v", run, c, err)
		}
	}
	for _, f := range foods {
		want, _ := from.Thumbnails(ctx, f.Image.Name())
		got, err := to.Thumbnails(ctx, f.Image.Name())
		if err != nil || len(got) != len(want) || got["small"].Name != want["small"].Name || got["medium"].Width != want["medium"].Width {
			t.Fatalf("%s: %v, want %v (%v)", f.Image.Name(), got, want, err)
		}
	}
	// a size deleted from the origin since is removed from the copy too,
	// but not by a dry run
	if err := from.DeleteSize(ctx, foods[0].Image.Name(), "small"); err != nil {
		t.Fatal(err)
	}
	if _, err := thumbnails.MigrateMetadata(ctx, from, to, thumbnails.WithDryRun()); err != nil {
		t.Fatal(err)
	}
	if got, err := to.Thumbnails(ctx, foods[0].Image.Name()); err != nil || len(got) != 2 {
		t.Fatalf("after a dry run: %v (%v), want both sizes still", got, err)
	}
	if c, err := thumbnails.MigrateMetadata(ctx, from, to); err != nil || c.Done != 6 {
		t.Fatalf("again: %+v, %v", c, err)
	}
	if got, err := to.Thumbnails(ctx, foods[0].Image.Name()); err != nil || len(got) != 1 || got["medium"].Name == "" {
		t.Fatalf("the copy of a source that lost its small size: %v (%v), want medium alone", got, err)
	}
	if got, err := to.Thumbnails(ctx, foods[1].Image.Name()); err != nil || len(got) != 2 {
		t.Fatalf("another source's copy: %v (%v), want both sizes", got, err)
	}
	// and back, into a fresh database store
	db2 := openSQLite(t)
	setup(t, db2)
	back := backends.NewDatabaseMetadata(db2)
	if !recorded(to) {
		t.Errorf("%s, recorded without thumbnails, was not copied to Redis", lazy)
	}
	if c, err := thumbnails.MigrateMetadata(ctx, to, back); err != nil || c.Done != 6 {
		t.Fatalf("back: %+v, %v", c, err)
	}
	if !recorded(back) {
		t.Errorf("%s, recorded without thumbnails, was not copied back", lazy)
	}
	if c, err := thumbnails.MigrateMetadata(ctx, to, back, thumbnails.WithDryRun()); err != nil || c.Done != 6 {
		t.Fatalf("dry run: %+v, %v", c, err)
	}
}

func TestOperationsByTable(t *testing.T) {
	forEachStorage(t, openSQLite, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		foods := createFoods(t, db, 3)
		table := thumbnails.Table{Name: "foods", Column: "image"}
		c, err := thumbnails.DeleteSize(context.Background(), db, table, "", "medium")
		if err != nil || c.Done != 3 {
			t.Fatalf("DeleteSize by table = %+v, %v", c, err)
		}
		// a Table's column has every configured size: regenerate makes the eager ones
		c, err = thumbnails.Regenerate(context.Background(), db, table, thumbnails.RegenerateOptions{OnlyMissing: true})
		if err != nil || c.Done != 3 {
			t.Fatalf("Regenerate by table = %+v, %v", c, err)
		}
		var got Food
		db.First(&got, foods[0].ID)
		requireThumbs(t, e, &got)
		if _, err := thumbnails.Regenerate(context.Background(), db, thumbnails.Table{Name: "foods"}, thumbnails.RegenerateOptions{}); !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Fatalf("a Table without a column: %v", err)
		}
		if _, err := thumbnails.Regenerate(context.Background(), openSQLite(t), table, thumbnails.RegenerateOptions{}); !errors.Is(err, thumbnails.ErrNotRegistered) {
			t.Fatalf("without the plugin: %v", err)
		}
	})
}

// TestRegenerateCancelFinishesRowsInFlight cancels a run of two workers at
// its first progress report, while another row is being made: that row is
// finished, not lost, and resuming from Counts.Last completes every row.
func TestRegenerateCancelFinishesRowsInFlight(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	foods := createFoods(t, db, 10)
	if _, err := thumbnails.DeleteSize(context.Background(), db, &Food{}, "image", "small"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{
		Workers: 2, OnlyMissing: true,
		Progress: func(thumbnails.Progress) { cancel() },
	})
	if !errors.Is(err, context.Canceled) || c.Failed != 0 || c.Done == 0 {
		t.Fatalf("cancelled run = %+v, %v", c, err)
	}
	rest, err := thumbnails.Regenerate(context.Background(), db, &Food{}, thumbnails.RegenerateOptions{After: c.Last, OnlyMissing: true})
	if err != nil || rest.Failed != 0 {
		t.Fatalf("resumed run = %+v, %v", rest, err)
	}
	for _, f := range foods {
		if _, ok := sizesOf(t, db, f)["small"]; !ok {
			t.Errorf("row %d lost its small size to the interruption", f.ID)
		}
	}
}

// TestRegenerateReplacesRenamed regenerates a size recorded under another
// name than it gets now (its format changed in the YAML, from JPEG to
// PNG): the new file is recorded and the old one deleted.
func TestRegenerateReplacesRenamed(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		foods := createFoods(t, db, 2)
		source := foods[0].Image.Name()
		small := sizesOf(t, db, foods[0])["small"]
		old := small.Name[:len(small.Name)-len(".png")] + ".jpg"
		e.write(t, old, photo(t, pizzaJPG))
		if err := e.storage.Delete(ctx, small.Name); err != nil {
			t.Fatal(err)
		}
		if err := metadataOf(db).Put(ctx, source, backends.Thumbnail{Size: "small", Name: old, Width: 100, Height: 100}); err != nil {
			t.Fatal(err)
		}
		c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"small"}})
		if err != nil || c.Done != 2 {
			t.Fatalf("Regenerate = %+v, %v", c, err)
		}
		got := sizesOf(t, db, foods[0])["small"]
		if got.Name != small.Name || !e.exists(t, got.Name) {
			t.Errorf("small is %+v, want %s, stored", got, small.Name)
		}
		if e.exists(t, old) {
			t.Errorf("the old %s stayed", old)
		}
	})
}

// Awkward column names: a reserved word, and (on PostgreSQL) a name whose
// case matters. Every operation quotes them, as gorm's own statements do.
type reservedColumn struct {
	ID    uint
	Group field.Image `gorm:"column:group" thumbnails:"dir:orders"`
}

type mixedCaseColumn struct {
	ID    uint
	Photo field.Image `gorm:"column:Photo" thumbnails:"dir:menus"`
}

// TestOperationsQuoteTableNames runs Regenerate, DeleteSize and Prune on a
// table and a column whose names hold a space, given as Tables.
func TestOperationsQuoteTableNames(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		ctx := context.Background()
		food := Food{Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`CREATE TABLE "my foods" (id integer primary key, "my photo" text)`).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO "my foods" (id, "my photo") VALUES (1, ?)`, food.Image.Name()).Error; err != nil {
			t.Fatal(err)
		}
		tbl := thumbnails.Table{Name: "my foods", Column: "my photo", Dir: "foods"}
		if c, err := thumbnails.Regenerate(ctx, db, tbl, thumbnails.RegenerateOptions{}); err != nil || c.Done != 1 {
			t.Errorf("Regenerate = %+v, %v", c, err)
		}
		if c, err := thumbnails.DeleteSize(ctx, db, tbl, "", "medium"); err != nil || c.Done != 1 {
			t.Errorf("DeleteSize = %+v, %v", c, err)
		}
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{tbl, &Food{}}, MinAge: -1})
		if err != nil || len(report.Files) != 0 || len(report.Sources) != 0 {
			t.Errorf("Prune = %+v, %v: want nothing to prune", report, err)
		}
	})
}

// TestOperationsQuoteColumns runs Regenerate, DeleteSize and Prune on
// columns named group and Photo, which failed unquoted (a syntax error; on
// PostgreSQL, column "photo" does not exist).
func TestOperationsQuoteColumns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &reservedColumn{}, &mixedCaseColumn{})
		ctx := context.Background()
		a := reservedColumn{Group: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}
		b := mixedCaseColumn{Photo: field.NewImage("b.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&b).Error; err != nil {
			t.Fatal(err)
		}
		for _, model := range []any{&reservedColumn{}, &mixedCaseColumn{}} {
			if c, err := thumbnails.Regenerate(ctx, db, model, thumbnails.RegenerateOptions{}); err != nil || c.Done != 1 {
				t.Errorf("Regenerate %T = %+v, %v", model, c, err)
			}
			if c, err := thumbnails.DeleteSize(ctx, db, model, "", "small"); err != nil || c.Done != 1 {
				t.Errorf("DeleteSize %T = %+v, %v", model, c, err)
			}
		}
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&reservedColumn{}, &mixedCaseColumn{}}, MinAge: -1})
		if err != nil || len(report.Files) != 0 || len(report.Sources) != 0 {
			t.Errorf("Prune = %+v, %v: want nothing to prune", report, err)
		}
		if recs, err := metadataOf(db).Thumbnails(ctx, b.Photo.Name()); err != nil || len(recs) != 1 {
			t.Errorf("records of b after DeleteSize small: %v, %v", recs, err)
		}
	})
}

// TestOperationsOnDBTable runs DeleteSize and Regenerate with a model on
// the table db.Table names: they work on its rows alone, not on the
// model's own table's.
func TestOperationsOnDBTable(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	ctx := context.Background()
	if err := db.Table("foods_archive").AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	foods := createFoods(t, db, 2)
	archived := newFood(t, "archived", pastaJPG)
	if err := db.Table("foods_archive").Create(&archived).Error; err != nil {
		t.Fatal(err)
	}
	archive := db.Table("foods_archive")
	c, err := thumbnails.DeleteSize(ctx, archive, &Food{}, "image", "small", thumbnails.WithDryRun())
	if err != nil || c.Done != 1 {
		t.Fatalf("DeleteSize dry run on foods_archive = %+v, %v, want 1 row", c, err)
	}
	if c, err = thumbnails.DeleteSize(ctx, archive, &Food{}, "image", "small"); err != nil || c.Done != 1 {
		t.Fatalf("DeleteSize on foods_archive = %+v, %v, want 1 row", c, err)
	}
	if recs := sizesOf(t, db, archived); len(recs) != 1 {
		t.Errorf("the archived row's sizes after DeleteSize: %v, want medium alone", recs)
	}
	for _, f := range foods {
		if recs := sizesOf(t, db, f); len(recs) != 2 {
			t.Errorf("row %d of foods lost a size to DeleteSize on foods_archive: %v", f.ID, recs)
		}
	}
	c, err = thumbnails.Regenerate(ctx, archive, &Food{}, thumbnails.RegenerateOptions{OnlyMissing: true})
	if err != nil || c.Done != 1 || c.Skipped != 0 {
		t.Fatalf("Regenerate on foods_archive = %+v, %v, want 1 row done", c, err)
	}
	if recs := sizesOf(t, db, archived); len(recs) != 2 {
		t.Errorf("the archived row's sizes after Regenerate: %v", recs)
	}
}

// TestRegenerateManyIDs names more primary keys than SQLite takes in one
// statement (32,766): they are read a part at a time, in key order.
func TestRegenerateManyIDs(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	foods := createFoods(t, db, 3)
	ids := make([]any, 0, 40003)
	for i := range 40000 {
		ids = append(ids, 100000+i)
	}
	for i := len(foods) - 1; i >= 0; i-- { // last, and in reverse
		ids = append(ids, foods[i].ID)
	}
	ids = append(ids, foods[0].ID) // twice
	var seen []any
	c, err := thumbnails.Regenerate(context.Background(), db, &Food{}, thumbnails.RegenerateOptions{
		IDs: ids, BatchSize: 2, Workers: 1,
		Progress: func(p thumbnails.Progress) {
			if p.Total != 3 {
				t.Errorf("progress total %d, want 3", p.Total)
			}
			seen = append(seen, p.PrimaryKey)
		},
	})
	if err != nil || c.Done != 3 {
		t.Fatalf("Regenerate of 40,004 keys = %+v, %v, want 3 rows done", c, err)
	}
	if fmt.Sprint(seen) != fmt.Sprint([]any{foods[0].ID, foods[1].ID, foods[2].ID}) {
		t.Errorf("rows done in the order %v, want key order", seen)
	}
	c, err = thumbnails.Regenerate(context.Background(), db, &Food{}, thumbnails.RegenerateOptions{IDs: ids, After: foods[0].ID})
	if err != nil || c.Done != 2 {
		t.Fatalf("Regenerate of 40,004 keys after the first row = %+v, %v, want 2 rows done", c, err)
	}
}

// TestNotAModel checks that the operations, given a value that is not a
// model, fail with ErrInvalidConfig.
func TestNotAModel(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	ctx := context.Background()
	var n int
	for _, m := range []any{nil, "foods", 42, &n} {
		if _, err := thumbnails.Regenerate(ctx, db, m, thumbnails.RegenerateOptions{}); !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("Regenerate(%#v): %v", m, err)
		}
		if _, err := thumbnails.DeleteSize(ctx, db, m, "image", "small"); !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("DeleteSize(%#v): %v", m, err)
		}
		if _, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{m}}); !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("Prune(%#v): %v", m, err)
		}
	}
	if err := thumbnails.Bind(db, &n); !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Errorf("Bind(&int): %v", err)
	}
}

// TestMissingTableOrColumn checks that a Table naming a table or a column
// the database lacks fails with ErrInvalidConfig, on every database.
func TestMissingTableOrColumn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		ctx := context.Background()
		for _, tbl := range []thumbnails.Table{
			{Name: "no_such_table", Column: "image"},
			{Name: "foods", Column: "no_such_column"},
			{Name: "foods", Column: "image", PrimaryKey: "no_such_key"},
		} {
			if _, err := thumbnails.Regenerate(ctx, db, tbl, thumbnails.RegenerateOptions{}); !errors.Is(err, thumbnails.ErrInvalidConfig) {
				t.Errorf("Regenerate(%+v): %v", tbl, err)
			}
			if _, err := thumbnails.DeleteSize(ctx, db, tbl, "", "small"); !errors.Is(err, thumbnails.ErrInvalidConfig) {
				t.Errorf("DeleteSize(%+v): %v", tbl, err)
			}
			if tbl.PrimaryKey != "" {
				continue // Prune reads no key
			}
			if _, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{tbl}}); !errors.Is(err, thumbnails.ErrInvalidConfig) {
				t.Errorf("Prune(%+v): %v", tbl, err)
			}
		}
		if _, err := thumbnails.Regenerate(ctx, db.Table("no_such_archive"), &Food{}, thumbnails.RegenerateOptions{}); !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("Regenerate on db.Table of a missing table: %v", err)
		}
	})
}

// TestFailedReadIsNotMissingTable checks that a read that fails for
// another reason than a missing table or column (a closed database, a
// cancelled context, a PostgreSQL transaction already aborted) is returned
// as it is, not as ErrInvalidConfig, which says a rerun cannot help.
func TestFailedReadIsNotMissingTable(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		createFoods(t, db, 1)
		if _, err := thumbnails.Regenerate(cancelled, db.WithContext(cancelled), &Food{}, thumbnails.RegenerateOptions{}); err == nil || errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("Regenerate with a cancelled context: %v", err)
		}
		if db.Dialector.Name() == "postgres" {
			tx := db.Begin()
			defer tx.Rollback()
			_ = tx.Exec("SELECT 1/0").Error // aborts the transaction
			if _, err := thumbnails.Regenerate(context.Background(), tx, &Food{}, thumbnails.RegenerateOptions{}); err == nil || errors.Is(err, thumbnails.ErrInvalidConfig) {
				t.Errorf("Regenerate in an aborted transaction: %v", err)
			}
		}
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		_ = sqlDB.Close()
		if _, err := thumbnails.DeleteSize(context.Background(), db, &Food{}, "", "small"); err == nil || errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("DeleteSize on a closed database: %v", err)
		}
	})
}

// TestRegenerateRacingARelease replaces or deletes a row while Regenerate
// makes its sizes, once the replace's clean-up can no longer see what
// Regenerate writes: what Regenerate made for the released source is
// nobody's, and goes (files and records, the placeholder's too), as a lazy
// size's does; the row is counted as skipped, not failed. A row whose
// source is gone before Regenerate opens it is skipped too.
func TestRegenerateRacingARelease(t *testing.T) {
	for _, mode := range []string{"replace", "delete"} {
		t.Run(mode, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				ctx := context.Background()
				base, raw := newStorage(t, db)
				st := &holdingStorage{Storage: base, hold: "\x00", entered: make(chan struct{}), release: make(chan struct{})}
				cfg := thumbnails.Config{Sizes: testSizes(), Storage: st, Placeholders: true}
				if m, ok := redisMetadata.Load(db); ok {
					cfg.Metadata = m.(backends.Metadata)
				}
				usePlugin(t, db, cfg, &Food{})
				e := &env{db: db, raw: raw}
				foods := createFoods(t, db, 3)
				release := func(row Food) {
					var err error
					if mode == "delete" {
						err = db.Delete(&row).Error
					} else {
						row.Image = field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))
						err = db.Save(&row).Error
					}
					if err != nil {
						t.Error(err)
					}
				}
				var stems []string
				for _, f := range foods[:2] {
					stems = append(stems, strings.TrimSuffix(path.Base(f.Image.Name()), path.Ext(f.Image.Name())))
				}
				st.hold = stems[0] + "_medium"

				type result struct {
					c   thumbnails.Counts
					err error
				}
				done := make(chan result, 1)
				go func() {
					// one row at a time: the second is released once the first is handled
					c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Workers: 1, Progress: func(p thumbnails.Progress) {
						if p.Source == foods[0].Image.Name() {
							release(foods[1])
						}
					}})
					done <- result{c, err}
				}()
				<-st.entered // the first row's small is written, its medium about to be
				release(foods[0])
				close(st.release)
				r := <-done
				if r.err != nil || r.c.Failed != 0 || r.c.Done != 1 || r.c.Skipped != 2 {
					t.Errorf("Regenerate = %+v, %v; want the released rows skipped, the third done", r.c, r.err)
				}
				for _, f := range e.files(t) {
					for _, stem := range stems {
						if strings.Contains(f, stem) {
							t.Errorf("a file of a released source is left: %s", f)
						}
					}
				}
				for _, f := range foods[:2] {
					if recs, err := metadataOf(db).Thumbnails(ctx, f.Image.Name()); err != nil || len(recs) != 0 {
						t.Errorf("records of the released %s: %v, %v; want none", f.Image.Name(), recs, err)
					}
				}
			})
		})
	}
}

// TestRegenerateDryRun counts what Regenerate would make, and changes
// nothing: no file written, read or deleted, no record written.
func TestRegenerateDryRun(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		foods := createFoods(t, db, 3)
		if _, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", "small", thumbnails.WithProgress(nil)); err != nil {
			t.Fatal(err)
		}
		// the first row already has its small size again: nothing missing
		var first Food
		if err := db.First(&first, foods[0].ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := first.Image.Thumbnail(ctx, "small"); err != nil {
			t.Fatal(err)
		}
		files := e.files(t)
		calls := e.storage.calls()
		var reported int
		c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{
			OnlyMissing: true, DryRun: true,
			Progress: func(thumbnails.Progress) { reported++ },
		})
		if err != nil || c.Done != 2 || c.Skipped != 1 || c.Failed != 0 || reported != 3 {
			t.Errorf("dry run = %+v, %v, %d reports; want 2 rows to do, 1 skipped, 3 reports", c, err, reported)
		}
		if n := e.storage.calls() - calls; n != 0 {
			t.Errorf("the dry run made %d storage calls", n)
		}
		if got := e.files(t); len(got) != len(files) {
			t.Errorf("%d files after the dry run, %d before", len(got), len(files))
		}
		for _, f := range foods[1:] {
			if _, ok := sizesOf(t, db, f)["small"]; ok {
				t.Errorf("row %d has its small size after a dry run", f.ID)
			}
		}
		// the same run for real makes what the dry run counted
		if c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{OnlyMissing: true}); err != nil || c.Done != 2 || c.Skipped != 1 {
			t.Errorf("the real run = %+v, %v; want what the dry run counted", c, err)
		}
	})
}

// failingDeletes is a storage whose Delete of a name holding fail fails.
type failingDeletes struct {
	*holdingStorage
	fail atomic.Value // string
}

func (s *failingDeletes) Delete(ctx context.Context, name string) error {
	if f, _ := s.fail.Load().(string); f != "" && strings.Contains(name, f) {
		return errors.New("storage down")
	}
	return s.holdingStorage.Delete(ctx, name)
}

// TestRegenerateReportsAFailedCleanUp: as in TestRegenerateRacingARelease,
// a row lets go of its source while Regenerate makes its sizes, but what
// Regenerate made cannot be removed (the storage fails its deletes): the
// row is a failure, reported with why, not a row skipped in silence with
// files left behind.
func TestRegenerateReportsAFailedCleanUp(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	base, raw := newStorage(t, db)
	hs := &holdingStorage{Storage: base, hold: "\x00", entered: make(chan struct{}), release: make(chan struct{})}
	st := &failingDeletes{holdingStorage: hs}
	usePlugin(t, db, thumbnails.Config{Sizes: testSizes(), Storage: st}, &Food{})
	foods := createFoods(t, db, 1)
	row := foods[0]
	stem := strings.TrimSuffix(path.Base(row.Image.Name()), path.Ext(row.Image.Name()))
	hs.hold = stem + "_medium"

	type result struct {
		c        thumbnails.Counts
		err      error
		reported error
	}
	done := make(chan result, 1)
	go func() {
		var reported error
		c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Workers: 1, Progress: func(p thumbnails.Progress) {
			reported = errors.Join(reported, p.Err)
		}})
		done <- result{c, err, reported}
	}()
	<-hs.entered
	row.Image = field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))
	if err := db.Save(&row).Error; err != nil { // the old source's clean-up runs here
		t.Fatal(err)
	}
	st.fail.Store(stem) // from now on, deleting the old source's files fails
	close(hs.release)
	r := <-done
	if r.err != nil || r.c.Failed != 1 || r.c.Skipped != 0 || r.reported == nil || !strings.Contains(r.reported.Error(), "storage down") {
		t.Errorf("Regenerate = %+v, %v, reported %v; want the row failed, with the storage's error", r.c, r.err, r.reported)
	}
	if left := (&env{db: db, raw: raw}).files(t); !slices.ContainsFunc(left, func(f string) bool { return strings.Contains(f, stem) }) {
		t.Errorf("no file of the released source left (%v): the storage's failure did not happen", left)
	}
}
