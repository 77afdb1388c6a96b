package processors

import (
	"image"
	"image/draw"
	"math"

	"github.com/disintegration/gift"
)

// Resize returns a filter that resizes the image to width×height using
// Lanczos resampling, treating the aspect ratio as m says.
//
// A zero dimension follows the aspect ratio of the current image, whatever
// the method; with both zero the image is left unchanged. A percentage of the
// width is taken of the current width, and likewise for the height. Unknown
// methods behave as Stretch.
func Resize(width, height Length, m Method) gift.Filter {
	return &resizeFilter{width: width, height: height, method: m}
}

// ResizeNoUpscale returns a filter like Resize(width, height, m) that never
// enlarges the image: what it would enlarge is left as it is.
//
// With a single dimension, and with Fit, an image already inside the box is
// left unchanged. Stretch takes each dimension to the smaller of the box's
// and the image's, so it may still shrink one and keep the other. Fill
// resizes and crops an image larger than the box in both dimensions; an
// image larger in one dimension only is not resized, and is cropped (centred)
// to the box in that dimension, as easy-thumbnails, libvips and imgproxy do:
// a 400×200 image filled into 300×300 becomes 300×200.
func ResizeNoUpscale(width, height Length, m Method) gift.Filter {
	return &resizeFilter{width: width, height: height, method: m, noUpscale: true}
}

type resizeFilter struct {
	width, height Length
	method        Method
	noUpscale     bool
	reduced       int         // times the decoder reduced the image already (Reduced)
	full          image.Point // the size of the image before, when reduced
}

func (f *resizeFilter) Bounds(src image.Rectangle) image.Rectangle {
	return f.plan(src).Bounds(src)
}

func (f *resizeFilter) Draw(dst draw.Image, src image.Image, options *gift.Options) {
	sb := src.Bounds()
	plan := f.plan(sb)
	target := plan.Bounds(sb)
	if trimmed, ok := f.trim(src, target); ok {
		src, sb, plan = trimmed, trimmed.Bounds(), f.planTo(target)
	}
	if k := f.shrink(sb, dst.Bounds()); k > 1 {
		if small, ok := boxShrink(src, evenBox(sb.Dx(), sb.Dy(), k)); ok {
			// resample the shrunk image to the size planned for the original
			f.planTo(target).Draw(dst, small, options)
			return
		}
	}
	plan.Draw(dst, src, options)
}

// trim returns src, an image its decoder reduced (see Reduced) and that is
// resampled to target, without its last column or row when that pixel
// stands for less than half of the pixels of the others: a decoder reduces
// the image's last partial block of pixels to a whole pixel, and the
// resampling, spreading the reduced image evenly over the result, would
// move the picture by up to that pixel's missing part (0.4 of a result
// pixel for a 1001x1001 JPEG reduced 8 times to 60x60). Dropped, the pixel
// moves it by its own part, under half a pixel of the reduced image.
func (f *resizeFilter) trim(src image.Image, target image.Rectangle) (image.Image, bool) {
	k, sb := f.reduced, src.Bounds()
	sub, ok := src.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if k < 2 || f.full == (image.Point{}) || !ok || target.Size() == sb.Size() {
		return src, false
	}
	partial := func(n, full int) bool {
		last := full - (n-1)*k // the source pixels of the last one
		return n > 1 && last > 0 && 2*last < k
	}
	r := sb
	if partial(sb.Dx(), f.full.X) {
		r.Max.X--
	}
	if partial(sb.Dy(), f.full.Y) {
		r.Max.Y--
	}
	if r == sb {
		return src, false
	}
	return sub.SubImage(r), true
}

// shrink returns the box reduction to apply to an image of bounds sb that
// is resized to db: the size it is resampled to, before any crop of Fill,
// decides. Of an image its decoder has already reduced (see Reduced), it is
// what remains of the reduction the full image would get.
func (f *resizeFilter) shrink(sb, db image.Rectangle) int {
	k := max(f.reduced, 1)
	sw, sh := sb.Dx()*k, sb.Dy()*k
	tw, th := db.Dx(), db.Dy()
	if f.method == Fill && !f.width.IsZero() && !f.height.IsZero() {
		scale := max(float64(tw)/float64(sw), float64(th)/float64(sh))
		tw, th = int(float64(sw)*scale), int(float64(sh)*scale)
	}
	return max(1, shrinkFactor(sw, sh, tw, th)/k)
}

// planTo returns the filter that takes an image (a shrunk one) to the size
// of target, the result planned for the original image: a plain resize, or
// for Fill a resize and centre crop.
func (f *resizeFilter) planTo(target image.Rectangle) gift.Filter {
	if f.method == Fill && !f.width.IsZero() && !f.height.IsZero() {
		return fill(target.Dx(), target.Dy())
	}
	return newResize(target.Dx(), target.Dy())
}

// plan returns the gift filter that does the work for an image of bounds src.
func (f *resizeFilter) plan(src image.Rectangle) gift.Filter {
	sw, sh := src.Dx(), src.Dy()
	if sw <= 0 || sh <= 0 {
		return identity{}
	}
	w, h := f.width.size(sw), f.height.size(sh)
	switch {
	case w == 0 && h == 0:
		return identity{}
	case w == 0:
		if f.noUpscale && h >= sh {
			return identity{}
		}
		w = scaled(sw, h, sh)
		return newResize(w, h)
	case h == 0:
		if f.noUpscale && w >= sw {
			return identity{}
		}
		h = scaled(sh, w, sw)
		return newResize(w, h)
	}
	switch f.method {
	case Fit:
		if f.noUpscale && sw <= w && sh <= h {
			return identity{}
		}
		w, h = fitInside(sw, sh, w, h)
	case Fill:
		if f.noUpscale && (sw <= w || sh <= h) {
			// Not larger than the box both ways: nothing is resized, and
			// what overhangs the box is cropped.
			if sw <= w && sh <= h {
				return identity{}
			}
			return gift.CropToSize(min(w, sw), min(h, sh), gift.CenterAnchor)
		}
		return fill(w, h)
	default:
		if f.noUpscale {
			w, h = min(w, sw), min(h, sh)
			if w == sw && h == sh {
				return identity{}
			}
		}
	}
	return newResize(w, h)
}

// fitInside returns the largest size with the aspect ratio of sw×sh that fits
// inside bw×bh. Unlike gift.ResizeToFit it also enlarges, so that Fit behaves
// like Stretch and Fill do for images smaller than the box.
func fitInside(sw, sh, bw, bh int) (w, h int) {
	if float64(bw)/float64(sw) <= float64(bh)/float64(sh) {
		return bw, min(scaled(sh, bw, sw), bh)
	}
	return min(scaled(sw, bh, sh), bw), bh
}

// scaled returns v*num/den in whole pixels, at least 1 and at most MaxDimension.
func scaled(v, num, den int) int {
	return clampDimension(math.Round(float64(v) * float64(num) / float64(den)))
}

// IsResize reports whether f is a filter made by Resize.
func IsResize(f gift.Filter) bool {
	_, ok := f.(*resizeFilter)
	return ok
}

// ScalesOnly reports whether f is a Resize that keeps the aspect ratio and
// crops nothing (Fit, or a single dimension): its result is the whole
// picture, smaller, and may stand in for the source of further resizes.
func ScalesOnly(f gift.Filter) bool {
	r, ok := f.(*resizeFilter)
	return ok && (r.method == Fit || r.width.IsZero() != r.height.IsZero())
}
