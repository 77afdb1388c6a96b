package thumbnails_test

import (
	"errors"
	"slices"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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
		column := func(table string, id uint) string { t.Helper(); return imageColumn(t, db, table, id) }

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

// Trophy is a Medal that is deleted softly: Save of a soft-deleted row
// inserts it again with ON CONFLICT DO UPDATE of every column.
type Trophy struct {
	ID        uint
	Name      string
	Image     field.Image `gorm:"<-:create" thumbnails:"sizes:small"`
	DeletedAt gorm.DeletedAt
}

// TestUpsertIntoCreateOnlyColumn upserts uploads into a create-only image
// column (gorm's "<-:create"). gorm's ON CONFLICT DO UPDATE of every column
// (UpdateAll, Save of a slice, Save of a soft-deleted row) leaves the
// column out: a row that exists keeps its image, and the upload stored for
// it is deleted and its Image discarded, while a row inserted holds its
// upload. A DoUpdates that names the column writes it, as gorm does.
func TestUpsertIntoCreateOnlyColumn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Medal{}, &Trophy{})
		column := func(table string, id uint) string { t.Helper(); return imageColumn(t, db, table, id) }
		discarded := func(what string, img field.Image) {
			t.Helper()
			if _, err := img.Thumbnail(t.Context(), "small"); !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("%s: the Image names %q, which its row does not hold, and is not discarded (Thumbnail: %v)", what, img.Name(), err)
			}
		}
		sameFiles := func(what string, want []string) {
			t.Helper()
			if got := e.files(t); !slices.Equal(got, want) {
				t.Errorf("%s: files %v, want %v", what, got, want)
			}
		}

		medal := Medal{Name: "a", Image: newFood(t, "", pizzaJPG).Image}
		if err := db.Create(&medal).Error; err != nil {
			t.Fatal(err)
		}
		first := medal.Image.Name()
		before := e.files(t)

		again := Medal{ID: medal.ID, Name: "b", Image: newFood(t, "", pastaJPG).Image}
		if err := db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&again).Error; err != nil {
			t.Fatal(err)
		}
		if got := column("medals", medal.ID); got != first {
			t.Fatalf("UpdateAll wrote the create-only column: %q, want %q", got, first)
		}
		discarded("UpdateAll", again.Image)
		sameFiles("UpdateAll", before)

		// A batch: the row that exists keeps its image, the new one holds
		// its upload.
		for _, c := range []struct {
			name string
			save func(rows *[]Medal) error
		}{
			{"Create with UpdateAll", func(rows *[]Medal) error {
				return db.Clauses(clause.OnConflict{UpdateAll: true}).Create(rows).Error
			}},
			{"Save of a slice", func(rows *[]Medal) error { return db.Save(rows).Error }},
		} {
			name, save := c.name, c.save
			rows := []Medal{
				{ID: medal.ID, Name: "c", Image: newFood(t, "", soupJPG).Image},
				{Name: "new", Image: newFood(t, "", pastaJPG).Image},
			}
			if err := save(&rows); err != nil {
				t.Fatal(err)
			}
			if got := column("medals", medal.ID); got != first {
				t.Fatalf("%s wrote the create-only column: %q, want %q", name, got, first)
			}
			discarded(name, rows[0].Image)
			added := rows[1].Image.Name()
			if added == "" || column("medals", rows[1].ID) != added || !e.exists(t, added) {
				t.Errorf("%s: the inserted row's image %q, column %q", name, added, column("medals", rows[1].ID))
			}
			if small, err := rows[1].Image.Thumbnail(t.Context(), "small"); err != nil || !e.exists(t, small.Name) {
				t.Errorf("%s: the inserted row's small: %+v, %v", name, small, err)
			}
			if err := db.Delete(&rows[1]).Error; err != nil {
				t.Fatal(err)
			}
			sameFiles(name+", the new row deleted", before)
		}

		// Save of a soft-deleted row: its update matches no row, and gorm
		// inserts it with ON CONFLICT DO UPDATE of every column.
		trophy := Trophy{Name: "a", Image: newFood(t, "", pizzaJPG).Image}
		if err := db.Create(&trophy).Error; err != nil {
			t.Fatal(err)
		}
		kept := trophy.Image.Name()
		if err := db.Delete(&trophy).Error; err != nil {
			t.Fatal(err)
		}
		withTrophy := e.files(t)
		revived := Trophy{ID: trophy.ID, Name: "b", Image: newFood(t, "", pastaJPG).Image}
		if err := db.Save(&revived).Error; err != nil {
			t.Fatal(err)
		}
		if got := column("trophies", trophy.ID); got != kept {
			t.Fatalf("Save of a soft-deleted row wrote the create-only column: %q, want %q", got, kept)
		}
		discarded("Save of a soft-deleted row", revived.Image)
		sameFiles("Save of a soft-deleted row", withTrophy)

		// gorm writes a column that DoUpdates names, whatever its tag: the
		// row holds the upload, and the name it held is released.
		named := Medal{ID: medal.ID, Name: "d", Image: newFood(t, "", pastaJPG).Image}
		err := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"name", "image"})}).Create(&named).Error
		if err != nil {
			t.Fatal(err)
		}
		now := named.Image.Name()
		if now == "" || now == first || column("medals", medal.ID) != now || !e.exists(t, now) {
			t.Errorf("DoUpdates of the column: the Image names %q, the column %q (it held %q)", now, column("medals", medal.ID), first)
		}
		if small, err := named.Image.Thumbnail(t.Context(), "small"); err != nil || !e.exists(t, small.Name) {
			t.Errorf("DoUpdates of the column: small %+v, %v", small, err)
		}
		if e.exists(t, first) {
			t.Errorf("DoUpdates of the column: the replaced image %q is still stored", first)
		}
	})
}

// imageColumn returns what the image column of table's row id holds ("" for
// NULL).
func imageColumn(t *testing.T, db *gorm.DB, table string, id uint) string {
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
