package processors

import (
	"image/color"
	"math"

	"github.com/disintegration/gift"
)

// Rotate returns a filter that rotates the image counter-clockwise by degrees.
//
// Multiples of 90 degrees (negative ones too) are exact and lossless; other
// angles enlarge the image to hold the rotated one, leave the uncovered
// corners transparent and use bicubic interpolation. A multiple of 360, NaN
// or an infinity leaves the image unchanged.
func Rotate(degrees float64) gift.Filter {
	d := math.Mod(degrees, 360)
	if d < 0 {
		d += 360
	}
	switch d {
	case 90:
		return gift.Rotate90()
	case 180:
		return gift.Rotate180()
	case 270:
		return gift.Rotate270()
	}
	if d == 0 || math.IsNaN(d) || d == 360 { // d is 360 when degrees is a tiny negative number
		return identity{}
	}
	return gift.Rotate(float32(d), color.Transparent, gift.CubicInterpolation)
}
