package thumbnails_test

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// TestMatchesLibvips renders the benchmark workload through the plugin and
// with libvips' vipsthumbnail (the reference of ../shared/bench), and checks
// that each size has libvips' dimensions and pixels within 5 levels (of
// 255, 2 %) on average (measured: 0.8 to 4.1; side by side they look the
// same). It uses the 2560x1600 photos of ../shared/testdata when
// present, the EXIF sample otherwise, and skips without vipsthumbnail.
func TestMatchesLibvips(t *testing.T) {
	thumbnails.ImageOnly(t)
	vips, err := exec.LookPath("vipsthumbnail")
	if err != nil {
		t.Skip("vipsthumbnail is not installed (apt-get install libvips-tools; .ci/run does)")
	}
	photos, _ := filepath.Glob("../shared/testdata/photos/*.jpg")
	if len(photos) == 0 {
		photos = []string{"testdata/exif/Landscape_1.jpg"}
	}
	set, err := sizes.Load(strings.NewReader(`
small:  {processors: [{path: resize, width: 100, height: 100, method: fill}], quality: 85}
medium: {processors: [{path: resize, width: 400, height: 400, method: fit}], quality: 85}
large:  {processors: [{path: resize, width: 1200, height: 1200, method: fit}], quality: 85}
`))
	if err != nil {
		t.Fatal(err)
	}
	e := setupSizes(t, openSQLite(t), set, &Kite{})
	db := e.db
	out := t.TempDir()
	vipsArgs := map[string][]string{
		"small":  {"-s", "100x100", "-m", "centre"},
		"medium": {"-s", "400x400"},
		"large":  {"-s", "1200x1200"},
	}
	for _, p := range photos {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		row := Kite{Image: field.NewImage(filepath.Base(p), reader(data))}
		if err := db.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		ours, err := row.Image.Thumbnails(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for size, args := range vipsArgs {
			ref := filepath.Join(out, size+"-"+filepath.Base(p))
			cmd := exec.Command(vips, append([]string{p}, append(args, "-o", ref+"[Q=85,strip]")...)...)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("vipsthumbnail: %v: %s", err, msg)
			}
			want := decodeFile(t, ref)
			got, _ := e.decodeStored(t, ours[size].Name)
			if got.Bounds().Size() != want.Bounds().Size() {
				t.Errorf("%s %s: %v, libvips %v", filepath.Base(p), size, got.Bounds().Size(), want.Bounds().Size())
				continue
			}
			d := meanDiff(got, want)
			if d > 5 {
				t.Errorf("%s %s: differs from libvips by %.2f levels on average", filepath.Base(p), size, d)
			}
			t.Logf("%s %s %v: mean difference from libvips %.2f levels", filepath.Base(p), size, got.Bounds().Size(), d)
		}
	}
}

func decodeFile(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
