package thumbnails_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// Billboard is another model whose image may hold a Food's source.
type Billboard struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:small"`
}

// TestSharedSources gives one stored source to another column of the same
// row and to a row of another model, then lets go of it where it was
// saved: the file stays while a committed row still holds its name, and
// goes with the last one.
func TestSharedSources(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		e := setup(t, db, &Dish{}, &Food{}, &Billboard{})

		dish := Dish{Photo: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&dish).Error; err != nil {
			t.Fatal(err)
		}
		shared := dish.Photo.Name()
		// the cover takes the photo's name; then the photo is replaced
		if err := db.Model(&dish).Update("cover", shared).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&dish).Update("photo", field.NewImage("q.jpg", reader(photo(t, pastaJPG)))).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, shared) {
			t.Fatalf("%s was deleted while the row's cover holds it", shared)
		}
		var got Dish
		if err := db.First(&got, dish.ID).Error; err != nil {
			t.Fatal(err)
		}
		if m, err := got.Cover.Thumbnail(ctx, "medium"); err != nil || m.Width != 400 || !e.exists(t, m.Name) {
			t.Errorf("the cover's medium: %+v, %v", m, err)
		}

		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		billboard := Billboard{Image: food.Image}
		if err := db.Create(&billboard).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Delete(&food).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, billboard.Image.Name()) {
			t.Fatalf("%s was deleted while a billboard holds it", billboard.Image.Name())
		}
		if err := db.Delete(&billboard).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, billboard.Image.Name()) {
			t.Errorf("%s stayed after its last row went", billboard.Image.Name())
		}

		// A model the plugin has seen whose table has no such column (an
		// old version of the table) holds nothing back.
		type Ghost struct {
			ID    uint
			Image field.Image `thumbnails:"sizes:small"`
		}
		if err := db.Exec("CREATE TABLE ghosts (id integer PRIMARY KEY)").Error; err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.Model(&Ghost{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		food = newFood(t, "soup", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		old := food.Image.Name()
		food.Image = field.NewImage("r.jpg", reader(photo(t, pastaJPG)))
		if err := db.Save(&food).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, old) {
			t.Errorf("%s stayed after its replace, with a known model's table lacking its column", old)
		}
	})
}

// TestOmittedImageColumn saves rows with the image column left out of the
// statement (Omit, or a Select without it): its upload is not stored, and
// the row keeps the image it had.
func TestOmittedImageColumn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		name := food.Image.Name()
		files := e.files(t)
		for _, tc := range []struct {
			what string
			save func(f *Food) error
		}{
			{"Omit on Save", func(f *Food) error { return db.Omit("image").Save(f).Error }},
			{"Select without it on Save", func(f *Food) error { return db.Select("name").Save(f).Error }},
			{"Omit on Updates", func(f *Food) error { return db.Model(f).Omit("Image").Updates(f).Error }},
		} {
			f := food
			f.Name = "pasta"
			f.Image = field.NewImage("b.jpg", reader(photo(t, pastaJPG)))
			if err := tc.save(&f); err != nil {
				t.Fatalf("%s: %v", tc.what, err)
			}
			var got Food
			if err := db.First(&got, food.ID).Error; err != nil || got.Image.Name() != name || got.Name != "pasta" {
				t.Errorf("%s: row %+v, %v; want name pasta and image %s", tc.what, got, err, name)
			}
			if after := e.files(t); len(after) != len(files) {
				t.Errorf("%s: files %v, want %v", tc.what, after, files)
			}
		}
		if err := db.Omit("image").Create(&Food{Name: "soup", Image: field.NewImage("c.jpg", reader(photo(t, pizzaJPG)))}).Error; err != nil {
			t.Fatal(err)
		}
		if after := e.files(t); len(after) != len(files) {
			t.Errorf("Omit on Create: files %v, want %v", after, files)
		}
	})
}
