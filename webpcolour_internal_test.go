package thumbnails

import (
	"image"
	"math/rand/v2"
	"testing"
)

// TestVideoRangeEveryLayout converts YCbCr images of every subsampling,
// whole and as sub-images at odd offsets, with and without alpha, and
// checks each pixel against the equations applied through YOffset,
// AOffset and wantChroma.
func TestVideoRangeEveryLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
	}
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, ratio := range ratios {
		// the last is large enough to be converted in bands
		for _, rect := range []image.Rectangle{image.Rect(0, 0, 9, 7), image.Rect(-3, -5, 6, 4), image.Rect(0, 0, 301, 229)} {
			for _, sub := range []image.Rectangle{rect, image.Rect(1, 1, 8, 6).Intersect(rect), image.Rect(-1, -3, 5, 3).Intersect(rect)} {
				a := image.NewNYCbCrA(rect, ratio)
				fill(a.Y)
				fill(a.Cb)
				fill(a.Cr)
				fill(a.A)
				for _, img := range []image.Image{a.YCbCr.SubImage(sub), a.SubImage(sub)} {
					got := videoRangeRGB(img)
					if got.Bounds() != sub {
						t.Fatalf("%v %v: bounds %v", ratio, sub, got.Bounds())
					}
					var m *image.YCbCr
					var n *image.NYCbCrA
					switch i := img.(type) {
					case *image.YCbCr:
						m = i
					case *image.NYCbCrA:
						m, n = &i.YCbCr, i
					}
					for y := sub.Min.Y; y < sub.Max.Y; y++ {
						for x := sub.Min.X; x < sub.Max.X; x++ {
							yy := float64(m.Y[m.YOffset(x, y)]) - 16
							cb, cr := wantChroma(m, x, y)
							want := [4]float64{
								255.0/219*yy + 255.0/224*1.402*cr,
								255.0/219*yy - 255.0/224*(0.344136*cb+0.714136*cr),
								255.0/219*yy + 255.0/224*1.772*cb,
								255,
							}
							if n != nil {
								want[3] = float64(n.A[n.AOffset(x, y)])
							}
							var have [4]byte
							switch g := got.(type) {
							case *image.RGBA:
								copy(have[:], g.Pix[g.PixOffset(x, y):])
							case *image.NRGBA:
								copy(have[:], g.Pix[g.PixOffset(x, y):])
							}
							for i, w := range want {
								w = min(max(w, 0), 255)
								if d := float64(have[i]) - w; d > 0.51 || d < -0.51 {
									t.Fatalf("%v %v %T at (%d,%d): %v, want %.1f", ratio, sub, img, x, y, have, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// wantChroma is the Cb and Cr, less 128, that pixel (x, y) of m is
// converted with: in 4:2:0 from a non-negative origin, the mean of the four
// samples nearest to the pixel's centre weighted by closeness, 9:3:3:1 (the
// samples past an edge being the last ones), rounded; else the sample that
// covers it.
func wantChroma(m *image.YCbCr, x, y int) (float64, float64) {
	r := m.Rect
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || r.Min.X < 0 || r.Min.Y < 0 {
		ci := m.COffset(x, y)
		return float64(m.Cb[ci]) - 128, float64(m.Cr[ci]) - 128
	}
	// chroma sample i covers pixels 2i and 2i+1: its centre is at 2i+1,
	// counting in pixels from the left edge of pixel 0; pixel x's is at x+0.5
	clampTo := func(v, lo, hi int) int { return min(max(v, lo), hi) }
	sample := func(p []byte, cx, cy int) float64 {
		cx = clampTo(cx, r.Min.X/2, (r.Max.X-1)/2)
		cy = clampTo(cy, r.Min.Y/2, (r.Max.Y-1)/2)
		return float64(p[m.COffset(2*cx, 2*cy)])
	}
	mix := func(p []byte) float64 {
		var sum, weights float64
		for cy := y/2 - 1; cy <= y/2+1; cy++ {
			for cx := x/2 - 1; cx <= x/2+1; cx++ {
				// the weight falls with the distance from the pixel's
				// centre (x+0.5) to the sample's (2cx+1): 0.5 gives 3,
				// 1.5 gives 1, farther none
				wx := map[float64]float64{0.5: 3, 1.5: 1}[abs(float64(x)+0.5-float64(2*cx+1))]
				wy := map[float64]float64{0.5: 3, 1.5: 1}[abs(float64(y)+0.5-float64(2*cy+1))]
				sum += wx * wy * sample(p, cx, cy)
				weights += wx * wy
			}
		}
		return float64(int((sum/weights)+0.5)) - 128
	}
	return mix(m.Cb), mix(m.Cr)
}

func abs(v float64) float64 { return max(v, -v) }
