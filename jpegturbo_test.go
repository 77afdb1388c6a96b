//go:build turbojpeg && cgo

package thumbnails

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
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

// TestTurboLeavesChromaSampledTwice: libjpeg-turbo decodes a JPEG whose
// chroma is sampled more than once an MCU (cjpeg -sample 2x2,2x1,2x1) with
// wrong planes: 9 levels off at 1/8, and whole, its first two rows off by
// up to 170 when its height is odd (a green band across the top of its
// thumbnails). Such a JPEG is decoded as the default build decodes it:
// within a level of image/jpeg, or, progressive with restart markers (which
// image/jpeg refuses), by internal/jpegdct.
func TestTurboLeavesChromaSampledTwice(t *testing.T) {
	for _, name := range []string{"baseline-22-21-21.jpg", "baseline-22-12-12.jpg", "progressive-restart-22-21-21.jpeg"} {
		data, err := os.ReadFile(filepath.Join("internal/jpegdct/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		ref := data
		if base, ok := strings.CutPrefix(name, "progressive-restart-"); ok {
			if ref, err = os.ReadFile(filepath.Join("internal/jpegdct/testdata", "baseline-"+strings.TrimSuffix(base, ".jpeg")+".jpg")); err != nil {
				t.Fatal(err)
			}
		}
		want, err := jpeg.Decode(bytes.NewReader(ref))
		if err != nil {
			t.Fatal(err)
		}
		src, err := decode(data, DefaultLimits, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := maxAbsDiff(src.img, want); d > 8 {
			t.Errorf("%s: a channel off image/jpeg's by %d", name, d)
		}
	}
}

// maxAbsDiff is the largest difference of a channel (0..255) of two images
// of the same bounds.
func maxAbsDiff(a, b image.Image) int {
	m := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				m = max(m, d, -d)
			}
		}
	}
	return m
}
