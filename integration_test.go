package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

type Food struct {
	ID    uint
	Name  string
	Image field.Image `thumbnails:"sizes:small,medium,large;dir:foods"`
}

// Dish has two image columns and soft delete.
type Dish struct {
	ID        uint
	Photo     field.Image `thumbnails:"sizes:small;dir:dishes"`
	Cover     field.Image `thumbnails:"sizes:medium"`
	DeletedAt gorm.DeletedAt
}

var errRollback = errors.New("roll back")

// newFood returns a Food holding an upload of a test photo.
func newFood(t testing.TB, name, file string) Food {
	return Food{Name: name, Image: field.NewImage(file, reader(photo(t, file)))}
}

// requireThumbs checks that the eager sizes of food exist with their exact
// dimensions, as files and as metadata.
func requireThumbs(t *testing.T, e *env, food *Food) {
	t.Helper()
	ctx := context.Background()
	if food.Image.Name() == "" || !e.exists(t, food.Image.Name()) {
		t.Fatalf("source %q not stored", food.Image.Name())
	}
	all, err := food.Image.Thumbnails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("Thumbnails() = %v, want small and medium", all)
	}
	want := map[string][3]any{"small": {100, 100, "png"}, "medium": {400, 267, "jpeg"}}
	for size, w := range want {
		th := all[size]
		if !e.exists(t, th.Name) {
			t.Fatalf("thumbnail %s file %q missing", size, th.Name)
		}
		img, format := e.decodeStored(t, th.Name)
		if img.Bounds().Dx() != w[0] || img.Bounds().Dy() != w[1] || format != w[2] {
			t.Errorf("%s: decoded %dx%d %s, want %dx%d %s", size, img.Bounds().Dx(), img.Bounds().Dy(), format, w[0], w[1], w[2])
		}
		if th.Width != w[0] || th.Height != w[1] {
			t.Errorf("%s: metadata %dx%d, want %dx%d", size, th.Width, th.Height, w[0], w[1])
		}
	}
}

func TestCreateGeneratesEagerSizes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		ctx := context.Background()
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		name := food.Image.Name()
		if !strings.HasPrefix(name, "foods/") || !strings.HasSuffix(name, ".jpg") || len(name) != len("foods/")+32+len(".jpg") {
			t.Fatalf("source name %q, want foods/<32 hex>.jpg", name)
		}
		if got := food.Image.URL(); got != "/media/"+name {
			t.Errorf("URL() = %q", got)
		}
		requireThumbs(t, e, &food)
		stem := strings.TrimSuffix(name, ".jpg")
		small, _ := food.Image.Thumbnail(ctx, "small")
		if small.Name != "thumbnails/"+stem+"_small.png" || small.URL != "/media/"+small.Name || small.Size != "small" {
			t.Errorf("small = %+v", small)
		}
		// the lazy size is not generated on save
		if got := len(e.files(t)); got != 3 {
			t.Fatalf("files after create = %v, want source + 2 eager sizes", e.files(t))
		}

		// loaded from the database, the row answers with no extra wiring
		var got Food
		if err := db.First(&got, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.Image.Name() != name || got.Image.URL() != "/media/"+name {
			t.Fatalf("loaded image %q %q", got.Image.Name(), got.Image.URL())
		}
		requireThumbs(t, e, &got)

		// the lazy size is made on first access, once, and recorded
		large, err := got.Image.Thumbnail(ctx, "LARGE")
		if err != nil {
			t.Fatal(err)
		}
		if large.Width != 1200 || large.Height != 800 || !e.exists(t, large.Name) {
			t.Fatalf("large = %+v", large)
		}
		saves := e.storage.saves.Load()
		again, err := got.Image.Thumbnail(ctx, "large")
		if err != nil || again != large || e.storage.saves.Load() != saves {
			t.Fatalf("second lazy access: %+v, %v, saves %d -> %d", again, err, saves, e.storage.saves.Load())
		}
		assertMetadata(t, db, name, 3)
		if !usesRedis(db) {
			if n := count(t, db, "thumbnails_thumbnails"); n != 3 {
				t.Errorf("thumbnail rows = %d, want 3", n)
			}
			if n := count(t, db, "thumbnails_sources"); n != 1 {
				t.Errorf("source rows = %d, want 1", n)
			}
		}

		// errors
		if _, err := got.Image.Thumbnail(ctx, "huge"); !errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Errorf("unknown size: %v", err)
		}
		var empty Food
		if err := db.Create(&Food{Name: "empty"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Where("name = ?", "empty").First(&empty).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := empty.Image.Thumbnail(ctx, "small"); !errors.Is(err, thumbnails.ErrNoSource) {
			t.Errorf("empty column, no fallback: %v", err)
		}
		fb, err := empty.Image.Thumbnail(ctx, "large")
		if err != nil || fb.URL != "/static/none.png" || fb.Name != "" {
			t.Errorf("fallback = %+v, %v", fb, err)
		}
		if all, err := empty.Image.Thumbnails(ctx); err != nil || len(all) != 0 {
			t.Errorf("empty Thumbnails() = %v, %v", all, err)
		}
	})
}

func TestExifOrientation(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	ctx := context.Background()
	var reference image.Image
	for _, file := range []string{"Landscape_1.jpg", "Landscape_0.jpg", "Landscape_2.jpg", "Landscape_3.jpg", "Landscape_4.jpg",
		"Landscape_5.jpg", "Landscape_6.jpg", "Landscape_7.jpg", "Landscape_8.jpg", "Portrait_1.jpg", "Portrait_6.jpg", "Portrait_8.jpg"} {
		food := Food{Name: file, Image: field.NewImage(file, reader(photo(t, "exif/"+file)))}
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		m, err := food.Image.Thumbnail(ctx, "medium")
		if err != nil {
			t.Fatal(err)
		}
		img, _ := e.decodeStored(t, m.Name)
		if bytes.Contains(e.read(t, m.Name), []byte("Exif\x00")) {
			t.Errorf("%s: the thumbnail carries EXIF metadata", file)
		}
		wantW, wantH := 400, 267
		if strings.HasPrefix(file, "Portrait") {
			wantW, wantH = 267, 400
		}
		if img.Bounds().Dx() != wantW || img.Bounds().Dy() != wantH {
			t.Errorf("%s: %dx%d, want %dx%d", file, img.Bounds().Dx(), img.Bounds().Dy(), wantW, wantH)
			continue
		}
		if !strings.HasPrefix(file, "Landscape") {
			continue
		}
		if reference == nil {
			reference = img
			continue
		}
		// every landscape sample shows the same upright picture
		if d := meanDiff(reference, img); d > 12 {
			t.Errorf("%s differs from Landscape_1 by %.1f per channel: orientation not applied", file, d)
		}
	}
}

// meanDiff is the mean absolute difference per channel (0..255) of two
// images of the same size.
func meanDiff(a, b image.Image) float64 {
	var sum float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			sum += absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2)
		}
	}
	return sum / float64(3*r.Dx()*r.Dy()) / 257
}

func absDiff(a, b uint32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

func TestInvalidUploadStoresNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		for name, content := range map[string]string{
			"text.jpg":      "this is not an image",
			"truncated.jpg": string(photo(t, pizzaJPG)[:2000]),
			"empty.png":     "",
		} {
			food := Food{Name: name, Image: field.NewImage(name, strings.NewReader(content))}
			err := db.Create(&food).Error
			if !errors.Is(err, thumbnails.ErrInvalidImage) {
				t.Errorf("%s: err = %v, want ErrInvalidImage", name, err)
			}
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files after invalid uploads: %v", files)
		}
		if n := count(t, db, "foods"); n != 0 {
			t.Errorf("rows after invalid uploads: %d", n)
		}
		// one bad upload in a slice stores nothing of the good ones either
		rows := []Food{newFood(t, "good", pizzaJPG), {Name: "bad", Image: field.NewImage("bad.jpg", strings.NewReader("nope"))}}
		if err := db.Create(&rows).Error; !errors.Is(err, thumbnails.ErrInvalidImage) {
			t.Fatalf("slice with a bad upload: %v", err)
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files after a failed slice create: %v", files)
		}
	})
}

func TestSlices(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		rows := []Food{newFood(t, "a", pizzaJPG), newFood(t, "b", pastaJPG), {Name: "c"}}
		if err := db.Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		requireThumbs(t, e, &rows[0])
		requireThumbs(t, e, &rows[1])
		if rows[0].Image.Name() == rows[1].Image.Name() {
			t.Fatal("two uploads got the same name")
		}
		ptrs := []*Food{ptr(newFood(t, "d", pizzaJPG)), ptr(newFood(t, "e", pizzaJPG)), ptr(newFood(t, "f", pizzaJPG))}
		if err := db.CreateInBatches(ptrs, 2).Error; err != nil {
			t.Fatal(err)
		}
		for _, f := range ptrs {
			requireThumbs(t, e, f)
		}
		var loaded []*Food
		if err := db.Order("id").Find(&loaded).Error; err != nil {
			t.Fatal(err)
		}
		if len(loaded) != 6 || loaded[5].Image.Name() != ptrs[2].Image.Name() {
			t.Fatalf("loaded %d rows", len(loaded))
		}
		requireThumbs(t, e, loaded[5])
		if got := len(e.files(t)); got != 5*3 {
			t.Errorf("files = %d, want 15", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestReplace covers each way of replacing or clearing an image: the old
// source, its thumbnails and its metadata are gone once the change commits.
func TestReplace(t *testing.T) {
	ways := map[string]func(db *gorm.DB, food *Food, img field.Image) error{
		"Save": func(db *gorm.DB, food *Food, img field.Image) error {
			food.Image = img
			return db.Save(food).Error
		},
		"Updates struct": func(db *gorm.DB, food *Food, img field.Image) error {
			return db.Model(food).Updates(&Food{Image: img}).Error
		},
		"Updates map": func(db *gorm.DB, food *Food, img field.Image) error {
			return db.Model(food).Updates(map[string]any{"image": img}).Error
		},
		"Update column": func(db *gorm.DB, food *Food, img field.Image) error {
			return db.Model(&Food{}).Where("id = ?", food.ID).Update("image", img).Error
		},
		"Save slice": func(db *gorm.DB, food *Food, img field.Image) error {
			food.Image = img
			rows := []Food{*food}
			return db.Save(&rows).Error
		},
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		for way, replace := range ways {
			t.Run(way, func(t *testing.T) {
				food := newFood(t, way, pizzaJPG)
				if err := db.Create(&food).Error; err != nil {
					t.Fatal(err)
				}
				oldFiles := filesOf(t, &food)
				if err := replace(db, &food, field.NewImage("new.jpg", reader(photo(t, pastaJPG)))); err != nil {
					t.Fatal(err)
				}
				var got Food
				if err := db.First(&got, food.ID).Error; err != nil {
					t.Fatal(err)
				}
				if got.Image.Name() == "" || got.Image.Name() == oldFiles[0] {
					t.Fatalf("image after replace: %q (was %q)", got.Image.Name(), oldFiles[0])
				}
				requireThumbs(t, e, &got)
				for _, f := range oldFiles {
					if e.exists(t, f) {
						t.Errorf("old file %s still stored", f)
					}
				}
				assertNoMetadata(t, db, oldFiles[0])

				// clearing removes everything too (Update column clears with "")
				newFiles := filesOf(t, &got)
				if way == "Update column" {
					err := db.Model(&Food{}).Where("id = ?", got.ID).Update("image", "").Error
					if err != nil {
						t.Fatal(err)
					}
				} else if err := replace(db, &got, field.Image{}); err != nil {
					t.Fatal(err)
				}
				var cleared Food
				if err := db.First(&cleared, food.ID).Error; err != nil {
					t.Fatal(err)
				}
				if way == "Updates struct" {
					// gorm's Updates skips zero values: the image stays
					if cleared.Image.Name() != got.Image.Name() || !e.exists(t, newFiles[0]) {
						t.Fatalf("Updates with a zero image changed it to %q", cleared.Image.Name())
					}
					return
				}
				if cleared.Image.Name() != "" {
					t.Fatalf("image after clear: %q", cleared.Image.Name())
				}
				for _, f := range newFiles {
					if e.exists(t, f) {
						t.Errorf("cleared file %s still stored", f)
					}
				}
				assertNoMetadata(t, db, newFiles[0])
			})
		}
		if n := count(t, db, "thumbnails_outbox"); n != 0 {
			t.Errorf("outbox rows left: %d", n)
		}
	})
}

// filesOf returns the source name followed by its thumbnails' names.
func filesOf(t *testing.T, food *Food) []string {
	t.Helper()
	all, err := food.Image.Thumbnails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := []string{food.Image.Name()}
	for _, th := range all {
		out = append(out, th.Name)
	}
	return out
}

// assertNoMetadata checks that the metadata store has no record of source
// (and, on the database backend, no source row either).
func assertNoMetadata(t *testing.T, db *gorm.DB, source string) {
	t.Helper()
	assertMetadata(t, db, source, 0)
	if !usesRedis(db) {
		var s int64
		db.Table("thumbnails_sources").Where("name = ?", source).Count(&s)
		if s != 0 {
			t.Errorf("source row of %s left", source)
		}
	}
}

// assertMetadata checks the number of thumbnails recorded for source.
func assertMetadata(t *testing.T, db *gorm.DB, source string, thumbs int) {
	t.Helper()
	recs, err := metadataOf(db).Thumbnails(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != thumbs {
		t.Errorf("metadata of %s: %d thumbnails, want %d", source, len(recs), thumbs)
	}
}

func TestUnchangedSaveDoesNoImageWork(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		var got Food
		if err := db.First(&got, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		before := e.storage.calls()
		got.Name = "margherita"
		if err := db.Save(&got).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&got).Updates(map[string]any{"name": "marinara"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Save(&food).Error; err != nil { // the created value, saved again
			t.Fatal(err)
		}
		if after := e.storage.calls(); after != before {
			t.Errorf("storage calls %d -> %d on saves that did not change the image", before, after)
		}
		requireThumbs(t, e, &got)
	})
}

func TestDelete(t *testing.T) {
	ways := map[string]func(db *gorm.DB, food *Food) error{
		"Delete(&row)":        func(db *gorm.DB, f *Food) error { return db.Delete(f).Error },
		"Delete(&Food{}, id)": func(db *gorm.DB, f *Food) error { return db.Delete(&Food{}, f.ID).Error },
		"Where().Delete":      func(db *gorm.DB, f *Food) error { return db.Where("name = ?", f.Name).Delete(&Food{}).Error },
		"Delete(&slice)": func(db *gorm.DB, f *Food) error {
			return db.Delete(&[]Food{*f}).Error
		},
		// by value, as gorm takes them too (a saved Image holds a slice,
		// and a slice is no comparable value)
		"Delete(row)":   func(db *gorm.DB, f *Food) error { return db.Delete(*f).Error },
		"Delete(slice)": func(db *gorm.DB, f *Food) error { return db.Delete([]Food{*f}).Error },
	}
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		keep := newFood(t, "keep", pizzaJPG)
		if err := db.Create(&keep).Error; err != nil {
			t.Fatal(err)
		}
		for way, del := range ways {
			t.Run(way, func(t *testing.T) {
				food := newFood(t, way, pastaJPG)
				if err := db.Create(&food).Error; err != nil {
					t.Fatal(err)
				}
				files := filesOf(t, &food)
				if err := del(db, &food); err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if e.exists(t, f) {
						t.Errorf("%s still stored after delete", f)
					}
				}
				assertNoMetadata(t, db, files[0])
			})
		}
		requireThumbs(t, e, &keep)
	})
}

func TestSoftDelete(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Dish{})
		ctx := context.Background()
		dish := Dish{
			Photo: field.NewImage("a.jpg", reader(photo(t, pizzaJPG))),
			Cover: field.NewImage("b.jpg", reader(photo(t, soupJPG))),
		}
		if err := db.Create(&dish).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(dish.Photo.Name(), "dishes/") || !strings.HasPrefix(dish.Cover.Name(), "dishes/") {
			t.Fatalf("names %q %q (cover's dir defaults to the table)", dish.Photo.Name(), dish.Cover.Name())
		}
		cover, err := dish.Cover.Thumbnail(ctx, "medium")
		if err != nil || cover.Width != 267 || cover.Height != 400 {
			t.Fatalf("cover medium = %+v, %v", cover, err)
		}
		if _, err := dish.Cover.Thumbnail(ctx, "small"); !errors.Is(err, thumbnails.ErrUnknownSize) {
			t.Fatalf("size not in the column's tag: %v", err)
		}
		before := e.files(t)
		if len(before) != 4 {
			t.Fatalf("files = %v", before)
		}
		if err := db.Delete(&dish).Error; err != nil {
			t.Fatal(err)
		}
		if after := e.files(t); len(after) != 4 {
			t.Fatalf("soft delete removed files: %v", after)
		}
		if err := db.Unscoped().Delete(&Dish{}, dish.ID).Error; err != nil {
			t.Fatal(err)
		}
		if after := e.files(t); len(after) != 0 {
			t.Fatalf("hard delete left files: %v", after)
		}
		assertNoMetadata(t, db, dish.Photo.Name())
		assertNoMetadata(t, db, dish.Cover.Name())
	})
}

func TestRollback(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		food := newFood(t, "pizza", pizzaJPG)
		if err := db.Create(&food).Error; err != nil {
			t.Fatal(err)
		}
		files := filesOf(t, &food)
		check := func(step string) {
			t.Helper()
			var got Food
			if err := db.First(&got, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			if got.Image.Name() != files[0] {
				t.Fatalf("%s: row holds %q, want %q", step, got.Image.Name(), files[0])
			}
			for _, f := range files {
				if !e.exists(t, f) {
					t.Fatalf("%s: %s was deleted", step, f)
				}
			}
			assertMetadata(t, db, files[0], 2)
			if got := e.files(t); len(got) != 3 {
				t.Errorf("%s: files %v, want only the committed row's", step, got)
			}
		}

		err := db.Transaction(func(tx *gorm.DB) error {
			replaced := food
			replaced.Image = field.NewImage("new.jpg", reader(photo(t, pastaJPG)))
			if err := tx.Save(&replaced).Error; err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		check("rolled-back replace")

		err = db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Delete(&Food{}, food.ID).Error; err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		check("rolled-back delete")

		err = db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&Food{}).Where("id = ?", food.ID).Update("image", "").Error; err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		check("rolled-back clear")

		// a committed transaction deletes the files after the commit, not before
		err = db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Delete(&food).Error; err != nil {
				return err
			}
			for _, f := range files {
				if !e.exists(t, f) {
					t.Errorf("%s deleted before the commit", f)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.files(t); len(got) != 0 {
			t.Errorf("files after committed delete: %v", got)
		}
		assertNoMetadata(t, db, files[0])
	})
}

func TestUnknownSizeInTag(t *testing.T) {
	type Bad struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:small,gigantic"`
	}
	db := openSQLite(t)
	setup(t, db, &Bad{})
	err := db.Create(&Bad{Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}).Error
	if !errors.Is(err, thumbnails.ErrUnknownSize) {
		t.Fatalf("err = %v, want ErrUnknownSize", err)
	}
	for _, want := range []string{"Bad", "image", "Image", "gigantic"} { // the column, and the field as the model spells it
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
