package thumbnails_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  thumbnails.Config
		ok   bool
	}{
		{"sizes only", thumbnails.Config{Sizes: testSizes()}, true},
		{"no sizes", thumbnails.Config{}, false},
		{"bad size name", thumbnails.Config{Sizes: sizes.Sizes{"../x": {}}}, false},
		{"bad format", thumbnails.Config{Sizes: sizes.Sizes{"a": {Format: "bmp"}}}, false},
		{"base dir escapes", thumbnails.Config{Sizes: testSizes(), BaseDir: "../up"}, false},
		{"absolute base dir", thumbnails.Config{Sizes: testSizes(), BaseDir: "/tmp/x"}, false},
		{"negative limit", thumbnails.Config{Sizes: testSizes(), Limits: thumbnails.Limits{MaxBytes: -1}}, false},
		{"async without an enqueuer", thumbnails.Config{Sizes: sizes.Sizes{"a": {Async: true}}}, false},
		{"lazy and async", thumbnails.Config{Sizes: sizes.Sizes{"a": {Async: true, Lazy: true}}, Enqueuer: &tableEnqueuer{}}, false},
		{"unknown pending policy", thumbnails.Config{Sizes: testSizes(), OnPending: 7}, false},
		{"hidden BaseDir", thumbnails.Config{Sizes: testSizes(), BaseDir: ".cache"}, false},
		{"BaseDir with a hidden folder", thumbnails.Config{Sizes: testSizes(), BaseDir: "media/.thumbs"}, false},
		{"BaseDir with a dot inside", thumbnails.Config{Sizes: testSizes(), BaseDir: "media/thumbs.v2"}, true},
		{"BaseDir to clean", thumbnails.Config{Sizes: testSizes(), BaseDir: "./media//thumbs/"}, true},
		{"BaseDir hidden once cleaned", thumbnails.Config{Sizes: testSizes(), BaseDir: "./.thumbs"}, false},
		{"async with an enqueuer", thumbnails.Config{Sizes: sizes.Sizes{"a": {Async: true}}, Enqueuer: &tableEnqueuer{}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, thumbnails.ErrInvalidConfig)) {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
	// db.Use refuses an invalid configuration
	db := openSQLite(t)
	if err := db.Use(thumbnails.Plugin(thumbnails.Config{})); !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Fatalf("Use() = %v", err)
	}
}

func TestTagErrors(t *testing.T) {
	type UnknownKey struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:small;folder:x"`
	}
	type EscapingDir struct {
		ID    uint
		Image field.Image `thumbnails:"dir:../../etc"`
	}
	// Sources among the thumbnails: the handler would serve them as
	// thumbnails, EXIF and all.
	type DirInThumbnails struct {
		ID    uint
		Image field.Image `thumbnails:"dir:thumbnails/avatars/"`
	}
	// A hidden folder: the handler would serve none of its files.
	type HiddenDir struct {
		ID    uint
		Image field.Image `thumbnails:"dir:uploads/.private"`
	}
	db := openSQLite(t)
	setup(t, db, &UnknownKey{}, &EscapingDir{}, &DirInThumbnails{}, &HiddenDir{})
	if err := db.Create(&HiddenDir{Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}).Error; !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Errorf("a hidden dir: %v", err)
	}
	if err := db.Create(&DirInThumbnails{Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}).Error; !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Errorf("sources inside BaseDir: %v", err)
	}
	upload := func() field.Image { return field.NewImage("a.jpg", reader(photo(t, pizzaJPG))) }
	if err := db.Create(&UnknownKey{Image: upload()}).Error; !errors.Is(err, thumbnails.ErrInvalidConfig) || !strings.Contains(err.Error(), "folder") {
		t.Errorf("unknown tag key: %v", err)
	}
	if err := db.Create(&EscapingDir{Image: upload()}).Error; !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Errorf("escaping dir: %v", err)
	}
	// the error is the same on every use, and queries fail too
	if err := db.Find(&[]UnknownKey{}).Error; !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Errorf("query of a badly tagged model: %v", err)
	}
}

// TestLazyConcurrent checks that concurrent first accesses to a lazy size
// generate it once.
func TestLazyConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		saves := e.storage.saves.Load()
		var wg sync.WaitGroup
		results := make([]field.Thumbnail, 8)
		errs := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var row Food
				if err := db.First(&row, food.ID).Error; err != nil {
					errs[i] = err
					return
				}
				results[i], errs[i] = row.Image.Thumbnail(context.Background(), "large")
			}()
		}
		wg.Wait()
		for i := range results {
			if errs[i] != nil || results[i] != results[0] || results[0].Width != 1200 {
				t.Fatalf("access %d: %+v, %v", i, results[i], errs[i])
			}
		}
		if n := e.storage.saves.Load() - saves; n < 1 || n > 8 {
			t.Fatalf("%d saves", n)
		}
		assertMetadata(t, db, food.Image.Name(), 3)
	})
}

// TestTransactionsAndPools checks that the plugin's wrapping of the
// connection pool keeps gorm's own features working.
func TestTransactionsAndPools(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *gorm.Config
	}{
		{"default", gormConfig()},
		{"PrepareStmt", func() *gorm.Config { c := gormConfig(); c.PrepareStmt = true; return c }()},
		{"SkipDefaultTransaction", func() *gorm.Config { c := gormConfig(); c.SkipDefaultTransaction = true; return c }()},
	} {
		open := func(t testing.TB) *gorm.DB {
			cfg := *tc.cfg // gorm keeps the plugins registered on a database in its Config
			db, err := gorm.Open(sqlite.Open(t.TempDir()+"/t.db"), &cfg)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
		t.Run(tc.name, func(t *testing.T) {
			forEachStorage(t, open, func(t *testing.T, db *gorm.DB) {
				e := setup(t, db, &Food{})
				if sqlDB, err := db.DB(); err != nil || sqlDB.Ping() != nil {
					t.Fatalf("db.DB() = %v, %v", sqlDB, err)
				}
				food := newFood(t, "pizza", pizzaJPG)
				if err := db.Create(&food).Error; err != nil {
					t.Fatal(err)
				}
				files := filesOf(t, &food)

				// a nested transaction rolled back to its savepoint keeps the image
				err := db.Transaction(func(tx *gorm.DB) error {
					if _, err := tx.DB(); err != nil {
						return err
					}
					nestedErr := tx.Transaction(func(tx2 *gorm.DB) error {
						if err := tx2.Delete(&Food{}, food.ID).Error; err != nil {
							return err
						}
						return errRollback
					})
					if !errors.Is(nestedErr, errRollback) {
						return nestedErr
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if !e.exists(t, f) {
						t.Fatalf("%s deleted by a rolled-back savepoint", f)
					}
				}

				// Begin/Commit by hand
				tx := db.Begin()
				if err := tx.Delete(&food).Error; err != nil {
					t.Fatal(err)
				}
				if !e.exists(t, files[0]) {
					t.Fatal("deleted before commit")
				}
				if err := tx.Commit().Error; err != nil {
					t.Fatal(err)
				}
				if got := e.files(t); len(got) != 0 {
					t.Fatalf("files after commit: %v", got)
				}
			})
		})
	}
}

// TestUpdatesStructByValue covers Updates given a struct, not a pointer.
func TestUpdatesStructByValue(t *testing.T) {
	forEachStorage(t, openSQLite, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		old := food.Image.Name()
		if err := db.Model(&food).Updates(Food{Image: field.NewImage("b.jpg", reader(photo(t, pastaJPG)))}).Error; err != nil {
			t.Fatal(err)
		}
		var got Food
		db.First(&got, food.ID)
		if got.Image.Name() == old || got.Image.Name() == "" || e.exists(t, old) {
			t.Fatalf("after Updates by value: %q (old %q, still stored %v)", got.Image.Name(), old, e.exists(t, old))
		}
		requireThumbs(t, e, &got)
	})
}

// TestNotStoredWithoutPlugin checks that an upload never becomes an empty
// column silently when the plugin is not registered.
func TestNotStoredWithoutPlugin(t *testing.T) {
	db := openSQLite(t)
	if err := db.AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	err := db.Create(&Food{Image: field.NewImage("a.jpg", strings.NewReader("x"))}).Error
	if !errors.Is(err, field.ErrNotStored) {
		t.Fatalf("err = %v, want field.ErrNotStored", err)
	}
}

// TestThumbnailInsideTransaction checks that a row created in an open
// transaction answers for its eager sizes from memory: the metadata rows are
// not committed yet, and a lookup outside the transaction would not see them.
func TestThumbnailInsideTransaction(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		err := db.Transaction(func(tx *gorm.DB) error {
			food := newFood(t, "pizza", pizzaJPG)
			if err := tx.Create(&food).Error; err != nil {
				return err
			}
			saves := e.storage.saves.Load()
			small, err := food.Image.Thumbnail(context.Background(), "small")
			if err != nil {
				return err
			}
			if small.Width != 100 || e.storage.saves.Load() != saves {
				t.Errorf("small = %+v; storage saves %d -> %d", small, saves, e.storage.saves.Load())
			}
			all, err := food.Image.Thumbnails(context.Background())
			if err != nil || len(all) != 2 {
				t.Errorf("Thumbnails() = %v, %v", all, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestMetadataFailureRollsBack makes the database refuse the metadata rows
// (a trigger) and checks that the save fails as a whole: no row, no files.
func TestMetadataFailureRollsBack(t *testing.T) {
	forEachStorage(t, openSQLite, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON thumbnails_thumbnails
		BEGIN SELECT RAISE(ABORT, 'injected metadata failure'); END`).Error
		if err != nil {
			t.Fatal(err)
		}
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err == nil || !strings.Contains(err.Error(), "injected metadata failure") {
			t.Fatalf("create = %v, want the injected failure", err)
		}
		if n := count(t, db, "foods"); n != 0 {
			t.Errorf("rows after a failed metadata write: %d", n)
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files after a failed metadata write: %v", files)
		}
	})
}

// TestValidateFixedSizes refuses sizes whose images are the same whatever
// the source and too large for every save: over the pixel bound of sizes,
// or a WebP over 16383 pixels a side. Sizes that depend on the source pass.
func TestValidateFixedSizes(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		ok   bool
	}{
		{"h: {processors: [{path: resize, width: 60000, height: 60000}]}", false},
		{"h: {processors: [{path: pad, width: 60000, height: 60000}]}", false},
		{"h: {processors: [{path: resize, width: 20000, height: 20000}], format: webp}", false},
		{"h: {processors: [{path: resize, width: 7000, height: 7000}]}", true},
		{"h: {processors: [{path: resize, width: 60000, height: 60000, method: fit}]}", true},
		{"h: {processors: [{path: resize, width: 1200, height: 1200, method: fill}], format: webp}", true},
	} {
		set, err := sizes.Load(strings.NewReader(tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		err = thumbnails.Config{Sizes: set}.Validate()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, thumbnails.ErrInvalidConfig)) {
			t.Errorf("%s: Validate = %v, want ok %v", tc.yaml, err, tc.ok)
		}
	}
}

// TestHiddenTableDir: a Table.Dir with a folder starting with "." is an
// ErrInvalidConfig; a dot inside a folder's name is not.
func TestHiddenTableDir(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	for _, dir := range []string{".x", "a/.b", "a/b/.c/d"} {
		_, err := thumbnails.Regenerate(t.Context(), db, thumbnails.Table{Name: "foods", Column: "image", Dir: dir}, thumbnails.RegenerateOptions{})
		if !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("Table.Dir %q: %v", dir, err)
		}
	}
	_, err := thumbnails.Regenerate(t.Context(), db, thumbnails.Table{Name: "foods", Column: "image", Dir: "a.b/c"}, thumbnails.RegenerateOptions{})
	if errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Errorf("a.b/c refused: %v", err)
	}
}
