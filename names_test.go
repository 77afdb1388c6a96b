package thumbnails_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestUncleanNamesRefused: a name written into an image column must be a
// clean storage name. "./foods/x.jpg" is another row's "foods/x.jpg" to the
// storage but not to the reference check, so deleting the row that holds
// it would delete the other row's files; "../x" and "/etc/x" name files
// outside the storage. Each is refused with backends.ErrInvalidName, the
// row keeps its image, and no URL or signed URL is made of such a name.
func TestUncleanNamesRefused(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setupWith(t, db, withKey, &Food{})
		a := Food{Name: "a", Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}
		b := Food{Name: "b", Image: field.NewImage("b.jpg", reader(photo(t, pizzaJPG)))}
		for _, row := range []*Food{&a, &b} {
			if err := db.Create(row).Error; err != nil {
				t.Fatal(err)
			}
		}
		aName, bName := a.Image.Name(), b.Image.Name()
		files := e.files(t)
		for _, name := range []string{"./" + aName, "foods//" + aName[len("foods/"):], "../secret.jpg", "/etc/passwd", "foods/a\x00.jpg", `foods\a.jpg`} {
			writes := map[string]func() error{
				"Update": func() error { return db.Model(&b).Update("image", name).Error },
				"Updates(map)": func() error {
					return db.Model(&b).Updates(map[string]any{"name": "x", "image": name}).Error
				},
				"Create": func() error {
					var img field.Image
					if err := img.Scan(name); err != nil {
						t.Fatal(err)
					}
					return db.Create(&Food{Name: "c", Image: img}).Error
				},
			}
			for how, write := range writes {
				if err := write(); !errors.Is(err, backends.ErrInvalidName) {
					t.Errorf("%s %q: err = %v, want ErrInvalidName", how, name, err)
				}
			}
		}
		var got Food
		if err := db.First(&got, b.ID).Error; err != nil || got.Image.Name() != bName {
			t.Fatalf("b holds %q (%v), want %q", got.Image.Name(), err, bName)
		}
		var count int64
		if err := db.Model(&Food{}).Count(&count).Error; err != nil || count != 2 {
			t.Fatalf("%d rows (%v), want 2", count, err)
		}
		if err := db.Delete(&got).Error; err != nil {
			t.Fatal(err)
		}
		var kept Food
		if err := db.First(&kept, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, aName) {
			t.Errorf("a's source %s was deleted with b", aName)
		}
		if len(e.files(t)) != len(files)/2 {
			t.Errorf("files after b's delete: %v (before: %v)", e.files(t), files)
		}

		// A name that came in by other means than the plugin (raw SQL).
		if err := db.Exec("UPDATE foods SET image = ? WHERE id = ?", "../secret.jpg", a.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.First(&kept, a.ID).Error; err != nil || kept.Image.Name() != "../secret.jpg" {
			t.Fatalf("loaded %q, %v", kept.Image.Name(), err)
		}
		if url := kept.Image.URL(); url != "" {
			t.Errorf("URL of %q = %q, want none", kept.Image.Name(), url)
		}
		if url, err := kept.Image.SignedURL("large"); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("SignedURL of %q = %q, %v; want ErrInvalidName", kept.Image.Name(), url, err)
		}
		// Saving the row again with another column changed is not refused
		// for the name it already holds.
		kept.Name = "renamed"
		if err := db.Save(&kept).Error; err != nil {
			t.Errorf("Save of a row holding %q with its name changed: %v", kept.Image.Name(), err)
		}
	})
}

func TestJoinURLRefusesUncleanNames(t *testing.T) {
	for name, want := range map[string]string{
		"foods/a.jpg":     "/media/foods/a.jpg",
		"foods/a b.jpg":   "/media/foods/a%20b.jpg",
		"../a.jpg":        "",
		"foods/../a.jpg":  "",
		"./a.jpg":         "",
		"foods//a.jpg":    "",
		"/a.jpg":          "",
		"foods/":          "",
		"":                "/media/",
		"foods/a\x00.jpg": "/media/foods/a%00.jpg",
	} {
		if got := backends.JoinURL("/media/", name); got != want {
			t.Errorf("JoinURL(%q) = %q, want %q", name, got, want)
		}
	}
}
