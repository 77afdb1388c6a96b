package thumbnails

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkPlaceholder measures what Config.Placeholders adds to the save
// of a 1800x1200 photo: the downscale by means of samples and the PNG
// encoding, from the decoded image.
func BenchmarkPlaceholder(b *testing.B) {
	data, err := os.ReadFile("testdata/exif/Landscape_1.jpg")
	if err != nil {
		b.Fatal(err)
	}
	src, err := decode(data, DefaultLimits, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := placeholder(src.img, src.size); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlaceholderOfReducedDecode checks that a placeholder made from a
// JPEG decoded reduced (a save whose sizes are all lazy checks the upload
// at 1/8) has the dimensions of one made from the whole image, and looks
// the same, rotated photos and odd sizes included.
func TestPlaceholderOfReducedDecode(t *testing.T) {
	ImageOnly(t)
	files, _ := filepath.Glob("testdata/exif/*.jpg")
	odd, _ := filepath.Glob("internal/jpegdct/testdata/*.jpg") // 333x217 and 203x131
	files = append(files, odd...)
	if len(files) < 10 {
		t.Fatalf("only %d test photos", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := decode(data, DefaultLimits, nil)
		if err != nil {
			t.Fatal(err)
		}
		small, err := decode(data, DefaultLimits, checkOnly)
		if err != nil {
			t.Fatal(err)
		}
		if small.size != whole.size || small.img.Bounds().Dx() > whole.img.Bounds().Dx() {
			t.Fatalf("%s: %v decoded %v; whole %v decoded %v", f, small.size, small.img.Bounds(), whole.size, whole.img.Bounds())
		}
		u1, w1, h1, err1 := placeholder(whole.img, whole.size)
		u2, w2, h2, err2 := placeholder(small.img, small.size)
		if err1 != nil || err2 != nil || w1 != w2 || h1 != h2 {
			t.Fatalf("%s: %dx%d (%v) from the whole image, %dx%d (%v) reduced", f, w1, h1, err1, w2, h2, err2)
		}
		if d := meanAbsDiff(decodeURI(t, u1), decodeURI(t, u2)); d > 6 {
			t.Errorf("%s: placeholders differ by %.1f levels on average", f, d)
		}
	}
}

// decodeURI decodes a placeholder's data: URI.
func decodeURI(t *testing.T, uri string) image.Image {
	t.Helper()
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(uri, placeholderPrefix))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
