package thumbnails_test

import (
	"context"
	"testing"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Mural keeps a focal point, and its one size is async.
type Mural struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:crop;focus:Focus"`
	Focus field.Focus
}

// TestJobRacingARefocus: a job makes its size around the row's focal
// point; meanwhile the application moves the point and runs Regenerate
// for the row, as README says to; the job then writes its crop around the
// old point over Regenerate's. Once the job is done, the size is the crop
// around the point the row holds.
func TestJobRacingARefocus(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		q := &memoryEnqueuer{}
		base, raw := newStorage(t, db)
		st := &holdingStorage{Storage: base, hold: "_crop", entered: make(chan struct{}), release: make(chan struct{})}
		set := sizes.Sizes{"crop": {Processors: []gift.Filter{processors.Focal(processors.Px(120), processors.Px(120), processors.Pct(50), processors.Pct(50))}, Format: "png", Async: true}}
		cfg := thumbnails.Config{Sizes: set, Enqueuer: q, Storage: st}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		usePlugin(t, db, cfg, &Mural{})
		e := &env{db: db, raw: raw}

		m := Mural{Image: field.NewImage("m.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.1, 0.5)}
		if err := db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- thumbnails.Generate(ctx, db, q.jobs[0]) }()
		<-st.entered // the job read the point, made its crop, and is writing it
		st.hold = "\x00"
		if err := db.Model(&m).Update("focus", field.NewFocus(0.9, 0.5)).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := thumbnails.Regenerate(ctx, db, &Mural{}, thumbnails.RegenerateOptions{IDs: []any{m.ID}}); err != nil {
			t.Fatal(err)
		}
		close(st.release)
		if err := <-done; err != nil {
			t.Fatalf("Generate: %v", err)
		}
		var got Mural
		if err := db.First(&got, m.ID).Error; err != nil {
			t.Fatal(err)
		}
		th, err := got.Image.Thumbnail(ctx, "crop")
		if err != nil {
			t.Fatal(err)
		}
		img, _ := e.decodeStored(t, th.Name)
		if !sameImage(img, wantFocal(t, 0.9, 0.5)) {
			if sameImage(img, wantFocal(t, 0.1, 0.5)) {
				t.Fatal("the size is the job's crop around the old point, not Regenerate's around the new one")
			}
			t.Fatal("the size is neither crop")
		}
	})
}

// TestRegenerateRacingARefocus: a bulk Regenerate reads a batch of rows,
// their focal points with them, and makes a row's crop; meanwhile the
// application moves the row's point and regenerates the row, as README
// says to; the bulk run then wrote its crop around the old point over the
// new one, for good. Once it is done, the size is the crop around the
// point the row holds.
func TestRegenerateRacingARefocus(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		base, raw := newStorage(t, db)
		st := &holdingStorage{Storage: base, hold: "\x00", entered: make(chan struct{}), release: make(chan struct{})}
		set := sizes.Sizes{"crop": {Processors: []gift.Filter{processors.Focal(processors.Px(120), processors.Px(120), processors.Pct(50), processors.Pct(50))}, Format: "png"}}
		cfg := thumbnails.Config{Sizes: set, Storage: st}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		usePlugin(t, db, cfg, &Mural{})
		e := &env{db: db, raw: raw}

		m := Mural{Image: field.NewImage("m.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.1, 0.5)}
		if err := db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
		st.hold = "_crop"
		done := make(chan error, 1)
		go func() {
			_, err := thumbnails.Regenerate(ctx, db, &Mural{}, thumbnails.RegenerateOptions{Workers: 1})
			done <- err
		}()
		<-st.entered // the bulk run read the point, made its crop, and is writing it
		st.hold = "\x00"
		if err := db.Model(&m).Update("focus", field.NewFocus(0.9, 0.5)).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := thumbnails.Regenerate(ctx, db, &Mural{}, thumbnails.RegenerateOptions{IDs: []any{m.ID}}); err != nil {
			t.Fatal(err)
		}
		close(st.release)
		if err := <-done; err != nil {
			t.Fatalf("the bulk Regenerate: %v", err)
		}
		var got Mural
		if err := db.First(&got, m.ID).Error; err != nil {
			t.Fatal(err)
		}
		th, err := got.Image.Thumbnail(ctx, "crop")
		if err != nil {
			t.Fatal(err)
		}
		img, _ := e.decodeStored(t, th.Name)
		if !sameImage(img, wantFocal(t, 0.9, 0.5)) {
			if sameImage(img, wantFocal(t, 0.1, 0.5)) {
				t.Fatal("the size is the bulk run's crop around the old point, not the one around the new")
			}
			t.Fatal("the size is neither crop")
		}
	})
}
