package thumbnails_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// Stall is keyed by two columns.
type Stall struct {
	Market string `gorm:"primaryKey;size:40"`
	Number int    `gorm:"primaryKey;autoIncrement:false"`
	Name   string
	Image  field.Image `thumbnails:"sizes:small;dir:stalls"`
}

// Ticket is keyed by a UUID, a [16]byte.
type Ticket struct {
	ID    uuid.UUID `gorm:"primaryKey;type:uuid"`
	Name  string
	Image field.Image `thumbnails:"sizes:small;dir:tickets"`
}

// Bin is keyed by a string type of its own and an unsigned number.
type Bin struct {
	Aisle aisle  `gorm:"primaryKey;size:40"`
	Level uint16 `gorm:"primaryKey;autoIncrement:false"`
	Name  string
	Image field.Image `thumbnails:"sizes:small;dir:bins"`
}

type aisle string

// Crate is keyed by a string and a pointer, which holds 0 in the test: a
// key gorm's Save updates by, as a pointer that is not nil.
type Crate struct {
	Aisle string `gorm:"primaryKey;size:40"`
	Level *int   `gorm:"primaryKey;autoIncrement:false"`
	Name  string
	Image field.Image `thumbnails:"sizes:small;dir:crates"`
}

// TestStaleSaveKeepsTheNewImageWhateverTheKey is TestStaleSaveKeepsTheNewImage
// for rows whose primary key is not one integer or string: two columns, a
// UUID, a pointer to 0. A row loaded before another statement replaced its image, then
// saved with only its name changed, must keep the new image. It wrote back
// the old name, and the new image was deleted as replaced.
func TestStaleSaveKeepsTheNewImageWhateverTheKey(t *testing.T) {
	type row interface {
		image() *field.Image
		rename(string)
		name() string
		of(db *gorm.DB) *gorm.DB // db with a Where that picks this row
	}
	models := []struct {
		name  string
		new   func(t *testing.T, n int) row // a row keyed by n, with its upload
		empty func() row                    // a row to load into
	}{
		{"two columns",
			func(t *testing.T, n int) row {
				return &Stall{Market: "north", Number: n, Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			},
			func() row { return &Stall{} }},
		{"uuid",
			func(t *testing.T, n int) row {
				return &Ticket{ID: uuid.New(), Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			},
			func() row { return &Ticket{} }},
		{"own string type and uint16",
			func(t *testing.T, n int) row {
				return &Bin{Aisle: "a", Level: uint16(n), Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			},
			func() row { return &Bin{} }},
		{"pointer to 0",
			func(t *testing.T, n int) row {
				zero := 0
				return &Crate{Aisle: fmt.Sprint("a", n), Level: &zero, Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			},
			func() row { return &Crate{} }},
	}
	saves := map[string]func(db *gorm.DB, stale row) error{
		"Save":    func(db *gorm.DB, stale row) error { return db.Save(stale).Error },
		"Updates": func(db *gorm.DB, stale row) error { return db.Updates(stale).Error },
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Stall{}, &Ticket{}, &Bin{}, &Crate{})
		for _, m := range models {
			t.Run(m.name, func(t *testing.T) {
				ctx := context.Background()
				n := 0
				for how, save := range saves {
					n++
					created := m.new(t, n)
					if err := db.Create(created).Error; err != nil {
						t.Fatal(err)
					}
					first := created.image().Name()
					stale, other := m.empty(), m.empty()
					if err := created.of(db).First(stale).Error; err != nil {
						t.Fatal(err)
					}
					if err := created.of(db).First(other).Error; err != nil {
						t.Fatal(err)
					}
					*other.image() = field.NewImage("q.jpg", reader(photo(t, pastaJPG)))
					if err := db.Save(other).Error; err != nil {
						t.Fatal(err)
					}
					replacing := other.image().Name()
					if e.exists(t, first) {
						t.Fatalf("%s: the replaced image %s is still stored", how, first)
					}
					stale.rename("margherita")
					if err := save(db, stale); err != nil {
						t.Fatalf("%s: %v", how, err)
					}
					now := m.empty()
					if err := created.of(db).First(now).Error; err != nil {
						t.Fatal(err)
					}
					if now.name() != "margherita" || now.image().Name() != replacing {
						t.Fatalf("%s: row = %q, %q; want the new name and the replacing image %q", how, now.name(), now.image().Name(), replacing)
					}
					if !e.exists(t, replacing) {
						t.Errorf("%s: the row's image %s is not stored", how, replacing)
					}
					if th, err := now.image().Thumbnail(ctx, "small"); err != nil || !e.exists(t, th.Name) {
						t.Errorf("%s: small: %+v, %v", how, th, err)
					}
				}
			})
		}
	})
}

func (s *Stall) image() *field.Image { return &s.Image }
func (s *Stall) rename(n string)     { s.Name = n }
func (s *Stall) name() string        { return s.Name }

func (k *Ticket) image() *field.Image { return &k.Image }
func (k *Ticket) rename(n string)     { k.Name = n }
func (k *Ticket) name() string        { return k.Name }

func (s *Bin) image() *field.Image { return &s.Image }
func (s *Bin) rename(n string)     { s.Name = n }
func (s *Bin) name() string        { return s.Name }

func (s *Stall) of(db *gorm.DB) *gorm.DB {
	return db.Where("market = ? AND number = ?", s.Market, s.Number)
}
func (k *Ticket) of(db *gorm.DB) *gorm.DB { return db.Where("id = ?", k.ID) }
func (s *Bin) of(db *gorm.DB) *gorm.DB {
	return db.Where("aisle = ? AND level = ?", s.Aisle, s.Level)
}

func (c *Crate) image() *field.Image { return &c.Image }
func (c *Crate) rename(n string)     { c.Name = n }
func (c *Crate) name() string        { return c.Name }
func (c *Crate) of(db *gorm.DB) *gorm.DB {
	return db.Where("aisle = ? AND level = ?", c.Aisle, *c.Level)
}
