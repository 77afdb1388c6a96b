package thumbnails_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
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
		createRolledBack(t, db, &Poster{Image: f.Image})
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

// Swapped's BeforeSave replaces a cover it is given with an upload when its
// title says so.
type Swapped struct {
	ID    uint
	Title string
	Photo field.Image `thumbnails:"sizes:small;dir:dishes"`
	Cover field.Image `thumbnails:"sizes:medium"`
	with  []byte
}

func (h *Swapped) BeforeSave(*gorm.DB) error {
	if h.Title == "replace" {
		h.Cover = field.NewImage("n.jpg", reader(h.with))
	}
	return nil
}

// TestCopySizesAfterTheCommitOnly: the sizes of a copy are made once the
// transaction that wrote it commits: none for a copy that rolls back
// (before, its files stayed, unrecorded), none for a copy that a
// BeforeSave hook replaced, and a copy saved as a child of an association
// gets them once the parent's transaction has committed.
func TestCopySizesAfterTheCommitOnly(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Swapped{}, &Menu{}, &Course{})
		ctx := context.Background()
		meta := metadataOf(db)
		medium := func(src string) (string, bool) {
			t.Helper()
			recs, err := meta.Thumbnails(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := recs["medium"]
			return r.Name, ok
		}
		a := Swapped{Photo: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		src := a.Photo.Name()
		before := e.files(t)

		createRolledBack(t, db, &Swapped{Cover: a.Photo})
		if name, ok := medium(src); ok {
			t.Errorf("medium %s recorded for a copy that rolled back", name)
		}
		if after := e.files(t); len(after) != len(before) {
			t.Errorf("files %v after a copy that rolled back; want %v", after, before)
		}

		b := Swapped{Title: "replace", Cover: a.Photo, with: photo(t, pastaJPG)}
		if err := db.Create(&b).Error; err != nil {
			t.Fatal(err)
		}
		if b.Cover.Name() == src {
			t.Fatal("the hook did not replace the cover")
		}
		if name, ok := medium(src); ok {
			t.Errorf("medium %s made for a copy that the hook replaced", name)
		}

		// A child row saved through its parent runs in the parent's
		// transaction.
		menu := Menu{Name: "copy", Courses: []Course{{Image: a.Photo}}}
		if err := db.Create(&menu).Error; err != nil {
			t.Fatal(err)
		}
		if name, ok := medium(src); ok {
			t.Errorf("medium %s made for a course, whose column has small only", name)
		}
		c := Swapped{Cover: a.Photo}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
			if name, ok := medium(src); ok && !usesRedis(db) {
				// SQLite has one writer: a record made meanwhile was made
				// in the transaction, under its lock.
				t.Errorf("medium %s made before the commit", name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if name, ok := medium(src); !ok || !e.exists(t, name) {
			t.Errorf("after the commit, medium = %q, %v; want it made", name, ok)
		}
	})
}

// TestCopySizeOfAPanickingProcessor: a processor that panics while a copy's
// size is made after the commit, of the caller's transaction or of the
// statement's own, is logged: the save is done, and the process goes on.
func TestCopySizeOfAPanickingProcessor(t *testing.T) {
	var armed atomic.Bool
	set := sizes.Sizes{
		"small": {Processors: []gift.Filter{processors.Resize(processors.Px(50), processors.Px(50), processors.Fit)}},
		"boom":  {Processors: []gift.Filter{processors.Resize(processors.Px(50), processors.Px(50), processors.Fit), explodingFilter{&armed}}},
	}
	type Bombed struct {
		ID    uint
		Photo field.Image `thumbnails:"sizes:small;dir:b"`
		Cover field.Image `thumbnails:"sizes:boom"`
	}
	e := setupSizes(t, openSQLite(t), set, &Bombed{})
	row := Bombed{Photo: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	if err := e.db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if err := e.db.Create(&Bombed{Cover: row.Photo}).Error; err != nil {
		t.Fatalf("a copy: %v", err)
	}
	err := e.db.Transaction(func(tx *gorm.DB) error {
		return tx.Create(&Bombed{Cover: row.Photo}).Error
	})
	if err != nil {
		t.Fatalf("a copy in a transaction: %v", err)
	}
	if n := count(t, e.db, "bombeds"); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
}

// createRolledBack creates row in a transaction that then rolls back.
func createRolledBack(t *testing.T, db *gorm.DB, row any) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
}
