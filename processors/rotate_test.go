package processors_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

// marked returns a 3×2 red image whose top-left pixel, at (0, 0), is white.
func marked() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for y := range 2 {
		for x := range 3 {
			img.SetNRGBA(x, y, red)
		}
	}
	img.SetNRGBA(0, 0, white)
	return img
}

func TestRotateExact(t *testing.T) {
	tests := []struct {
		degrees float64
		size    [2]int
		white   image.Point // where the top-left pixel of the 3×2 source ends up
	}{
		{0, [2]int{3, 2}, image.Pt(0, 0)},
		{360, [2]int{3, 2}, image.Pt(0, 0)},
		{-720, [2]int{3, 2}, image.Pt(0, 0)},
		// Counter-clockwise: the top-left corner goes to the bottom-left.
		{90, [2]int{2, 3}, image.Pt(0, 2)},
		{450, [2]int{2, 3}, image.Pt(0, 2)},
		{-270, [2]int{2, 3}, image.Pt(0, 2)},
		{180, [2]int{3, 2}, image.Pt(2, 1)},
		{-180, [2]int{3, 2}, image.Pt(2, 1)},
		{270, [2]int{2, 3}, image.Pt(1, 0)},
		{-90, [2]int{2, 3}, image.Pt(1, 0)},
	}
	for _, tt := range tests {
		dst := apply(marked(), processors.Rotate(tt.degrees))
		if got := dims(dst.Bounds()); got != tt.size {
			t.Errorf("Rotate(%v): size %v, want %v", tt.degrees, got, tt.size)
			continue
		}
		for y := range tt.size[1] {
			for x := range tt.size[0] {
				want := red
				if image.Pt(x, y) == tt.white {
					want = white
				}
				if got := dst.NRGBAAt(x, y); got != want {
					t.Errorf("Rotate(%v): pixel (%d, %d) = %v, want %v", tt.degrees, x, y, got, want)
				}
			}
		}
	}
}

func TestRotateFree(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 20, 20))
	for i := range src.Pix {
		src.Pix[i] = 255
	}
	dst := apply(src, processors.Rotate(45))
	// The diagonal of 20√2 ≈ 28.3 pixels becomes the width and the height.
	if got := dims(dst.Bounds()); got[0] < 28 || got[0] > 29 || got[0] != got[1] {
		t.Fatalf("size %v, want about 28x28", got)
	}
	if got := dst.NRGBAAt(0, 0); got.A != 0 {
		t.Errorf("corner %v, want transparent", got)
	}
	c := dst.Bounds().Dx() / 2
	if got := dst.NRGBAAt(c, c); got != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("centre %v, want opaque white", got)
	}
}
