package processors

import (
	"image"
	"math"
	"slices"

	"github.com/disintegration/gift"
)

// Smart returns a filter that scales the image to the smallest size that
// covers width×height, keeping its aspect ratio (like Resize with Fill), and
// cuts out the width×height window with the most detail, where Fill would cut
// out the middle.
//
// Detail is edge energy: the sum of the differences between neighbouring
// pixels of a grayscale copy of the image at most 256 pixels across.
// Of windows with the same energy, the one nearest the middle wins, so a
// flat image is cropped like Fill crops it. A zero width or height stands for
// that dimension of the image.
func Smart(width, height Length) gift.Filter {
	return &focalFilter{fixedBox: fixedBox{width, height}, point: detailPoint}
}

// smartGrid is the longest side of the copy on which windows are scored: fine
// enough to place a thumbnail's window within a percent of the image, coarse
// enough that scoring costs little beside the resize.
const smartGrid = 256

// detailPoint returns the centre, in pixels of src from its top-left corner,
// of the ws×hs window of src with the most edge energy.
func detailPoint(src image.Image, ws, hs float64) (x, y float64) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	k := max(1, (max(sw, sh)+smartGrid-1)/smartGrid)
	g, gw, gh := lumaGrid(src, k)
	// sat[(j)*(gw+1)+i] holds the energy of the cells above and left of (i, j).
	sat := make([]float64, (gw+1)*(gh+1))
	for j := range gh {
		var row float64
		for i := range gw {
			v := g[j*gw+i]
			var e float32
			if i+1 < gw {
				e += abs32(g[j*gw+i+1] - v)
			}
			if j+1 < gh {
				e += abs32(g[(j+1)*gw+i] - v)
			}
			row += float64(e)
			sat[(j+1)*(gw+1)+i+1] = sat[j*(gw+1)+i+1] + row
		}
	}
	wg := min(gw, max(1, int(math.Round(ws/float64(k)))))
	hg := min(gh, max(1, int(math.Round(hs/float64(k)))))
	bestI, bestJ, best, bestDist := 0, 0, -1.0, math.Inf(1)
	midI, midJ := float64(gw-wg)/2, float64(gh-hg)/2
	for j := 0; j <= gh-hg; j++ {
		for i := 0; i <= gw-wg; i++ {
			e := sat[(j+hg)*(gw+1)+i+wg] - sat[j*(gw+1)+i+wg] - sat[(j+hg)*(gw+1)+i] + sat[j*(gw+1)+i]
			d := math.Hypot(float64(i)-midI, float64(j)-midJ)
			if e > best || (e == best && d < bestDist) {
				bestI, bestJ, best, bestDist = i, j, e, d
			}
		}
	}
	return (float64(bestI) + float64(wg)/2) * float64(k), (float64(bestJ) + float64(hg)/2) * float64(k)
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// lumaGrid returns the brightness of src averaged over k×k blocks, as a
// gw×gh grid in rows; blocks at the right and bottom edges may be smaller.
func lumaGrid(src image.Image, k int) (g []float32, gw, gh int) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	gw, gh = (sw+k-1)/k, (sh+k-1)/k
	sums := make([]float32, gw*gh)
	// pix, off and stride locate the sample of (x, y) in a plane of bytes,
	// or its pixel of 4 when rgb is set.
	var pix []byte
	var off, stride int
	rgb, straight := false, false // 4-byte pixels; NRGBA's straight alpha
	switch s := src.(type) {
	case *image.YCbCr:
		pix, off, stride = s.Y, s.YOffset(b.Min.X, b.Min.Y), s.YStride
	case *image.Gray:
		pix, off, stride = s.Pix, s.PixOffset(b.Min.X, b.Min.Y), s.Stride
	case *image.NRGBA:
		pix, off, stride, rgb, straight = s.Pix, s.PixOffset(b.Min.X, b.Min.Y), s.Stride, true, true
	case *image.RGBA:
		pix, off, stride, rgb = s.Pix, s.PixOffset(b.Min.X, b.Min.Y), s.Stride, true
	}
	if pix != nil {
		isums := make([]uint32, gw*gh) // at most k*k*255, k at most 256
		for y := range sh {
			row := pix[off+y*stride:]
			out := isums[(y/k)*gw:][:gw]
			for i := range out {
				x0, x1 := i*k, min(i*k+k, sw)
				var sum uint32
				if !rgb {
					for _, v := range row[x0:x1] {
						sum += uint32(v)
					}
				} else {
					// The brightness of a JPEG's Y plane, so that a photo
					// made upright (RGBA) scores as one stored upright
					// (YCbCr); premultiplied, as RGBA holds it: the colour
					// of a transparent pixel is invisible, and no detail.
					for p := range slices.Chunk(row[x0*4:x1*4], 4) {
						y := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
						if straight {
							y = (y*uint32(p[3]) + 127) / 255
						}
						sum += y
					}
				}
				out[i] += sum
			}
		}
		for i, v := range isums {
			sums[i] = float32(v)
		}
	} else {
		// Other pixel formats are rare; one sample per block keeps them cheap.
		for j := range gh {
			for i := range gw {
				x, y := min(i*k+k/2, sw-1), min(j*k+k/2, sh-1)
				r, gg, bb, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
				sums[j*gw+i] = float32(299*r+587*gg+114*bb) / (1000 * 257)
			}
		}
		return sums, gw, gh
	}
	for j := range gh {
		for i := range gw {
			sums[j*gw+i] /= float32(blockArea(i, j, k, sw, sh))
		}
	}
	return sums, gw, gh
}

// blockArea returns the number of pixels of block (i, j) of k×k of an sw×sh image.
func blockArea(i, j, k, sw, sh int) int {
	return (min(i*k+k, sw) - i*k) * (min(j*k+k, sh) - j*k)
}
