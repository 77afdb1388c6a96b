package thumbnails_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestStaleUpsertKeepsTheNewImage is TestStaleSaveKeepsTheNewImage for the
// saves that gorm makes as an insert with ON CONFLICT DO UPDATE of every
// column: Save of a slice of rows, and Save of a row whose update matched
// no row, so that gorm inserts it (a row soft-deleted meanwhile, a Where
// that no longer holds). A row loaded before another statement replaced
// its image wrote the old name back, and the new image was deleted as
// replaced: the row pointed at missing files. The row keeps the new image,
// and so does its struct; another row of the same slice saved with a new
// upload gets it.
func TestStaleUpsertKeepsTheNewImage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{}, &Dish{})
		ctx := context.Background()
		// replaceLater loads two copies of a new row, replaces the image
		// through one and returns the other, stale, and the new name.
		replaceLater := func(name string) (stale Food, replacing string) {
			t.Helper()
			a := newFood(t, name, pizzaJPG)
			if err := db.Create(&a).Error; err != nil {
				t.Fatal(err)
			}
			var other Food
			if err := db.First(&stale, a.ID).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.First(&other, a.ID).Error; err != nil {
				t.Fatal(err)
			}
			other.Image = field.NewImage("q.jpg", reader(photo(t, pastaJPG)))
			if err := db.Save(&other).Error; err != nil {
				t.Fatal(err)
			}
			return stale, other.Image.Name()
		}
		holds := func(how string, id uint, want string) {
			t.Helper()
			var now Food
			if err := db.First(&now, id).Error; err != nil {
				t.Fatal(err)
			}
			if now.Image.Name() != want || !e.exists(t, want) {
				t.Errorf("%s: row holds %q (stored: %v), want %q", how, now.Image.Name(), e.exists(t, now.Image.Name()), want)
			}
			if th, err := now.Image.Thumbnail(ctx, "small"); err != nil || !e.exists(t, th.Name) {
				t.Errorf("%s: small: %+v, %v", how, th, err)
			}
		}

		// A slice: one stale row, one with a new upload.
		stale, replacing := replaceLater("a")
		fresh := newFood(t, "b", soupJPG)
		if err := db.Create(&fresh).Error; err != nil {
			t.Fatal(err)
		}
		old := fresh.Image.Name()
		stale.Name = "a2"
		fresh.Image = field.NewImage("s.jpg", reader(photo(t, pizzaJPG)))
		rows := []Food{stale, fresh}
		if err := db.Save(&rows).Error; err != nil {
			t.Fatal(err)
		}
		holds("slice, stale row", stale.ID, replacing)
		if rows[0].Image.Name() != replacing {
			t.Errorf("slice: the stale struct holds %q, want the row's %q", rows[0].Image.Name(), replacing)
		}
		holds("slice, new upload", fresh.ID, rows[1].Image.Name())
		if e.exists(t, old) {
			t.Errorf("slice: the replaced upload %s is still stored", old)
		}

		// Save with a Where that no longer holds: gorm inserts.
		stale, replacing = replaceLater("c")
		if err := db.Model(&Food{}).Where("id = ?", stale.ID).Update("name", "d").Error; err != nil {
			t.Fatal(err)
		}
		stale.Name = "e"
		if err := db.Where("name = ?", "c").Save(&stale).Error; err != nil {
			t.Fatal(err)
		}
		holds("Save with a Where", stale.ID, replacing)

		// A soft-deleted row: its update matches nothing, and gorm's
		// insert brings it back.
		d := Dish{Photo: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		var staleDish, other Dish
		if err := db.First(&staleDish, d.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.First(&other, d.ID).Error; err != nil {
			t.Fatal(err)
		}
		other.Photo = field.NewImage("q.jpg", reader(photo(t, pastaJPG)))
		if err := db.Save(&other).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Delete(&other).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Save(&staleDish).Error; err != nil {
			t.Fatal(err)
		}
		var now Dish
		if err := db.Unscoped().First(&now, d.ID).Error; err != nil {
			t.Fatal(err)
		}
		if now.Photo.Name() != other.Photo.Name() || !e.exists(t, now.Photo.Name()) {
			t.Errorf("soft-deleted row: holds %q (stored: %v), want %q", now.Photo.Name(), e.exists(t, now.Photo.Name()), other.Photo.Name())
		}
	})
}
