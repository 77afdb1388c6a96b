package processors

import (
	"image"
	"image/draw"
	"math"

	"github.com/disintegration/gift"
)

// WorkingPixels returns the pixels of the largest image, besides its
// result, that f makes while it draws an image of bounds src: gift's
// temporary image of a resize, the covering image of a fill, a watermark's
// scaled mark. A caller bounds it as it bounds results, since a small or
// degenerate upload (a 1×2,000,000 strip) can ask a resize for gigabytes.
// It is 0 for a filter that makes none, or that this package did not make.
func WorkingPixels(f gift.Filter, src image.Rectangle) int64 {
	if w, ok := f.(interface{ workingPixels(image.Rectangle) int64 }); ok {
		return w.workingPixels(src)
	}
	return 0
}

// resize is gift's Lanczos resize to w×h, which resamples one way, then
// the other: it goes first the way that makes the smaller temporary image.
// gift goes across first, which, for a tall strip made wide (1×2,000,000 to
// 100×100), makes a temporary image of 100×2,000,000; going down first makes
// one of 1×100.
type resize struct{ w, h int }

func newResize(w, h int) gift.Filter { return resize{w: w, h: h} }

func (r resize) Bounds(image.Rectangle) image.Rectangle { return image.Rect(0, 0, r.w, r.h) }

func (r resize) Draw(dst draw.Image, src image.Image, options *gift.Options) {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	if sw == r.w || sh == r.h || int64(r.w)*int64(sh) <= int64(sw)*int64(r.h) {
		gift.Resize(r.w, r.h, gift.LanczosResampling).Draw(dst, src, options)
		return
	}
	down := image.NewNRGBA64(image.Rect(0, 0, sw, r.h))
	gift.Resize(sw, r.h, gift.LanczosResampling).Draw(down, src, options)
	gift.Resize(r.w, r.h, gift.LanczosResampling).Draw(dst, down, options)
}

func (r resize) workingPixels(src image.Rectangle) int64 {
	sw, sh := int64(src.Dx()), int64(src.Dy())
	w, h := int64(r.w), int64(r.h)
	if sw == w || sh == h {
		return 0
	}
	return min(w*sh, sw*h)
}

func (f *resizeFilter) workingPixels(src image.Rectangle) int64 {
	return WorkingPixels(f.plan(src), src)
}

// workingPixels of a fill: the larger of the covering image of the part of
// the source it resamples and gift's temporary image for it (across
// first).
func (f fillFilter) workingPixels(src image.Rectangle) int64 {
	if window, ok := fillWindow(src, f.w, f.h); ok {
		src = window
	}
	sw, sh := float64(src.Dx()), float64(src.Dy())
	if sw <= 0 || sh <= 0 {
		return 0
	}
	s := math.Max(float64(f.w)/sw, float64(f.h)/sh)
	cw, ch := math.Ceil(sw*s), math.Ceil(sh*s)
	return int64(math.Min(math.Max(cw*ch, cw*sh), math.MaxInt64/2))
}

func (f *watermarkFilter) workingPixels(src image.Rectangle) int64 {
	f.mu.RLock()
	mark := f.mark
	f.mu.RUnlock()
	if mark == nil {
		return 0
	}
	mb := mark.Bounds()
	w := f.width.size(src.Dx())
	if w <= 0 || w == mb.Dx() || mb.Dx() <= 0 {
		return 0
	}
	h := float64(mb.Dy()) * float64(w) / float64(mb.Dx())
	return int64(math.Min(float64(w)*math.Max(h, float64(mb.Dy())), math.MaxInt64/2))
}
