package thumbnails_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// Medal's image is written when its row is created, never by an update
// (gorm's "<-:create").
type Medal struct {
	ID    uint
	Name  string
	Image field.Image `gorm:"<-:create" thumbnails:"sizes:small"`
}

// Seal's image is read only (gorm's "->"): written by something else.
type Seal struct {
	ID    uint
	Image field.Image `gorm:"->" thumbnails:"sizes:small"`
}

// Voucher's image is written by updates only (gorm's "<-:update").
type Voucher struct {
	ID    uint
	Image field.Image `gorm:"<-:update" thumbnails:"sizes:small"`
}

// TestColumnPermissions saves uploads to image columns that gorm does not
// write in the statement, by their permission tags: nothing is stored for
// them, and the column keeps what it held; where gorm writes the column,
// the upload is stored as in any other.
func TestColumnPermissions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Medal{}, &Seal{}, &Voucher{})
		column := func(table string, id uint) string {
			t.Helper()
			var name *string
			if err := db.Table(table).Select("image").Where("id = ?", id).Scan(&name).Error; err != nil {
				t.Fatal(err)
			}
			if name == nil {
				return ""
			}
			return *name
		}

		medal := Medal{Name: "a", Image: newFood(t, "", pizzaJPG).Image}
		if err := db.Create(&medal).Error; err != nil {
			t.Fatal(err)
		}
		first := medal.Image.Name()
		if first == "" || column("medals", medal.ID) != first {
			t.Fatalf("a create-only column on create: %q, column %q", first, column("medals", medal.ID))
		}
		files := e.files(t)
		medal.Name = "b"
		medal.Image = newFood(t, "", pastaJPG).Image
		if err := db.Save(&medal).Error; err != nil {
			t.Fatal(err)
		}
		if got := column("medals", medal.ID); got != first {
			t.Errorf("a create-only column after an update: %q, want %q", got, first)
		}
		if got := e.files(t); len(got) != len(files) {
			t.Errorf("an update stored an upload to a create-only column: %v, was %v", got, files)
		}

		seal := Seal{Image: newFood(t, "", pizzaJPG).Image}
		if err := db.Create(&seal).Error; err != nil {
			t.Fatal(err)
		}
		if got := e.files(t); len(got) != len(files) || column("seals", seal.ID) != "" {
			t.Errorf("a create stored an upload to a read-only column: files %v, column %q", got, column("seals", seal.ID))
		}

		voucher := Voucher{Image: newFood(t, "", pizzaJPG).Image}
		if err := db.Create(&voucher).Error; err != nil {
			t.Fatal(err)
		}
		if got := e.files(t); len(got) != len(files) || column("vouchers", voucher.ID) != "" {
			t.Errorf("a create stored an upload to an update-only column: files %v, column %q", got, column("vouchers", voucher.ID))
		}
		voucher.Image = newFood(t, "", pastaJPG).Image
		if err := db.Save(&voucher).Error; err != nil {
			t.Fatal(err)
		}
		if name := voucher.Image.Name(); name == "" || column("vouchers", voucher.ID) != name || !e.exists(t, name) {
			t.Errorf("an update-only column after an update: %q, column %q", name, column("vouchers", voucher.ID))
		}
	})
}
