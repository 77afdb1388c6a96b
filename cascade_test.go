package thumbnails

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/sizes"
)

const cascadeSizes = `
large:  {processors: [{path: resize, width: 1200, height: 1200, method: fit}]}
medium: {processors: [{path: resize, width: 400, height: 400, method: fit}]}
small:  {processors: [{path: resize, width: 100, height: 100, method: fill}]}
half:   {processors: [{path: resize, width: "25%", height: "25%"}]}
strip:  {processors: [{path: crop, width: 800, height: 200}, {path: resize, width: 200}]}
mirror: {processors: [{path: resize, width: 300, method: fit}, {path: flip, direction: horizontal}]}
`

// cascadePhoto returns a 2560x1600 photo from the shared test data, or the
// largest EXIF sample when that is absent.
func cascadePhoto(t testing.TB) []byte {
	if data, err := os.ReadFile("../shared/testdata/photos/Kite-2560x1600.jpg"); err == nil {
		return data
	}
	data, err := os.ReadFile("testdata/exif/Landscape_1.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCascadeMatchesDirect renders sizes as a cascade and each from the
// source, and checks that each result has the same dimensions and is
// within 5 levels (of 255, 2 %) on average. Measured: up to 1 level on the
// 2560x1600 photos, up to 4 on the detailed 1800x1200 EXIF sample (small from
// medium from large), where the two look the same side by side.
func TestCascadeMatchesDirect(t *testing.T) {
	ImageOnly(t)
	set, err := sizes.Load(strings.NewReader(cascadeSizes))
	if err != nil {
		t.Fatal(err)
	}
	src, err := decode(cascadePhoto(t), DefaultLimits, nil)
	if err != nil {
		t.Fatal(err)
	}
	var list []sizes.Size
	for _, n := range set.Names() {
		list = append(list, set[n])
	}
	ctx := context.Background()
	cascade, err := renderAll(ctx, src, list, color.White)
	if err != nil {
		t.Fatal(err)
	}
	for i, sz := range list {
		direct, err := render(ctx, src, sz, color.White)
		if err != nil {
			t.Fatal(err)
		}
		a, _, err := image.Decode(bytes.NewReader(cascade[i].data))
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := image.Decode(bytes.NewReader(direct.data))
		if a.Bounds() != b.Bounds() || cascade[i].width != direct.width || cascade[i].height != direct.height {
			t.Fatalf("%s: cascade %v, direct %v", sz.Name, a.Bounds(), b.Bounds())
		}
		d := meanAbsDiff(a, b)
		if d > 5 {
			t.Errorf("%s: the cascade differs from the direct rendering by %.2f levels", sz.Name, d)
		}
		t.Logf("%s %v: mean difference %.2f", sz.Name, a.Bounds().Size(), d)
	}
}

func meanAbsDiff(a, b image.Image) float64 {
	var sum float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range []int64{int64(r1) - int64(r2), int64(g1) - int64(g2), int64(b1) - int64(b2)} {
				sum += float64(max(d, -d))
			}
		}
	}
	return sum / float64(3*r.Dx()*r.Dy()) / 257
}

// BenchmarkRender compares rendering large, medium and small from a
// 2560x1600 JPEG (the shared photo when present, else the 1800x1200 EXIF
// sample), each from the source and as a cascade, decode included: the
// full image decoded, and (reduced, what a save does) decoded as small as
// the sizes allow (jpegScale: 2x here, by internal/jpegdct or with -tags
// turbojpeg by libjpeg-turbo).
func BenchmarkRender(b *testing.B) {
	set, err := sizes.Load(strings.NewReader(`
large:  {processors: [{path: resize, width: 1200, height: 1200, method: fit}]}
medium: {processors: [{path: resize, width: 400, height: 400, method: fit}]}
small:  {processors: [{path: resize, width: 100, height: 100, method: fill}]}
`))
	if err != nil {
		b.Fatal(err)
	}
	list := []sizes.Size{set["large"], set["medium"], set["small"]}
	data := cascadePhoto(b)
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			src, _ := decode(data, DefaultLimits, nil)
			for _, sz := range list {
				if _, err := render(ctx, src, sz, color.White); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("cascade", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			src, _ := decode(data, DefaultLimits, nil)
			if _, err := renderAll(ctx, src, list, color.White); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cascade-reduced", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			src, err := decode(data, DefaultLimits, list)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := renderAll(ctx, src, list, color.White); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestStartsKeepEachSizesPicture checks the sizes whose leading Resize
// depends on the size of its input (a percentage, a fit that does not
// enlarge), followed by a crop: the final dimensions come out the same from
// a smaller start (a reduced JPEG decode, another size), but not the part
// of the picture the crop keeps. Each must look as rendered from the whole
// source, decoded whole, alone and next to a plain fit that could serve
// as a start.
func TestStartsKeepEachSizesPicture(t *testing.T) {
	ImageOnly(t)
	set, err := sizes.Load(strings.NewReader(`
half:  {processors: [{path: resize, width: "50%", height: "50%"}, {path: crop, width: 100, height: 100}]}
noup:  {processors: [{path: resize, width: 1000, height: 1000, method: fit, upscale: false}, {path: crop, width: 100, height: 100}]}
mid:   {processors: [{path: resize, width: 300, method: fit}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := decode(data, DefaultLimits, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"half", "noup"} {
		for _, list := range [][]sizes.Size{{set[name]}, {set[name], set["mid"]}} {
			src, err := decode(data, DefaultLimits, list)
			if err != nil {
				t.Fatal(err)
			}
			out, err := renderAll(ctx, src, list, color.White)
			if err != nil {
				t.Fatal(err)
			}
			want, err := render(ctx, whole, set[name], color.White)
			if err != nil {
				t.Fatal(err)
			}
			a, _, _ := image.Decode(bytes.NewReader(out[0].data))
			b, _, _ := image.Decode(bytes.NewReader(want.data))
			if d := meanAbsDiff(a, b); a.Bounds() != b.Bounds() || d > 5 {
				t.Errorf("%s among %d sizes: %v, %.1f levels from the rendering from the whole source %v", name, len(list), a.Bounds(), d, b.Bounds())
			}
		}
	}
}

// TestCropOnlySizeStartsFromTheSource renders a fill that does not enlarge
// of an image smaller than its box one way (a crop, nothing resampled) next
// to a fit whose result gives the crop the same bounds: the crop is still
// the source's pixels, not those of the fit's resampled image.
func TestCropOnlySizeStartsFromTheSource(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 400, 100))
	for y := range 100 {
		for x := range 400 {
			src.SetNRGBA(x, y, color.NRGBA{uint8(255 * (x / 2 % 2)), uint8(x), uint8(y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	set, err := sizes.Load(strings.NewReader(`
wide: {processors: [{path: resize, width: 399, height: 399, method: fit}], format: png}
crop: {processors: [{path: resize, width: 300, height: 300, method: fill, upscale: false}], format: png}
`))
	if err != nil {
		t.Fatal(err)
	}
	list := []sizes.Size{set["wide"], set["crop"]}
	s, err := decode(buf.Bytes(), DefaultLimits, list)
	if err != nil {
		t.Fatal(err)
	}
	out, err := renderAll(context.Background(), s, list, color.White)
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(out[1].data))
	if err != nil {
		t.Fatal(err)
	}
	want := image.NewNRGBA(image.Rect(0, 0, 300, 100))
	draw.Draw(want, want.Bounds(), src, image.Pt(50, 0), draw.Src)
	if got.Bounds() != want.Bounds() || meanAbsDiff(got, want) != 0 {
		t.Errorf("crop is %v, %.2f levels from the source's centre 300x100", got.Bounds(), meanAbsDiff(got, want))
	}
}
