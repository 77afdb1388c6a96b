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
// out: pure red as (239,15,15), where libwebp gives (255,0,0). The result,
// with chroma upsampled as libwebp does (see videoRangeRows), is
// an *image.RGBA, or an *image.NRGBA when the image has alpha (drawn with
// straight alpha, as newColour's images are). Any other image, such as a
// lossless WebP's *image.NRGBA, is returned as it is. The RGB copy takes
// four bytes a pixel, where the planes took one and a half: within what
// MaxPixels already allows an RGBA PNG.
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
// A large image is converted in bands, one a core.
func videoRange(pix []byte, stride int, m *image.YCbCr, a []byte, aStride int) {
	r := m.Rect
	n := runtime.GOMAXPROCS(0)
	if r.Dx()*r.Dy() < 1<<16 {
		n = 1
	}
	band := func(k int) {
		videoRangeRows(pix, stride, m, a, aStride, r.Min.Y+r.Dy()*k/n, r.Min.Y+r.Dy()*(k+1)/n)
	}
	var wg sync.WaitGroup
	for k := 1; k < n; k++ {
		wg.Go(func() { band(k) })
	}
	band(0)
	wg.Wait()
}

// videoRangeRows is videoRange for the rows from y0 to y1.
//
// In 4:2:0, which VP8 uses, a chroma sample covers two by two pixels and
// sits at their centre. Each pixel's chroma is then blended from the four
// samples nearest to it, weighted 9:3:3:1 by closeness (the samples past
// an edge repeat the last ones), as libwebp does when it decodes to RGB:
// taking the covering sample alone leaves steps of two pixels along
// coloured edges. Other subsamplings, and images whose origin is negative,
// take the covering sample (COffset).
func videoRangeRows(pix []byte, stride int, m *image.YCbCr, a []byte, aStride int, y0, y1 int) {
	r := m.Rect
	w := r.Dx()
	blend := m.SubsampleRatio == image.YCbCrSubsampleRatio420 && r.Min.X >= 0 && r.Min.Y >= 0
	cx0, cy0 := r.Min.X>>1, r.Min.Y>>1 // the first chroma column and row
	cx1, cy1 := (r.Max.X-1)>>1, (r.Max.Y-1)>>1
	// neighbour is the other sample nearest to pixel v, whose own is v/2.
	neighbour := func(v, lo, hi int) int {
		if v&1 == 0 {
			return max(v>>1-1, lo)
		}
		return min(v>>1+1, hi)
	}
	cb, cr := make([]int32, w), make([]int32, w) // a row's chroma, less 128
	for y := y0; y < y1; y++ {
		if blend {
			near := (y>>1 - cy0) * m.CStride
			far := (neighbour(y, cy0, cy1) - cy0) * m.CStride
			for i := range w {
				x := r.Min.X + i
				cx, nx := x>>1-cx0, neighbour(x, cx0, cx1)-cx0
				mix := func(p []byte) int32 {
					return (9*int32(p[near+cx])+3*int32(p[near+nx])+3*int32(p[far+cx])+int32(p[far+nx])+8)>>4 - 128
				}
				cb[i], cr[i] = mix(m.Cb), mix(m.Cr)
			}
		} else {
			for i := range w {
				ci := m.COffset(r.Min.X+i, y)
				cb[i], cr[i] = int32(m.Cb[ci])-128, int32(m.Cr[ci])-128
			}
		}
		row := pix[(y-r.Min.Y)*stride:][:4*w]
		for i, yv := range m.Y[m.YOffset(r.Min.X, y):][:w] {
			yy := (int32(yv) - 16) * vrY
			p := row[4*i : 4*i+4 : 4*i+4]
			p[0] = clamp8(yy + vrCrR*cr[i])
			p[1] = clamp8(yy - vrCbG*cb[i] - vrCrG*cr[i])
			p[2] = clamp8(yy + vrCbB*cb[i])
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
