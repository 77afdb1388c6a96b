package processors

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/disintegration/gift"
)

// detailed returns a w×h YCbCr 4:2:0 image with gradients, edges and noise,
// as a JPEG decoder would return it.
func detailed(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8((x*255/w + y*255/h) / 2)
			if (x/37+y/23)%2 == 0 {
				v = 255 - v
			}
			img.Y[img.YOffset(x, y)] = v + uint8(r.IntN(24))
		}
	}
	for y := 0; y < (h+1)/2; y++ {
		for x := 0; x < (w+1)/2; x++ {
			img.Cb[y*img.CStride+x] = uint8(x * 255 / ((w + 1) / 2))
			img.Cr[y*img.CStride+x] = uint8(y * 255 / ((h + 1) / 2))
		}
	}
	return img
}

// meanDiff is the mean absolute difference per channel (0..255).
func meanDiff(a, b image.Image) float64 {
	var sum float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range []int64{int64(r1) - int64(r2), int64(g1) - int64(g2), int64(b1) - int64(b2)} {
				if d < 0 {
					d = -d
				}
				sum += float64(d)
			}
		}
	}
	return sum / float64(3*r.Dx()*r.Dy()) / 257
}

func render(f gift.Filter, src image.Image) *image.RGBA {
	g := gift.New(f)
	dst := image.NewRGBA(g.Bounds(src.Bounds()))
	g.Draw(dst, src)
	return dst
}

// TestShrinkKeepsThePicture compares Resize, which box-shrinks before
// resampling large reductions, with a plain Lanczos resize of the whole
// image: the same dimensions, and pixels within 2 levels of 255 on average.
func TestShrinkKeepsThePicture(t *testing.T) {
	data, err := os.ReadFile("../testdata/exif/Landscape_1.jpg") // 1800x1200, detailed
	if err != nil {
		t.Fatal(err)
	}
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(src.Bounds())
	draw.Draw(rgba, rgba.Bounds(), src, image.Point{}, draw.Src)
	gray := image.NewGray(src.Bounds())
	draw.Draw(gray, gray.Bounds(), src, image.Point{}, draw.Src)
	for _, tc := range []struct {
		name   string
		ours   gift.Filter
		direct gift.Filter
	}{
		{"fit 800", Resize(Px(800), Px(800), Fit), gift.Resize(800, 533, gift.LanczosResampling)},
		{"fit 400", Resize(Px(400), Px(400), Fit), gift.Resize(400, 267, gift.LanczosResampling)},
		{"fill 100", Resize(Px(100), Px(100), Fill), gift.ResizeToFill(100, 100, gift.LanczosResampling, gift.CenterAnchor)},
		{"width 333", Resize(Px(333), Length{}, Stretch), gift.Resize(333, 222, gift.LanczosResampling)},
	} {
		for _, in := range []struct {
			name string
			img  image.Image
		}{{"ycbcr", src}, {"rgba", rgba}, {"gray", gray}} {
			got, want := render(tc.ours, in.img), render(tc.direct, in.img)
			if got.Bounds() != want.Bounds() {
				t.Fatalf("%s %s: %v, want %v", tc.name, in.name, got.Bounds(), want.Bounds())
			}
			if d := meanDiff(got, want); d > 2 {
				t.Errorf("%s %s: differs from a plain Lanczos resize by %.2f levels on average", tc.name, in.name, d)
			} else {
				t.Logf("%s %s: mean difference %.2f", tc.name, in.name, d)
			}
		}
	}
}

// TestShrinkKeepsTheEdges resizes images whose sides the box shrink of
// Resize does not divide: a box of 6 drops the last 4 columns and rows of
// a 2560x1600 image, and the resampling after it stretched the rest over the
// whole result, moving the picture by up to two thirds of a result pixel.
// The box now takes a divisor nearby (5), or the one that drops the fewest:
// within 5 levels of a plain Lanczos resize on average where it was 5 to 9.
func TestShrinkKeepsTheEdges(t *testing.T) {
	for _, tc := range []struct{ w, h, width int }{
		{2560, 1600, 200}, {2560, 1600, 100}, {2011, 1409, 200}, {2011, 1409, 100},
	} {
		src := detailed(tc.w, tc.h)
		ours := Resize(Px(tc.width), Length{}, Stretch)
		b := ours.Bounds(src.Bounds())
		got, want := render(ours, src), render(gift.Resize(b.Dx(), b.Dy(), gift.LanczosResampling), src)
		d := meanDiff(got, want)
		t.Logf("%dx%d to %v: mean difference %.2f", tc.w, tc.h, b.Size(), d)
		if d > 5 {
			t.Errorf("%dx%d to %v: differs from a plain Lanczos resize by %.2f levels on average", tc.w, tc.h, b.Size(), d)
		}
	}
}

func BenchmarkResizeLarge(b *testing.B) {
	src := detailed(2560, 1600)
	for _, bc := range []struct {
		name string
		f    gift.Filter
	}{
		{"shrink+lanczos", Resize(Px(1200), Px(1200), Fit)},
		{"lanczos", gift.Resize(1200, 750, gift.LanczosResampling)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			g := gift.New(bc.f)
			dst := image.NewRGBA(g.Bounds(src.Bounds()))
			for b.Loop() {
				g.Draw(dst, src)
			}
		})
	}
}
