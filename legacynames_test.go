package thumbnails_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/disintegration/gift"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// TestLegacyNamesNeverShareAThumbnail: sources the plugin did not name (a
// legacy table's) whose "<stem>_<size>" is the same — cat.jpg and cat.png,
// or pizza.jpg in size x_small and pizza_x.png in size small — each get a
// thumbnail of their own: made lazily, served by their signed URL, and left
// in place when the other row goes.
func TestLegacyNamesNeverShareAThumbnail(t *testing.T) {
	cases := []struct{ a, b, sizeA, sizeB string }{
		{"legacy/cat.jpg", "legacy/cat.png", "small", "small"},
		{"legacy/pizza.jpg", "legacy/pizza_x.png", "x_small", "small"},
	}
	// each subtest its own (the plugin and withKey write into them)
	set := func() sizes.Sizes {
		return sizes.Sizes{
			"small":   {Processors: []gift.Filter{processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)}, Format: "png", Lazy: true},
			"x_small": {Processors: []gift.Filter{processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)}, Format: "png", Lazy: true},
		}
	}
	for _, c := range cases {
		t.Run(c.a+"+"+c.b, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				ctx := context.Background()
				cfg := thumbnails.Config{Sizes: set()}
				withKey(&cfg)
				e := setupSizesConfig(t, db, cfg, &Snack{})
				e.write(t, c.a, photo(t, pizzaJPG))
				e.write(t, c.b, solidPNG(t, color.NRGBA{R: 255, A: 255}))
				for i, s := range []string{c.a, c.b} {
					if err := db.Exec("INSERT INTO snacks (id, image) VALUES (?, ?)", i+1, s).Error; err != nil {
						t.Fatal(err)
					}
				}
				var a, b Snack
				if err := db.First(&a, 1).Error; err != nil {
					t.Fatal(err)
				}
				if err := db.First(&b, 2).Error; err != nil {
					t.Fatal(err)
				}
				// a's by its signed URL, b's by Thumbnail
				ua, err := a.Image.SignedURL(c.sizeA)
				if err != nil {
					t.Fatal(err)
				}
				if w := get(newHandler(t, db, thumbnails.HandlerOptions{}), http.MethodGet, ua, nil); w.Code != http.StatusOK || red(t, w.Body.Bytes()) {
					t.Fatalf("GET a's %s: %d, red %v; want a's pizza", ua, w.Code, w.Code == http.StatusOK && red(t, w.Body.Bytes()))
				}
				tb, err := b.Image.Thumbnail(ctx, c.sizeB)
				if err != nil {
					t.Fatal(err)
				}
				ta, err := a.Image.Thumbnail(ctx, c.sizeA)
				if err != nil {
					t.Fatal(err)
				}
				if ta.Name == tb.Name {
					t.Fatalf("both sources' thumbnail is %q", ta.Name)
				}
				if red(t, e.read(t, ta.Name)) || !red(t, e.read(t, tb.Name)) {
					t.Fatalf("a's %s or b's %s holds the other's image", ta.Name, tb.Name)
				}
				if w := get(newHandler(t, db, thumbnails.HandlerOptions{}), http.MethodGet, ua, nil); w.Code != http.StatusOK || red(t, w.Body.Bytes()) {
					t.Errorf("GET a's %s after b's was made: %d; want a's pizza", ua, w.Code)
				}
				if err := db.Delete(&b).Error; err != nil {
					t.Fatal(err)
				}
				if !e.exists(t, ta.Name) || e.exists(t, tb.Name) {
					t.Errorf("after b's delete: a's %s exists %v, b's %s exists %v", ta.Name, e.exists(t, ta.Name), tb.Name, e.exists(t, tb.Name))
				}
			})
		})
	}
}

// solidPNG returns a 200x200 PNG of one colour.
func solidPNG(t testing.TB, c color.NRGBA) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// red reports whether the image data decodes to one whose centre is red.
func red(t testing.TB, data []byte) bool {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	r, g, bl, _ := img.At((b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2).RGBA()
	return r > 0xe000 && g < 0x2000 && bl < 0x2000
}

// TestRegenerateMovesALegacyThumbnail: a legacy source's thumbnail
// recorded under the name without the hash (made before names had it) is
// made again under its name by Regenerate. The old file may be another
// source's too (cat.jpg's and cat.png's shared it, and the Redis metadata
// let both record it): Regenerate leaves it, and Prune removes it once no
// record names it.
func TestRegenerateMovesALegacyThumbnail(t *testing.T) {
	forEachDialect(t, testRegenerateMovesALegacyThumbnail)
}

func testRegenerateMovesALegacyThumbnail(t *testing.T, db *gorm.DB) {
	ctx := context.Background()
	e := setup(t, db, &Snack{})
	const source, other, old = "legacy/cat.jpg", "legacy/cat.png", "thumbnails/legacy/cat_small.png"
	e.write(t, source, photo(t, pizzaJPG))
	e.write(t, other, solidPNG(t, color.NRGBA{R: 255, A: 255}))
	e.write(t, old, solidPNG(t, color.NRGBA{R: 255, A: 255}))
	for i, s := range []string{source, other} {
		if err := db.Exec("INSERT INTO snacks (id, image) VALUES (?, ?)", i+1, s).Error; err != nil {
			t.Fatal(err)
		}
	}
	owners := []string{source}
	if usesRedis(db) {
		// the Redis metadata let both record the one file (the database's
		// refuses a name recorded twice)
		owners = append(owners, other)
	}
	for _, s := range owners {
		if err := metadataOf(db).Put(ctx, s, backends.Thumbnail{Source: s, Size: "small", Name: old, Width: 100, Height: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := thumbnails.Regenerate(ctx, db, &Snack{}, thumbnails.RegenerateOptions{Sizes: []string{"small"}, IDs: []any{1}}); err != nil {
		t.Fatal(err)
	}
	var row Snack
	if err := db.First(&row, 1).Error; err != nil {
		t.Fatal(err)
	}
	th, err := row.Image.Thumbnail(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if th.Name == old || !strings.HasPrefix(th.Name, "thumbnails/legacy/cat_small.") || red(t, e.read(t, th.Name)) {
		t.Errorf("small after Regenerate: %q", th.Name)
	}
	if !e.exists(t, old) {
		t.Fatalf("Regenerate of %s deleted %s, which may be (here: %v) another source's", source, old, len(owners) > 1)
	}
	if _, err := thumbnails.Regenerate(ctx, db, &Snack{}, thumbnails.RegenerateOptions{Sizes: []string{"small"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Snack{}}, MinAge: -1, Delete: true}); err != nil {
		t.Fatal(err)
	}
	if e.exists(t, old) {
		t.Errorf("the old %s is still there after Prune", old)
	}
}

// TestSharedLegacyThumbnailOutlivesOneRow: two legacy sources whose
// records name one un-hashed thumbnail (made before names were hashed; the
// Redis metadata let both record it): deleting one row keeps the file the
// other's record names; Prune removes it once no record does.
func TestSharedLegacyThumbnailOutlivesOneRow(t *testing.T) {
	ctx := context.Background()
	db := openSQLiteRedis(t)
	e := setup(t, db, &Snack{})
	const shared = "thumbnails/legacy/cat_small.png"
	sources := []string{"legacy/cat.jpg", "legacy/cat.png"}
	e.write(t, shared, solidPNG(t, color.NRGBA{R: 255, A: 255}))
	for i, s := range sources {
		e.write(t, s, photo(t, pizzaJPG))
		if err := db.Exec("INSERT INTO snacks (id, image) VALUES (?, ?)", i+1, s).Error; err != nil {
			t.Fatal(err)
		}
		if err := metadataOf(db).Put(ctx, s, backends.Thumbnail{Source: s, Size: "small", Name: shared, Width: 100, Height: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Delete(&Snack{}, 1).Error; err != nil {
		t.Fatal(err)
	}
	if !e.exists(t, shared) {
		t.Fatalf("deleting row 1 deleted %s, which row 2's record names", shared)
	}
	var two Snack
	if err := db.First(&two, 2).Error; err != nil {
		t.Fatal(err)
	}
	if th, err := two.Image.Thumbnail(ctx, "small"); err != nil || th.Name != shared {
		t.Fatalf("row 2's small: %+v, %v", th, err)
	}
	if err := db.Delete(&two).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Snack{}}, MinAge: -1, Delete: true}); err != nil {
		t.Fatal(err)
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files after both rows and Prune: %v", files)
	}
}

// TestPruneKeepsALegacySourceSpelledOtherwise: a legacy row whose column
// spells its source otherwise than the storage lists it ("legacy//cat.jpg"
// for legacy/cat.jpg) holds that file. After Regenerate and a lazy size,
// Prune deletes neither the source nor its thumbnails, and the lazy size
// is still served.
func TestPruneKeepsALegacySourceSpelledOtherwise(t *testing.T) {
	for _, spelling := range []string{"legacy//cat.jpg", "./legacy/cat.jpg", "legacy/./cat.jpg"} {
		t.Run(spelling, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *gorm.DB) {
				ctx := context.Background()
				e := setup(t, db, &Snack{})
				e.write(t, "legacy/cat.jpg", photo(t, pizzaJPG))
				if err := db.Exec("INSERT INTO snacks (id, image) VALUES (1, ?)", spelling).Error; err != nil {
					t.Fatal(err)
				}
				if _, err := thumbnails.Regenerate(ctx, db, &Snack{}, thumbnails.RegenerateOptions{}); err != nil {
					t.Fatal(err)
				}
				var s Snack
				if err := db.First(&s, 1).Error; err != nil {
					t.Fatal(err)
				}
				if _, err := s.Image.Thumbnail(ctx, "large"); err != nil {
					t.Fatal(err)
				}
				before := e.files(t)
				report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Snack{}}, MinAge: -1, Delete: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(report.Files)+len(report.Sources)+len(report.Records) != 0 {
					t.Errorf("prune removed %+v", report)
				}
				if after := e.files(t); !slices.Equal(after, before) {
					t.Errorf("files before prune %v, after %v", before, after)
				}
				if _, err := s.Image.Thumbnail(ctx, "large"); err != nil {
					t.Errorf("large after prune: %v", err)
				}
			})
		})
	}
}

// TestReleasingALegacyNameTheStorageRefusesOrSpellsOtherwise replaces the
// image of legacy rows whose source is "../outside.jpg" (a name the
// storage refuses) or "legacy//cat.jpg" (legacy/cat.jpg, which another row
// holds as such). The outbox is drained at once, with no error logged, and
// the file the other row holds is kept, its thumbnails too.
func TestReleasingALegacyNameTheStorageRefusesOrSpellsOtherwise(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		logs := newCaptureLogger()
		db.Logger = logs
		e := setup(t, db, &Snack{})
		e.write(t, "legacy/cat.jpg", photo(t, pizzaJPG))
		for i, name := range []string{"../outside.jpg", "legacy//cat.jpg", "legacy/cat.jpg"} {
			if err := db.Exec("INSERT INTO snacks (id, image) VALUES (?, ?)", i+1, name).Error; err != nil {
				t.Fatal(err)
			}
		}
		var kept Snack
		if err := db.First(&kept, 3).Error; err != nil {
			t.Fatal(err)
		}
		small, err := kept.Image.Thumbnail(ctx, "small")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []uint{1, 2} {
			s := Snack{ID: id}
			if err := db.Model(&s).Update("image", field.NewImage("new.jpg", reader(photo(t, pastaJPG)))).Error; err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, "thumbnails_outbox"); n != 0 {
			t.Errorf("%d outbox rows left", n)
		}
		for _, name := range []string{"legacy/cat.jpg", small.Name} {
			if !e.exists(t, name) {
				t.Errorf("%s, which row 3 holds, was deleted", name)
			}
		}
		if msgs := logs.errors(); len(msgs) > 0 {
			t.Errorf("errors logged: %q", msgs)
		}
	})
}

// captureLogger is gorm's default logger, silenced, that keeps the
// messages logged at the error level.
type captureLogger struct {
	logger.Interface
	mu   sync.Mutex
	msgs []string
}

// newCaptureLogger returns a captureLogger.
func newCaptureLogger() *captureLogger {
	return &captureLogger{Interface: logger.Default.LogMode(logger.Silent)}
}

// Error keeps the message.
func (l *captureLogger) Error(_ context.Context, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, fmt.Sprintf(format, args...))
}

// errors returns the messages kept so far.
func (l *captureLogger) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// TestLegacyNamesWithDotsServed: the thumbnails of legacy sources one of
// whose folders or names begins with a dot ("legacy/.hidden.jpg",
// "legacy/.old/cat.jpg") are named without such a segment, which the
// handler hides: the URL of an eager size, and the signed URL of a lazy
// one, are served.
func TestLegacyNamesWithDotsServed(t *testing.T) {
	for _, source := range []string{"legacy/.hidden.jpg", "legacy/.old/cat.jpg", ".legacy/cat.jpg"} {
		t.Run(source, func(t *testing.T) {
			ctx := context.Background()
			db := openSQLite(t)
			cfg := thumbnails.Config{Sizes: testSizes()}
			withKey(&cfg)
			e := setupSizesConfig(t, db, cfg, &Snack{})
			e.write(t, source, photo(t, pizzaJPG))
			if err := db.Exec("INSERT INTO snacks (id, image) VALUES (1, ?)", source).Error; err != nil {
				t.Fatal(err)
			}
			var s Snack
			if err := db.First(&s, 1).Error; err != nil {
				t.Fatal(err)
			}
			h := newHandler(t, db, thumbnails.HandlerOptions{})
			small, err := s.Image.Thumbnail(ctx, "small")
			if err != nil {
				t.Fatal(err)
			}
			if w := get(h, http.MethodGet, small.URL, nil); w.Code != http.StatusOK {
				t.Errorf("GET %s (small): %d", small.URL, w.Code)
			}
			signed, err := s.Image.SignedURL("large")
			if err != nil {
				t.Fatal(err)
			}
			if w := get(h, http.MethodGet, signed, nil); w.Code != http.StatusOK {
				t.Errorf("GET %s (large, signed): %d", signed, w.Code)
			}
		})
	}
}
