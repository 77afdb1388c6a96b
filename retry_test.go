package thumbnails_test

import (
	"context"
	"errors"
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
