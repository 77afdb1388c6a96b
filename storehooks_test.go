package thumbnails_test

import (
	"bytes"
	"errors"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// Avatar sets its image in gorm's Before hooks: a default upload in
// BeforeCreate when it has none, Replace in BeforeSave, Copy (a name)
// in BeforeCreate, and SetColumn of Column in BeforeUpdate.
type Avatar struct {
	ID      uint
	Name    string
	Image   field.Image `thumbnails:"sizes:small,medium"`
	Default []byte      `gorm:"-"`
	Replace []byte      `gorm:"-"`
	Copy    string      `gorm:"-"`
	Column  []byte      `gorm:"-"`
}

func (a *Avatar) BeforeCreate(*gorm.DB) error {
	if a.Image.IsEmpty() && a.Default != nil {
		a.Image = field.NewImage("default.jpg", bytes.NewReader(a.Default))
	}
	if a.Copy != "" {
		_ = a.Image.Scan(a.Copy)
	}
	return nil
}

func (a *Avatar) BeforeSave(*gorm.DB) error {
	if a.Replace != nil {
		a.Image = field.NewImage("new.jpg", bytes.NewReader(a.Replace))
		a.Replace = nil
	}
	return nil
}

func (a *Avatar) BeforeUpdate(tx *gorm.DB) error {
	if a.Column != nil {
		tx.Statement.SetColumn("Image", field.NewImage("col.jpg", bytes.NewReader(a.Column)))
	}
	return nil
}

// TestUploadSetInBeforeHooks saves uploads that the model's Before hooks
// set, after the plugin stored the statement's own: they are stored with
// their sizes, replace and clean up as any upload does, and a corrupt one
// fails the save and leaves nothing behind.
func TestUploadSetInBeforeHooks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Avatar{})
		ctx := t.Context()
		jpg := photo(t, pizzaJPG)

		// BeforeCreate: a default image for a row created without one.
		a := Avatar{Name: "ada", Default: jpg}
		if err := db.Create(&a).Error; err != nil {
			t.Fatalf("Create with an upload set in BeforeCreate: %v", err)
		}
		first := a.Image.Name()
		if first == "" || !e.exists(t, first) {
			t.Fatalf("the hook's upload was not stored: %q", first)
		}
		small, err := a.Image.Thumbnail(ctx, "small")
		if err != nil || small.Width != 100 || !e.exists(t, small.Name) {
			t.Fatalf("small of the hook's upload: %+v, %v", small, err)
		}
		var got Avatar
		if err := db.First(&got, a.ID).Error; err != nil || got.Image.Name() != first {
			t.Fatalf("the row holds %q (%v), want %q", got.Image.Name(), err, first)
		}

		// BeforeSave: a new image replaces the old one, whose files go.
		got.Replace = jpg
		if err := db.Save(&got).Error; err != nil {
			t.Fatalf("Save with an upload set in BeforeSave: %v", err)
		}
		second := got.Image.Name()
		if second == first || !e.exists(t, second) {
			t.Fatalf("after the replace the row holds %q (stored: %v)", second, e.exists(t, second))
		}
		if e.exists(t, first) || e.exists(t, small.Name) {
			t.Error("the replaced image's files stayed")
		}

		// BeforeUpdate through SetColumn, with Updates of a map.
		upd := Avatar{ID: got.ID, Column: jpg}
		if err := db.Model(&upd).Updates(map[string]any{"name": "bob"}).Error; err != nil {
			t.Fatalf("Updates with an upload set by SetColumn in BeforeUpdate: %v", err)
		}
		var after Avatar
		if err := db.First(&after, got.ID).Error; err != nil {
			t.Fatal(err)
		}
		third := after.Image.Name()
		if third == second || third == "" || !e.exists(t, third) {
			t.Fatalf("after SetColumn the row holds %q, was %q", third, second)
		}
		if e.exists(t, second) {
			t.Error("the image SetColumn replaced stayed")
		}
		if m, err := after.Image.Thumbnails(ctx); err != nil || len(m) != 2 {
			t.Errorf("thumbnails of the SetColumn upload: %v, %v", m, err)
		}

		// A corrupt upload set by a hook fails the save, leaving nothing.
		before := e.files(t)
		bad := Avatar{Name: "eve", Default: jpg[:len(jpg)/2]}
		err = db.Create(&bad).Error
		if !errors.Is(err, thumbnails.ErrInvalidImage) {
			t.Errorf("Create with a corrupt upload set in BeforeCreate: %v, want ErrInvalidImage", err)
		}
		if n := count(t, db, "avatars"); n != 1 {
			t.Errorf("%d rows after the failed create, want 1", n)
		}
		if now := e.files(t); len(now) != len(before) {
			t.Errorf("the failed create left files: %v, was %v", now, before)
		}
	})
}

// TestUploadSetInBeforeHookRolledBack deletes the files of an upload that
// a BeforeCreate hook set when the caller's transaction rolls back.
func TestUploadSetInBeforeHookRolledBack(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Avatar{})
		var name string
		err := db.Transaction(func(tx *gorm.DB) error {
			a := Avatar{Name: "ada", Default: photo(t, pizzaJPG)}
			if err := tx.Create(&a).Error; err != nil {
				return err
			}
			name = a.Image.Name()
			return errors.New("roll back")
		})
		if err == nil || name == "" {
			t.Fatalf("transaction: %v, stored %q", err, name)
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files left by the rolled-back create: %v", files)
		}
	})
}

// TestNameCopiedInBeforeHook notes a name a BeforeCreate hook copies from
// another row: deleting that row keeps the files the copy holds.
func TestNameCopiedInBeforeHook(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Avatar{})
		orig := Avatar{Name: "ada", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&orig).Error; err != nil {
			t.Fatal(err)
		}
		name := orig.Image.Name()
		copied := Avatar{Name: "bob", Copy: name}
		if err := db.Create(&copied).Error; err != nil || copied.Image.Name() != name {
			t.Fatalf("Create of a copy set in BeforeCreate: %q, %v", copied.Image.Name(), err)
		}
		if err := db.Delete(&orig).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, name) {
			t.Fatal("deleting the original deleted the file its copy holds")
		}
		if err := db.Delete(&copied).Error; err != nil {
			t.Fatal(err)
		}
		if e.exists(t, name) {
			t.Error("deleting the last row that holds it kept the file")
		}
	})
}

// TestHookCopyOfUncleanNameRefused refuses a name a hook sets that is not
// a clean storage name, as it would one set before the save.
func TestHookCopyOfUncleanNameRefused(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Avatar{})
	err := db.Create(&Avatar{Name: "x", Copy: "../etc/passwd"}).Error
	if !errors.Is(err, backends.ErrInvalidName) {
		t.Errorf("Create of ../etc/passwd set in BeforeCreate: %v, want ErrInvalidName", err)
	}
	if n := count(t, db, "avatars"); n != 0 {
		t.Errorf("%d rows, want 0", n)
	}
}

// TestHookReplacesStoredUpload: the first pass stores the row's own
// upload, then BeforeSave replaces it with another upload. The first
// upload is referenced by nothing: its files should not stay.
func TestHookReplacesStoredUpload(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Avatar{})
		jpg := photo(t, pizzaJPG)
		base := Avatar{Name: "base", Image: field.NewImage("a.jpg", reader(jpg))}
		if err := db.Create(&base).Error; err != nil {
			t.Fatal(err)
		}
		perImage := len(e.files(t))
		a := Avatar{Name: "ada", Image: field.NewImage("a.jpg", reader(jpg)), Replace: jpg}
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		if got := len(e.files(t)); got != 2*perImage {
			t.Errorf("%d files after a create whose BeforeSave replaced its stored upload, want %d (one image per row): %v", got, 2*perImage, e.files(t))
		}
	})
}

// TestHookSetColumnReplacesMapUpload: Updates(map) with an upload,
// whose BeforeUpdate SetColumn replaces it with another.
func TestHookSetColumnReplacesMapUpload(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Avatar{})
		jpg := photo(t, pizzaJPG)
		a := Avatar{Name: "ada"}
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		upd := Avatar{ID: a.ID, Column: jpg}
		if err := db.Model(&upd).Updates(map[string]any{"Image": field.NewImage("x.jpg", reader(jpg))}).Error; err != nil {
			t.Fatal(err)
		}
		var got Avatar
		if err := db.First(&got, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		files := e.files(t)
		if len(files) != 3 {
			t.Errorf("%d files after Updates whose SetColumn replaced the stored upload, want 3 (one image): %v; row holds %q", len(files), files, got.Image.Name())
		}
	})
}

// TestHookCopyIntoTable: a name BeforeCreate copies into a row of
// another table (db.Table): deleting the original keeps its files.
func TestHookCopyIntoTable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Avatar{})
		if err := db.Table("avatars_archive").AutoMigrate(&Avatar{}); err != nil {
			t.Fatal(err)
		}
		orig := Avatar{Name: "ada", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&orig).Error; err != nil {
			t.Fatal(err)
		}
		name := orig.Image.Name()
		if err := db.Table("avatars_archive").Create(&Avatar{Name: "bob", Copy: name}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Delete(&orig).Error; err != nil {
			t.Fatal(err)
		}
		if !e.exists(t, name) {
			t.Fatal("deleting the original deleted the file its copy in avatars_archive holds")
		}
	})
}

// ErrAvatar sets Default in BeforeSave and fails BeforeCreate when Fail
// is set.
type ErrAvatar struct {
	ID      uint
	Name    string
	Image   field.Image `thumbnails:"sizes:small,medium"`
	Default []byte      `gorm:"-"`
	Fail    bool        `gorm:"-"`
}

func (a *ErrAvatar) BeforeSave(*gorm.DB) error {
	if a.Default != nil {
		a.Image = field.NewImage("d.jpg", reader(a.Default))
	}
	return nil
}

func (a *ErrAvatar) BeforeCreate(*gorm.DB) error {
	if a.Fail {
		return errors.New("refused")
	}
	return nil
}

// TestHookedUploadCases: an error from a hook after both passes stored,
// Save falling back to Create, ON CONFLICT DO NOTHING, a savepoint rolled
// back, an omitted column, and a slice where some rows get a default.
func TestHookedUploadCases(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Avatar{}, &ErrAvatar{})
		jpg := photo(t, pizzaJPG)

		// hook error after both passes would store: nothing left
		if err := db.Create(&ErrAvatar{Name: "x", Image: field.NewImage("a.jpg", reader(jpg)), Default: jpg, Fail: true}).Error; err == nil {
			t.Fatal("no error")
		}
		if f := e.files(t); len(f) != 0 {
			t.Errorf("hook error left %v", f)
		}

		// Save falling back to Create, upload set in BeforeSave
		s := ErrAvatar{ID: 77, Name: "s", Default: jpg}
		if err := db.Save(&s).Error; err != nil {
			t.Fatal(err)
		}
		var got ErrAvatar
		if err := db.First(&got, 77).Error; err != nil || got.Image.Name() != s.Image.Name() || !e.exists(t, got.Image.Name()) {
			t.Fatalf("save fallback: %q vs %q %v", got.Image.Name(), s.Image.Name(), err)
		}
		if f := e.files(t); len(f) != 3 {
			t.Errorf("save fallback files %v", f)
		}

		// ON CONFLICT DO NOTHING on an existing row, upload from BeforeCreate
		before := e.files(t)
		c := Avatar{ID: 1000, Name: "c", Default: jpg}
		if err := db.Create(&Avatar{ID: 1000, Name: "first"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&c).Error; err != nil {
			t.Fatal(err)
		}
		if f := e.files(t); len(f) != len(before) {
			t.Errorf("DO NOTHING left %v (was %v), image %q", f, before, c.Image.Name())
		}

		// nested transaction rolled back to its savepoint
		err := db.Transaction(func(tx *gorm.DB) error {
			_ = tx.Transaction(func(tx2 *gorm.DB) error {
				if err := tx2.Create(&Avatar{Name: "n", Default: jpg}).Error; err != nil {
					t.Fatal(err)
				}
				return errors.New("inner")
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if f := e.files(t); len(f) != len(before) {
			t.Errorf("savepoint rollback left %v (was %v)", f, before)
		}

		// Omit of the image column with SetColumn in the hook
		if err := db.Model(&Avatar{ID: 1000, Column: jpg}).Omit("image").Updates(map[string]any{"name": "z"}).Error; err != nil {
			t.Errorf("omit: %v", err)
		}
		if f := e.files(t); len(f) != len(before) {
			t.Errorf("omitted SetColumn stored %v (was %v)", f, before)
		}

		// slice create with defaults
		rows := []Avatar{{Name: "r1", Default: jpg}, {Name: "r2"}, {Name: "r3", Default: jpg}}
		if err := db.Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows[0].Image.Name() == "" || rows[1].Image.Name() != "" || rows[2].Image.Name() == "" || rows[0].Image.Name() == rows[2].Image.Name() {
			t.Errorf("slice: %q %q %q", rows[0].Image.Name(), rows[1].Image.Name(), rows[2].Image.Name())
		}
		if f := e.files(t); len(f) != len(before)+6 {
			t.Errorf("slice files %d, want %d", len(f), len(before)+6)
		}
	})
}
