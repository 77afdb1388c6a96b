package thumbnails_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestReadInsideTheTransaction checks that a row saved or loaded in the
// caller's transaction reads its thumbnails through that transaction (it
// sees the uncommitted records, and waits on none of the transaction's
// locks), that a lazy size made there is recorded in it, and that the same
// images still answer once the transaction has committed.
func TestReadInsideTheTransaction(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var created, loaded, unread Food
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			created = newFood(t, "a", pizzaJPG)
			if err := tx.Create(&created).Error; err != nil {
				return err
			}
			if err := tx.First(&loaded, created.ID).Error; err != nil {
				return err
			}
			if err := tx.First(&unread, created.ID).Error; err != nil {
				return err
			}
			if small, err := loaded.Image.Thumbnail(ctx, "small"); err != nil || small.Width == 0 {
				t.Errorf("small of the row loaded in the transaction: %+v, %v", small, err)
			}
			if all, err := loaded.Image.Thumbnails(ctx); err != nil || len(all) != 2 {
				t.Errorf("thumbnails of the row loaded in the transaction: %v, %v; want small and medium", all, err)
			}
			if large, err := loaded.Image.Thumbnail(ctx, "large"); err != nil || large.Width == 0 {
				t.Errorf("lazy large of the row loaded in the transaction: %+v, %v", large, err)
			}
			if large, err := created.Image.Thumbnail(ctx, "large"); err != nil || large.Width == 0 {
				t.Errorf("lazy large of the row created in the transaction: %+v, %v", large, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// After the commit, the images bound in the transaction still answer,
		// unread ones included (their transaction is over: the plugin's
		// metadata answers).
		var again Food
		if err := db.First(&again, created.ID).Error; err != nil {
			t.Fatal(err)
		}
		for _, img := range []*Food{&created, &loaded, &unread, &again} {
			all, err := img.Image.Thumbnails(ctx)
			if err != nil || len(all) != 3 {
				t.Errorf("after the commit: %v, %v; want small, medium and large", all, err)
			}
		}
	})
}

// TestReadInAnAbortedTransaction checks that a row loaded in the caller's
// transaction still reads its thumbnails after a statement of that
// transaction failed, which on PostgreSQL leaves it unable to run any other
// until it ends: the read goes to the plugin's own metadata.
func TestReadInAnAbortedTransaction(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		food := newFood(t, "a", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		err := db.Transaction(func(tx *gorm.DB) error {
			var loaded Food
			if err := tx.First(&loaded, food.ID).Error; err != nil {
				return err
			}
			if err := tx.Exec("SELECT * FROM no_such_table").Error; err == nil {
				t.Fatal("the failing statement did not fail")
			}
			if small, err := loaded.Image.Thumbnail(ctx, "small"); err != nil || small.Width == 0 {
				t.Errorf("small after a failed statement: %+v, %v", small, err)
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("the transaction did not fail")
		}
	})
}

// TestLazySizeOfARolledBackUpload: a lazy size made, in the caller's
// transaction, of an upload that transaction stored is deleted with the
// upload's other files when it rolls back (also to a savepoint).
func TestLazySizeOfARolledBackUpload(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		before := len(e.files(t))
		err := db.Transaction(func(tx *gorm.DB) error {
			f := newFood(t, "a", pizzaJPG)
			if err := tx.Create(&f).Error; err != nil {
				return err
			}
			if large, err := f.Image.Thumbnail(ctx, "large"); err != nil || !e.exists(t, large.Name) {
				t.Errorf("lazy large in the transaction: %+v, %v", large, err)
			}
			// a savepoint rolled back takes its upload's lazy size too
			_ = tx.Transaction(func(tx *gorm.DB) error {
				g := newFood(t, "b", pastaJPG)
				if err := tx.Create(&g).Error; err != nil {
					return err
				}
				if _, err := g.Image.Thumbnail(ctx, "large"); err != nil {
					t.Errorf("lazy large in the savepoint: %v", err)
				}
				return errRollback
			})
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if after := e.files(t); len(after) != before {
			t.Errorf("after the rollback the storage holds %v; want %d files, as before", after, before)
		}
	})
}
