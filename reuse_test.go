package thumbnails_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// FailAvatar fails its update in AfterUpdate when Fail is set, after its
// BeforeUpdate set an upload with SetColumn when Column is set.
type FailAvatar struct {
	ID     uint
	Name   string
	Image  field.Image `thumbnails:"sizes:small,medium"`
	Column []byte      `gorm:"-"`
	Fail   bool        `gorm:"-"`
}

func (a *FailAvatar) BeforeUpdate(tx *gorm.DB) error {
	if a.Column != nil {
		tx.Statement.SetColumn("Image", field.NewImage("col.jpg", reader(a.Column)))
	}
	return nil
}

func (a *FailAvatar) AfterUpdate(*gorm.DB) error {
	if a.Fail {
		return errors.New("fail")
	}
	return nil
}

// TestReusedStatement: a *gorm.DB reused for a second Updates (gorm
// reuses its Statement). The first stores upload A and commits; the second
// fails, after storing B through SetColumn in BeforeUpdate, or storing
// nothing. The committed row still references A, whose files stay.
func TestReusedStatement(t *testing.T) {
	for _, hookUpload := range []bool{true, false} {
		t.Run(map[bool]string{true: "second stores an upload", false: "second stores nothing"}[hookUpload], func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				e := setup(t, db, &FailAvatar{})
				jpg := photo(t, pizzaJPG)
				a := FailAvatar{Name: "ada"}
				if err := db.Create(&a).Error; err != nil {
					t.Fatal(err)
				}
				q := db.Model(&a)
				if err := q.Updates(map[string]any{"image": field.NewImage("a.jpg", reader(jpg))}).Error; err != nil {
					t.Fatal(err)
				}
				var got FailAvatar
				if err := db.First(&got, a.ID).Error; err != nil || got.Image.Name() == "" {
					t.Fatal(got.Image.Name(), err)
				}
				name := got.Image.Name()
				if a.Fail = true; hookUpload {
					a.Column = jpg
				}
				if err := q.Updates(map[string]any{"name": "bob"}).Error; err == nil {
					t.Fatal("second Updates did not fail")
				}
				if err := db.First(&got, a.ID).Error; err != nil || got.Image.Name() != name {
					t.Fatalf("row holds %q (%v), want %q", got.Image.Name(), err, name)
				}
				if !e.exists(t, name) {
					t.Errorf("the failed second statement deleted %q, which the committed row holds (files: %v)", name, e.files(t))
				}
				if files := e.files(t); len(files) != 3 {
					t.Errorf("%d files, want the 3 of A: %v", len(files), files)
				}
			})
		})
	}
}
