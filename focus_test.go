package thumbnails_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"image"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Portrait keeps a focal point per row.
type Portrait struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:face,later;focus:Focus"`
	Focus field.Focus
}

// focusSizes: face (eager) and later (lazy) crop 120x120 around a focal
// point, the middle by default; PNG, so that the results compare exactly.
func focusSizes() sizes.Sizes {
	focal := func() []gift.Filter {
		return []gift.Filter{processors.Focal(processors.Px(120), processors.Px(120), processors.Pct(50), processors.Pct(50))}
	}
	return sizes.Sizes{
		"face":  {Processors: focal(), Format: "png"},
		"later": {Processors: focal(), Format: "png", Lazy: true},
	}
}

// wantFocal renders the focal crop of the photo at fractions x, y directly.
func wantFocal(t *testing.T, x, y float64) image.Image {
	t.Helper()
	src, _, err := image.Decode(bytes.NewReader(photo(t, pizzaJPG)))
	if err != nil {
		t.Fatal(err)
	}
	g := gift.New(processors.Focal(processors.Px(120), processors.Px(120), processors.Pct(x*100), processors.Pct(y*100)))
	dst := image.NewRGBA(g.Bounds(src.Bounds()))
	g.Draw(dst, src)
	return dst
}

// sameImage reports whether a and b are the same picture: within 2 levels
// on average, which a different JPEG decoder (-tags turbojpeg) stays in,
// while the crops the tests tell apart differ by tens of levels.
func sameImage(a, b image.Image) bool {
	return a.Bounds() == b.Bounds() && meanDiff(a, b) < 2
}

func TestFocusPerRow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setupSizes(t, db, focusSizes(), &Portrait{})
		ctx := context.Background()
		left, right, middle := wantFocal(t, 0.1, 0.5), wantFocal(t, 0.9, 0.5), wantFocal(t, 0.5, 0.5)
		if meanDiff(left, right) < 10 || meanDiff(left, middle) < 10 || meanDiff(middle, right) < 10 {
			t.Fatal("the photo's crops do not differ: a useless test")
		}
		check := func(p *Portrait, size string, want image.Image, what string) {
			t.Helper()
			th, err := p.Image.Thumbnail(ctx, size)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := e.decodeStored(t, th.Name)
			if !sameImage(got, want) {
				t.Errorf("%s: %s is not the crop around the row's focal point", what, size)
			}
		}

		// Saved with a focal point: the eager size crops around it.
		p := Portrait{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.1, 0.5)}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		check(&p, "face", left, "eager, on save")

		// A loaded row's lazy size crops around its point too.
		var loaded Portrait
		if err := db.First(&loaded, p.ID).Error; err != nil {
			t.Fatal(err)
		}
		if loaded.Focus != field.NewFocus(0.1, 0.5) {
			t.Fatalf("focus read back as %+v", loaded.Focus)
		}
		check(&loaded, "later", left, "lazy, on first access")

		// A row without one gets the sizes' own point.
		plain := Portrait{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&plain).Error; err != nil {
			t.Fatal(err)
		}
		check(&plain, "face", middle, "no focal point")

		// A new focal point takes effect when the sizes are made again.
		if err := db.Model(&loaded).Update("focus", field.NewFocus(0.9, 0.5)).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := thumbnails.Regenerate(ctx, db, &Portrait{}, thumbnails.RegenerateOptions{IDs: []any{p.ID}}); err != nil {
			t.Fatal(err)
		}
		var again Portrait
		if err := db.First(&again, p.ID).Error; err != nil {
			t.Fatal(err)
		}
		check(&again, "face", right, "regenerated after the point moved")
		check(&again, "later", right, "regenerated lazy size")

		// The same through a Table, as the thumbnails command runs it.
		if err := db.Model(&again).Update("focus", field.NewFocus(0.1, 0.5)).Error; err != nil {
			t.Fatal(err)
		}
		table := thumbnails.Table{Name: "portraits", Column: "image", Focus: "focus"}
		if _, err := thumbnails.Regenerate(ctx, db, table, thumbnails.RegenerateOptions{IDs: []any{p.ID}, Sizes: []string{"face"}}); err != nil {
			t.Fatal(err)
		}
		check(&again, "face", left, "regenerated through a Table with its focus column")

		// An upload through an Updates map with its focal point.
		err := db.Model(&plain).Updates(map[string]any{"image": field.NewImage("p.jpg", reader(photo(t, pizzaJPG))), "Focus": field.NewFocus(0.9, 0.5)}).Error
		if err != nil {
			t.Fatal(err)
		}
		var updated Portrait
		if err := db.First(&updated, plain.ID).Error; err != nil {
			t.Fatal(err)
		}
		check(&updated, "face", right, "Updates with a map")
	})
}

func TestFocusTagErrors(t *testing.T) {
	type NoField struct {
		ID    uint
		Image field.Image `thumbnails:"focus:Missing"`
	}
	type WrongType struct {
		ID    uint
		Image field.Image `thumbnails:"focus:Note"`
		Note  string
	}
	db := openSQLite(t)
	setupSizes(t, db, focusSizes())
	for _, m := range []any{&NoField{}, &WrongType{}} {
		if err := db.AutoMigrate(m); err != nil {
			t.Fatal(err)
		}
		err := db.Create(m).Error
		if !errors.Is(err, thumbnails.ErrInvalidConfig) {
			t.Errorf("%T: %v, want ErrInvalidConfig", m, err)
		}
	}
}

// Banner has an async size that crops around the row's focal point.
type Banner struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:face;focus:Spot"`
	Spot  field.Focus
}

func TestFocusAsyncJob(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		set := focusSizes()
		face := set["face"]
		face.Async = true
		set["face"] = face
		var jobs []thumbnails.Job
		e := setupSizesConfig(t, db, thumbnails.Config{Sizes: set, Enqueuer: enqueuerFunc(func(j []thumbnails.Job) { jobs = append(jobs, j...) })}, &Banner{})
		b := Banner{Image: field.NewImage("b.jpg", reader(photo(t, pizzaJPG))), Spot: field.NewFocus(0.1, 0.5)}
		if err := db.Create(&b).Error; err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 || jobs[0].FocusColumn != "spot" {
			t.Fatalf("jobs %+v, want one naming the focus column", jobs)
		}
		// The point moves before the job runs: the job uses the row's current one.
		if err := db.Model(&b).Update("spot", field.NewFocus(0.9, 0.5)).Error; err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := thumbnails.Generate(ctx, db, jobs[0]); err != nil {
			t.Fatal(err)
		}
		th, err := b.Image.Thumbnail(ctx, "face")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := e.decodeStored(t, th.Name)
		if !sameImage(got, wantFocal(t, 0.9, 0.5)) {
			t.Error("the job did not crop around the row's focal point")
		}
	})
}

// enqueuerFunc is an Enqueuer that hands the jobs to a function.
type enqueuerFunc func([]thumbnails.Job)

func (f enqueuerFunc) Enqueue(_ context.Context, _ *sql.Tx, jobs []thumbnails.Job) error {
	f(jobs)
	return nil
}

// TestStaleSignedURLCropsAtTheRowsPoint requests a lazy focal size through
// a signed URL made before its row's focal point moved (a cached page): the
// size is made around the point the row holds now, which is what the row's
// Thumbnail then returns.
func TestStaleSignedURLCropsAtTheRowsPoint(t *testing.T) {
	db := openSQLite(t)
	p, u := signedPortrait(t, db)
	p.Focus = field.NewFocus(0.9, 0.5)
	if err := db.Save(&p).Error; err != nil {
		t.Fatal(err)
	}
	w := get(newHandler(t, db, thumbnails.HandlerOptions{}), "GET", u.Path+"?"+u.RawQuery, nil)
	if !servesFocal(t, w, 0.9, 0.5) {
		t.Error("the size made through a stale URL is not cropped around the row's point now")
	}
}

// TestSignedURLCarriesFocus makes a lazy focal size on demand through its
// signed URL: the URL carries the row's focal point under the signature,
// so the handler crops where the row says, and a moved point is refused.
func TestSignedURLCarriesFocus(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		_, u := signedPortrait(t, db)
		if u.Query().Get("focus") != "0.1,0.5" {
			t.Fatalf("SignedURL = %q, want the row's focal point in it", u)
		}
		h := newHandler(t, db, thumbnails.HandlerOptions{})
		moved := u.Query()
		moved.Set("focus", "0.9,0.5")
		for name, target := range map[string]string{
			"moved point":   u.Path + "?" + moved.Encode(),
			"invalid point": u.Path + "?" + strings.Replace(u.RawQuery, "focus=0.1%2C0.5", "focus=2%2C2", 1),
			"no point":      u.Path + "?" + strings.Replace(u.RawQuery, "focus=0.1%2C0.5", "", 1),
		} {
			if w := get(h, "GET", target, nil); w.Code != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", name, w.Code)
			}
		}
		if !servesFocal(t, get(h, "GET", u.Path+"?"+u.RawQuery, nil), 0.1, 0.5) {
			t.Error("the size made on demand is not the crop around the row's focal point")
		}
	})
}

// signedPortrait saves a Portrait with the focal point 0.1,0.5, with the
// plugin set up on db to sign URLs, and returns it with the signed URL of
// its lazy focal size.
func signedPortrait(t *testing.T, db *gorm.DB) (Portrait, *url.URL) {
	t.Helper()
	setupSignedFocus(t, db)
	p := Portrait{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.1, 0.5)}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	signed, err := p.Image.SignedURL("later")
	if err != nil {
		t.Fatal(err)
	}
	return p, mustParse(t, signed)
}

// TestSignedFocalURLOfATableRow requests a lazy focal size through the
// signed URL of a row of a db.Table table, while the model's own table does
// not exist: the handler cannot read the row's point there, and crops
// around the URL's.
func TestSignedFocalURLOfATableRow(t *testing.T) {
	db := openSQLite(t)
	setupSignedFocus(t, db)
	if err := db.Table("portraits_2024").AutoMigrate(&Portrait{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrator().DropTable("portraits"); err != nil {
		t.Fatal(err)
	}
	p := Portrait{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.1, 0.5)}
	if err := db.Table("portraits_2024").Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	signed, err := p.Image.SignedURL("later")
	if err != nil {
		t.Fatal(err)
	}
	u := mustParse(t, signed)
	if !servesFocal(t, get(newHandler(t, db, thumbnails.HandlerOptions{}), "GET", u.Path+"?"+u.RawQuery, nil), 0.1, 0.5) {
		t.Error("not the crop around the URL's point")
	}
}

// setupSignedFocus sets the plugin up on db with the focal sizes and a
// signing key, for Portrait.
func setupSignedFocus(t *testing.T, db *gorm.DB) {
	t.Helper()
	setupWith(t, db, func(c *thumbnails.Config) {
		c.SigningKey = testKey
		c.Sizes = focusSizes()
	}, &Portrait{})
}

// servesFocal reports whether w, the handler's response, is 200 with the
// focal crop of the photo at x, y; it fails the test otherwise but for the
// crop.
func servesFocal(t *testing.T, w *httptest.ResponseRecorder, x, y float64) bool {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("signed URL: status %d", w.Code)
	}
	got, _, err := image.Decode(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sameImage(got, wantFocal(t, x, y))
}
