package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// smallPNG returns a 320x200 PNG, quick to thumbnail.
func smallPNG(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), shade, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// createDishes saves n dishes; every third has no cover.
func createDishes(t *testing.T, db *gorm.DB, n int) []Dish {
	t.Helper()
	dishes := make([]Dish, n)
	for i := range dishes {
		dishes[i].Photo = field.NewImage("p.png", bytes.NewReader(smallPNG(t, uint8(i))))
		if i%3 != 2 {
			dishes[i].Cover = field.NewImage("c.png", bytes.NewReader(smallPNG(t, uint8(255-i))))
		}
	}
	if err := db.Create(&dishes).Error; err != nil {
		t.Fatal(err)
	}
	return dishes
}

// readAll reads small of every photo and medium of every cover, checking
// their dimensions.
func readAll(t *testing.T, dishes []*Dish) {
	t.Helper()
	ctx := context.Background()
	for i, d := range dishes {
		s, err := d.Photo.Thumbnail(ctx, "small")
		if err != nil || s.Width != 100 || s.Height != 100 {
			t.Fatalf("dish %d photo small = %+v, %v", i, s, err)
		}
		all, err := d.Photo.Thumbnails(ctx)
		if err != nil || len(all) != 1 {
			t.Fatalf("dish %d photo thumbnails = %v, %v", i, all, err)
		}
		if d.Cover.Name() == "" {
			if all, err := d.Cover.Thumbnails(ctx); err != nil || len(all) != 0 {
				t.Fatalf("dish %d empty cover thumbnails = %v, %v", i, all, err)
			}
			continue
		}
		m, err := d.Cover.Thumbnail(ctx, "medium")
		if err != nil || m.Width != 400 || m.Height != 250 {
			t.Fatalf("dish %d cover medium = %+v, %v", i, m, err)
		}
	}
}

// tripSteps returns a function that runs a named step of a test and checks
// that it made want metadata round trips, counted by trips.
func tripSteps(t *testing.T, trips func() int64) func(name string, want int64, fn func() error) {
	return func(name string, want int64, fn func() error) {
		t.Helper()
		before := trips()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := trips() - before; got != want {
			t.Errorf("%s: %d metadata round trips, want %d", name, got, want)
		}
	}
}

func ptrs[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

func TestPreload(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Dish{})
		const n = 12
		createDishes(t, db, n)
		trips := metadataRoundTrips(t, db)
		preload := thumbnails.Preload()

		step := tripSteps(t, trips)

		var dishes []Dish
		step("Find slice with Preload", 1, func() error { return db.Scopes(preload).Order("id").Find(&dishes).Error })
		if len(dishes) != n {
			t.Fatalf("found %d dishes", len(dishes))
		}
		step("reading every row after Preload", 0, func() error { readAll(t, ptrs(dishes)); return nil })

		var pdishes []*Dish
		step("Find slice of pointers with Preload", 1, func() error { return db.Scopes(preload).Find(&pdishes).Error })
		step("reading them", 0, func() error { readAll(t, pdishes); return nil })

		var first, taken Dish
		step("First with Preload", 1, func() error { return db.Scopes(preload).First(&first).Error })
		step("Take with Preload", 1, func() error { return db.Scopes(preload).Take(&taken).Error })
		step("reading them", 0, func() error { readAll(t, []*Dish{&first, &taken}); return nil })

		var none []Dish
		step("Preload of no rows", 0, func() error { return db.Scopes(preload).Where("id < 0").Find(&none).Error })

		var photos []Dish
		step("Preload of one size", 1, func() error { return db.Scopes(thumbnails.Preload("small")).Find(&photos).Error })
		step("its column answers from memory", 0, func() error {
			_, err := photos[0].Photo.Thumbnail(context.Background(), "small")
			return err
		})
		step("the other column looks up", 1, func() error {
			_, err := photos[0].Cover.Thumbnail(context.Background(), "medium")
			return err
		})

		var both []Dish
		step("two Preload scopes, one size each", 1, func() error {
			return db.Scopes(thumbnails.Preload("small"), thumbnails.Preload("medium")).Order("id").Find(&both).Error
		})
		step("both columns answer from memory", 0, func() error { readAll(t, ptrs(both)); return nil })
		var all []Dish
		step("Preload() with Preload(\"small\")", 1, func() error {
			return db.Scopes(thumbnails.Preload(), thumbnails.Preload("small")).Order("id").Find(&all).Error
		})
		step("every column answers from memory", 0, func() error { readAll(t, ptrs(all)); return nil })
		if err := db.Scopes(thumbnails.Preload(), thumbnails.Preload("nope")).Find(&[]Dish{}).Error; !errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Errorf("Preload() with Preload(\"nope\"): %v; want ErrUnknownSize", err)
		}

		var plain []Dish
		step("Find without Preload", 0, func() error { return db.Find(&plain).Error })
		images := 0
		for _, d := range plain {
			images++
			if d.Cover.Name() != "" {
				images++
			}
		}
		step("reading without Preload: one lookup per image", int64(images), func() error { readAll(t, ptrs(plain)); return nil })
		step("reading again: remembered", 0, func() error { readAll(t, ptrs(plain)); return nil })

		// It fails before the query runs: nothing is read.
		var unread []Dish
		if err := db.Scopes(thumbnails.Preload("gigantic")).Find(&unread).Error; !errors.Is(err, thumbnails.ErrUnknownSize) || len(unread) != 0 {
			t.Errorf("Preload of an unknown size: %v, %d rows read; want ErrUnknownSize and none", err, len(unread))
		}
		// A model without image columns has none of the sizes either; with
		// no size named, there is nothing to preload.
		if err := db.AutoMigrate(&Plain{}); err != nil {
			t.Fatal(err)
		}
		if err := db.Scopes(thumbnails.Preload("small")).Find(&[]Plain{}).Error; !errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Errorf("Preload(\"small\") of a model without image columns: %v", err)
		}
		if err := db.Scopes(thumbnails.Preload()).Find(&[]Plain{}).Error; err != nil {
			t.Errorf("Preload() of a model without image columns: %v", err)
		}
		// A query that fails fails with its own error only.
		err := db.Scopes(thumbnails.Preload("small")).Where("no_such_column = 1").Find(&[]Dish{}).Error
		if err == nil || errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Errorf("Preload(\"small\") of a failed query: %v, want the query's error alone", err)
		}
	})
}

// TestPreloadLazy checks that a lazy size that does not exist yet is still
// generated after a preload, and remembered.
func TestPreloadLazy(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := Food{Image: field.NewImage("a.png", bytes.NewReader(smallPNG(t, 1)))}
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		var got Food
		if err := db.Scopes(thumbnails.Preload()).First(&got).Error; err != nil {
			t.Fatal(err)
		}
		large, err := got.Image.Thumbnail(context.Background(), "large")
		if err != nil || large.Width != 1200 || !e.exists(t, large.Name) {
			t.Fatalf("large = %+v, %v", large, err)
		}
		all, err := got.Image.Thumbnails(context.Background())
		if err != nil || len(all) != 3 {
			t.Fatalf("Thumbnails() after lazy generation = %v, %v", all, err)
		}
	})
}

// onlyMetadata hides every method of a store but Metadata's, as a store of
// another module would have them.
type onlyMetadata struct{ backends.Metadata }

// TestPreloadThroughAnyMetadata preloads through a store that is not a
// backends.AlignedMetadata: the plugin reads the batch with ThumbnailsOf,
// still in one round trip.
func TestPreloadThroughAnyMetadata(t *testing.T) {
	client := testdb.Redis(t)
	db := openSQLite(t)
	hook := &roundTripHook{}
	client.AddHook(hook)
	meta := onlyMetadata{backends.NewRedisMetadata(client, testdb.RedisPrefix(t, client))}
	if _, aligned := any(meta).(backends.AlignedMetadata); aligned {
		t.Fatal("the wrapper still has ThumbnailsIn")
	}
	redisMetadata.Store(db, meta)
	redisHooks.Store(db, hook)
	t.Cleanup(func() { redisMetadata.Delete(db); redisHooks.Delete(db) })
	setup(t, db, &Dish{})
	createDishes(t, db, 7)

	trips := metadataRoundTrips(t, db)
	var dishes []Dish
	if err := db.Scopes(thumbnails.Preload()).Order("id").Find(&dishes).Error; err != nil {
		t.Fatal(err)
	}
	if got := trips(); got != 1 {
		t.Errorf("Preload: %d round trips, want 1", got)
	}
	readAll(t, ptrs(dishes))
	if got := trips(); got != 1 {
		t.Errorf("reading after Preload: %d more round trips, want none", got-1)
	}
}

// otherURLs is a storage whose URLs follow a rule of its own (a CDN and a
// version).
type otherURLs struct{ backends.Storage }

func (s otherURLs) URL(name string) string { return "https://cdn.example/" + name + "?v=2" }

// TestPreloadURLs checks that the URLs of preloaded thumbnails are the
// storage's own, for names that need escaping too and for a storage with a
// URL rule of its own, and that they are what a row loaded without Preload
// answers.
func TestPreloadURLs(t *testing.T) {
	names := []string{"thumbnails/foods/a_small.png", "thumbnails/ä b/50%_medium.jpg", "thumbnails/x?y#z/é_small.png"}
	for _, c := range []struct {
		name    string
		storage backends.Storage
	}{
		{"files", backends.NewFileSystemStorage(t.TempDir(), "/media/")},
		{"own-rule", otherURLs{backends.NewFileSystemStorage(t.TempDir(), "/media/")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := openSQLite(t)
			if err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: testSizes(), Storage: c.storage})); err != nil {
				t.Fatal(err)
			}
			if err := db.AutoMigrate(&Food{}); err != nil {
				t.Fatal(err)
			}
			meta := metadataOf(db)
			rows := make([]Food, len(names))
			for i, n := range names {
				source := "foods/" + string(rune('a'+i)) + ".jpg"
				if err := rows[i].Image.Scan(source); err != nil {
					t.Fatal(err)
				}
				if err := meta.Put(ctx, source,
					backends.Thumbnail{Size: "small", Name: n, Width: 100, Height: 100},
					backends.Thumbnail{Size: "medium", Name: n + ".m.jpg", Width: 400, Height: 300}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Create(&rows).Error; err != nil {
				t.Fatal(err)
			}
			var preloaded, plain []Food
			if err := db.Scopes(thumbnails.Preload()).Order("id").Find(&preloaded).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Order("id").Find(&plain).Error; err != nil {
				t.Fatal(err)
			}
			for i, n := range names {
				for _, size := range []struct{ size, name string }{{"small", n}, {"medium", n + ".m.jpg"}} {
					want := c.storage.URL(size.name)
					got, err := preloaded[i].Image.Thumbnail(ctx, size.size)
					if err != nil || got.URL != want || got.Name != size.name {
						t.Errorf("row %d %s after Preload = %+v, %v; want URL %q", i, size.size, got, err, want)
					}
					if p, err := plain[i].Image.Thumbnail(ctx, size.size); err != nil || p != got {
						t.Errorf("row %d %s without Preload = %+v, %v; with it %+v", i, size.size, p, err, got)
					}
				}
				all, err := preloaded[i].Image.Thumbnails(ctx)
				if err != nil || len(all) != 2 || all["small"].URL != c.storage.URL(n) || all["medium"].URL != c.storage.URL(n+".m.jpg") {
					t.Errorf("row %d Thumbnails after Preload = %+v, %v", i, all, err)
				}
			}
		})
	}
}

// DishView is what a page of dishes loads from the dishes table: the images
// without their tags, which the model's columns give.
type DishView struct {
	ID    uint
	Photo field.Image
	Cover field.Image
}

// TastingMenu has many TastingItems, each with an image column of its own.
type TastingMenu struct {
	ID    uint
	Cover field.Image `thumbnails:"sizes:medium"`
	Items []TastingItem
}

// TastingItem is one dish of a TastingMenu.
type TastingItem struct {
	ID            uint
	TastingMenuID uint
	Photo         field.Image `thumbnails:"sizes:small"`
}

// TestPreloadViewsAndAssociations checks the rows a preloaded query loads
// into another struct than its model (db.Model(&Dish{}).Find(&views)), and
// the rows gorm loads for its associations (Preload("Items")): all are
// bound and answer from memory, with one round trip a query.
func TestPreloadViewsAndAssociations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		setup(t, db, &Dish{}, &TastingMenu{}, &TastingItem{})
		const n = 6
		createDishes(t, db, n)
		trips := metadataRoundTrips(t, db)
		step := tripSteps(t, trips)
		readViews := func(views []DishView) error {
			for i, v := range views {
				s, err := v.Photo.Thumbnail(ctx, "small")
				if err != nil || s.Width != 100 {
					return fmt.Errorf("view %d: photo small = %+v, %w", i, s, err)
				}
				if v.Cover.Name() == "" {
					continue
				}
				if m, err := v.Cover.Thumbnail(ctx, "medium"); err != nil || m.Width != 400 {
					return fmt.Errorf("view %d: cover medium = %+v, %w", i, m, err)
				}
			}
			return nil
		}

		var views []DishView
		step("Find of the model into views, with Preload", 1, func() error {
			return db.Model(&Dish{}).Scopes(thumbnails.Preload()).Find(&views).Error
		})
		if len(views) != n {
			t.Fatalf("%d views", len(views))
		}
		step("reading the views", 0, func() error { return readViews(views) })

		var view DishView
		step("First into a view, without Preload", 0, func() error { return db.Model(&Dish{}).First(&view).Error })
		step("reading it: one lookup an image", 2, func() error { return readViews([]DishView{view}) })

		var photos []*struct {
			ID    uint
			Photo field.Image
		}
		step("a view of one column, into pointers", 1, func() error {
			return db.Model(&Dish{}).Scopes(thumbnails.Preload()).Select("id", "photo").Find(&photos).Error
		})
		step("a view of one column, Preload naming a size only the other column has", 1, func() error {
			return db.Model(&Dish{}).Scopes(thumbnails.Preload("small", "medium")).Select("id", "photo").Find(&photos).Error
		})
		var unreadViews []DishView
		if err := db.Model(&Dish{}).Scopes(thumbnails.Preload("gigantic")).Find(&unreadViews).Error; !errors.Is(err, thumbnails.ErrUnknownSize) || len(unreadViews) != 0 {
			t.Errorf("a view, Preload of a size no column of the model has: %v, %d rows; want ErrUnknownSize and none", err, len(unreadViews))
		}
		step("reading it", 0, func() error {
			for _, p := range photos {
				if s, err := p.Photo.Thumbnail(ctx, "small"); err != nil || s.Width != 100 {
					return fmt.Errorf("photo %d small = %+v, %w", p.ID, s, err)
				}
			}
			return nil
		})

		for m := range 3 {
			menu := TastingMenu{Cover: field.NewImage("c.png", bytes.NewReader(smallPNG(t, uint8(m))))}
			for i := range 2 {
				menu.Items = append(menu.Items, TastingItem{Photo: field.NewImage("i.png", bytes.NewReader(smallPNG(t, uint8(10*m+i))))})
			}
			if err := db.Create(&menu).Error; err != nil {
				t.Fatal(err)
			}
		}
		readMenus := func(menus []TastingMenu, items bool) error {
			for _, m := range menus {
				if c, err := m.Cover.Thumbnail(ctx, "medium"); err != nil || c.Width != 400 {
					return fmt.Errorf("menu %d cover = %+v, %w", m.ID, c, err)
				}
				if len(m.Items) != 2 {
					return fmt.Errorf("menu %d has %d items", m.ID, len(m.Items))
				}
				for _, it := range m.Items {
					if !items {
						continue
					}
					if s, err := it.Photo.Thumbnail(ctx, "small"); err != nil || s.Width != 100 {
						return fmt.Errorf("item %d photo = %+v, %w", it.ID, s, err)
					}
				}
			}
			return nil
		}
		var menus []TastingMenu
		step("Preload with the menus' items: a round trip a query", 2, func() error {
			return db.Scopes(thumbnails.Preload()).Preload("Items").Find(&menus).Error
		})
		step("reading menus and items", 0, func() error { return readMenus(menus, true) })

		var covers []TastingMenu
		step("Preload(\"medium\"), which the items do not have", 1, func() error {
			return db.Scopes(thumbnails.Preload("medium")).Preload("Items").Find(&covers).Error
		})
		step("reading the covers", 0, func() error { return readMenus(covers, false) })
		step("reading the items: a lookup each", 6, func() error { return readMenus(covers, true) })

		var plain []TastingMenu
		step("menus and items without Preload", 0, func() error { return db.Preload("Items").Find(&plain).Error })
		step("reading them: a lookup an image", 9, func() error { return readMenus(plain, true) })
	})
}

// Author writes Posts; both have an image column.
type Author struct {
	ID     uint
	Avatar field.Image `thumbnails:"sizes:small"`
}

// Post belongs to an Author, which a query may join.
type Post struct {
	ID       uint
	AuthorID uint
	Author   Author
	Cover    field.Image `thumbnails:"sizes:medium"`
}

// Note belongs to an Author and has no image of its own.
type Note struct {
	ID       uint
	AuthorID uint
	Author   *Author
}

// TestPreloadJoins checks the images of associations a query joins
// (db.Joins("Author")), which gorm scans into each row: bound, and read in
// the query's one preload round trip, also when the model itself has no
// image column.
func TestPreloadJoins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		setup(t, db, &Author{}, &Post{}, &Note{})
		for i := range 3 {
			a := Author{Avatar: field.NewImage("a.png", bytes.NewReader(smallPNG(t, uint8(i))))}
			if err := db.Create(&a).Error; err != nil {
				t.Fatal(err)
			}
			p := Post{AuthorID: a.ID, Cover: field.NewImage("c.png", bytes.NewReader(smallPNG(t, uint8(100+i))))}
			if err := db.Create(&p).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&Note{AuthorID: a.ID}).Error; err != nil {
				t.Fatal(err)
			}
		}
		trips := metadataRoundTrips(t, db)
		var posts []Post
		before := trips()
		if err := db.Scopes(thumbnails.Preload()).Joins("Author").Find(&posts).Error; err != nil || len(posts) != 3 {
			t.Fatalf("%d posts, %v", len(posts), err)
		}
		for _, p := range posts {
			if s, err := p.Author.Avatar.Thumbnail(ctx, "small"); err != nil || s.Width != 100 {
				t.Errorf("post %d: the joined avatar's small = %+v, %v", p.ID, s, err)
			}
			if m, err := p.Cover.Thumbnail(ctx, "medium"); err != nil || m.Width != 400 {
				t.Errorf("post %d: cover medium = %+v, %v", p.ID, m, err)
			}
		}
		if n := trips() - before; n != 1 {
			t.Errorf("Joins with Preload, then the reads: %d round trips, want 1", n)
		}

		var notes []Note
		before = trips()
		if err := db.Scopes(thumbnails.Preload()).Joins("Author").Find(&notes).Error; err != nil || len(notes) != 3 {
			t.Fatalf("%d notes, %v", len(notes), err)
		}
		for _, n := range notes {
			if s, err := n.Author.Avatar.Thumbnail(ctx, "small"); err != nil || s.Width != 100 {
				t.Errorf("note %d: the joined avatar's small = %+v, %v", n.ID, s, err)
			}
		}
		if n := trips() - before; n != 1 {
			t.Errorf("a model without images joined to one: %d round trips, want 1", n)
		}

		// Preload's sizes may be those of the joined model only
		var avatars []Post
		before = trips()
		if err := db.Scopes(thumbnails.Preload("small")).Joins("Author").Find(&avatars).Error; err != nil {
			t.Fatalf("Preload of the joined model's size: %v", err)
		}
		if s, err := avatars[0].Author.Avatar.Thumbnail(ctx, "small"); err != nil || s.Width != 100 {
			t.Errorf("the joined avatar's small = %+v, %v", s, err)
		}
		if n := trips() - before; n != 1 {
			t.Errorf("Preload of the joined model's size: %d round trips, want 1", n)
		}
		for _, dest := range []any{&[]Post{}, &[]Note{}} {
			if err := db.Scopes(thumbnails.Preload("typo")).Joins("Author").Find(dest).Error; !errors.Is(err, thumbnails.ErrUnknownSize) {
				t.Errorf("%T: Preload of a size no model has, with a join: %v, want ErrUnknownSize", dest, err)
			}
		}

		var plain []Post
		if err := db.Joins("Author").Find(&plain).Error; err != nil {
			t.Fatal(err)
		}
		before = trips()
		if s, err := plain[0].Author.Avatar.Thumbnail(ctx, "small"); err != nil || s.Width != 100 {
			t.Errorf("without Preload: the joined avatar's small = %+v, %v", s, err)
		}
		if n := trips() - before; n != 1 {
			t.Errorf("without Preload: %d round trips for one image, want 1", n)
		}
	})
}

// Shelf loads its Jars in an AfterFind hook, with a query of its own.
type Shelf struct {
	ID       uint
	PantryID uint
	Photo    field.Image `thumbnails:"sizes:small"`
	Jars     []Jar       `gorm:"-"`
}

// Pantry has shelves, which gorm preloads.
type Pantry struct {
	ID      uint
	Sign    field.Image `thumbnails:"sizes:small"`
	Shelves []Shelf
}

// Jar is on a Shelf.
type Jar struct {
	ID      uint
	ShelfID uint
	Label   field.Image `thumbnails:"sizes:small"`
}

func (s *Shelf) AfterFind(tx *gorm.DB) error {
	return tx.Where("shelf_id = ?", s.ID).Find(&s.Jars).Error
}

// TestPreloadNotInHooks checks that a query an AfterFind hook makes, which
// gorm gives the preloaded statement's context, does not preload: one
// round trip for the preloaded query, whatever the number of rows.
func TestPreloadNotInHooks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Shelf{}, &Jar{})
		for i := range 4 {
			s := Shelf{Photo: field.NewImage("s.png", bytes.NewReader(smallPNG(t, uint8(i))))}
			if err := db.Create(&s).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&Jar{ShelfID: s.ID, Label: field.NewImage("j.png", bytes.NewReader(smallPNG(t, uint8(50+i))))}).Error; err != nil {
				t.Fatal(err)
			}
		}
		step := tripSteps(t, metadataRoundTrips(t, db))
		var shelves []Shelf
		step("Find with Preload, whose hooks query the jars", 1, func() error {
			return db.Scopes(thumbnails.Preload()).Find(&shelves).Error
		})
		step("the shelves' photos", 0, func() error {
			for _, s := range shelves {
				if _, err := s.Photo.Thumbnail(context.Background(), "small"); err != nil {
					return err
				}
			}
			return nil
		})
		step("a jar's label, loaded without Preload", 1, func() error {
			_, err := shelves[0].Jars[0].Label.Thumbnail(context.Background(), "small")
			return err
		})
	})
}

// TestPreloadNotInHooksOfAssociations: the AfterFind hook of a row that
// gorm loads for db.Preload("Shelves") runs while the associations load;
// its query does not preload either: one round trip for the pantries, one
// for their shelves, whatever the number of shelves.
func TestPreloadNotInHooksOfAssociations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Pantry{}, &Shelf{}, &Jar{})
		for i := range 2 {
			p := Pantry{Sign: field.NewImage("p.png", bytes.NewReader(smallPNG(t, uint8(i))))}
			if err := db.Create(&p).Error; err != nil {
				t.Fatal(err)
			}
			for j := range 2 {
				s := Shelf{PantryID: p.ID, Photo: field.NewImage("s.png", bytes.NewReader(smallPNG(t, uint8(10+2*i+j))))}
				if err := db.Create(&s).Error; err != nil {
					t.Fatal(err)
				}
				if err := db.Create(&Jar{ShelfID: s.ID, Label: field.NewImage("j.png", bytes.NewReader(smallPNG(t, uint8(50+2*i+j))))}).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		step := tripSteps(t, metadataRoundTrips(t, db))
		var pantries []Pantry
		step("Find with Preload and Preload(\"Shelves\"), whose hooks query the jars", 2, func() error {
			return db.Scopes(thumbnails.Preload()).Preload("Shelves").Find(&pantries).Error
		})
		step("the shelves' photos", 0, func() error {
			for _, p := range pantries {
				for _, s := range p.Shelves {
					if _, err := s.Photo.Thumbnail(context.Background(), "small"); err != nil {
						return err
					}
				}
			}
			return nil
		})
		step("a jar's label, loaded without Preload", 1, func() error {
			_, err := pantries[0].Shelves[0].Jars[0].Label.Thumbnail(context.Background(), "small")
			return err
		})
	})
}

// Publisher, Writer and Article: a chain of belongs-to, each with an image.
type Publisher struct {
	ID   uint
	Logo field.Image `thumbnails:"sizes:small"`
}

type Writer struct {
	ID          uint
	PublisherID uint
	Publisher   Publisher
	Avatar      field.Image `thumbnails:"sizes:small"`
}

type Article struct {
	ID       uint
	WriterID uint
	Writer   Writer
	Cover    field.Image `thumbnails:"sizes:medium"`
}

// TestPreloadNestedJoins: db.Joins("Writer.Publisher") has gorm scan both
// the writer and its publisher into each row: the images of both are
// bound, and preloaded in the query's one round trip, also when the query
// joins "Writer" too.
func TestPreloadNestedJoins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		setup(t, db, &Publisher{}, &Writer{}, &Article{})
		for i := range 2 {
			w := Writer{
				Publisher: Publisher{Logo: field.NewImage("l.png", bytes.NewReader(smallPNG(t, uint8(i))))},
				Avatar:    field.NewImage("a.png", bytes.NewReader(smallPNG(t, uint8(10+i)))),
			}
			if err := db.Create(&w).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&Article{WriterID: w.ID, Cover: field.NewImage("c.png", bytes.NewReader(smallPNG(t, uint8(20+i))))}).Error; err != nil {
				t.Fatal(err)
			}
		}
		trips := metadataRoundTrips(t, db)
		for _, q := range []struct {
			name    string
			preload bool
			query   func() *gorm.DB
		}{
			{"Joins(Writer.Publisher)", false, func() *gorm.DB { return db.Joins("Writer.Publisher") }},
			{"Preload, Joins(Writer.Publisher)", true, func() *gorm.DB { return db.Scopes(thumbnails.Preload()).Joins("Writer.Publisher") }},
			{"Preload, Joins(Writer), Joins(Writer.Publisher)", true, func() *gorm.DB {
				return db.Scopes(thumbnails.Preload()).Joins("Writer").Joins("Writer.Publisher")
			}},
		} {
			var articles []Article
			before := trips()
			if err := q.query().Find(&articles).Error; err != nil || len(articles) != 2 {
				t.Fatalf("%s: %d articles, %v", q.name, len(articles), err)
			}
			for _, a := range articles {
				for what, img := range map[string]*field.Image{"writer's avatar": &a.Writer.Avatar, "publisher's logo": &a.Writer.Publisher.Logo} {
					if s, err := img.Thumbnail(ctx, "small"); err != nil || s.Width != 100 {
						t.Errorf("%s: article %d: the %s small = %+v, %v", q.name, a.ID, what, s, err)
					}
				}
			}
			if n := trips() - before; q.preload && n != 1 {
				t.Errorf("%s: %d round trips for the query and the reads, want 1", q.name, n)
			}
		}
	})
}
