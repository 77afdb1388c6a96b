package processors_test

import (
	"image"
	"testing"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

// TestWorkingPixels checks the working images the filters report: a
// resize both ways of a tall strip works on the smaller of its two
// temporary images, a fill of a thin strip on its covering image, a
// watermark on its scaled mark; a filter of gift's reports none.
func TestWorkingPixels(t *testing.T) {
	px := processors.Px
	mark := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	tests := []struct {
		name string
		f    gift.Filter
		src  image.Rectangle
		want int64
	}{
		{"stretch a tall strip", processors.Resize(px(100), px(100), processors.Stretch), image.Rect(0, 0, 1, 2_000_000), 100},
		{"stretch a wide strip", processors.Resize(px(100), px(100), processors.Stretch), image.Rect(0, 0, 2_000_000, 1), 100},
		{"one way only", processors.Resize(px(100), px(100), processors.Stretch), image.Rect(0, 0, 1000, 100), 0},
		{"fill a thin strip", processors.Resize(px(3000), px(1000), processors.Fill), image.Rect(0, 0, 1, 7), 3000 * 21000},
		{"watermark made wide", processors.Watermark(mark, processors.Center, 1, 0, px(10000)), image.Rect(0, 0, 300, 300), 10000 * 10000},
		{"watermark as it is", processors.Watermark(mark, processors.Center, 1, 0, processors.Length{}), image.Rect(0, 0, 300, 300), 0},
		{"fill a large box", processors.Resize(px(8000), px(6000), processors.Fill), image.Rect(0, 0, 4000, 3000), 8000 * 6000},
		{"gift's", gift.Rotate90(), image.Rect(0, 0, 10, 10), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := processors.WorkingPixels(tt.f, tt.src); got != tt.want {
				t.Errorf("WorkingPixels = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestResizeDownFirst checks that a resize of a tall strip made wide,
// which goes down first, gives what gift's resize gives (across first):
// the same but for the rounding and clamping of the image in between, a
// level or so on average at the sharp edges of the quadrants.
func TestResizeDownFirst(t *testing.T) {
	src := quadrants(0, 0, 3, 900)
	got := apply(src, processors.Resize(processors.Px(40), processors.Px(30), processors.Stretch))
	want := apply(src, gift.Resize(40, 30, gift.LanczosResampling))
	sum := 0
	for i := range got.Pix {
		sum += max(int(got.Pix[i])-int(want.Pix[i]), int(want.Pix[i])-int(got.Pix[i]))
	}
	if mean := float64(sum) / float64(len(got.Pix)); mean > 1 {
		t.Errorf("%.2f levels from gift's resize on average", mean)
	}
}
