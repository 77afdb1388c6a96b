package thumbnails_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/field"
	"gorm.io/gorm"
)

// TestProgressiveJPEGWithRestartMarkers saves a progressive 4:2:0 JPEG
// with a restart marker every MCU row (cjpeg -progressive -restart 1),
// which image/jpeg refuses ("missing 0xff00 sequence") though libjpeg
// and browsers show it: it is a valid upload, and its sizes, the one
// decoded whole included, are those of its lossless baseline transcode
// (jpegtran: the same coefficients), which image/jpeg decodes.
func TestProgressiveJPEGWithRestartMarkers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		e := setup(t, db, &Food{})
		progressive := newFood(t, "progressive", "progressive-restart-pizza.jpg")
		if err := db.Create(&progressive).Error; err != nil {
			t.Fatalf("a progressive JPEG with restart markers: %v", err)
		}
		baseline := newFood(t, "baseline", "baseline-of-progressive-restart-pizza.jpg")
		if err := db.Create(&baseline).Error; err != nil {
			t.Fatal(err)
		}
		for _, size := range []string{"small", "medium", "large"} { // medium: 600x400 decoded whole
			sameThumbnail(t, e, &progressive.Image, &baseline.Image, size)
		}
	})
}

// TestProgressiveJPEGWithRestartMarkersAndChromaFactors saves progressive
// JPEGs with a restart marker every MCU row whose chroma components are
// sampled more than once an MCU (cjpeg -progressive -restart 1 -sample
// 2x2,1x2,1x2, 2x1,2x1,2x1 and 2x2,2x1,2x1: 4:2:2, 4:4:4 and 4:4:0),
// which image/jpeg refuses: each is a valid upload, and its sizes (the
// 203x131 photo decoded whole) are those of its lossless baseline
// transcode, which image/jpeg decodes.
func TestProgressiveJPEGWithRestartMarkersAndChromaFactors(t *testing.T) {
	e := setup(t, openSQLite(t), &Food{})
	for _, sample := range []string{"22-12-12", "21-21-21", "22-21-21"} {
		read := func(name string) Food {
			data, err := os.ReadFile(filepath.Join("internal/jpegdct/testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			return Food{Name: name, Image: field.NewImage(name, reader(data))}
		}
		progressive := read("progressive-restart-" + sample + ".jpeg")
		if err := e.db.Create(&progressive).Error; err != nil {
			t.Fatalf("%s: %v", sample, err)
		}
		baseline := read("baseline-" + sample + ".jpg")
		if err := e.db.Create(&baseline).Error; err != nil {
			t.Fatal(err)
		}
		for _, size := range []string{"small", "medium"} {
			sameThumbnail(t, e, &progressive.Image, &baseline.Image, size)
		}
	}
}

// sameThumbnail checks that the thumbnail in size of a progressive JPEG has
// the bounds of its baseline transcode's, and its pixels within a level on
// average.
func sameThumbnail(t *testing.T, e *env, progressive, baseline *field.Image, size string) {
	t.Helper()
	ctx := context.Background()
	a, err := progressive.Thumbnail(ctx, size)
	if err != nil {
		t.Fatalf("%s, %s: %v", progressive.Name(), size, err)
	}
	b, err := baseline.Thumbnail(ctx, size)
	if err != nil {
		t.Fatal(err)
	}
	ia, _ := e.decodeStored(t, a.Name)
	ib, _ := e.decodeStored(t, b.Name)
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("%s, %s: %v, want %v", progressive.Name(), size, ia.Bounds(), ib.Bounds())
	}
	if d := meanDiff(ia, ib); d > 1 {
		t.Errorf("%s, %s: %.2f levels from the baseline transcode's, want at most 1", progressive.Name(), size, d)
	}
}
