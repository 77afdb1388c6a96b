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
// 100×6,000,000 image. When that image would be large (fillMaxTemp), far
// larger than the box, fillFilter first cuts out of the source the part the
// result keeps, with the margin the resampling kernel reaches into; the
// result may then be shifted by a fraction of a pixel. Any other image is
// filled exactly as gift fills it.
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
// to w×h keeps, widened by the Lanczos kernel's reach on each side, and true
// when gift would otherwise resample it to an image of more than
// fillMaxTemp pixels and sixteen times the box.
func fillWindow(sb image.Rectangle, w, h int) (image.Rectangle, bool) {
	sw, sh := sb.Dx(), sb.Dy()
	if sw <= 0 || sh <= 0 || w <= 0 || h <= 0 {
		return sb, false
	}
	wr, hr := float64(sw)/float64(w), float64(sh)/float64(h) // source pixels a result pixel
	// gift's temporary image: the width or the height sets the scale
	tw, th := float64(w), math.Max(float64(sh)/wr, float64(h))
	if wr >= hr {
		tw, th = math.Max(float64(sw)/hr, float64(w)), float64(h)
	}
	if tw*th <= math.Max(fillMaxTemp, 16*float64(w)*float64(h)) {
		return sb, false
	}
	if wr < hr { // too tall: the width sets the scale
		keep := max(1, int(math.Ceil(float64(h+2*fillMargin(wr))*wr)))
		if keep >= sh {
			return sb, false
		}
		y0 := sb.Min.Y + (sh-keep)/2
		return image.Rect(sb.Min.X, y0, sb.Max.X, y0+keep), true
	}
	keep := max(1, int(math.Ceil(float64(w+2*fillMargin(hr))*hr)))
	if keep >= sw {
		return sb, false
	}
	x0 := sb.Min.X + (sw-keep)/2
	return image.Rect(x0, sb.Min.Y, x0+keep, sb.Max.Y), true
}

// fillMaxTemp is the most pixels of gift's temporary image that fillFilter
// lets it make (4 megapixels, 32 MB in gift's 64-bit pixels).
const fillMaxTemp = 1 << 22

// fillMargin is the reach of gift's Lanczos kernel in result pixels, for a
// scale of r source pixels a result pixel, and one for rounding: three
// result pixels when it shrinks, three source pixels when it enlarges.
func fillMargin(r float64) int {
	if r >= 1 {
		return 4
	}
	return int(math.Ceil(3/r)) + 1
}
