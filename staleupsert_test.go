package thumbnails_test

import (
	"context"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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
			stale, other := loadTwice[Food](t, db, a.ID)
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
		staleDish, other := loadTwice[Dish](t, db, d.ID)
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

// Badge has a unique code besides its key.
type Badge struct {
	ID    uint
	Code  string      `gorm:"uniqueIndex;size:40"`
	Image field.Image `thumbnails:"sizes:small;dir:badges"`
}

// TestUpsertOnAUniqueColumnReleasesTheOldImage: an insert whose ON
// CONFLICT names a unique column, not the key, replaces the image of the
// row it conflicts with: the old image is deleted, as a replace's is (it
// stayed, referenced by no row), for UpdateAll and for DoUpdates of the
// image; the row's new image stays.
func TestUpsertOnAUniqueColumnReleasesTheOldImage(t *testing.T) {
	conflicts := map[string]clause.OnConflict{
		"UpdateAll": {Columns: []clause.Column{{Name: "code"}}, UpdateAll: true},
		"DoUpdates": {Columns: []clause.Column{{Name: "code"}}, DoUpdates: clause.AssignmentColumns([]string{"image"})},
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Badge{})
		for how, oc := range conflicts {
			p := Badge{Code: how, Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&p).Error; err != nil {
				t.Fatal(err)
			}
			q := Badge{Code: how, Image: field.NewImage("q.jpg", reader(photo(t, pastaJPG)))}
			if err := db.Clauses(oc).Create(&q).Error; err != nil {
				t.Fatal(err)
			}
			var now Badge
			if err := db.Where("code = ?", how).First(&now).Error; err != nil {
				t.Fatal(err)
			}
			if now.Image.Name() != q.Image.Name() || !e.exists(t, now.Image.Name()) {
				t.Errorf("%s: row holds %q (stored: %v), want %q", how, now.Image.Name(), e.exists(t, now.Image.Name()), q.Image.Name())
			}
			if e.exists(t, p.Image.Name()) {
				t.Errorf("%s: the replaced image %s is still stored", how, p.Image.Name())
			}
		}
	})
}

// TestStaleUpsertOnAUniqueColumn: a stale row upserted with ON CONFLICT on
// a unique column keeps the images of the rows it writes alive: when its
// code is now another row's, that row does not take the stale name (whose
// file is deleted), and an empty code, a value like any other, finds the
// row it conflicts with.
func TestStaleUpsertOnAUniqueColumn(t *testing.T) {
	onCode := clause.OnConflict{Columns: []clause.Column{{Name: "code"}}, UpdateAll: true}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Badge{})
		stored := func(how string) {
			t.Helper()
			var rows []Badge
			if err := db.Order("id").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Image.Name() != "" && !e.exists(t, r.Image.Name()) {
					t.Errorf("%s: row %d (%q) holds %q, whose file is deleted", how, r.ID, r.Code, r.Image.Name())
				}
			}
		}
		// badge creates a badge and loads it twice.
		badge := func(code string) (stale, other Badge) {
			t.Helper()
			a := Badge{Code: code, Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&a).Error; err != nil {
				t.Fatal(err)
			}
			return loadTwice[Badge](t, db, a.ID)
		}

		stale, other := badge("a")
		other.Code, other.Image = "z", field.NewImage("q.jpg", reader(photo(t, pastaJPG)))
		if err := db.Save(&other).Error; err != nil {
			t.Fatal(err)
		}
		c := Badge{Code: "a", Image: field.NewImage("s.jpg", reader(photo(t, soupJPG)))}
		if err := db.Create(&c).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Clauses(onCode).Create(&stale).Error; err != nil {
			t.Fatal(err)
		}
		stored("the code now another row's")

		stale, other = badge("")
		other.Image = field.NewImage("q.jpg", reader(photo(t, pastaJPG)))
		if err := db.Save(&other).Error; err != nil {
			t.Fatal(err)
		}
		rows := []Badge{stale}
		if err := db.Clauses(onCode).Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var now Badge
		if err := db.First(&now, stale.ID).Error; err != nil {
			t.Fatal(err)
		}
		if now.Image.Name() != other.Image.Name() {
			t.Errorf("empty code: row holds %q, want %q", now.Image.Name(), other.Image.Name())
		}
		stored("empty code")
	})
}

// Stamp has no column besides its key and its image.
type Stamp struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:small;dir:stamps"`
}

// TestStaleSaveOfAnImageOnlyModel: a stale row of a model with no other
// column than its image keeps its row's new image when saved. Its image
// column cannot be left out of the update (nothing would be written, and
// Save would insert), so the update writes the name the row holds now; it
// wrote the old name back, whose files the replace had deleted.
func TestStaleSaveOfAnImageOnlyModel(t *testing.T) {
	saves := map[string]func(db *gorm.DB, stale *Stamp) error{
		"Save":    func(db *gorm.DB, stale *Stamp) error { return db.Save(stale).Error },
		"Updates": func(db *gorm.DB, stale *Stamp) error { return db.Updates(stale).Error },
		"Model.Updates(struct)": func(db *gorm.DB, stale *Stamp) error {
			return db.Model(stale).Updates(Stamp{Image: stale.Image}).Error
		},
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Stamp{})
		ctx := context.Background()
		for how, save := range saves {
			a := Stamp{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&a).Error; err != nil {
				t.Fatal(err)
			}
			stale, other := loadTwice[Stamp](t, db, a.ID)
			other.Image = field.NewImage("q.jpg", reader(photo(t, pastaJPG)))
			if err := db.Save(&other).Error; err != nil {
				t.Fatal(err)
			}
			if err := save(db, &stale); err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			var now Stamp
			if err := db.First(&now, a.ID).Error; err != nil {
				t.Fatal(err)
			}
			if now.Image.Name() != other.Image.Name() || !e.exists(t, now.Image.Name()) {
				t.Errorf("%s: row holds %q (stored: %v), want %q", how, now.Image.Name(), e.exists(t, now.Image.Name()), other.Image.Name())
			}
			if th, err := now.Image.Thumbnail(ctx, "small"); err != nil || !e.exists(t, th.Name) {
				t.Errorf("%s: small: %+v, %v", how, th, err)
			}
		}
		// Saved unchanged, a row is written as it is.
		var s Stamp
		if err := db.First(&s).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Save(&s).Error; err != nil || !e.exists(t, s.Image.Name()) {
			t.Errorf("unchanged: %v, stored %v", err, e.exists(t, s.Image.Name()))
		}
		if n := count(t, db, "stamps"); n != int64(len(saves)) {
			t.Errorf("%d rows after the saves, want %d (a save inserted one)", n, len(saves))
		}
	})
}

// loadTwice loads the row of T with key id twice, as two requests would.
func loadTwice[T any](t *testing.T, db *gorm.DB, id uint) (a, b T) {
	t.Helper()
	for _, row := range []*T{&a, &b} {
		if err := db.First(row, id).Error; err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}
