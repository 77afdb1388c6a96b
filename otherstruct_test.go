package thumbnails_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// FoodPatch is a struct of another type than Food, which gorm's Updates
// maps onto Food's columns by name (db.Model(&food).Updates(FoodPatch{...})).
type FoodPatch struct {
	Name  string
	Image field.Image
}

// FoodCreatePatch has an image field that gorm does not update ("<-:create").
type FoodCreatePatch struct {
	Name  string
	Image field.Image `gorm:"<-:create"`
}

// TestUpdatesOtherStruct: Updates with a struct of another type than the
// model writes the image fields that gorm maps onto the model's columns (by
// name; the non-zero ones, and those a Select names; updatable ones) as
// Updates with a map does: it stores an upload and makes its eager sizes,
// releases the image it replaces or clears, keeps an image copied from
// another row for as long as a row holds it, and discards an upload whose
// update fails or rolls back. The plugin used to skip such a struct: a
// clear or a copy left the replaced image's files and records behind, and
// an upload failed with field.ErrNotStored.
func TestUpdatesOtherStruct(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		create := func(t *testing.T, name string) Food {
			t.Helper()
			food := newFood(t, name, pizzaJPG)
			if err := db.Create(&food).Error; err != nil {
				t.Fatal(err)
			}
			return food
		}
		row := func(t *testing.T, id uint) Food {
			t.Helper()
			var got Food
			if err := db.First(&got, id).Error; err != nil {
				t.Fatal(err)
			}
			return got
		}
		gone := func(t *testing.T, what string, files []string) {
			t.Helper()
			for _, f := range files {
				if e.exists(t, f) {
					t.Errorf("%s: %s is still stored", what, f)
				}
			}
			assertNoMetadata(t, db, files[0])
		}
		kept := func(t *testing.T, what string, files []string) {
			t.Helper()
			for _, f := range files {
				if !e.exists(t, f) {
					t.Errorf("%s: %s was deleted", what, f)
				}
			}
			assertMetadata(t, db, files[0], 2)
		}

		for _, how := range []string{"value", "pointer"} {
			t.Run("replace by "+how, func(t *testing.T) {
				food := create(t, "replace")
				old := filesOf(t, &food)
				patch := FoodPatch{Name: "renamed", Image: field.NewImage("new.jpg", reader(photo(t, pastaJPG)))}
				var err error
				if how == "value" {
					err = db.Model(&food).Updates(patch).Error
				} else {
					err = db.Model(&food).Updates(&patch).Error
				}
				if err != nil {
					t.Fatal(err)
				}
				got := row(t, food.ID)
				if got.Name != "renamed" || got.Image.Name() == "" || got.Image.Name() == old[0] {
					t.Fatalf("row = %q, %q; want the new name and a new image (was %q)", got.Name, got.Image.Name(), old[0])
				}
				if food.Image.Name() != got.Image.Name() {
					t.Errorf("the model holds %q, the row %q", food.Image.Name(), got.Image.Name())
				}
				requireThumbs(t, e, &got)
				gone(t, "replaced", old)
			})
		}

		t.Run("clear", func(t *testing.T) {
			food := create(t, "clear")
			old := filesOf(t, &food)
			if err := db.Model(&food).Select("Image").Updates(FoodPatch{Name: "ignored"}).Error; err != nil {
				t.Fatal(err)
			}
			if got := row(t, food.ID); got.Image.Name() != "" || got.Name != "clear" {
				t.Fatalf("row = %q, %q; want its name kept and no image", got.Name, got.Image.Name())
			}
			gone(t, "cleared", old)
		})

		t.Run("zero, or not updated, left alone", func(t *testing.T) {
			food := create(t, "zero")
			files := filesOf(t, &food)
			before := len(e.files(t))
			if err := db.Model(&food).Updates(FoodPatch{Name: "renamed"}).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Model(&food).Omit("Image").Updates(FoodPatch{Image: field.NewImage("new.jpg", reader(photo(t, pastaJPG)))}).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Model(&food).Updates(FoodCreatePatch{Name: "again", Image: field.NewImage("new.jpg", reader(photo(t, pastaJPG)))}).Error; err != nil {
				t.Fatal(err)
			}
			if got := row(t, food.ID); got.Name != "again" || got.Image.Name() != files[0] {
				t.Fatalf("row = %q, %q; want %q, %q", got.Name, got.Image.Name(), "again", files[0])
			}
			kept(t, "left alone", files)
			if n := len(e.files(t)); n != before {
				t.Errorf("%d files, want %d: an upload that is not written was stored", n, before)
			}
		})

		t.Run("copy", func(t *testing.T) {
			a, b := create(t, "a"), create(t, "b")
			aFiles, bFiles := filesOf(t, &a), filesOf(t, &b)
			if err := db.Model(&b).Updates(FoodPatch{Image: a.Image}).Error; err != nil {
				t.Fatal(err)
			}
			if got := row(t, b.ID); got.Image.Name() != aFiles[0] {
				t.Fatalf("b holds %q, want a's %q", got.Image.Name(), aFiles[0])
			}
			gone(t, "b's replaced image", bFiles)
			if err := db.Delete(&a).Error; err != nil {
				t.Fatal(err)
			}
			kept(t, "a's image, held by b", aFiles)
			if err := db.Delete(&Food{}, b.ID).Error; err != nil {
				t.Fatal(err)
			}
			gone(t, "the copy, once no row holds it", aFiles)
		})

		t.Run("rolled back", func(t *testing.T) {
			food := create(t, "rollback")
			files := filesOf(t, &food)
			before := e.files(t)
			patch := FoodPatch{Image: field.NewImage("new.jpg", reader(photo(t, pastaJPG)))}
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Model(&food).Updates(&patch).Error; err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
			if got := row(t, food.ID); got.Image.Name() != files[0] {
				t.Fatalf("row holds %q, want %q", got.Image.Name(), files[0])
			}
			kept(t, "rolled-back replace", files)
			if now := e.files(t); !slices.Equal(now, before) {
				t.Errorf("files %v, want %v: the rolled-back upload's stay", now, before)
			}
			if err := db.Model(&food).Updates(&patch).Error; !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("the patch's discarded image written again: %v, want field.ErrDiscarded", err)
			}
			if err := db.Save(&food).Error; !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("the model's copy of it written again: %v, want field.ErrDiscarded", err)
			}
		})

		t.Run("no row", func(t *testing.T) {
			before := e.files(t)
			patch := FoodPatch{Image: field.NewImage("new.jpg", reader(photo(t, pastaJPG)))}
			if err := db.Model(&Food{ID: 1 << 30}).Updates(&patch).Error; err != nil {
				t.Fatal(err)
			}
			if now := e.files(t); !slices.Equal(now, before) {
				t.Errorf("files %v, want %v: an upload no row holds stays", now, before)
			}
			if _, err := patch.Image.Thumbnails(context.Background()); !errors.Is(err, field.ErrDiscarded) {
				t.Errorf("the upload no row holds: %v, want field.ErrDiscarded", err)
			}
		})

		if n := count(t, db, "thumbnails_outbox"); n != 0 {
			t.Errorf("outbox rows left: %d", n)
		}
	})
}

// TestUpdatesOtherStructCopyRacingDelete: on PostgreSQL, a transaction
// copies row a's image into row b with Updates of another struct, and
// stays open while a is deleted on another connection. a's clean-up must
// leave the source that b is about to commit, as it does for a copy by
// Updates with a map: the copy takes the source's lock. It used to delete
// it, and b committed the name of a deleted file.
func TestUpdatesOtherStructCopyRacingDelete(t *testing.T) {
	db := testdb.Postgres(t)
	e := setup(t, db, &Food{})
	a := newFood(t, "a", pizzaJPG)
	b := newFood(t, "b", pastaJPG)
	if err := db.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&b).Error; err != nil {
		t.Fatal(err)
	}
	var la Food
	if err := db.First(&la, a.ID).Error; err != nil {
		t.Fatal(err)
	}
	source := la.Image.Name()
	bFiles := filesOf(t, &b)

	tx := db.Begin()
	if err := tx.Model(&b).Updates(FoodPatch{Image: la.Image}).Error; err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := db.Delete(&Food{}, a.ID).Error; err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	committedCopy(t, db, e, b.ID, source)
	for _, f := range bFiles {
		if e.exists(t, f) {
			t.Errorf("b's replaced %s is still stored", f)
		}
	}
}

// TestUpdatesOtherStructFocusAndHooks: an upload given in a struct of
// another type than the model is cropped around the focal point the struct
// gives with it, as with a map; and one given so to a model with Before
// hooks (which the plugin checks again once they ran) is kept.
func TestUpdatesOtherStructFocusAndHooks(t *testing.T) {
	type PortraitPatch struct {
		Image field.Image
		Focus field.Focus
	}
	type AvatarPatch struct {
		Name  string
		Image field.Image
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		set := focusSizes()
		maps.Copy(set, testSizes())
		e := setupSizes(t, db, set, &Portrait{}, &Avatar{})
		ctx := context.Background()
		p := Portrait{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		patch := PortraitPatch{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.9, 0.5)}
		if err := db.Model(&p).Updates(patch).Error; err != nil {
			t.Fatal(err)
		}
		var got Portrait
		if err := db.First(&got, p.ID).Error; err != nil {
			t.Fatal(err)
		}
		th, err := got.Image.Thumbnail(ctx, "face")
		if err != nil {
			t.Fatal(err)
		}
		if img, _ := e.decodeStored(t, th.Name); !sameImage(img, wantFocal(t, 0.9, 0.5)) {
			t.Error("face is not the crop around the point the struct gave")
		}

		a := Avatar{Name: "ada"}
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&a).Updates(AvatarPatch{Name: "bob", Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}).Error; err != nil {
			t.Fatal(err)
		}
		var av Avatar
		if err := db.First(&av, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		if av.Image.Name() == "" || !e.exists(t, av.Image.Name()) {
			t.Fatalf("the avatar holds %q, stored: %v", av.Image.Name(), av.Image.Name() != "" && e.exists(t, av.Image.Name()))
		}
		if m, err := av.Image.Thumbnails(ctx); err != nil || len(m) != 2 {
			t.Errorf("thumbnails of the avatar: %v, %v", m, err)
		}
	})
}
