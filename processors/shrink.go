package processors

import (
	"image"

	"github.com/disintegration/gift"
)

// Downscaling with Lanczos costs in proportion to the source's pixels times
// the kernel's width, which grows with the reduction. Like libvips'
// shrink-on-load, Resize first averages k×k blocks when the reduction is at
// least 2 (k of 2, or half the reduction from 6 on: see shrinkFactor), then
// resamples the remaining factor, between 1 and 3, with Lanczos: the same
// picture for a fraction of the work.
// Where k does not divide the image's sides, a k a little smaller that
// does, or drops fewer pixels, is taken (evenBox).

// shrinkFactor returns the integer box reduction to apply to an image of
// sw×sh before resampling it to tw×th: 1 below a reduction of 2, else 2,
// or half the whole reduction from 6 on.
func shrinkFactor(sw, sh, tw, th int) int {
	if tw <= 0 || th <= 0 {
		return 1
	}
	r := min(sw/tw, sh/th)
	if r < 2 {
		return 1
	}
	// A box of 2 is harmless; a wider one lets fine detail alias, so leave
	// Lanczos a reduction of 2 to 4 from there on.
	return max(2, r/2)
}

// evenBox returns the box reduction to apply to an image of sw×sh, k or a
// little less, whichever leaves the fewest pixels out: a box of k drops the
// last sw%k columns and sh%k rows, and the resampling after it stretches
// what remains over the whole result, moving the picture by up to that
// much towards the far edges. It goes down to three quarters of k, leaving
// Lanczos a reduction of up to 8/3 rather than 2 (a third more work for it).
func evenBox(sw, sh, k int) int {
	left := func(c int) float64 { return max(float64(sw%c)/float64(sw), float64(sh%c)/float64(sh)) }
	best := k
	for c := k - 1; c >= max(2, (3*k+3)/4); c-- {
		if left(c) < left(best) {
			best = c
		}
	}
	return best
}

// boxShrink returns src reduced k times in both dimensions by averaging k×k
// blocks, for the pixel formats decoders return; ok is false for others.
func boxShrink(src image.Image, k int) (image.Image, bool) {
	switch s := src.(type) {
	case *image.YCbCr:
		if s.SubsampleRatio != image.YCbCrSubsampleRatio420 && s.SubsampleRatio != image.YCbCrSubsampleRatio444 {
			return nil, false
		}
		b := s.Bounds()
		w, h := b.Dx()/k, b.Dy()/k
		dst := image.NewYCbCr(image.Rect(0, 0, w, h), s.SubsampleRatio)
		shrinkPlane(dst.Y, dst.YStride, w, h, s.Y[s.YOffset(b.Min.X, b.Min.Y):], s.YStride, b.Dx(), b.Dy(), k)
		cw, ch := w, h
		scw, sch := b.Dx(), b.Dy()
		if s.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			cw, ch = (w+1)/2, (h+1)/2
			scw, sch = (b.Max.X+1)/2-b.Min.X/2, (b.Max.Y+1)/2-b.Min.Y/2
		}
		off := s.COffset(b.Min.X, b.Min.Y)
		shrinkPlane(dst.Cb, dst.CStride, cw, ch, s.Cb[off:], s.CStride, scw, sch, k)
		shrinkPlane(dst.Cr, dst.CStride, cw, ch, s.Cr[off:], s.CStride, scw, sch, k)
		return dst, true
	case *image.Gray:
		b := s.Bounds()
		w, h := b.Dx()/k, b.Dy()/k
		dst := image.NewGray(image.Rect(0, 0, w, h))
		shrinkPlane(dst.Pix, dst.Stride, w, h, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, b.Dx(), b.Dy(), k)
		return dst, true
	case *image.RGBA: // premultiplied: averaging the channels is exact
		b := s.Bounds()
		w, h := b.Dx()/k, b.Dy()/k
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		shrinkInterleaved(dst.Pix, dst.Stride, w, h, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, k)
		return dst, true
	}
	return nil, false
}

// shrinkPlane averages k×k blocks of an 8-bit plane of sw×sh samples into a
// w×h one; blocks at the right and bottom edges are clamped to the plane.
func shrinkPlane(dst []byte, dstride, w, h int, src []byte, sstride, sw, sh, k int) {
	if k == 2 && 2*w <= sw && 2*h <= sh { // the common case, without edges
		for y := 0; y < h; y++ {
			r0, r1, out := src[2*y*sstride:][:2*w], src[(2*y+1)*sstride:][:2*w], dst[y*dstride:][:w]
			for x := range out {
				out[x] = uint8((uint32(r0[2*x]) + uint32(r0[2*x+1]) + uint32(r1[2*x]) + uint32(r1[2*x+1]) + 2) >> 2)
			}
		}
		return
	}
	sums := make([]uint32, w)
	for y := 0; y < h; y++ {
		clear(sums)
		y0, y1 := y*k, min(y*k+k, sh)
		for sy := y0; sy < y1; sy++ {
			row := src[sy*sstride:][:sw]
			for x := range sums {
				for _, v := range row[x*k : min(x*k+k, sw)] {
					sums[x] += uint32(v)
				}
			}
		}
		out := dst[y*dstride:][:w]
		for x := range out {
			n := uint32((y1 - y0) * (min(x*k+k, sw) - x*k))
			out[x] = uint8((sums[x] + n/2) / n)
		}
	}
}

// shrinkInterleaved averages k×k blocks of 4-channel pixels into a w×h image.
func shrinkInterleaved(dst []byte, dstride, w, h int, src []byte, sstride, k int) {
	sums := make([]uint32, 4*w)
	n := uint32(k * k)
	for y := 0; y < h; y++ {
		clear(sums)
		for sy := y * k; sy < y*k+k; sy++ {
			row := src[sy*sstride:]
			for x := 0; x < w; x++ {
				p := row[4*x*k : 4*(x*k+k)]
				for i := 0; i < len(p); i += 4 {
					sums[4*x] += uint32(p[i])
					sums[4*x+1] += uint32(p[i+1])
					sums[4*x+2] += uint32(p[i+2])
					sums[4*x+3] += uint32(p[i+3])
				}
			}
		}
		out := dst[y*dstride:]
		for i, s := range sums {
			out[i] = uint8((s + n/2) / n)
		}
	}
}

// ShrinkFactor returns the integer box reduction that f, when it is a
// Resize, applies to an image of bounds src before resampling it: 1 when it
// applies none, and for any other filter. A decoder that can reduce while
// decoding (JPEG's DCT scaling) may do that much of the work itself.
func ShrinkFactor(f gift.Filter, src image.Rectangle) int {
	r, ok := f.(*resizeFilter)
	if !ok {
		return 1
	}
	return r.shrink(src, r.Bounds(src))
}

// Reduced returns f, when it is a Resize, for an image that its decoder has
// reduced k times from full, its size (JPEG's DCT scaling, up to
// ShrinkFactor): the box reduction f applies before resampling is then
// what remains of the one it would apply to the full image, so that the
// two do not add up and leave Lanczos nothing to do; and a last column or
// row that stands for less than half of k pixels is left out, so as not to
// move the picture. Its result has the bounds it would have from the full
// image only where the caller checked so (Bounds of both). Any other
// filter, or a k below 2, is returned as it is.
func Reduced(f gift.Filter, k int, full image.Point) gift.Filter {
	r, ok := f.(*resizeFilter)
	if !ok || k < 2 {
		return f
	}
	c := *r
	c.reduced, c.full = k, full
	return &c
}
