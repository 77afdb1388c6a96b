//go:build turbojpeg && cgo

package thumbnails

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// TestTurboDecode checks libjpeg-turbo's decode of real photos against
// image/jpeg's: the same dimensions (reduced k times, rounded up) and
// pixels within a few levels at k = 1.
func TestTurboDecode(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpg")
	exif, _ := filepath.Glob("testdata/exif/*.jpg")
	files = append(files, exif...)
	if len(files) == 0 {
		t.Fatal("no test photos")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := data
		if filepath.Base(f) == "progressive-restart-pizza.jpg" {
			// image/jpeg refuses it: its lossless baseline transcode is the reference
			if src, err = os.ReadFile("testdata/baseline-of-progressive-restart-pizza.jpg"); err != nil {
				t.Fatal(err)
			}
		}
		want, err := jpeg.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 2, 4, 8} {
			got, err := turboDecode(data, k, 1<<30)
			if err != nil {
				t.Fatalf("%s at 1/%d: %v", f, k, err)
			}
			wb := want.Bounds()
			if gb := got.Bounds(); gb.Dx() != (wb.Dx()+k-1)/k || gb.Dy() != (wb.Dy()+k-1)/k {
				t.Fatalf("%s at 1/%d: %v from %v", f, k, gb, wb)
			}
			if k == 1 {
				if d := meanAbsDiff(got, want); d > 2 {
					t.Errorf("%s: differs from image/jpeg by %.2f levels on average", f, d)
				}
			}
		}
	}
}

// TestTurboRefusesDamage checks that a damaged JPEG is an error of the
// turbo path (so that image/jpeg decides), not a grey-filled image.
func TestTurboRefusesDamage(t *testing.T) {
	data, err := os.ReadFile("testdata/pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"header":    data[:200],
		"empty":     nil,
		"text":      []byte("not a jpeg at all"),
	} {
		if img, err := turboDecode(bad, 2, 1<<30); err == nil {
			t.Errorf("%s: decoded %v, want an error", name, img.Bounds())
		}
	}
}
