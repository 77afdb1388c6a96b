package processors

import (
	"image"
	"image/draw"
	"math"

	"github.com/disintegration/gift"
)

// fillFilter resizes an image to the smallest size that covers w×h and
// cuts the centre w×h out of it, as gift.ResizeToFill does. gift resamples
// the whole image first: filling 100×100 from a 1×60000 strip would make a
// 100×6,000,000 image. fillFilter first cuts out of the source the part
// that the result keeps, with the margin the resampling kernel reaches
// into, whenever the source's shape is far from the box's (twice as long
// or more, relatively); a photo of a shape close to the box's is filled
// exactly as gift fills it.
type fillFilter struct{ w, h int }

// fill returns the filter that fills w×h.
func fill(w, h int) gift.Filter { return fillFilter{w: w, h: h} }

func (f fillFilter) Bounds(image.Rectangle) image.Rectangle { return image.Rect(0, 0, f.w, f.h) }

func (f fillFilter) Draw(dst draw.Image, src image.Image, options *gift.Options) {
	if window, ok := fillWindow(src.Bounds(), f.w, f.h); ok {
		src = cut(src, window, options)
	}
	gift.ResizeToFill(f.w, f.h, gift.LanczosResampling, gift.CenterAnchor).Draw(dst, src, options)
}

// fillWindow returns the centred part of an image of bounds sb that a fill
// to w×h keeps, widened by fillMargin result pixels on each side (the
// Lanczos kernel's reach), and true when the source is at least twice as
// long as the box, relatively, in one dimension. The window spans a whole
// number of result pixels, to a source pixel, so that gift resamples it at
// the scale it would resample the whole image.
func fillWindow(sb image.Rectangle, w, h int) (image.Rectangle, bool) {
	sw, sh := sb.Dx(), sb.Dy()
	if sw <= 0 || sh <= 0 || w <= 0 || h <= 0 {
		return sb, false
	}
	wr, hr := float64(sw)/float64(w), float64(sh)/float64(h) // source pixels a result pixel
	switch {
	case hr >= 2*wr: // too tall: the width sets the scale
		keep := max(1, int(math.Round(float64(h+2*fillMargin)*wr)))
		if keep >= sh {
			return sb, false
		}
		y0 := sb.Min.Y + (sh-keep)/2
		return image.Rect(sb.Min.X, y0, sb.Max.X, y0+keep), true
	case wr >= 2*hr: // too wide: the height sets the scale
		keep := max(1, int(math.Round(float64(w+2*fillMargin)*hr)))
		if keep >= sw {
			return sb, false
		}
		x0 := sb.Min.X + (sw-keep)/2
		return image.Rect(x0, sb.Min.Y, x0+keep, sb.Max.Y), true
	}
	return sb, false
}

// fillMargin is the reach of gift's Lanczos kernel, in result pixels: three
// when it shrinks, less when it enlarges; and one for rounding.
const fillMargin = 4
