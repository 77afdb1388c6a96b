package thumbnails_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestCopyGetsTheColumnsEagerSizes: an image copied into a column whose
// eager sizes its source lacks (a dish's photo, with size small, made its
// cover, with size medium) has them made and recorded by the save, as an
// upload has, not on first access: by Save of the row, by Updates with the
// name, and in the caller's transaction.
func TestCopyGetsTheColumnsEagerSizes(t *testing.T) {
	copies := map[string]func(db *gorm.DB, d *Dish) error{
		"Save": func(db *gorm.DB, d *Dish) error {
			d.Cover = d.Photo
			return db.Save(d).Error
		},
		"Updates(map)": func(db *gorm.DB, d *Dish) error {
			return db.Model(d).Updates(map[string]any{"cover": d.Photo.Name()}).Error
		},
		"in a transaction": func(db *gorm.DB, d *Dish) error {
			return db.Transaction(func(tx *gorm.DB) error {
				d.Cover = d.Photo
				return tx.Save(d).Error
			})
		},
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Dish{})
		ctx := context.Background()
		meta := metadataOf(db)
		for how, copyPhoto := range copies {
			d := Dish{Photo: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&d).Error; err != nil {
				t.Fatal(err)
			}
			src := d.Photo.Name()
			recs, err := meta.Thumbnails(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := recs["medium"]; ok || len(recs) != 1 {
				t.Fatalf("%s: before the copy, the photo has %v; want small alone", how, recs)
			}
			if err := copyPhoto(db, &d); err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			recs, err = meta.Thumbnails(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			medium, ok := recs["medium"]
			if !ok {
				t.Fatalf("%s: after the copy, the source has %v; want medium too", how, recs)
			}
			if !e.exists(t, medium.Name) || medium.Width != 400 || medium.Height != 267 {
				t.Errorf("%s: medium = %+v (stored: %v); want a 400x267 file", how, medium, e.exists(t, medium.Name))
			}
			var got Dish
			if err := db.First(&got, d.ID).Error; err != nil {
				t.Fatal(err)
			}
			if got.Cover.Name() != src {
				t.Fatalf("%s: cover = %q, want %q", how, got.Cover.Name(), src)
			}
			if th, err := got.Cover.Thumbnail(ctx, "medium"); err != nil || th.Name != medium.Name {
				t.Errorf("%s: cover medium = %+v, %v; want the record made by the save", how, th, err)
			}
		}
	})
}

// TestCopyOfAMissingFileSaves: a name copied into a column whose source
// file is missing is saved; its eager sizes cannot be made, which is
// logged, and asking for one fails as for any missing source.
func TestCopyOfAMissingFileSaves(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Dish{})
		d := Dish{Cover: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&d).Updates(map[string]any{"cover": "dishes/nothing-here.jpg"}).Error; err != nil {
			t.Fatalf("saving a copied name with no file: %v", err)
		}
		var got Dish
		if err := db.First(&got, d.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.Cover.Name() != "dishes/nothing-here.jpg" {
			t.Fatalf("cover = %q", got.Cover.Name())
		}
		if _, err := got.Cover.Thumbnail(context.Background(), "medium"); err == nil {
			t.Error("medium of a missing source: no error")
		}
	})
}

// Flyer has the eager size of Poster, not its async one.
type Flyer struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:small"`
}

// TestCopyQueuesTheColumnsAsyncSizes: an image copied into a column with
// an async size queues that size's job in the save's transaction, as an
// upload does; before, with OnPending set to PendingError, the copy's size
// was pending until a Regenerate.
func TestCopyQueuesTheColumnsAsyncSizes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		q := &memoryEnqueuer{}
		cfg := thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, OnPending: thumbnails.PendingError}
		setupSizesConfig(t, db, cfg, &Flyer{}, &Poster{})
		f := Flyer{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&f).Error; err != nil {
			t.Fatal(err)
		}
		if len(q.jobs) != 0 {
			t.Fatalf("jobs %+v for a flyer, which has no async size", q.jobs)
		}
		// A copy that rolls back queues nothing.
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&Poster{Image: f.Image}).Error; err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		p := Poster{Image: f.Image}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		var jobs []thumbnails.Job
		for _, j := range q.jobs {
			if j.Table == "posters" { // the memory queue keeps the rolled-back one too
				jobs = append(jobs, j)
			}
		}
		if len(jobs) == 0 || jobs[len(jobs)-1] != (thumbnails.Job{Source: f.Image.Name(), Size: "later", Table: "posters", Column: "image"}) {
			t.Fatalf("jobs %+v, want later of %s for posters.image", q.jobs, f.Image.Name())
		}
		var got Poster
		if err := db.First(&got, p.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := got.Image.Thumbnail(ctx, "later"); !errors.Is(err, thumbnails.ErrPending) {
			t.Fatalf("later before its job: %v, want ErrPending", err)
		}
		if err := thumbnails.Generate(ctx, db, jobs[len(jobs)-1]); err != nil {
			t.Fatal(err)
		}
		if err := db.First(&got, p.ID).Error; err != nil {
			t.Fatal(err)
		}
		if th, err := got.Image.Thumbnail(ctx, "later"); err != nil || th.Width != 300 {
			t.Errorf("later after its job: %+v, %v", th, err)
		}
	})
}
