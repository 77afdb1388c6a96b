package thumbnails_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

const watermarkSizes = `
marked:
  processors:
    - {path: resize, width: 200, height: 200, method: fill}
    - {path: watermark, image: marks/logo.png, anchor: bottom-right, margin: 5, width: "25%"}
  format: png
`

// TestWatermarkFromStorage loads the watermark from the plugin's storage
// when db.Use runs, and draws it on every thumbnail of the size.
func TestWatermarkFromStorage(t *testing.T) {
	set, err := sizes.Load(strings.NewReader(watermarkSizes))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	cfg := thumbnails.Config{Sizes: set, Storage: backends.NewFileSystemStorage(root, "/")}

	// missing: an error from db.Use that names it
	if err := openSQLite(t).Use(thumbnails.Plugin(cfg)); !errors.Is(err, thumbnails.ErrInvalidConfig) || !strings.Contains(err.Error(), "marks/logo.png") {
		t.Fatalf("db.Use without the watermark = %v", err)
	}

	logo := image.NewNRGBA(image.Rect(0, 0, 40, 20))
	for i := range logo.Pix {
		logo.Pix[i] = []byte{255, 0, 255, 255}[i%4] // opaque magenta
	}
	if err := os.MkdirAll(filepath.Join(root, "marks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "marks", "logo.png"), encodePNG(t, logo), 0o644); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&Kite{}); err != nil {
		t.Fatal(err)
	}
	row := Kite{Image: field.NewImage("a.jpg", bytes.NewReader(photo(t, pizzaJPG)))}
	if err := db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	th, err := row.Image.Thumbnail(t.Context(), "marked")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{root: root}
	img, _ := e.decodeStored(t, th.Name)
	// the mark is 25 % of 200 = 50 px wide, 25 tall, 5 px in from the corner
	magenta := color.NRGBA{255, 0, 255, 255}
	got := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) }
	if !nearN(got(170, 185), magenta) || !nearN(got(147, 172), magenta) || nearN(got(140, 160), magenta) || nearN(got(197, 197), magenta) {
		t.Fatalf("watermark pixels: %v %v %v %v", got(170, 185), got(147, 172), got(140, 160), got(197, 197))
	}

	// Prune keeps the watermark, which no row or record references: the
	// sizes draw it, and db.Use fails without it.
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(root, "marks", "logo.png"), old, old); err != nil {
		t.Fatal(err)
	}
	report, err := thumbnails.Prune(t.Context(), db, thumbnails.PruneOptions{Delete: true, Models: []any{&Kite{}}})
	if err != nil || len(report.Files) != 0 {
		t.Fatalf("Prune = %+v, %v: want nothing pruned", report, err)
	}
	if _, err := os.Stat(filepath.Join(root, "marks", "logo.png")); err != nil {
		t.Fatalf("the watermark after Prune: %v", err)
	}
}

func nearN(a, b color.NRGBA) bool {
	return near(color.RGBA{a.R, a.G, a.B, 255}, color.RGBA{b.R, b.G, b.B, 255})
}
