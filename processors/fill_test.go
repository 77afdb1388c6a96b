package processors_test

import (
	"image"
	"image/color"
	"runtime"
	"testing"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

// meanDiff returns the mean absolute difference of the colour channels of
// two images of the same size, in levels of 255.
func meanDiff(a, b *image.NRGBA) float64 {
	var sum, n float64
	for i := range a.Pix {
		if i%4 == 3 {
			continue
		}
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		if d < 0 {
			d = -d
		}
		sum += d
		n++
	}
	return sum / n
}

// TestFillLongShapes fills boxes from images of shapes far from the box's:
// those gift resamples to a temporary image of reasonable size are filled
// exactly as gift.ResizeToFill fills them, and a strip of 1×60000 pixels,
// which gift would first resample to 100×6,000,000, fills 100×100 quickly
// in little memory, with the strip's middle.
func TestFillLongShapes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		w, h       int // source
		boxW, boxH int
	}{
		{"panorama into a square", 3000, 400, 100, 100},
		{"tall into a square", 300, 2400, 100, 100},
		{"square into a banner", 800, 800, 400, 50},
		{"just over twice as tall", 101, 203, 100, 100},
		{"just under twice as wide", 1000, 499, 200, 200},
		{"small panorama, enlarged", 50, 10, 100, 100},
		{"small and tall, enlarged", 9, 40, 200, 200},
		{"a photo's shape", 600, 400, 199, 266},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := noisyGradient(tc.w, tc.h)
			got := apply(src, processors.Resize(processors.Px(tc.boxW), processors.Px(tc.boxH), processors.Fill))
			want := apply(src, gift.ResizeToFill(tc.boxW, tc.boxH, gift.LanczosResampling, gift.CenterAnchor))
			if dims(got.Bounds()) != [2]int{tc.boxW, tc.boxH} {
				t.Fatalf("%v, want %dx%d", got.Bounds(), tc.boxW, tc.boxH)
			}
			if d := meanDiff(got, want); d != 0 {
				t.Errorf("%.2f levels from gift's fill on average, want none", d)
			}
		})
	}

	strip := image.NewNRGBA(image.Rect(0, 0, 1, 60000))
	for y := range 60000 {
		strip.SetNRGBA(0, y, color.NRGBA{uint8(y / 240), 0, 0, 255})
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := apply(strip, processors.Resize(processors.Px(100), processors.Px(100), processors.Fill))
	runtime.ReadMemStats(&after)
	if dims(got.Bounds()) != [2]int{100, 100} {
		t.Fatalf("the strip filled %v", got.Bounds())
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("filling 100x100 from a 1x60000 strip allocated %d MB", n>>20)
	}
	if r := got.NRGBAAt(50, 50).R; r < 123 || r > 126 { // the middle rows: 30000 / 240 = 125
		t.Errorf("the strip's fill is %d in the middle, want about 125", r)
	}
}
