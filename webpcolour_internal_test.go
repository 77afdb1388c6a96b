package thumbnails

import (
	"image"
	"math/rand/v2"
	"testing"
)

// TestVideoRangeEveryLayout converts YCbCr images of every subsampling,
// whole and as sub-images at odd offsets, with and without alpha, and
// checks each pixel against the equations applied through YOffset,
// COffset and AOffset.
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
		for _, rect := range []image.Rectangle{image.Rect(0, 0, 9, 7), image.Rect(-3, -5, 6, 4)} {
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
							cb, cr := float64(m.Cb[m.COffset(x, y)])-128, float64(m.Cr[m.COffset(x, y)])-128
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
