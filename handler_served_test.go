package thumbnails_test

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"strings"
	"testing"

	"github.com/disintegration/gift"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Snack has one image column with every configured size.
type Snack struct {
	ID    uint
	Image field.Image `thumbnails:"dir:snacks"`
}

// savedSnack creates a Snack with the pizza photo.
func savedSnack(t *testing.T, db *gorm.DB) Snack {
	t.Helper()
	s := Snack{Image: field.NewImage("pizza.jpg", bytes.NewReader(photo(t, pizzaJPG)))}
	if err := db.Create(&s).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// servedAs checks that w is a 200 whose body is an image of the format its
// Content-Type names, and returns the format.
func servedAs(t *testing.T, w interface {
	Header() http.Header
}, code int, body []byte) string {
	t.Helper()
	_, format, err := image.DecodeConfig(bytes.NewReader(body))
	if code != http.StatusOK || err != nil {
		t.Fatalf("%d, %d bytes (%v); want 200 and an image", code, len(body), err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "image/"+format {
		t.Errorf("%s bytes served as Content-Type %q", format, ct)
	}
	return format
}

// TestSignedURLAfterAFormatChange: the application now makes a size in
// another format than the one it is recorded in, and no Regenerate ran yet.
// The size's signed URL names the new format; the handler serves the
// recorded thumbnail, under its own format's Content-Type.
func TestSignedURLAfterAFormatChange(t *testing.T) {
	dsn := testdb.SQLiteDSN(t, "")
	st := backends.NewFileSystemStorage(t.TempDir(), "/media/")
	small := func(format string) sizes.Sizes {
		return sizes.Sizes{"small": {Processors: []gift.Filter{processors.Resize(processors.Px(100), processors.Px(100), processors.Fit)}, Format: format}}
	}
	before := testdb.Open(t, sqlite.Open(dsn))
	usePlugin(t, before, thumbnails.Config{Sizes: small("jpeg"), Storage: st, SigningKey: testKey}, &Snack{})
	food := savedSnack(t, before)

	db := testdb.Open(t, sqlite.Open(dsn))
	usePlugin(t, db, thumbnails.Config{Sizes: small("webp"), Storage: st, SigningKey: testKey}, &Snack{})
	var row Snack
	if err := db.First(&row, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	u, err := row.Image.SignedURL("small")
	if err != nil || !strings.Contains(u, "_small.webp?") {
		t.Fatalf("SignedURL = %q, %v", u, err)
	}
	w := get(newHandler(t, db, thumbnails.HandlerOptions{}), http.MethodGet, u, nil)
	if format := servedAs(t, w, w.Code, w.Body.Bytes()); format != "jpeg" {
		t.Errorf("served a %s; want the recorded JPEG", format)
	}
}

// TestSignedURLOfALegacySourceName: sources stored by something else than
// the plugin, under a name without an extension, with an unusual one, or
// with one that is not their format's. Their lazy size's signed URL works,
// and is served under the format of the thumbnail made.
func TestSignedURLOfALegacySourceName(t *testing.T) {
	for _, source := range []string{"legacy/photo", "legacy/photo.jfif", "legacy/photo.png"} {
		t.Run(source, func(t *testing.T) {
			db := openSQLite(t)
			e := setupWith(t, db, withKey, &Food{})
			if _, err := e.storage.Save(context.Background(), source, bytes.NewReader(photo(t, pizzaJPG))); err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("INSERT INTO foods (name, image) VALUES (?, ?)", "legacy", source).Error; err != nil {
				t.Fatal(err)
			}
			var row Food
			if err := db.First(&row).Error; err != nil {
				t.Fatal(err)
			}
			u, err := row.Image.SignedURL("large")
			if err != nil {
				t.Fatal(err)
			}
			h := newHandler(t, db, thumbnails.HandlerOptions{})
			for range 2 { // made, then already there
				w := get(h, http.MethodGet, u, nil)
				if format := servedAs(t, w, w.Code, w.Body.Bytes()); format != "jpeg" {
					t.Errorf("served a %s; want a JPEG", format)
				}
			}
			// without a signature, a name of an unknown extension is not served
			if w := get(h, http.MethodGet, u[:strings.Index(u, "?")], nil); w.Code == http.StatusOK {
				t.Errorf("unsigned %s: %d", u[:strings.Index(u, "?")], w.Code)
			}
		})
	}
}

// TestHandlerServesFilesLargerThanMaxBytes: a storage whose files cannot be
// seeked is read into memory up to Limits.MaxBytes, the upload limit; a
// thumbnail larger than that (a PNG made from a JPEG) is served whole.
func TestHandlerServesFilesLargerThanMaxBytes(t *testing.T) {
	db := openSQLite(t)
	base, _ := newStorage(t, db)
	big := sizes.Sizes{"big": {Processors: []gift.Filter{processors.Resize(processors.Px(1200), processors.Px(1200), processors.Fit)}, Format: "png"}}
	usePlugin(t, db, thumbnails.Config{Sizes: big, Storage: plainOpens{base}, Limits: thumbnails.Limits{MaxBytes: 200 << 10}}, &Snack{})
	food := savedSnack(t, db)
	th, err := food.Image.Thumbnail(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := base.Open(context.Background(), th.Name)
	if err != nil {
		t.Fatal(err)
	}
	var stored bytes.Buffer
	_, _ = stored.ReadFrom(rc)
	rc.Close()
	if stored.Len() <= 200<<10 {
		t.Fatalf("the thumbnail is %d bytes: not larger than MaxBytes", stored.Len())
	}
	h := newHandler(t, db, thumbnails.HandlerOptions{})
	w := get(h, http.MethodGet, th.URL, nil)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), stored.Bytes()) || w.Header().Get("Content-Type") != "image/png" {
		t.Errorf("GET: %d, %d of %d bytes, %q", w.Code, w.Body.Len(), stored.Len(), w.Header().Get("Content-Type"))
	}
	if w := get(h, http.MethodHead, th.URL, nil); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d, %d bytes", w.Code, w.Body.Len())
	}
}
