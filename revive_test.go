package thumbnails_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// TestSaveOfARowDeletedMeanwhile: a row is loaded, then deleted by
// another request, whose clean-up deletes its image's files; the loaded
// struct is saved again. gorm's Save updates no row and inserts it: the
// row came back naming a source whose files and records were gone, and
// Save returned nil. The same with Save of a slice, an upsert, a plain
// Create of the loaded struct, and Save of a loaded parent whose
// preloaded child is that row. Each fails with backends.ErrNotFound and
// writes no row, as a copy of a deleted source does: also without a
// transaction (SkipDefaultTransaction), where the row was written before
// the save failed, and stayed.
func TestSaveOfARowDeletedMeanwhile(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{}, &Menu{}, &Course{})
		for _, mode := range []struct {
			name    string
			session *gorm.Session
		}{
			{"in a transaction", &gorm.Session{}},
			{"without a transaction", &gorm.Session{SkipDefaultTransaction: true}},
		} {
			for name, write := range map[string]func(*gorm.DB, *Food) error{
				"Save":       func(db *gorm.DB, r *Food) error { return db.Save(r).Error },
				"Save slice": func(db *gorm.DB, r *Food) error { return db.Save(&[]Food{*r}).Error },
				"upsert": func(db *gorm.DB, r *Food) error {
					return db.Clauses(clause.OnConflict{UpdateAll: true}).Create(r).Error
				},
				"upsert doing nothing": func(db *gorm.DB, r *Food) error {
					return db.Clauses(clause.OnConflict{DoNothing: true}).Create(r).Error
				},
				"Create": func(db *gorm.DB, r *Food) error { return db.Create(r).Error },
			} {
				a, loaded := savedAndLoaded(t, db)
				if err := db.Delete(&Food{}, a.ID).Error; err != nil {
					t.Fatal(err)
				}
				if e.exists(t, a.Image.Name()) {
					t.Fatalf("%s: the deleted row's source %s is still stored", name, a.Image.Name())
				}
				loaded.Name = "edited"
				err := write(db.Session(mode.session), &loaded)
				var n int64
				if err := db.Model(&Food{}).Where("id = ?", a.ID).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				if !errors.Is(err, backends.ErrNotFound) || n != 0 {
					t.Errorf("%s %s of a row deleted meanwhile: %v, %d row(s); want ErrNotFound and none", name, mode.name, err, n)
				}
			}
			menu := lunchMenu(t)
			if err := db.Create(&menu).Error; err != nil {
				t.Fatal(err)
			}
			var loaded Menu
			if err := db.Preload("Courses").First(&loaded, menu.ID).Error; err != nil || len(loaded.Courses) != 2 {
				t.Fatalf("%+v, %v", loaded, err)
			}
			gone := loaded.Courses[0]
			if err := db.Delete(&Course{}, gone.ID).Error; err != nil {
				t.Fatal(err)
			}
			if e.exists(t, gone.Image.Name()) {
				t.Fatalf("the deleted course's source %s is still stored", gone.Image.Name())
			}
			err := db.Session(mode.session).Save(&loaded).Error
			var n int64
			if err := db.Model(&Course{}).Where("id = ?", gone.ID).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if !errors.Is(err, backends.ErrNotFound) || n != 0 {
				t.Errorf("Save %s of a menu whose course was deleted meanwhile: %v, %d row(s); want ErrNotFound and none", mode.name, err, n)
			}
		}
	})
}

// TestSaveOfARowDeletedWithItsImageStored: a loaded row whose row was
// deleted, but whose image is still stored, is inserted again as it is
// and keeps its files: the row was deleted behind the plugin's back (its
// clean-up never ran), or deleted and inserted again in one transaction
// (its clean-up, at the commit, finds the row holding the image). A later
// clean-up does not delete them either.
func TestSaveOfARowDeletedWithItsImageStored(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		for name, write := range map[string]func(*Food) error{
			"Save after a delete by SQL": func(r *Food) error {
				if err := db.Exec("DELETE FROM foods WHERE id = ?", r.ID).Error; err != nil {
					t.Fatal(err)
				}
				return db.Save(r).Error
			},
			"Create after a delete by SQL": func(r *Food) error {
				if err := db.Exec("DELETE FROM foods WHERE id = ?", r.ID).Error; err != nil {
					t.Fatal(err)
				}
				return db.Create(r).Error
			},
			"Create in the delete's transaction": func(r *Food) error {
				return db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Delete(&Food{}, r.ID).Error; err != nil {
						return err
					}
					return tx.Create(r).Error
				})
			},
			"Save in the delete's transaction": func(r *Food) error {
				return db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Delete(&Food{}, r.ID).Error; err != nil {
						return err
					}
					return tx.Save(r).Error
				})
			},
		} {
			a, loaded := savedAndLoaded(t, db)
			loaded.Name = "edited"
			if err := write(&loaded); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// another row's clean-up drains the outbox again
			other := newFood(t, "other", pastaJPG)
			if err := db.Create(&other).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Delete(&other).Error; err != nil {
				t.Fatal(err)
			}
			var now Food
			if err := db.First(&now, a.ID).Error; err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if now.Name != "edited" || now.Image.Name() != a.Image.Name() || !e.exists(t, a.Image.Name()) {
				t.Errorf("%s: row %q holds %q (stored: %v), want %q", name, now.Name, now.Image.Name(), e.exists(t, a.Image.Name()), a.Image.Name())
			}
			if th, err := now.Image.Thumbnail(ctx, "small"); err != nil || !e.exists(t, th.Name) {
				t.Errorf("%s: small: %+v, %v", name, th, err)
			}
		}
	})
}

// TestCreateOfAnExistingRowHoldingAReplacedImage: a Create of a loaded
// struct whose row still exists, but whose image another save replaced
// (its clean-up deleted the old one), fails on the row's key as any
// duplicate insert does, not as a row brought back with a deleted image,
// and the row keeps its image.
func TestCreateOfAnExistingRowHoldingAReplacedImage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		a, stale := savedAndLoaded(t, db)
		a.Image = upload(t, pastaJPG)
		if err := db.Save(&a).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, stale.Image.Name()) {
			t.Fatalf("the replaced source %s is still stored", stale.Image.Name())
		}
		err := db.Create(&stale).Error
		if err == nil || errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Create of an existing row: %v; want its key's error", err)
		}
		var now Food
		if err := db.First(&now, a.ID).Error; err != nil || now.Image.Name() != a.Image.Name() {
			t.Errorf("row holds %q (%v), want %q", now.Image.Name(), err, a.Image.Name())
		}
	})
}

// savedAndLoaded saves a food with the pizza photo and returns it, and the
// same row as a First reads it back.
func savedAndLoaded(t testing.TB, db *gorm.DB) (saved, loaded Food) {
	t.Helper()
	saved = newFood(t, "a", pizzaJPG)
	if err := db.Create(&saved).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.First(&loaded, saved.ID).Error; err != nil {
		t.Fatal(err)
	}
	return saved, loaded
}
