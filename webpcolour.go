package thumbnails

import (
	"image"
	"runtime"
	"sync"
)

// videoRangeRGB converts a lossy WebP's decoded image to RGB.
//
// VP8, the codec of lossy WebP, stores colour as BT.601 Y'CbCr in video
// range: luma from 16 to 235 and chroma from 16 to 240. Go's WebP decoders
// return those planes as an *image.YCbCr (*image.NYCbCrA with alpha), whose
// colour model is JPEG's full range, so that every colour came out washed
// out: pure red as (239,15,15), where libwebp gives (255,0,0). The result is
// an *image.RGBA, or an *image.NRGBA when the image has alpha (drawn with
// straight alpha, as newColour's images are). Any other image, such as a
// lossless WebP's *image.NRGBA, is returned as it is.
func videoRangeRGB(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.YCbCr:
		dst := image.NewRGBA(m.Rect)
		videoRange(dst.Pix, dst.Stride, m, nil, 0)
		return dst
	case *image.NYCbCrA:
		dst := image.NewNRGBA(m.Rect)
		videoRange(dst.Pix, dst.Stride, &m.YCbCr, m.A[m.AOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.AStride)
		return dst
	}
	return img
}

// The BT.601 video-range equations in 16.16 fixed point:
// R = 255/219 (Y-16) + 255/224 1.402 (Cr-128), and likewise for G and B.
const (
	vrY    = 76309  // 255/219
	vrCrR  = 104597 // 255/224 × 1.402
	vrCbG  = 25675  // 255/224 × 0.344136
	vrCrG  = 53279  // 255/224 × 0.714136
	vrCbB  = 132201 // 255/224 × 1.772
	vrHalf = 1 << 15
)

// videoRange writes m's pixels as RGB into pix (4 bytes a pixel, stride
// bytes a row, m.Rect's origin at pix[0]), with alpha from the plane a
// (aStride bytes a row, laid out as m.Y) when it is not nil, else opaque.
// Each pixel takes the chroma sample that covers it. A large image is
// converted in bands, one a core.
func videoRange(pix []byte, stride int, m *image.YCbCr, a []byte, aStride int) {
	r := m.Rect
	n := runtime.GOMAXPROCS(0)
	if r.Dx()*r.Dy() < 1<<16 {
		n = 1
	}
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			videoRangeRows(pix, stride, m, a, aStride, r.Min.Y+r.Dy()*k/n, r.Min.Y+r.Dy()*(k+1)/n)
		})
	}
	wg.Wait()
}

// videoRangeRows is videoRange for the rows from y0 to y1.
func videoRangeRows(pix []byte, stride int, m *image.YCbCr, a []byte, aStride int, y0, y1 int) {
	r := m.Rect
	w := r.Dx()
	// 4:2:0, what VP8 uses, from a non-negative x: a chroma sample every
	// two pixels, the next one at each even x. Otherwise COffset says.
	stepped := m.SubsampleRatio == image.YCbCrSubsampleRatio420 && r.Min.X >= 0
	odd := r.Min.X & 1
	for y := y0; y < y1; y++ {
		row := pix[(y-r.Min.Y)*stride:][:4*w]
		yRow := m.Y[m.YOffset(r.Min.X, y):][:w]
		c0 := m.COffset(r.Min.X, y)
		for i, yv := range yRow {
			ci := c0 + (i+odd)>>1
			if !stepped {
				ci = m.COffset(r.Min.X+i, y)
			}
			yy := (int32(yv) - 16) * vrY
			cb, cr := int32(m.Cb[ci])-128, int32(m.Cr[ci])-128
			p := row[4*i : 4*i+4 : 4*i+4]
			p[0] = clamp8(yy + vrCrR*cr)
			p[1] = clamp8(yy - vrCbG*cb - vrCrG*cr)
			p[2] = clamp8(yy + vrCbB*cb)
			p[3] = 255
		}
		if a != nil {
			for i, av := range a[(y-r.Min.Y)*aStride:][:w] {
				row[4*i+3] = av
			}
		}
	}
}

// clamp8 rounds a 16.16 fixed-point value to a byte, clamped to 0..255.
func clamp8(v int32) uint8 {
	v = (v + vrHalf) >> 16
	return uint8(min(max(v, 0), 255))
}
