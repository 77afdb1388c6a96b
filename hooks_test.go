package thumbnails_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// Hooked reads its thumbnail in each of gorm's After hooks, as a model
// that fills a URL field does.
type Hooked struct {
	ID       uint
	Image    field.Image `thumbnails:"sizes:small,large;dir:hooked"`
	Notes    []HookedNote
	Found    string  `gorm:"-"` // small's URL, as AfterFind read it
	Created  string  `gorm:"-"`
	Saved    string  `gorm:"-"`
	Updated  string  `gorm:"-"`
	HookErrs []error `gorm:"-"`
}

// HookedNote is an association row with an image, read in its AfterFind.
type HookedNote struct {
	ID       uint
	HookedID uint
	Image    field.Image `thumbnails:"sizes:small;dir:notes"`
	Found    string      `gorm:"-"`
}

// small returns the URL of img's small, noting an error in errs.
func small(ctx context.Context, img *field.Image, errs *[]error) string {
	t, err := img.Thumbnail(ctx, "small")
	if err != nil {
		*errs = append(*errs, err)
	}
	return t.URL
}

func (h *Hooked) AfterFind(tx *gorm.DB) error {
	h.Found = small(tx.Statement.Context, &h.Image, &h.HookErrs)
	return nil
}

func (h *Hooked) AfterCreate(tx *gorm.DB) error {
	h.Created = small(tx.Statement.Context, &h.Image, &h.HookErrs)
	return nil
}

func (h *Hooked) AfterSave(tx *gorm.DB) error {
	h.Saved = small(tx.Statement.Context, &h.Image, &h.HookErrs)
	return nil
}

func (h *Hooked) AfterUpdate(tx *gorm.DB) error {
	h.Updated = small(tx.Statement.Context, &h.Image, &h.HookErrs)
	return nil
}

func (n *HookedNote) AfterFind(tx *gorm.DB) error {
	var errs []error
	n.Found = small(tx.Statement.Context, &n.Image, &errs)
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// TestHooksSeeBoundImages checks that gorm's AfterFind, AfterCreate,
// AfterSave and AfterUpdate hooks can read the thumbnails of the row they
// run for (of association rows too), with and without Preload, and that
// the URLs they read are those of the row's image after the write.
func TestHooksSeeBoundImages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Hooked{}, &HookedNote{})
		ctx := context.Background()
		row := Hooked{
			Image: newFood(t, "a", pizzaJPG).Image,
			Notes: []HookedNote{{Image: newFood(t, "n", pastaJPG).Image}},
		}
		if err := db.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		want := func(img *field.Image) string {
			t.Helper()
			s, err := img.Thumbnail(ctx, "small")
			if err != nil {
				t.Fatal(err)
			}
			return s.URL
		}
		if w := want(&row.Image); row.Created != w || row.Saved != w || len(row.HookErrs) > 0 {
			t.Errorf("Create: AfterCreate %q, AfterSave %q, errors %v; want %q", row.Created, row.Saved, row.HookErrs, w)
		}

		for _, preload := range []bool{false, true} {
			q := db.Preload("Notes")
			if preload {
				q = q.Scopes(thumbnails.Preload())
			}
			var got []Hooked
			if err := q.Find(&got).Error; err != nil || len(got) != 1 || len(got[0].Notes) != 1 {
				t.Fatalf("Find (Preload %v): %+v, %v", preload, got, err)
			}
			if w := want(&row.Image); got[0].Found != w || len(got[0].HookErrs) > 0 {
				t.Errorf("AfterFind (Preload %v): %q, errors %v; want %q", preload, got[0].Found, got[0].HookErrs, w)
			}
			if w := want(&row.Notes[0].Image); got[0].Notes[0].Found != w {
				t.Errorf("the note's AfterFind (Preload %v): %q; want %q", preload, got[0].Notes[0].Found, w)
			}
		}

		var loaded Hooked
		if err := db.First(&loaded, row.ID).Error; err != nil {
			t.Fatal(err)
		}
		loaded.Image = newFood(t, "b", pastaJPG).Image
		if err := db.Save(&loaded).Error; err != nil {
			t.Fatal(err)
		}
		if w := want(&loaded.Image); loaded.Updated != w || loaded.Saved != w || len(loaded.HookErrs) > 0 {
			t.Errorf("Save: AfterUpdate %q, AfterSave %q, errors %v; want %q", loaded.Updated, loaded.Saved, loaded.HookErrs, w)
		}
	})
}

// TestUnknownSizeReadsNothing: a Preload naming a size that the model
// lacks fails the query before gorm loads its associations: no metadata is
// read for them either.
func TestUnknownSizeReadsNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Hooked{}, &HookedNote{})
		row := Hooked{Image: newFood(t, "a", pizzaJPG).Image, Notes: []HookedNote{{Image: newFood(t, "n", pastaJPG).Image}}}
		if err := db.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		trips := metadataRoundTrips(t, db)
		var got []Hooked
		err := db.Scopes(thumbnails.Preload("nosuch")).Preload("Notes").Find(&got).Error
		if !errors.Is(err, thumbnails.ErrUnknownSize) || trips() != 0 {
			t.Errorf("Preload(\"nosuch\").Preload(\"Notes\"): %v, %d metadata round trips; want ErrUnknownSize, none", err, trips())
		}
	})
}
