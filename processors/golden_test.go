package processors_test

import (
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

var update = flag.Bool("update", false, "write testdata/dst_<name>.png from the current processors")

// goldenSource returns a 64×48 image of the quadrants, darker towards the
// top, crossed by a black line every 8 pixels so blurs and masks have edges.
func goldenSource() *image.NRGBA {
	img := quadrants(0, 0, 64, 48)
	for y := range 48 {
		for x := range 64 {
			c := img.NRGBAAt(x, y)
			if x%8 == 4 || y%8 == 4 {
				c = color.NRGBA{A: 255}
			}
			shade := func(v uint8) uint8 { return uint8(int(v) * (128 + 127*y/47) / 255) }
			img.SetNRGBA(x, y, color.NRGBA{shade(c.R), shade(c.G), shade(c.B), 255})
		}
	}
	return img
}

// detailSource returns a 64×48 image whose left half is noise and right half flat grey.
func detailSource() *image.NRGBA {
	r := rand.New(rand.NewPCG(3, 4))
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			v := uint8(128)
			if x < 32 {
				v = uint8(r.IntN(256))
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	return img
}

// pizza returns ../testdata/pizza-600x400.jpg scaled down to 96×64.
func pizza(t *testing.T) image.Image {
	t.Helper()
	f, err := os.Open("../testdata/pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return apply(img, processors.Resize(processors.Px(96), processors.Px(64), processors.Stretch))
}

// mustNew returns New(name, params), failing t on an error.
func mustNew(t *testing.T, name string, params map[string]any) gift.Filter {
	t.Helper()
	f, err := processors.New(name, params)
	if err != nil {
		t.Fatalf("New(%q, %v): %v", name, params, err)
	}
	return f
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		src    func(*testing.T) image.Image
		proc   string
		params map[string]any
	}{
		{"source", nil, "resize", map[string]any{"width": "100%"}},
		{"pad", nil, "pad", map[string]any{"width": 48, "height": 48, "color": "#336699"}},
		{"pad_sides", nil, "pad", map[string]any{"width": 96, "height": 48, "color": "transparent"}},
		{"pad_default", nil, "pad", map[string]any{"width": 32, "height": 32}},
		{"resize_fit_noupscale", nil, "resize", map[string]any{"width": 100, "height": 100, "method": "fit", "upscale": false}},
		{"resize_fill_noupscale", nil, "resize", map[string]any{"width": 32, "height": 32, "method": "fill", "upscale": false}},
		{"resize_stretch_noupscale", nil, "resize", map[string]any{"width": 32, "height": 100, "upscale": false}},
		{"crop_top-left", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "top-left"}},
		{"crop_top", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "top"}},
		{"crop_top-right", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "top-right"}},
		{"crop_left", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "left"}},
		{"crop_center", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "center"}},
		{"crop_right", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "right"}},
		{"crop_bottom-left", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "bottom-left"}},
		{"crop_bottom", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "bottom"}},
		{"crop_bottom-right", nil, "crop", map[string]any{"width": 24, "height": 16, "anchor": "bottom-right"}},
		{"focal", nil, "focal", map[string]any{"width": 24, "height": 24, "x": "90%", "y": "10%"}},
		{"focal_pixels", nil, "focal", map[string]any{"width": 32, "height": 16, "x": 0, "y": 47}},
		{"smart", func(*testing.T) image.Image { return detailSource() }, "smart", map[string]any{"width": 24, "height": 48}},
		{"smart_pizza", pizza, "smart", map[string]any{"width": 32, "height": 64}},
		{"blur", nil, "blur", map[string]any{"sigma": 1.5}},
		{"unsharp", nil, "unsharp", map[string]any{"sigma": 1, "amount": 2}},
		{"grayscale", nil, "grayscale", nil},
		{"brightness", nil, "brightness", map[string]any{"percent": 30}},
		{"contrast", nil, "contrast", map[string]any{"percent": -40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src image.Image = goldenSource()
			if tt.src != nil {
				src = tt.src(t)
			}
			got := apply(src, mustNew(t, tt.proc, tt.params))
			golden(t, tt.name, got)
		})
	}
}

// golden compares got with testdata/dst_<name>.png, within 1 level per
// channel, or writes that file with -update.
func golden(t *testing.T, name string, got *image.NRGBA) {
	t.Helper()
	path := filepath.Join("testdata", "dst_"+name+".png")
	if *update {
		writePNG(t, path, got)
		return
	}
	want := readPNG(t, path)
	if !got.Bounds().Eq(want.Bounds()) {
		t.Fatalf("bounds %v, want %v as in %s", got.Bounds(), want.Bounds(), path)
	}
	b := got.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y)
			if far(g.R, w.R) || far(g.G, w.G) || far(g.B, w.B) || far(g.A, w.A) {
				t.Fatalf("pixel (%d, %d) = %v, want %v as in %s", x, y, g, w, path)
			}
		}
	}
}

// far reports whether two channel values differ by more than 1.
func far(a, b uint8) bool { return int(a)-int(b) > 1 || int(b)-int(a) > 1 }

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readPNG(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to write it)", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewNRGBA(img.Bounds())
	draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Src)
	return dst
}

// TestGoldenWatermark draws the scaled-down pizza as a watermark over the
// golden source: at two anchors, opacities and sizes.
func TestGoldenWatermark(t *testing.T) {
	mark := apply(pizza(t), processors.Resize(processors.Px(24), processors.Px(16), processors.Stretch))
	for _, tt := range []struct {
		name string
		f    gift.Filter
	}{
		{"watermark_bottom-right", processors.Watermark(mark, processors.BottomRight, 0.5, 2, processors.Length{})},
		{"watermark_top-left_scaled", processors.Watermark(mark, processors.TopLeft, 1, 0, processors.Pct(50))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := apply(goldenSource(), tt.f)
			golden(t, tt.name, got)
		})
	}
}
