package thumbnails_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// seedSources inserts n Food rows named g1 ... gn whose sources have a
// small thumbnail recorded (no files: the cleanup of a missing file is not
// an error), with SQL that SQLite and PostgreSQL both run.
func seedSources(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	const series = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < ?) `
	if err := db.Exec(series+`INSERT INTO foods (name, image) SELECT 'g'||i, 'foods/g'||i||'.jpg' FROM s`, n).Error; err != nil {
		t.Fatal(err)
	}
	meta := metadataOf(db)
	if _, ok := meta.(backends.TxMetadata); !ok { // Redis
		ctx := context.Background()
		for i := 1; i <= n; i++ {
			src := fmt.Sprintf("foods/g%d.jpg", i)
			if err := meta.Put(ctx, src, backends.Thumbnail{Size: "small", Name: fmt.Sprintf("thumbnails/foods/g%d_small.png", i), Width: 80, Height: 80}); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, q := range []string{
		series + `INSERT INTO thumbnails_sources (name, created_at) SELECT 'foods/g'||i||'.jpg', CURRENT_TIMESTAMP FROM s`,
		series + `INSERT INTO thumbnails_thumbnails (source, size, name, width, height, created_at) SELECT 'foods/g'||i||'.jpg', 'small', 'thumbnails/foods/g'||i||'_small.png', 80, 80, CURRENT_TIMESTAMP FROM s`,
	} {
		if err := db.Exec(q, n).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeleteManyDrainsAll checks that one statement releasing more sources
// than a drain reads at a time (500) has them all cleaned up at its commit,
// not only the first ones.
func TestDeleteManyDrainsAll(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		seedSources(t, db, 1200)
		if err := db.Where("name LIKE ?", "g%").Delete(&Food{}).Error; err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "thumbnails_outbox"); n != 0 {
			t.Errorf("%d sources still queued after the commit, want 0", n)
		}
		left, err := metadataOf(db).ThumbnailsOf(context.Background(), []string{"foods/g1.jpg", "foods/g600.jpg", "foods/g1200.jpg"})
		if err != nil || len(left) != 0 {
			t.Errorf("records left: %v, %v", left, err)
		}
	})
}

// TestReleaseOverParameterLimit checks that a delete or a clear releasing
// more sources than one INSERT of the outbox can hold parameters for
// (SQLite: 32,766, four a row; PostgreSQL: 65,535) works. On PostgreSQL it
// runs in a transaction that is rolled back, which keeps every row.
func TestReleaseOverParameterLimit(t *testing.T) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *gorm.DB
		rows int
	}{{"sqlite", openSQLite, 8200}, {"postgres", testdb.Postgres, 16400}} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			setup(t, db, &Food{})
			seedSources(t, db, d.rows)
			postgres := d.name == "postgres"
			undo := errors.New("undo")
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Model(&Food{}).Where("name LIKE ?", "g%").Update("image", "").Error; err != nil {
					return err
				}
				if got := count(t, tx, "thumbnails_outbox"); got != int64(d.rows) {
					t.Errorf("%d sources queued, want %d", got, d.rows)
				}
				if postgres {
					return undo
				}
				return nil
			})
			if err != nil && !errors.Is(err, undo) {
				t.Fatalf("clearing %d images: %v", d.rows, err)
			}
			if got := count(t, db, "thumbnails_outbox"); got != 0 {
				t.Errorf("%d sources still queued after the transaction", got)
			}
		})
	}
}

// MixedCase has an image column whose name PostgreSQL keeps only quoted.
type MixedCase struct {
	ID    uint
	Image field.Image `gorm:"column:PhotoFile" thumbnails:"sizes:small;dir:mixed"`
}

// TestDrainQuotesColumns checks that the cleanup after a delete finds the
// references in a column whose name needs quoting, and deletes the files.
func TestDrainQuotesColumns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &MixedCase{})
		row := MixedCase{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		if n := len(e.files(t)); n != 2 {
			t.Fatalf("%d files stored, want the source and small", n)
		}
		if err := db.Delete(&row).Error; err != nil {
			t.Fatal(err)
		}
		if files := e.files(t); len(files) != 0 || count(t, db, "thumbnails_outbox") != 0 {
			t.Errorf("after the delete: files %v, %d queued; want none", files, count(t, db, "thumbnails_outbox"))
		}
	})
}

// TestGlobalUpdateAndDelete: gorm's all-rows statements (a session with
// AllowGlobalUpdate) release every row's image like any other: clearing
// the column, then deleting the rows, each leave nothing behind.
func TestGlobalUpdateAndDelete(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		all := db.Session(&gorm.Session{AllowGlobalUpdate: true})
		for _, clear := range []bool{true, false} {
			var names []string
			for i := range 2 {
				row := Food{Name: fmt.Sprint("g", i), Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
				if err := db.Create(&row).Error; err != nil {
					t.Fatal(err)
				}
				names = append(names, row.Image.Name())
			}
			var err error
			if clear {
				err = all.Model(&Food{}).Update("image", "").Error
			} else {
				err = all.Delete(&Food{}).Error
			}
			if err != nil {
				t.Fatalf("global update (clear %v): %v", clear, err)
			}
			for _, n := range names {
				if e.exists(t, n) {
					t.Errorf("clear %v: %s is still stored", clear, n)
				}
			}
			if files := e.files(t); len(files) != 0 {
				t.Errorf("clear %v: files left %v", clear, files)
			}
			if clear {
				if err := all.Delete(&Food{}).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestCopiedImageReleasesTheOld: putting a row's stored image in another
// row (b.Image = a.Image) or in another column of the row (d.Cover =
// d.Photo) and saving releases what that column held. The copy carried
// the other column's "unchanged since loaded" state, so the old image was
// never read, nor cleaned up.
func TestCopiedImageReleasesTheOld(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{}, &Dish{})
		upload := func() field.Image { return field.NewImage("p.jpg", reader(photo(t, pizzaJPG))) }
		a, b := Food{Name: "a", Image: upload()}, Food{Name: "b", Image: upload()}
		for _, row := range []*Food{&a, &b} {
			if err := db.Create(row).Error; err != nil {
				t.Fatal(err)
			}
		}
		var la, lb Food
		if err := db.First(&la, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.First(&lb, b.ID).Error; err != nil {
			t.Fatal(err)
		}
		oldB := lb.Image.Name()
		lb.Image = la.Image
		if err := db.Save(&lb).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, oldB) {
			t.Errorf("b's old image %s is still stored, referenced by no row", oldB)
		}
		if !e.exists(t, a.Image.Name()) {
			t.Errorf("a's image %s, now in both rows, is gone", a.Image.Name())
		}

		// through one variable: the copy is put back at the address it was
		// bound at, in another row
		c := Food{Name: "c", Image: upload()}
		if err := db.Create(&c).Error; err != nil {
			t.Fatal(err)
		}
		var f Food
		if err := db.First(&f, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		img := f.Image
		f = Food{}
		if err := db.First(&f, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		oldC := f.Image.Name()
		f.Image = img
		if err := db.Save(&f).Error; err != nil {
			t.Fatal(err)
		}
		var now Food
		if err := db.First(&now, c.ID).Error; err != nil || now.Image.Name() != a.Image.Name() {
			t.Errorf("row c holds %q, %v; want a's image %q", now.Image.Name(), err, a.Image.Name())
		}
		if e.exists(t, oldC) {
			t.Errorf("c's old image %s is still stored, referenced by no row", oldC)
		}

		d := Dish{Photo: upload(), Cover: upload()}
		if err := db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		oldCover := d.Cover.Name()
		d.Cover = d.Photo
		if err := db.Save(&d).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, oldCover) {
			t.Errorf("the dish's old cover %s is still stored, referenced by no row", oldCover)
		}
		if !e.exists(t, d.Photo.Name()) {
			t.Errorf("the dish's photo %s, now in both columns, is gone", d.Photo.Name())
		}
	})
}

// TestStaleSaveKeepsTheNewImage: a row loaded before another request
// replaced its image, then saved with only its name changed, leaves the
// new image in place: by Save, by Updates of the row, and by Updates of
// another struct given the row's image (Model(&row).Updates(Food{...})).
// Writing back the image it was loaded with (as gorm's Save writes every
// column) pointed the row at the files the replace had deleted.
func TestStaleSaveKeepsTheNewImage(t *testing.T) {
	saves := map[string]func(db *gorm.DB, stale *Food) error{
		"Save":    func(db *gorm.DB, stale *Food) error { return db.Save(stale).Error },
		"Updates": func(db *gorm.DB, stale *Food) error { return db.Updates(stale).Error },
		"Model.Updates(struct)": func(db *gorm.DB, stale *Food) error {
			return db.Model(stale).Updates(Food{Name: stale.Name, Image: stale.Image}).Error
		},
		"Model.Updates(pointer)": func(db *gorm.DB, stale *Food) error {
			return db.Model(stale).Updates(&Food{Name: stale.Name, Image: stale.Image}).Error
		},
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		for how, save := range saves {
			row := Food{Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
			var stale, other Food
			if err := db.First(&stale, row.ID).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.First(&other, row.ID).Error; err != nil {
				t.Fatal(err)
			}
			other.Image = field.NewImage("q.jpg", reader(photo(t, pastaJPG)))
			if err := db.Save(&other).Error; err != nil {
				t.Fatal(err)
			}
			stale.Name = "margherita"
			if err := save(db, &stale); err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			var now Food
			if err := db.First(&now, row.ID).Error; err != nil {
				t.Fatal(err)
			}
			if now.Name != "margherita" || now.Image.Name() != other.Image.Name() {
				t.Fatalf("%s: row = %q, %q; want the new name and the replacing image %q", how, now.Name, now.Image.Name(), other.Image.Name())
			}
			if !e.exists(t, now.Image.Name()) {
				t.Errorf("%s: the row's image %s is not stored", how, now.Image.Name())
			}
			if th, err := now.Image.Thumbnail(ctx, "small"); err != nil || !e.exists(t, th.Name) {
				t.Errorf("%s: small: %+v, %v", how, th, err)
			}
		}
	})
}

// TestUnchangedIsTheRowsOwn: an image is left out of an update as
// unchanged only when it is what the updated row's column held when the
// plugin last read or wrote it. Not when the struct saved is another row's
// (Model(&b).Updates(&a)), nor when a statement that did not write the
// column (Update("name", ...)) came between the change and the Save.
func TestUnchangedIsTheRowsOwn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		upload := func() field.Image { return field.NewImage("p.jpg", reader(photo(t, pizzaJPG))) }
		a, b := Food{Name: "a", Image: upload()}, Food{Name: "b", Image: upload()}
		for _, row := range []*Food{&a, &b} {
			if err := db.Create(row).Error; err != nil {
				t.Fatal(err)
			}
		}
		holds := func(id uint) string {
			var f Food
			if err := db.First(&f, id).Error; err != nil {
				t.Fatal(err)
			}
			return f.Image.Name()
		}
		if err := db.Model(&b).Omit("id").Updates(&a).Error; err != nil {
			t.Fatal(err)
		}
		if got := holds(b.ID); got != a.Image.Name() {
			t.Errorf("Model(&b).Updates(&a): b holds %q, want a's image %q", got, a.Image.Name())
		}

		c := Food{Name: "c", Image: upload()}
		if err := db.Create(&c).Error; err != nil {
			t.Fatal(err)
		}
		c.Image = a.Image
		if err := db.Model(&c).Update("name", "c2").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Save(&c).Error; err != nil {
			t.Fatal(err)
		}
		if got := holds(c.ID); got != a.Image.Name() {
			t.Errorf("copy, Update(name), Save: c holds %q, want a's image %q", got, a.Image.Name())
		}
		c.Image = field.Image{}
		if err := db.Model(&c).Update("name", "c3").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Save(&c).Error; err != nil {
			t.Fatal(err)
		}
		if got := holds(c.ID); got != "" {
			t.Errorf("clear, Update(name), Save: c holds %q, want nothing", got)
		}
	})
}

// TestSwappedColumnsKeepTheirImages: a row whose two image columns swap
// their images keeps both: each column let go of what the other now holds.
// The cleanup checked each column only for what it had let go of itself,
// and deleted both. By Save, and by Updates with a map.
func TestSwappedColumnsKeepTheirImages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Dish{})
		ctx := context.Background()
		d := Dish{Photo: field.NewImage("p.jpg", reader(photo(t, pizzaJPG))), Cover: field.NewImage("q.jpg", reader(photo(t, pastaJPG)))}
		if err := db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		check := func(how string, photoName, coverName string) {
			t.Helper()
			var got Dish
			if err := db.First(&got, d.ID).Error; err != nil {
				t.Fatal(err)
			}
			if got.Photo.Name() != photoName || got.Cover.Name() != coverName {
				t.Errorf("%s: photo %q, cover %q; want %q, %q", how, got.Photo.Name(), got.Cover.Name(), photoName, coverName)
			}
			for size, img := range map[string]*field.Image{"small": &got.Photo, "medium": &got.Cover} {
				if !e.exists(t, img.Name()) {
					t.Errorf("%s: %s is gone", how, img.Name())
				}
				if th, err := img.Thumbnail(ctx, size); err != nil || !e.exists(t, th.Name) {
					t.Errorf("%s: %s of %s: %+v, %v", how, size, img.Name(), th, err)
				}
			}
		}
		p, c := d.Photo.Name(), d.Cover.Name()
		d.Photo, d.Cover = d.Cover, d.Photo
		if err := db.Save(&d).Error; err != nil {
			t.Fatal(err)
		}
		check("Save", c, p)
		if err := db.Model(&d).Updates(map[string]any{"photo": p, "cover": c}).Error; err != nil {
			t.Fatal(err)
		}
		check("Updates(map)", p, c)
	})
}
