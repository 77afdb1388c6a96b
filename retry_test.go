package thumbnails_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestRetryAfterDiscard checks what a row's image holds after its save
// failed or its transaction rolled back, which deleted the files stored for
// the upload: writing the row again fails with field.ErrDiscarded (it wraps
// ErrNotStored) instead of committing a row that points at a deleted file,
// and attaching the upload again saves it.
func TestRetryAfterDiscard(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		first := newFood(t, "a", pizzaJPG)
		if err := e.db.Create(&first).Error; err != nil {
			t.Fatal(err)
		}
		// A replace that rolls back: the image refuses to be written, and
		// the row, loaded again, holds its image as it was.
		t.Run("replace rolled back", func(t *testing.T) {
			row := first
			old := row.Image.Name()
			err := e.db.Transaction(func(tx *gorm.DB) error {
				row.Image = field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))
				if err := tx.Save(&row).Error; err != nil {
					return err
				}
				return errors.New("roll back")
			})
			if err == nil {
				t.Fatal("the transaction did not fail")
			}
			if err := e.db.Save(&row).Error; !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("saving it again: %v, want ErrDiscarded", err)
			}
			if th, err := row.Image.Thumbnail(context.Background(), "small"); !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("small of the discarded image: %+v, %v; want ErrDiscarded", th, err)
			}
			if all, err := row.Image.Thumbnails(context.Background()); !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("thumbnails of the discarded image: %v, %v; want ErrDiscarded", all, err)
			}
			var again Food
			if err := e.db.First(&again, first.ID).Error; err != nil || again.Image.Name() != old {
				t.Fatalf("the row holds %q (%v), want %q", again.Image.Name(), err, old)
			}
			if small, err := again.Image.Thumbnail(context.Background(), "small"); err != nil || !e.exists(t, small.Name) {
				t.Errorf("small of the row's image: %+v, %v", small, err)
			}
		})
		// An Updates map with the upload by value, whose transaction rolls
		// back: writing the same map again fails instead of writing the
		// name of the deleted file.
		t.Run("map rolled back", func(t *testing.T) {
			row := first
			values := map[string]any{"image": field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))}
			err := e.db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Model(&row).Updates(values).Error; err != nil {
					return err
				}
				return errors.New("roll back")
			})
			if err == nil {
				t.Fatal("the transaction did not fail")
			}
			if err := e.db.Model(&row).Updates(values).Error; !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("writing the map again: %v, want ErrDiscarded", err)
			}
			var again Food
			if err := e.db.First(&again, first.ID).Error; err != nil || !e.exists(t, again.Image.Name()) {
				t.Errorf("the row holds %q (%v), which must exist", again.Image.Name(), err)
			}
		})
		for _, c := range []struct {
			name string
			fail func(row *Food) error
		}{
			{"failed insert", func(row *Food) error {
				row.ID = first.ID // duplicate primary key
				return e.db.Create(row).Error
			}},
			{"rolled back", func(row *Food) error {
				return e.db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Create(row).Error; err != nil {
						return err
					}
					return errors.New("roll back")
				})
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				files := len(e.files(t))
				row := newFood(t, c.name, pastaJPG)
				if err := c.fail(&row); err == nil {
					t.Fatal("the failure did not fail")
				}
				if n := len(e.files(t)); n != files {
					t.Fatalf("%d files after the failure, want %d", n, files)
				}
				if row.Image.Name() != "" || row.Image.IsEmpty() {
					t.Errorf("the discarded image: name %q, empty %v; want no name, not empty", row.Image.Name(), row.Image.IsEmpty())
				}
				row.ID = 0
				err := e.db.Create(&row).Error
				if !errors.Is(err, field.ErrDiscarded) || !errors.Is(err, field.ErrNotStored) {
					t.Fatalf("retry with the discarded image: %v, want ErrDiscarded", err)
				}
				var n int64
				if err := e.db.Model(&Food{}).Where("name = ?", c.name).Count(&n).Error; err != nil || n != 0 {
					t.Fatalf("%d rows named %q, %v; want none", n, c.name, err)
				}
				row.ID = 0
				row.Image = field.NewImage("pasta.jpg", reader(photo(t, pastaJPG)))
				if err := e.db.Create(&row).Error; err != nil {
					t.Fatalf("retry with the upload attached again: %v", err)
				}
				if !e.exists(t, row.Image.Name()) {
					t.Errorf("the retried row's source %q is not stored", row.Image.Name())
				}
			})
		}
	})
}

// TestUpdateOfNoRowDiscardsItsUpload: an update that matches no row (a
// Where that excludes it, a row that does not exist), or rolls back,
// writes nothing, so the upload stored for it is deleted. The model's image, which gorm set to
// the upload, must then refuse to be written, as after a rollback: a later
// Save used to commit the deleted file's name, and to delete the row's own
// image as replaced.
func TestUpdateOfNoRowDiscardsItsUpload(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		upload := func() field.Image { return field.NewImage("pasta.jpg", reader(photo(t, pastaJPG))) }
		for _, c := range []struct {
			name   string
			update func(row *Food) error
		}{
			{"Update with a Where", func(row *Food) error {
				return e.db.Model(row).Where("name = ?", "nope").Update("image", upload()).Error
			}},
			{"Updates of a struct with a Where", func(row *Food) error {
				return e.db.Model(row).Where("name = ?", "nope").Updates(Food{Image: upload()}).Error
			}},
			{"Updates of a map with a Where", func(row *Food) error {
				return e.db.Model(row).Where("name = ?", "nope").Updates(map[string]any{"image": upload()}).Error
			}},
			{"Update of a row that does not exist", func(row *Food) error {
				row.ID += 1000
				return e.db.Model(row).Update("image", upload()).Error
			}},
			{"Update rolled back", func(row *Food) error {
				err := e.db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Model(row).Update("image", upload()).Error; err != nil {
						return err
					}
					return errors.New("roll back")
				})
				if err == nil || err.Error() != "roll back" {
					return fmt.Errorf("the transaction: %v, want it rolled back", err)
				}
				return nil
			}},
			{"Updates of a struct rolled back", func(row *Food) error {
				err := e.db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Model(row).Updates(Food{Image: upload()}).Error; err != nil {
						return err
					}
					return errors.New("roll back")
				})
				if err == nil || err.Error() != "roll back" {
					return fmt.Errorf("the transaction: %v, want it rolled back", err)
				}
				return nil
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				row := newFood(t, c.name, pizzaJPG)
				if err := e.db.Create(&row).Error; err != nil {
					t.Fatal(err)
				}
				id, old := row.ID, row.Image.Name()
				files := len(e.files(t))
				if err := c.update(&row); err != nil {
					t.Fatalf("update: %v", err)
				}
				if n := len(e.files(t)); n != files {
					t.Errorf("%d files after the update of no row, want %d", n, files)
				}
				if _, err := row.Image.Thumbnail(context.Background(), "small"); !errors.Is(err, field.ErrDiscarded) {
					t.Errorf("small of the model's image: %v, want ErrDiscarded", err)
				}
				row.Name = c.name + " renamed"
				if err := e.db.Save(&row).Error; !errors.Is(err, field.ErrDiscarded) {
					t.Errorf("saving the model again: %v, want ErrDiscarded", err)
				}
				var again Food
				if err := e.db.First(&again, id).Error; err != nil || again.Image.Name() != old || !e.exists(t, old) {
					t.Errorf("the row holds %q (%v), want its own %q, stored", again.Image.Name(), err, old)
				}
				var n int64
				if err := e.db.Model(&Food{}).Where("name = ?", c.name+" renamed").Count(&n).Error; err != nil || n != 0 {
					t.Errorf("%d rows written by the save, %v; want none", n, err)
				}
			})
		}
		// An update that fails, after gorm set the model's field: here
		// for want of a WHERE (a model without its key).
		t.Run("Update that fails", func(t *testing.T) {
			files := len(e.files(t))
			var blank Food
			if err := e.db.Model(&blank).Update("image", upload()).Error; !errors.Is(err, gorm.ErrMissingWhereClause) {
				t.Fatalf("update: %v, want ErrMissingWhereClause", err)
			}
			if n := len(e.files(t)); n != files {
				t.Errorf("%d files after the failed update, want %d", n, files)
			}
			blank.Name = "blank"
			if err := e.db.Save(&blank).Error; !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("saving the model: %v, want ErrDiscarded", err)
			}
			var n int64
			if err := e.db.Model(&Food{}).Where("name = ?", "blank").Count(&n).Error; err != nil || n != 0 {
				t.Errorf("%d rows written by the save, %v; want none", n, err)
			}
		})
	})
}

// TestAccessorsOfADiscardedImage checks that the accessors of an image
// whose save rolled back (its files deleted) fail with field.ErrDiscarded,
// as Thumbnail does, whatever the size: SrcSet, Responsive and SignedURL
// answered as for an empty column, with a fallback URL, "" or ErrNoSource,
// while the row holds what it held before, which the Image cannot tell.
func TestAccessorsOfADiscardedImage(t *testing.T) {
	ctx := context.Background()
	e := setupWith(t, openSQLite(t), withKey, &Food{})
	food := newFood(t, "a", pizzaJPG)
	err := e.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&food).Error; err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	// small has no fallback, large has one, gigantic is no size
	for _, size := range []string{"small", "large", "gigantic"} {
		if th, err := food.Image.Thumbnail(ctx, size); !errors.Is(err, field.ErrDiscarded) {
			t.Errorf("Thumbnail(%q) = %+v, %v; want ErrDiscarded", size, th, err)
		}
		if s, err := food.Image.SrcSet(ctx, size); !errors.Is(err, field.ErrDiscarded) {
			t.Errorf("SrcSet(%q) = %q, %v; want ErrDiscarded", size, s, err)
		}
		if r, err := food.Image.Responsive(ctx, size, "small"); !errors.Is(err, field.ErrDiscarded) || r != (field.Responsive{}) {
			t.Errorf("Responsive(%q, small) = %+v, %v; want ErrDiscarded", size, r, err)
		}
		if u, err := food.Image.SignedURL(size); !errors.Is(err, field.ErrDiscarded) || u != "" {
			t.Errorf("SignedURL(%q) = %q, %v; want ErrDiscarded", size, u, err)
		}
	}
	if p, err := food.Image.Placeholder(ctx); !errors.Is(err, field.ErrDiscarded) || p != "" {
		t.Errorf("Placeholder() = %q, %v; want ErrDiscarded", p, err)
	}
}
