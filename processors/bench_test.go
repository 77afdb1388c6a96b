package processors_test

import (
	"image"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

// photo returns a w×h image in the layout a JPEG decoder returns, with a gradient
// so that resampling has something to do.
func photo(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			img.Y[img.YOffset(x, y)] = uint8(x ^ y)
			ci := img.COffset(x, y)
			img.Cb[ci] = uint8(x)
			img.Cr[ci] = uint8(y)
		}
	}
	return img
}

func BenchmarkResize(b *testing.B) {
	src := photo(2560, 1600)
	benchmarks := []struct {
		name   string
		filter gift.Filter
	}{
		{"fill_100x100", processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)},
		{"fit_1200x1200", processors.Resize(processors.Px(1200), processors.Px(1200), processors.Fit)},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			g := gift.New(bm.filter)
			dst := image.NewNRGBA(g.Bounds(src.Bounds()))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				g.Draw(dst, src)
			}
		})
	}
}
