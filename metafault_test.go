package thumbnails_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
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
