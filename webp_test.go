package thumbnails_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gen2brain/webp"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

const webpSizes = `
small:  {processors: [{path: resize, width: 100, height: 100, method: fill}], format: webp, quality: 80}
flat:   {processors: [{path: resize, width: 40, height: 40}], format: jpeg}
`

// setupFormats registers the plugin with webpSizes and the given background.
func setupFormats(t *testing.T, background color.Color) *env {
	t.Helper()
	set, err := sizes.Load(strings.NewReader(webpSizes))
	if err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	root := t.TempDir()
	cfg := thumbnails.Config{Sizes: set, Storage: backends.NewFileSystemStorage(root, "/"), Background: background}
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&Kite{}); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, root: root}
}

func TestWebP(t *testing.T) {
	e := setupFormats(t, nil)
	// a WebP output
	row := Kite{Image: field.NewImage("a.jpg", reader(photo(t, pizzaJPG)))}
	if err := e.db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	small, err := row.Image.Thumbnail(t.Context(), "small")
	if err != nil || !strings.HasSuffix(small.Name, "_small.webp") {
		t.Fatalf("small = %+v, %v", small, err)
	}
	img, format := e.decodeStored(t, small.Name)
	if format != "webp" || img.Bounds().Dx() != 100 || img.Bounds().Dy() != 100 {
		t.Fatalf("small decodes as %s %v", format, img.Bounds())
	}
	// a WebP source
	src, _ := jpeg.Decode(bytes.NewReader(photo(t, pizzaJPG)))
	row2 := Kite{Image: field.NewImage("b.jpg", bytes.NewReader(encodeWebP(t, src, webp.Options{Quality: 90})))}
	if err := e.db.Create(&row2).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(row2.Image.Name(), ".webp") {
		t.Fatalf("WebP source stored as %q", row2.Image.Name())
	}
	flat, err := row2.Image.Thumbnail(t.Context(), "flat")
	if err != nil || flat.Width != 40 {
		t.Fatalf("flat of a WebP source = %+v, %v", flat, err)
	}
}

// transparentPNG is 64x64, fully transparent but for an opaque blue centre.
func transparentPNG(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 24; y < 40; y++ {
		for x := 24; x < 40; x++ {
			img.Set(x, y, color.NRGBA{0, 0, 255, 255})
		}
	}
	return encodePNG(t, img)
}

func TestJPEGFromTransparentSource(t *testing.T) {
	for _, tc := range []struct {
		name       string
		background color.Color
		want       color.RGBA
	}{
		{"default white", nil, color.RGBA{255, 255, 255, 255}},
		{"configured red", color.RGBA{255, 0, 0, 255}, color.RGBA{255, 0, 0, 255}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setupFormats(t, tc.background)
			row := Kite{Image: field.NewImage("t.png", bytes.NewReader(transparentPNG(t)))}
			if err := e.db.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
			flat, err := row.Image.Thumbnail(t.Context(), "flat")
			if err != nil {
				t.Fatal(err)
			}
			img, format := e.decodeStored(t, flat.Name)
			if format != "jpeg" {
				t.Fatalf("format %s", format)
			}
			corner := color.RGBAModel.Convert(img.At(1, 1)).(color.RGBA)
			centre := color.RGBAModel.Convert(img.At(20, 20)).(color.RGBA)
			if !near(corner, tc.want) {
				t.Errorf("transparent corner = %v, want about %v (not black)", corner, tc.want)
			}
			if !near(centre, color.RGBA{0, 0, 255, 255}) {
				t.Errorf("opaque centre = %v, want blue", centre)
			}
		})
	}
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) < 12 && d(a.G, b.G) < 12 && d(a.B, b.B) < 12
}

// BenchmarkEncode compares encoding a 1200x750 thumbnail as WebP and as
// JPEG, at quality 85; bytes/op is the size of the result.
func BenchmarkEncode(b *testing.B) {
	src, err := jpeg.Decode(bytes.NewReader(cascadePhotoBytes(b)))
	if err != nil {
		b.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 1200, 750))
	drawScaled(img, src)
	for _, bc := range []struct {
		name string
		enc  func(*bytes.Buffer) error
	}{
		{"jpeg", func(w *bytes.Buffer) error { return jpeg.Encode(w, img, &jpeg.Options{Quality: 85}) }},
		{"webp", func(w *bytes.Buffer) error { return webp.Encode(w, img, webp.Options{Quality: 85}) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := bc.enc(&buf); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/image")
		})
	}
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cascadePhotoBytes returns a 2560x1600 photo of the shared test data, or
// the 1800x1200 EXIF sample when that is absent.
func cascadePhotoBytes(b testing.TB) []byte {
	if data, err := os.ReadFile(benchPhoto); err == nil {
		return data
	}
	return photo(b, "exif/Landscape_1.jpg")
}

// drawScaled draws src scaled into dst (a quick Lanczos resize).
func drawScaled(dst draw.Image, src image.Image) {
	gift.New(gift.Resize(dst.Bounds().Dx(), dst.Bounds().Dy(), gift.LanczosResampling)).Draw(dst, src)
}

// TestWebPTooWide checks WebP's limit of 16383 pixels a side: a size that
// always makes wider images is refused by Validate, and one wider than that
// for some sources only fails their save with ErrImageTooLarge saying why,
// storing nothing.
func TestWebPTooWide(t *testing.T) {
	fixed, err := sizes.Load(strings.NewReader("wide:\n  processors: [{path: resize, width: 17000, height: 10}]\n  format: webp\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (thumbnails.Config{Sizes: fixed}).Validate(); !errors.Is(err, thumbnails.ErrInvalidConfig) || !strings.Contains(err.Error(), "16383") {
		t.Errorf("Validate of a 17000-pixel WebP size: %v, want ErrInvalidConfig naming WebP's limit", err)
	}
	set, err := sizes.Load(strings.NewReader("wide:\n  processors: [{path: resize, width: 3000%, height: 10}]\n  format: webp\n"))
	if err != nil {
		t.Fatal(err)
	}
	type Banner struct {
		ID    uint
		Image field.Image
	}
	db := openSQLite(t)
	e := setupSizes(t, db, set, &Banner{})
	err = db.Create(&Banner{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}).Error // 600 wide: 18000
	if !errors.Is(err, thumbnails.ErrImageTooLarge) || !strings.Contains(err.Error(), "16383") {
		t.Errorf("an 18000-pixel WebP: %v, want ErrImageTooLarge naming WebP's limit", err)
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files %v", files)
	}
}

// TestJPEGAndGIFTooWide checks JPEG's and GIF's limit of 65535 pixels a
// side, as TestWebPTooWide checks WebP's: a 70000x2 strip, within every
// limit, saved to sizes that keep its dimensions (a filter, a flip) failed
// with the encoder's own untyped error ("jpeg: image is too large to
// encode"), after the image was drawn. Now the eager JPEG size fails the
// save with ErrImageTooLarge naming the size and the limit, storing
// nothing; so does the lazy GIF size of an accepted strip.
func TestJPEGAndGIFTooWide(t *testing.T) {
	strip := stripPNG(t, 70000, 2)
	type Strip struct {
		ID    uint
		Image field.Image
	}
	eager, err := sizes.Load(strings.NewReader("marked: {processors: [{path: grayscale}], format: jpeg}\n"))
	if err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	e := setupSizes(t, db, eager, &Strip{})
	err = db.Create(&Strip{Image: field.NewImage("strip.png", bytes.NewReader(strip))}).Error
	if !errors.Is(err, thumbnails.ErrImageTooLarge) || !strings.Contains(err.Error(), `"marked"`) || !strings.Contains(err.Error(), "65535") {
		t.Errorf("a 70000-pixel JPEG: %v, want ErrImageTooLarge naming the size and JPEG's limit", err)
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files %v", files)
	}
	if n := count(t, db, "strips"); n != 0 {
		t.Errorf("%d rows", n)
	}
	lazy, err := sizes.Load(strings.NewReader(`
small:   {processors: [{path: resize, width: 100, height: 100}], format: png}
flipped: {processors: [{path: flip, direction: horizontal}], format: gif, lazy: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	db2 := openSQLite(t)
	setupSizes(t, db2, lazy, &Strip{})
	row := Strip{Image: field.NewImage("strip.png", bytes.NewReader(strip))}
	if err := db2.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := row.Image.Thumbnail(t.Context(), "flipped"); !errors.Is(err, thumbnails.ErrImageTooLarge) || !strings.Contains(err.Error(), "65535") {
		t.Errorf("a lazy 70000-pixel GIF: %v, want ErrImageTooLarge naming GIF's limit", err)
	}
}

// TestWebPKeepsHalfTransparentColours: a half-transparent red stays red in
// a WebP thumbnail. The encoder reads an *image.RGBA's premultiplied
// pixels as straight alpha, and made it (127, 15, 15, 128).
func TestWebPKeepsHalfTransparentColours(t *testing.T) {
	e := setupFormats(t, nil)
	src := solidNRGBA(200, 200, color.NRGBA{255, 0, 0, 128})
	row := Kite{Image: field.NewImage("h.png", bytes.NewReader(encodePNG(t, src)))}
	if err := e.db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	small, err := row.Image.Thumbnail(t.Context(), "small")
	if err != nil {
		t.Fatal(err)
	}
	img, format := e.decodeStored(t, small.Name)
	if format != "webp" {
		t.Fatalf("format %s", format)
	}
	got := color.NRGBAModel.Convert(img.At(50, 50)).(color.NRGBA)
	if got.R < 225 || got.G > 30 || got.B > 30 || got.A < 120 || got.A > 136 { // lossy, and read by a Go decoder, which takes its video range for full range: about 239, 15, 14
		t.Errorf("a half-transparent red pixel came out %v, want about {255 0 0 128}", got)
	}
}
