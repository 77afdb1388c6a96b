package thumbnails_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// upload returns a new upload of a test photo.
func upload(t testing.TB, file string) field.Image {
	return field.NewImage(file, reader(photo(t, file)))
}

var errHookRefused = errors.New("refused by the hook")

// Refusing fails its AfterUpdate and AfterDelete hooks when Refuse is set.
type Refusing struct {
	ID     uint
	Refuse bool
	Image  field.Image `thumbnails:"sizes:small;dir:refusing"`
}

func (r *Refusing) refused() error {
	if r.Refuse {
		return errHookRefused
	}
	return nil
}

func (r *Refusing) AfterUpdate(*gorm.DB) error { return r.refused() }

func (r *Refusing) AfterDelete(*gorm.DB) error { return r.refused() }

// TestHookErrorAfterAutocommitCleansUp checks a replace and a delete without
// any transaction (SkipDefaultTransaction) whose AfterUpdate or AfterDelete
// hook fails after the write has committed: the statement returns the hook's
// error, and the source the row let go of is deleted with its thumbnails and
// metadata at once, not left in the outbox for some later commit.
func TestHookErrorAfterAutocommitCleansUp(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(db *gorm.DB, row *Refusing) error
	}{
		{"replace", func(db *gorm.DB, row *Refusing) error {
			row.Image = upload(t, pastaJPG)
			return db.Save(row).Error
		}},
		{"delete", func(db *gorm.DB, row *Refusing) error { return db.Delete(row).Error }},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				e := setup(t, db, &Refusing{})
				ctx := context.Background()
				row := Refusing{Image: upload(t, pizzaJPG)}
				if err := db.Create(&row).Error; err != nil {
					t.Fatal(err)
				}
				old := row.Image.Name()
				small, err := row.Image.Thumbnail(ctx, "small")
				if err != nil {
					t.Fatal(err)
				}
				row.Refuse = true
				if err := c.write(db.Session(&gorm.Session{SkipDefaultTransaction: true}), &row); !errors.Is(err, errHookRefused) {
					t.Fatalf("write: %v, want the hook's error", err)
				}
				var held []string
				if err := db.Model(&Refusing{}).Pluck("image", &held).Error; err != nil || slices.Contains(held, old) {
					t.Fatalf("rows hold %v, %v; want the write committed", held, err)
				}
				if n := count(t, db, "thumbnails_outbox"); n != 0 {
					t.Errorf("%d outbox rows left, want none", n)
				}
				for _, name := range []string{old, small.Name} {
					if e.exists(t, name) {
						t.Errorf("%q is still stored", name)
					}
				}
				if recs, err := metadataOf(db).Thumbnails(ctx, old); err != nil || len(recs) != 0 {
					t.Errorf("records of %q: %v, %v; want none", old, recs, err)
				}
			})
		})
	}
}
