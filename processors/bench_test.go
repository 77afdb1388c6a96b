package processors_test

import (
	"context"
	"image"
	"image/color"
	"testing"
	"time"

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

// BenchmarkSmart compares the smart crop with the fill it refines: the
// difference is the cost of scoring the windows.
func BenchmarkSmart(b *testing.B) {
	src := photo(2560, 1600)
	benchmarks := []struct {
		name   string
		filter gift.Filter
	}{
		{"smart_100x100", processors.Smart(processors.Px(100), processors.Px(100))},
		{"smart_800x800", processors.Smart(processors.Px(800), processors.Px(800))},
		{"focal_100x100", processors.Focal(processors.Px(100), processors.Px(100), processors.Pct(30), processors.Pct(50))},
		{"fill_100x100", processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)},
		{"pad_100x100", processors.Pad(processors.Px(100), processors.Px(100), color.White)},
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

// BenchmarkOptimize runs django-thumbnails' commands on the test images; it
// measures the programs more than this package, whose share is the
// allocations.
func BenchmarkOptimize(b *testing.B) {
	benchmarks := []struct {
		name, format, command string
		data                  func() []byte
	}{
		{"optipng", "png", pngCommand, testPNG},
		{"jpegoptim", "jpeg", jpgCommand, testJPEG},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			needs(b, bm.name)
			p := optimize(b, map[string]string{bm.format: bm.command}, time.Minute)
			data := bm.data()
			ctx := context.Background()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Process(ctx, bm.format, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSplitCommand(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := processors.SplitCommand(pngCommand); err != nil {
			b.Fatal(err)
		}
	}
}
