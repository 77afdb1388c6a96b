package thumbnails_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// withPlaceholders turns placeholders on.
func withPlaceholders(c *thumbnails.Config) { c.Placeholders = true }

// decodePlaceholder decodes a placeholder's data: URI, checking its form.
func decodePlaceholder(t *testing.T, uri string) (image.Image, int) {
	t.Helper()
	b64, ok := strings.CutPrefix(uri, "data:image/png;base64,")
	if !ok {
		t.Fatalf("placeholder %.40q... is not a PNG data: URI", uri)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img, len(data)
}

// meanOf returns the mean colour of every step-th pixel of img along each
// axis, 8 bits a channel.
func meanOf(img image.Image, step int) (r, g, b int) {
	bd := img.Bounds()
	n := 0
	for y := bd.Min.Y; y < bd.Max.Y; y += step {
		for x := bd.Min.X; x < bd.Max.X; x += step {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			r, g, b, n = r+int(c.R), g+int(c.G), b+int(c.B), n+1
		}
	}
	return r / n, g / n, b / n
}

// TestPlaceholders saves photos with Config.Placeholders on, on every
// metadata backend, and checks the placeholders: what they look like, that
// Preload brings them in its one round trip, and that deleting, pruning and
// deleting a size are not confused by a record that is not a file.
func TestPlaceholders(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setupWith(t, db, withPlaceholders, &Food{})
		ctx := context.Background()
		files := []string{pizzaJPG, soupJPG} // landscape and portrait
		foods := make([]Food, len(files))
		for i, f := range files {
			foods[i] = newFood(t, f, f)
		}
		if err := db.Create(&foods).Error; err != nil {
			t.Fatal(err)
		}
		// known at once to the rows just saved
		uri, err := foods[0].Image.Placeholder(ctx)
		if err != nil || uri == "" {
			t.Fatalf("Placeholder of a saved row: %q, %v", uri, err)
		}

		trips := metadataRoundTrips(t, db)
		var loaded []Food
		if err := db.Scopes(thumbnails.Preload()).Order("id").Find(&loaded).Error; err != nil {
			t.Fatal(err)
		}
		if got := trips(); got != 1 {
			t.Errorf("Preload: %d metadata round trips, want 1", got)
		}
		for i, f := range loaded {
			uri, err := f.Image.Placeholder(ctx)
			if err != nil {
				t.Fatal(err)
			}
			img, n := decodePlaceholder(t, uri)
			w, h := img.Bounds().Dx(), img.Bounds().Dy()
			if (w != 12 || h != 8) && (w != 8 || h != 12) {
				t.Errorf("%s: placeholder is %dx%d, want 12 on its longer side, the aspect kept", files[i], w, h)
			}
			if (w > h) != strings.Contains(files[i], "600x400") {
				t.Errorf("%s: placeholder is %dx%d: wrong orientation", files[i], w, h)
			}
			if n > 600 || len(uri) > 800 {
				t.Errorf("%s: placeholder is %d bytes (%d in the URI), want a few hundred", files[i], n, len(uri))
			}
			// it looks like the photo: the same mean colour, within a few levels
			src, _, err := image.Decode(bytes.NewReader(photo(t, files[i])))
			if err != nil {
				t.Fatal(err)
			}
			pr, pg, pb := meanOf(img, 1)
			sr, sg, sb := meanOf(src, 4)
			if absInt(pr-sr) > 12 || absInt(pg-sg) > 12 || absInt(pb-sb) > 12 {
				t.Errorf("%s: placeholder's mean colour %d,%d,%d, the photo's %d,%d,%d", files[i], pr, pg, pb, sr, sg, sb)
			}
			// the thumbnails are the sizes only
			all, err := f.Image.Thumbnails(ctx)
			if err != nil || len(all) != 2 || all["small"].Name == "" || all["medium"].Name == "" {
				t.Errorf("Thumbnails = %v, %v; want small and medium", all, err)
			}
		}
		if got := trips(); got != 1 {
			t.Errorf("reading the placeholders after Preload: %d more round trips", got-1)
		}
		// the same photo twice: the same placeholder, no conflict
		again := newFood(t, "again", pizzaJPG)
		if err := db.Create(&again).Error; err != nil {
			t.Fatal(err)
		}
		if p0, _ := loaded[0].Image.Placeholder(ctx); p0 != mustPlaceholder(t, &again.Image) {
			t.Error("the same photo saved twice has two different placeholders")
		}

		// Prune finds nothing missing: the placeholder is no file
		report, err := thumbnails.Prune(ctx, db, thumbnails.PruneOptions{Models: []any{&Food{}}, MinAge: -1})
		if err != nil || len(report.Records) != 0 || len(report.Files) != 0 || len(report.Sources) != 0 {
			t.Fatalf("Prune = %+v, %v; want nothing", report, err)
		}
		// DeleteSize of a size leaves the placeholder
		if _, err := thumbnails.DeleteSize(ctx, db, &Food{}, "image", "small"); err != nil {
			t.Fatal(err)
		}
		recs, err := metadataOf(db).Thumbnails(ctx, foods[1].Image.Name())
		if err != nil || recs[backends.PlaceholderSize].Name == "" || recs["small"].Name != "" {
			t.Fatalf("after DeleteSize(small): %v, %v", recs, err)
		}
		// deleting a row removes its files and every record, the placeholder's too
		deletes := e.storage.deletes.Load()
		if err := db.Delete(&foods[1]).Error; err != nil {
			t.Fatal(err)
		}
		if got := e.storage.deletes.Load() - deletes; got != 2 { // the source and medium
			t.Errorf("deleting a row deleted %d files, want 2", got)
		}
		assertNoMetadata(t, db, foods[1].Image.Name())
		for _, f := range e.files(t) {
			if strings.Contains(f, strings.TrimSuffix(foods[1].Image.Name(), ".jpg")) {
				t.Errorf("%s left behind", f)
			}
		}
	})
}

func mustPlaceholder(t *testing.T, img *field.Image) string {
	t.Helper()
	p, err := img.Placeholder(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func absInt(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestPlaceholdersOff checks the default: no placeholder, no record.
func TestPlaceholdersOff(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		setup(t, db, &Food{})
		food := savedFood(t, db)
		var got Food
		if err := db.Scopes(thumbnails.Preload()).First(&got, food.ID).Error; err != nil {
			t.Fatal(err)
		}
		if p := mustPlaceholder(t, &got.Image); p != "" {
			t.Errorf("Placeholder with Placeholders off = %.30q...", p)
		}
		recs, err := metadataOf(db).Thumbnails(context.Background(), food.Image.Name())
		if err != nil || len(recs) != 2 {
			t.Errorf("records = %v, %v; want small and medium only", recs, err)
		}
	})
}

// TestRegeneratePlaceholders checks that Regenerate records the placeholder
// of rows saved before Config.Placeholders was turned on.
func TestRegeneratePlaceholders(t *testing.T) {
	ctx := context.Background()
	dsn := t.TempDir() + "/app.db?_busy_timeout=5000"
	root := t.TempDir()
	open := func(placeholders bool) *gorm.DB {
		db := testdb.Open(t, sqlite.Open(dsn))
		err := db.Use(thumbnails.Plugin(thumbnails.Config{
			Sizes: testSizes(), Storage: backends.NewFileSystemStorage(root, "/media/"), Placeholders: placeholders,
		}))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AutoMigrate(&Food{}); err != nil {
			t.Fatal(err)
		}
		return db
	}
	before := open(false)
	food := savedFood(t, before)
	if p := mustPlaceholder(t, &food.Image); p != "" {
		t.Fatal("a placeholder with Placeholders off")
	}
	after := open(true)
	counts, err := thumbnails.Regenerate(ctx, after, &Food{}, thumbnails.RegenerateOptions{})
	if err != nil || counts.Done != 1 {
		t.Fatalf("Regenerate = %+v, %v", counts, err)
	}
	var got Food
	if err := after.First(&got, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	if _, n := decodePlaceholder(t, mustPlaceholder(t, &got.Image)); n == 0 {
		t.Error("empty placeholder after Regenerate")
	}
}

// TestPlaceholderShapes checks the size and colour of the placeholders of
// plain images: landscape, portrait, half transparent (kept so), a thin
// line, and one smaller than a placeholder (kept at its size).
func TestPlaceholderShapes(t *testing.T) {
	tests := []struct {
		name         string
		w, h         int
		fill         color.NRGBA
		wantW, wantH int
	}{
		{"opaque red", 300, 100, color.NRGBA{255, 0, 0, 255}, 12, 4},
		{"half transparent blue", 100, 300, color.NRGBA{0, 0, 255, 128}, 4, 12},
		{"a thin line", 1000, 10, color.NRGBA{10, 200, 10, 255}, 12, 1},
		{"smaller than a placeholder", 3, 2, color.NRGBA{255, 255, 255, 255}, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openSQLite(t)
			setupWith(t, db, withPlaceholders, &Food{})
			img := image.NewNRGBA(image.Rect(0, 0, tt.w, tt.h))
			for y := range tt.h {
				for x := range tt.w {
					img.SetNRGBA(x, y, tt.fill)
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			food := Food{Image: field.NewImage("a.png", &buf)}
			if err := db.Create(&food).Error; err != nil {
				t.Fatal(err)
			}
			ph, _ := decodePlaceholder(t, mustPlaceholder(t, &food.Image))
			b := ph.Bounds()
			if b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Fatalf("placeholder %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			for y := range b.Dy() {
				for x := range b.Dx() {
					c := color.NRGBAModel.Convert(ph.At(x, y)).(color.NRGBA)
					d := func(a, b uint8) int { return absInt(int(a) - int(b)) }
					tol := 8 // 5 bits a channel
					if d(c.R, tt.fill.R) > tol || d(c.G, tt.fill.G) > tol || d(c.B, tt.fill.B) > tol || d(c.A, tt.fill.A) > 1 {
						t.Fatalf("pixel %d,%d = %v, want %v", x, y, c, tt.fill)
					}
				}
			}
		})
	}
}

// TestPlaceholderOfSmallTransparency saves a PNG that is opaque but for
// its rounded corners, too small to change any placeholder pixel's mean:
// the placeholder still says the image has transparency, and Attr does
// not draw it behind the image, where it would show through the corners.
func TestPlaceholderOfSmallTransparency(t *testing.T) {
	db := openSQLite(t)
	setupWith(t, db, withPlaceholders, &Food{})
	const w, h, r = 1200, 800, 16
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{200, 120, 40, 255}
			cx, cy := min(x, w-1-x), min(y, h-1-y)
			if cx < r && cy < r && (r-cx)*(r-cx)+(r-cy)*(r-cy) > r*r {
				c.A = 0
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	food := Food{Image: field.NewImage("a.png", &buf)}
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	resp, err := food.Image.Responsive(context.Background(), "small")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Placeholder == "" {
		t.Fatal("no placeholder")
	}
	if attr := string(resp.Attr()); strings.Contains(attr, "style=") {
		t.Errorf("Attr of an image with transparent corners = %s, want no placeholder style", attr)
	}
}
