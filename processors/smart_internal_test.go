package processors

import (
	"image"
	"image/color"
	"image/draw"
	"slices"
	"testing"
)

// TestLumaGridIgnoresInvisibleColour: the colour a transparent pixel
// holds is invisible, and no detail. An image with transparency is
// scored the same whether it is stored with straight alpha (NRGBA, as a
// PNG decodes) or premultiplied (RGBA, as it is after it is made upright),
// so that the smart crop of one picture does not depend on its EXIF
// orientation.
func TestLumaGridIgnoresInvisibleColour(t *testing.T) {
	straight := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			c := color.NRGBA{uint8(4 * x), uint8(5 * y), 90, 255}
			switch {
			case x < 20 && y < 20:
				c = color.NRGBA{0, 255, 0, 0} // hidden green
			case x > 40:
				c.A = uint8(40 + 4*y)
			}
			straight.SetNRGBA(x, y, c)
		}
	}
	premultiplied := image.NewRGBA(straight.Bounds())
	draw.Draw(premultiplied, premultiplied.Bounds(), straight, image.Point{}, draw.Src)
	a, _, _ := lumaGrid(straight, 4)
	b, _, _ := lumaGrid(premultiplied, 4)
	if !slices.EqualFunc(a, b, func(x, y float32) bool { return x-y < 4*4 && y-x < 4*4 }) {
		t.Errorf("NRGBA grid %v\nRGBA grid %v", a[:8], b[:8])
	}
}

// TestLumaGridOfATurnedPhoto: a JPEG decodes to YCbCr, whose Y plane is
// its brightness; made upright (EXIF orientation) it is RGBA. Both score
// the same, so that the smart crop of a photo does not depend on how it
// was stored.
func TestLumaGridOfATurnedPhoto(t *testing.T) {
	ycc := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio444)
	for y := range 48 {
		for x := range 64 {
			ycc.Y[ycc.YOffset(x, y)] = uint8(40 + 2*x + y)
			ycc.Cb[ycc.COffset(x, y)] = uint8(100 + x/2)
			ycc.Cr[ycc.COffset(x, y)] = uint8(150 - y/2)
		}
	}
	rgba := image.NewRGBA(ycc.Bounds())
	draw.Draw(rgba, rgba.Bounds(), ycc, image.Point{}, draw.Src)
	a, _, _ := lumaGrid(ycc, 4)
	b, _, _ := lumaGrid(rgba, 4)
	if !slices.EqualFunc(a, b, func(x, y float32) bool { return x-y < 2 && y-x < 2 }) {
		t.Errorf("YCbCr grid %v\nRGBA grid %v", a[:8], b[:8])
	}
}
