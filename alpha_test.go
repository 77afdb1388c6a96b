package thumbnails

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"
	"testing"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// overWhite returns img drawn over white.
func overWhite(img image.Image) image.Image {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Over)
	return out
}

// checkAlphaSize renders the only size of yaml from data, and compares it,
// over white, with the size's processors drawn by gift into an NRGBA from
// upright, the source decoded and made upright.
func checkAlphaSize(t *testing.T, yaml string, data []byte, upright image.Image) {
	t.Helper()
	set, err := sizes.Load(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	sz := set[set.Names()[0]]
	src, err := decode(data, DefaultLimits, []sizes.Size{sz})
	if err != nil {
		t.Fatal(err)
	}
	out, err := renderAll(context.Background(), src, []sizes.Size{sz}, color.White)
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(out[0].data))
	if err != nil {
		t.Fatal(err)
	}
	g := gift.New(sz.Processors...)
	want := image.NewNRGBA(g.Bounds(upright.Bounds()))
	g.Draw(want, upright)
	if d := meanAbsDiff(overWhite(got), overWhite(want)); got.Bounds() != want.Bounds() || d > 6 {
		t.Errorf("%s: %v, %.1f levels from gift's rendering %v", sz.Name, got.Bounds(), d, want.Bounds())
	}
}

// TestSharpenNextToTransparency: sharpening pushes the alpha of the pixels
// along a transparent edge past its range; drawn premultiplied (RGBA),
// their colour came out wrong, a light and dark ring.
func TestSharpenNextToTransparency(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 400, 240))
	for y := range 240 {
		for x := range 400 {
			if x%24 >= 8 {
				src.SetNRGBA(x, y, color.NRGBA{90, 120, 160, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	checkAlphaSize(t, `crisp: {processors: [{path: sharpen, sigma: 1.5, amount: 3}], format: png}`, buf.Bytes(), src)
}
