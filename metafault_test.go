package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/disintegration/gift"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

var errPutFailed = errors.New("metadata write failed (injected)")

// failingPuts is the database metadata whose Put fails while fail is set.
type failingPuts struct {
	backends.TxMetadata
	fail *atomic.Bool
}

func (m failingPuts) Put(ctx context.Context, source string, thumbs ...backends.Thumbnail) error {
	if m.fail.Load() {
		return errPutFailed
	}
	return m.TxMetadata.Put(ctx, source, thumbs...)
}

func (m failingPuts) WithDB(db *gorm.DB) backends.Metadata {
	return failingPuts{TxMetadata: m.TxMetadata.WithDB(db).(backends.TxMetadata), fail: m.fail}
}

// TestMetadataFailureAfterTheRowIsWritten checks a save whose rows are
// written and whose metadata then fails, where no transaction of the
// statement's own rolls the rows back: the save returns the error, and a
// row that ends up committed keeps its files (its sizes are made again on
// first access), while one that is rolled back leaves none.
func TestMetadataFailureAfterTheRowIsWritten(t *testing.T) {
	for _, c := range []struct {
		name   string
		save   func(db *gorm.DB, food *Food) error
		commit bool // whether the row ends up committed
	}{
		{"no transaction", func(db *gorm.DB, food *Food) error {
			return db.Session(&gorm.Session{SkipDefaultTransaction: true}).Create(food).Error
		}, true},
		{"caller's transaction, committed anyway", func(db *gorm.DB, food *Food) error {
			var saveErr error
			err := db.Transaction(func(tx *gorm.DB) error {
				saveErr = tx.Create(food).Error
				return nil
			})
			return errors.Join(saveErr, err)
		}, true},
		{"caller's transaction, rolled back", func(db *gorm.DB, food *Food) error {
			return db.Transaction(func(tx *gorm.DB) error { return tx.Create(food).Error })
		}, false},
		{"gorm's transaction", func(db *gorm.DB, food *Food) error { return db.Create(food).Error }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openSQLite(t)
			fail := new(atomic.Bool)
			base, raw := newStorage(t, db)
			cfg := thumbnails.Config{Sizes: testSizes(), Storage: base, Metadata: failingPuts{backends.NewDatabaseMetadata(db), fail}}
			usePlugin(t, db, cfg, &Food{})
			fail.Store(true)
			food := newFood(t, "a", pizzaJPG)
			if err := c.save(db, &food); !errors.Is(err, errPutFailed) {
				t.Fatalf("save: %v, want the metadata's error", err)
			}
			fail.Store(false)
			var rows []Food
			if err := db.Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			files := raw.names(t)
			if !c.commit {
				if len(rows) != 0 || len(files) != 0 {
					t.Errorf("rolled back: %d rows, files %v; want none", len(rows), files)
				}
				return
			}
			if len(rows) != 1 || !raw.exists(t, rows[0].Image.Name()) {
				t.Fatalf("committed: rows %+v, files %v; want the row and its source", rows, files)
			}
			small, err := rows[0].Image.Thumbnail(context.Background(), "small")
			if err != nil || !raw.exists(t, small.Name) {
				t.Errorf("small of the committed row: %+v, %v", small, err)
			}
		})
	}
}

// TestRegenerateMetadataFailureKeepsOldThumbnails checks that a row whose
// Regenerate fails at the metadata write keeps what it had: a size written
// under its recorded name, whose dimensions changed, gets its old content
// back, and a size written under a new name (its format changed) is
// removed, so that each record still describes its file.
func TestRegenerateMetadataFailureKeepsOldThumbnails(t *testing.T) {
	dsn := testdb.SQLiteDSN(t, "")
	root := t.TempDir()
	st := backends.NewFileSystemStorage(root, "/media/")
	before := testdb.Open(t, sqlite.Open(dsn))
	usePlugin(t, before, thumbnails.Config{Sizes: testSizes(), Storage: st}, &Food{})
	food := *savedFood(t, before)
	ctx := context.Background()
	e := &env{db: before, root: root}
	recs := sizesOf(t, before, food)
	medium, small := recs["medium"], recs["small"]
	oldMedium := e.read(t, medium.Name)
	// small as an earlier configuration recorded it: a JPEG (it is a PNG now)
	oldSmall := small.Name[:len(small.Name)-len(".png")] + ".jpg"
	e.write(t, oldSmall, photo(t, pizzaJPG))
	e.remove(t, small.Name)
	if err := metadataOf(before).Put(ctx, food.Image.Name(), backends.Thumbnail{Size: "small", Name: oldSmall, Width: 600, Height: 400}); err != nil {
		t.Fatal(err)
	}

	// the application now makes medium smaller, and its metadata fails
	db := testdb.Open(t, sqlite.Open(dsn))
	set := testSizes()
	m := set["medium"]
	m.Processors = []gift.Filter{processors.Resize(processors.Px(300), processors.Px(300), processors.Fit)}
	set["medium"] = m
	fail := new(atomic.Bool)
	usePlugin(t, db, thumbnails.Config{Sizes: set, Storage: st, Metadata: failingPuts{backends.NewDatabaseMetadata(db), fail}}, &Food{})
	fail.Store(true)
	c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"small", "medium"}})
	if err != nil || c.Failed != 1 {
		t.Fatalf("Regenerate = %+v, %v; want the row failed", c, err)
	}
	if !bytes.Equal(e.read(t, medium.Name), oldMedium) {
		t.Errorf("medium's file %s was overwritten by a regenerate that failed", medium.Name)
	}
	if !e.exists(t, oldSmall) {
		t.Errorf("small's recorded file %s is gone", oldSmall)
	}
	if e.exists(t, small.Name) {
		t.Errorf("small's new file %s, recorded nowhere, stayed", small.Name)
	}
	fail.Store(false)
	if c, err := thumbnails.Regenerate(ctx, db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"small", "medium"}}); err != nil || c.Done != 1 {
		t.Fatalf("second Regenerate = %+v, %v", c, err)
	}
	got := sizesOf(t, db, food)
	if got["small"].Name != small.Name || !e.exists(t, small.Name) || e.exists(t, oldSmall) || got["medium"].Width != 300 {
		t.Errorf("after a regenerate that works: %+v", got)
	}
}

// TestRegenerateRepairsABrokenThumbnail: a recorded thumbnail that is
// empty (a crashed write of a storage that is not atomic) is made again.
func TestRegenerateRepairsABrokenThumbnail(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	food := *savedFood(t, db)
	medium := sizesOf(t, db, food)["medium"]
	e.write(t, medium.Name, nil)
	c, err := thumbnails.Regenerate(context.Background(), db, &Food{}, thumbnails.RegenerateOptions{Sizes: []string{"medium"}})
	if err != nil || c.Done != 1 {
		t.Fatalf("Regenerate = %+v, %v", c, err)
	}
	if img, _ := e.decodeStored(t, medium.Name); img.Bounds().Dx() != medium.Width {
		t.Errorf("medium is %v, want %d wide", img.Bounds(), medium.Width)
	}
}

// failingDeleteSizes is the database metadata whose DeleteSize fails while
// fail is set.
type failingDeleteSizes struct {
	backends.TxMetadata
	fail *atomic.Bool
}

func (m failingDeleteSizes) DeleteSize(ctx context.Context, source, size string) error {
	if m.fail.Load() {
		return errPutFailed
	}
	return m.TxMetadata.DeleteSize(ctx, source, size)
}

func (m failingDeleteSizes) WithDB(db *gorm.DB) backends.Metadata {
	return failingDeleteSizes{TxMetadata: m.TxMetadata.WithDB(db).(backends.TxMetadata), fail: m.fail}
}

// TestDeleteSizeFailuresKeepFileAndRecord checks that a row whose size
// DeleteSize cannot delete keeps both its record and its file, whichever of
// the two failed, so that no record names a missing file and a rerun
// finds the size again.
func TestDeleteSizeFailuresKeepFileAndRecord(t *testing.T) {
	for _, failing := range []string{"record", "file"} {
		t.Run(failing, func(t *testing.T) {
			db := openSQLite(t)
			fail := new(atomic.Bool)
			st := &refusingStorage{}
			e := setupOver(t, db, thumbnails.Config{Sizes: testSizes(), Metadata: failingDeleteSizes{backends.NewDatabaseMetadata(db), fail}},
				func(fs backends.Storage) backends.Storage { st.Storage = fs; return st })
			food := *savedFood(t, db)
			small := sizesOf(t, db, food)["small"]
			if failing == "record" {
				fail.Store(true)
			} else {
				st.refuse = small.Name
			}
			ctx := context.Background()
			c, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", "small")
			if err != nil || c.Failed != 1 {
				t.Fatalf("DeleteSize = %+v, %v; want the row failed", c, err)
			}
			if got := sizesOf(t, db, food)["small"]; got.Name != small.Name || !e.exists(t, small.Name) {
				t.Errorf("small after a failed delete: record %+v, file kept %v", got, e.exists(t, small.Name))
			}
			fail.Store(false)
			st.refuse = ""
			if c, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", "small"); err != nil || c.Done != 1 {
				t.Fatalf("second DeleteSize = %+v, %v", c, err)
			}
			if _, ok := sizesOf(t, db, food)["small"]; ok || e.exists(t, small.Name) {
				t.Errorf("small after the rerun: record kept %v, file kept %v", ok, e.exists(t, small.Name))
			}
		})
	}
}

// hookedDeletes runs before, once, ahead of the next Delete.
type hookedDeletes struct {
	backends.Storage
	before func()
}

func (s *hookedDeletes) Delete(ctx context.Context, name string) error {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Storage.Delete(ctx, name)
}

// TestDeleteSizeRacingARead checks a read that makes an eager size again
// between DeleteSize's delete of its record and of its file: the size's
// record must not be left naming the deleted file.
func TestDeleteSizeRacingARead(t *testing.T) {
	db := openSQLite(t)
	st := &hookedDeletes{}
	e := setupOver(t, db, thumbnails.Config{Sizes: testSizes()}, func(fs backends.Storage) backends.Storage { st.Storage = fs; return st })
	food := *savedFood(t, db)
	ctx := context.Background()
	remade := false
	st.before = func() {
		var row Food
		if err := db.First(&row, food.ID).Error; err != nil {
			t.Error(err)
			return
		}
		_, err := row.Image.Thumbnail(ctx, "small")
		remade = err == nil
	}
	if c, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", "small"); err != nil || c.Done != 1 {
		t.Fatalf("DeleteSize = %+v, %v", c, err)
	}
	if !remade {
		t.Fatal("the read did not make small again")
	}
	if got, ok := sizesOf(t, db, food)["small"]; ok && !e.exists(t, got.Name) {
		t.Errorf("small is recorded as %s, which is gone", got.Name)
	}
}

// ctxDeletes fails a Delete whose context is done, as a storage that
// honours its context (an object store) does.
type ctxDeletes struct{ backends.Storage }

func (s ctxDeletes) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Storage.Delete(ctx, name)
}

// TestDeleteSizeCancelFinishesTheRowInFlight cancels DeleteSize between a
// row's record and its file (Ctrl-C in the command): that row is finished,
// counted done, and the run stops there with the context's error.
func TestDeleteSizeCancelFinishesTheRowInFlight(t *testing.T) {
	db := openSQLite(t)
	st := &hookedDeletes{}
	e := setupOver(t, db, thumbnails.Config{Sizes: testSizes()}, func(fs backends.Storage) backends.Storage {
		st.Storage = ctxDeletes{fs}
		return st
	})
	foods := createFoods(t, db, 3)
	small := sizesOf(t, db, foods[0])["small"]
	ctx, cancel := context.WithCancel(context.Background())
	st.before = cancel
	c, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", "small")
	if !errors.Is(err, context.Canceled) || c.Done != 1 || c.Failed != 0 {
		t.Fatalf("cancelled DeleteSize = %+v, %v; want the row in flight done", c, err)
	}
	if _, ok := sizesOf(t, db, foods[0])["small"]; ok || e.exists(t, small.Name) {
		t.Errorf("the row in flight: record kept %v, file kept %v", ok, e.exists(t, small.Name))
	}
	for _, f := range foods[1:] {
		if _, ok := sizesOf(t, db, f)["small"]; !ok {
			t.Errorf("row %d, after the cancel, lost its small size", f.ID)
		}
	}
}
