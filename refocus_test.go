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
		st, e := muralsHeld(t, db, "_crop", q)

		m := Mural{Image: field.NewImage("m.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.1, 0.5)}
		if err := db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- thumbnails.Generate(ctx, db, q.jobs[0]) }()
		refocusWhileHeld(t, st, e, m, done, "the job's")
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
		st, e := muralsHeld(t, db, "\x00", nil)

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
		refocusWhileHeld(t, st, e, m, done, "the bulk run's")
	})
}

// muralsHeld registers the plugin on db for Murals, whose crop size is
// async when q is given, with a storage that holds the writes of names
// holding hold until released.
func muralsHeld(t *testing.T, db *gorm.DB, hold string, q *memoryEnqueuer) (*holdingStorage, *env) {
	t.Helper()
	base, raw := newStorage(t, db)
	st := &holdingStorage{Storage: base, hold: hold, entered: make(chan struct{}), release: make(chan struct{})}
	crop := sizes.Size{Processors: []gift.Filter{processors.Focal(processors.Px(120), processors.Px(120), processors.Pct(50), processors.Pct(50))}, Format: "png"}
	cfg := thumbnails.Config{Sizes: sizes.Sizes{"crop": crop}, Storage: st}
	if q != nil {
		crop.Async, cfg.Enqueuer = true, q
		cfg.Sizes["crop"] = crop
	}
	if m, ok := redisMetadata.Load(db); ok {
		cfg.Metadata = m.(backends.Metadata)
	}
	usePlugin(t, db, cfg, &Mural{})
	return st, &env{db: db, raw: raw}
}

// refocusWhileHeld moves m's point from (0.1, 0.5) to (0.9, 0.5) and
// regenerates m, as README says to, while racer, which made m's crop around
// the old point, is held writing it (st.entered); then lets it go, waits for
// done, and checks that m's crop is the one around the new point, not
// racer's around the old.
func refocusWhileHeld(t *testing.T, st *holdingStorage, e *env, m Mural, done <-chan error, racer string) {
	t.Helper()
	<-st.entered
	st.hold = "\x00"
	if err := e.db.Model(&m).Update("focus", field.NewFocus(0.9, 0.5)).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := thumbnails.Regenerate(context.Background(), e.db, &Mural{}, thumbnails.RegenerateOptions{IDs: []any{m.ID}}); err != nil {
		t.Fatal(err)
	}
	close(st.release)
	if err := <-done; err != nil {
		t.Fatalf("%s run: %v", racer, err)
	}
	var got Mural
	if err := e.db.First(&got, m.ID).Error; err != nil {
		t.Fatal(err)
	}
	th, err := got.Image.Thumbnail(context.Background(), "crop")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := e.decodeStored(t, th.Name)
	if !sameImage(img, wantFocal(t, 0.9, 0.5)) {
		if sameImage(img, wantFocal(t, 0.1, 0.5)) {
			t.Fatalf("the size is %s crop around the old point, not the one around the new", racer)
		}
		t.Fatal("the size is neither crop")
	}
}
