package thumbnails_test

import (
	"context"
	"image"
	"image/draw"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/disintegration/gift"

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
