package thumbnails_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gen2brain/webp"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// TestWebPSourceColours saves lossy and lossless WebP sources and compares
// their thumbnails, written as PNG (which decodes one way only), with the
// pictures the WebPs were made from. A lossy WebP stores BT.601 colour with
// luma in 16-235: read as full-range YCbCr, pure red came out (239,15,15)
// and a photo 6.7 levels off on average, where libwebp gives (255,1,0).
func TestWebPSourceColours(t *testing.T) {
	e := setupSameSize(t, 600)
	pizza, err := jpeg.Decode(bytes.NewReader(photo(t, pizzaJPG)))
	if err != nil {
		t.Fatal(err)
	}
	solid := image.NewNRGBA(image.Rect(0, 0, 600, 400))
	colours := []color.NRGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}, {0, 0, 0, 255}, {255, 0, 0, 128}}
	for x := range 600 {
		for y := range 400 {
			solid.SetNRGBA(x, y, colours[x/100])
		}
	}
	for _, c := range []struct {
		name    string
		src     image.Image
		opts    webp.Options
		mean    float64 // at most, over the channels of opaque pixels
		maxDiff int     // at most, at the centres of solid's bands
	}{
		{"lossy photo", pizza, webp.Options{Quality: 95}, 2.5, -1},
		{"lossy bands", solid, webp.Options{Quality: 95}, 3, 4},
		{"lossless bands", solid, webp.Options{Lossless: true}, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := e.sameSize(t, encodeWebP(t, c.src, c.opts))
			if got.Bounds() != c.src.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), c.src.Bounds())
			}
			if m := meanOpaqueDiff(got, c.src); m > c.mean {
				t.Errorf("mean difference from the picture encoded %.2f levels, want at most %.1f", m, c.mean)
			}
			if c.maxDiff < 0 {
				return
			}
			for i, want := range colours {
				p := image.Pt(i*100+50, 200)
				have := color.NRGBAModel.Convert(got.At(p.X, p.Y)).(color.NRGBA)
				if d := maxChannelDiff(have, want); d > c.maxDiff {
					t.Errorf("band %d at %v = %v, want %v (off by %d)", i, p, have, want, d)
				}
			}
		})
	}
}

// TestWebPSourceMatchesLibvips decodes a lossy WebP made by libvips from
// the 600x400 photo through the plugin (a PNG size of the same width) and
// with libvips: within a level everywhere, chroma included, which libwebp
// blends between samples.
func TestWebPSourceMatchesLibvips(t *testing.T) {
	vips, err := exec.LookPath("vips")
	if err != nil {
		t.Skip("vips is not installed (apt-get install libvips-tools; .ci/run does)")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		if out, err := exec.Command(vips, args...).CombinedOutput(); err != nil {
			t.Fatalf("vips %v: %v\n%s", args, err, out)
		}
	}
	src, webpFile, ref := filepath.Join(dir, "p.jpg"), filepath.Join(dir, "p.webp"), filepath.Join(dir, "p.png")
	if err := os.WriteFile(src, photo(t, pizzaJPG), 0o644); err != nil {
		t.Fatal(err)
	}
	run("copy", src, webpFile+"[Q=90]")
	run("copy", webpFile, ref)
	data, err := os.ReadFile(webpFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	got := setupSameSize(t, 600).sameSize(t, data)
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, libvips %v", got.Bounds(), want.Bounds())
	}
	worst := 0
	for y := range want.Bounds().Dy() {
		for x := range want.Bounds().Dx() {
			g := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			w := color.NRGBAModel.Convert(want.At(x, y)).(color.NRGBA)
			worst = max(worst, maxChannelDiff(g, w))
		}
	}
	if m := meanOpaqueDiff(got, want); m > 0.1 || worst > 1 {
		t.Errorf("from libvips' decode: mean %.3f levels, worst %d; want within 1", m, worst)
	}
}

// setupSameSize registers the plugin with one size, "same": a PNG width
// pixels wide, the width of the images the test saves.
func setupSameSize(t *testing.T, width int) *env {
	t.Helper()
	set, err := sizes.Load(strings.NewReader(fmt.Sprintf(`same: {processors: [{path: resize, width: %d}], format: png}`, width)))
	if err != nil {
		t.Fatal(err)
	}
	return setupSizes(t, openSQLite(t), set, &Kite{})
}

// sameSize saves a row of upload and returns its "same" size, decoded.
func (e *env) sameSize(t *testing.T, upload []byte) image.Image {
	t.Helper()
	row := Kite{Image: field.NewImage("a.webp", bytes.NewReader(upload))}
	if err := e.db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	th, err := row.Image.Thumbnail(t.Context(), "same")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := e.decodeStored(t, th.Name)
	return img
}

// meanOpaqueDiff is the mean absolute difference of R, G and B between a
// and b, over the pixels both have opaque.
func meanOpaqueDiff(a, b image.Image) float64 {
	var sum, n float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			q := color.NRGBAModel.Convert(b.At(x, y)).(color.NRGBA)
			if p.A != 255 || q.A != 255 {
				continue
			}
			for _, d := range []int{int(p.R) - int(q.R), int(p.G) - int(q.G), int(p.B) - int(q.B)} {
				sum += float64(max(d, -d))
			}
			n += 3
		}
	}
	return sum / max(n, 1)
}

// maxChannelDiff is the largest difference between a and b in one channel.
func maxChannelDiff(a, b color.NRGBA) int {
	d := 0
	for _, v := range []int{int(a.R) - int(b.R), int(a.G) - int(b.G), int(a.B) - int(b.B), int(a.A) - int(b.A)} {
		d = max(d, v, -v)
	}
	return d
}
