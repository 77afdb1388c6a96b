package thumbnails_test

import (
	"context"
	"image"
	"image/draw"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// explodingFilter is an application's processor that panics once armed.
type explodingFilter struct{ armed *atomic.Bool }

func (f explodingFilter) Bounds(src image.Rectangle) image.Rectangle { return src }

func (f explodingFilter) Draw(dst draw.Image, src image.Image, _ *gift.Options) {
	if f.armed.Load() {
		panic("the processor exploded")
	}
	draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
}

// TestPanickingProcessor: a processor of the application's that panics
// fails the save, or the row of a Regenerate, with an error naming the
// size; it does not crash the process (Regenerate draws in goroutines of
// its own, where nobody else could recover it) nor leave files behind.
func TestPanickingProcessor(t *testing.T) {
	var armed atomic.Bool
	set := sizes.Sizes{"boom": {Processors: []gift.Filter{processors.Resize(processors.Px(50), processors.Px(50), processors.Fit), explodingFilter{&armed}}}}
	type Bomb struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:boom;dir:bombs"`
	}
	e := setupSizes(t, openSQLite(t), set, &Bomb{})
	ctx := context.Background()

	armed.Store(true)
	row := Bomb{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	err := e.db.Create(&row).Error
	if err == nil || !strings.Contains(err.Error(), "panic: the processor exploded") || !strings.Contains(err.Error(), `"boom"`) {
		t.Fatalf("save with a panicking processor = %v", err)
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files left by the failed save: %v", files)
	}

	armed.Store(false)
	rows := []Bomb{{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}, {Image: field.NewImage("q.jpg", reader(photo(t, pastaJPG)))}}
	if err := e.db.Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	var reported []error
	c, err := thumbnails.Regenerate(ctx, e.db, &Bomb{}, thumbnails.RegenerateOptions{Workers: 2, Progress: func(p thumbnails.Progress) {
		if p.Err != nil {
			reported = append(reported, p.Err)
		}
	}})
	if err != nil || c.Failed != 2 || len(reported) != 2 {
		t.Fatalf("Regenerate = %+v, %v, reported %v: want both rows failed and reported", c, err, reported)
	}
	if !strings.Contains(reported[0].Error(), "panic: the processor exploded") {
		t.Errorf("reported %v", reported[0])
	}
}

// Fragile's BeforeSave panics while panics is set.
type Fragile struct {
	ID     uint
	Image  field.Image `thumbnails:"sizes:small"`
	panics bool        `gorm:"-"`
}

func (f *Fragile) BeforeSave(*gorm.DB) error {
	if f.panics {
		panic("the hook exploded")
	}
	return nil
}

// TestPanickingHookInATransaction: a BeforeSave hook panics in a statement
// of the caller's transaction, after the plugin stored the statement's
// upload (an insert, a replace); the transaction rolls back (or, nested,
// to its savepoint, and the outer one commits), and the upload's files go
// with it. The row saved before keeps its own.
func TestPanickingHookInATransaction(t *testing.T) {
	for _, nested := range []bool{false, true} {
		t.Run(map[bool]string{false: "transaction", true: "nested"}[nested], func(t *testing.T) {
			db := openSQLite(t)
			e := setup(t, db, &Fragile{})
			kept := Fragile{Image: field.NewImage("k.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&kept).Error; err != nil {
				t.Fatal(err)
			}
			files := e.files(t)
			for _, f := range []*Fragile{{}, &kept} {
				f.Image, f.panics = field.NewImage("p.jpg", reader(photo(t, pastaJPG))), true
				save := func(tx *gorm.DB) error { return tx.Save(f).Error }
				recovered := func(fn func()) (r any) {
					defer func() { r = recover() }()
					fn()
					return nil
				}
				var r any
				if nested {
					err := db.Transaction(func(tx *gorm.DB) error {
						r = recovered(func() { _ = tx.Transaction(save) })
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
				} else {
					r = recovered(func() { _ = db.Transaction(save) })
				}
				if r == nil {
					t.Fatal("the hook did not panic")
				}
				f.panics = false
				if got := e.files(t); !slices.Equal(got, files) {
					t.Errorf("files after the panic (row %d): %v, want %v", f.ID, got, files)
				}
			}
		})
	}
}
