package processors

import (
	"image"
	"image/draw"
	"math"

	"github.com/disintegration/gift"
)

// Focal returns a filter that scales the image to the smallest size that
// covers width×height, keeping its aspect ratio (like Resize with Fill), and
// cuts out the width×height window centred as nearly as possible on the
// focal point (x, y) of the original image.
//
// The window is shifted as little as needed to stay inside the image, so a
// point near an edge gives a window touching that edge. x and y are pixels of
// the image, or percentages of its width and height; a zero width or height
// stands for that dimension of the image. The window is placed to the
// nearest pixel of the image before scaling.
func Focal(width, height, x, y Length) gift.Filter {
	return &focalFilter{fixedBox: fixedBox{width, height}, point: func(src image.Image, _, _ float64) (float64, float64) {
		b := src.Bounds()
		return x.position(b.Dx()), y.position(b.Dy())
	}}
}

type focalFilter struct {
	fixedBox
	// point returns the focal point, in pixels from the top-left corner of
	// src, for a window of ws×hs of its pixels.
	point func(src image.Image, ws, hs float64) (x, y float64)
}

func (f *focalFilter) Draw(dst draw.Image, src image.Image, options *gift.Options) {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	if sw <= 0 || sh <= 0 {
		return
	}
	w, h := f.box(sw, sh)
	// The window, in pixels of the source: cut it out first, then scale only
	// it, which is both less work and no temporary image larger than the box.
	scale := max(float64(w)/float64(sw), float64(h)/float64(sh))
	ws, hs := min(float64(w)/scale, float64(sw)), min(float64(h)/scale, float64(sh))
	cx, cy := f.point(src, ws, hs)
	x0, x1 := place(cx, ws, sw)
	y0, y1 := place(cy, hs, sh)
	window := image.Rect(x0, y0, x1, y1).Add(sb.Min)
	Resize(Px(w), Px(h), Stretch).Draw(dst, cut(src, window, options), options)
}

// cut returns the part of src inside window: a view of its pixels when src
// has SubImage (every image type of the standard library), else a copy.
func cut(src image.Image, window image.Rectangle, options *gift.Options) image.Image {
	if s, ok := src.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(window)
	}
	tmp := image.NewNRGBA(window.Sub(window.Min))
	gift.Crop(window).Draw(tmp, src, options)
	return tmp
}

// place returns the whole pixels [start, end) of a window of size pixels
// centred on center along a dimension of cur pixels, shifted into [0, cur).
func place(center, size float64, cur int) (start, end int) {
	s := math.Max(0, math.Min(center-size/2, float64(cur)-size))
	if math.IsNaN(s) {
		s = 0
	}
	start = int(math.Round(s))
	end = min(cur, max(start+1, int(math.Round(s+size))))
	return start, end
}

// Focusable is a filter that crops around a focal point (focal), which an
// image may carry of its own: AtFocus returns the same filter centred on the
// point at fractions x and y of the image's width and height.
type Focusable interface {
	gift.Filter
	AtFocus(x, y float64) gift.Filter
}

// AtFocus implements Focusable.
func (f *focalFilter) AtFocus(x, y float64) gift.Filter {
	return Focal(f.width, f.height, Pct(x*100), Pct(y*100))
}
