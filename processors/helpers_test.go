package processors_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/disintegration/gift"
)

// Colours of the quadrants of the images made by quadrants.
var (
	red   = color.NRGBA{R: 255, A: 255}
	green = color.NRGBA{G: 255, A: 255}
	blue  = color.NRGBA{B: 255, A: 255}
	white = color.NRGBA{R: 255, G: 255, B: 255, A: 255}
)

// quadrants returns a w×h image, with its origin at (ox, oy), whose top-left
// quarter is red, top-right green, bottom-left blue and bottom-right white.
func quadrants(ox, oy, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(ox, oy, ox+w, oy+h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y >= h/2:
				c = white
			case x >= w/2:
				c = green
			case y >= h/2:
				c = blue
			}
			img.SetNRGBA(ox+x, oy+y, c)
		}
	}
	return img
}

// apply runs filters over src and returns the result.
func apply(src image.Image, filters ...gift.Filter) *image.NRGBA {
	g := gift.New(filters...)
	dst := image.NewNRGBA(g.Bounds(src.Bounds()))
	g.Draw(dst, src)
	return dst
}

// dims returns the width and height of r.
func dims(r image.Rectangle) [2]int { return [2]int{r.Dx(), r.Dy()} }

// assertSolid fails t unless every pixel of img is c.
func assertSolid(t *testing.T, img *image.NRGBA, c color.NRGBA) {
	t.Helper()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if got := img.NRGBAAt(x, y); got != c {
				t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, got, c)
			}
		}
	}
}
