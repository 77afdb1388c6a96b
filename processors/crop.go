package processors

import (
	"image"
	"image/draw"
	"math"

	"github.com/disintegration/gift"
)

// Crop returns a filter that cuts a width×height window out of the middle of
// the image. See CropAt.
func Crop(width, height Length) gift.Filter {
	return CropAt(width, height, Pct(50), Pct(50))
}

// CropAt returns a filter that cuts a width×height window centred on
// (centerX, centerY) out of the image.
//
// The window is shifted as little as needed to stay inside the image, and is
// shrunk to the image's size when the image is smaller. A zero width or height
// keeps that dimension of the image. A percentage of the width or of centerX
// is taken of the current width, and likewise for the height and centerY.
func CropAt(width, height, centerX, centerY Length) gift.Filter {
	return &cropFilter{width: width, height: height, centerX: centerX, centerY: centerY}
}

type cropFilter struct {
	width, height    Length
	centerX, centerY Length
}

func (f *cropFilter) Bounds(src image.Rectangle) image.Rectangle {
	r := f.window(src)
	return r.Sub(r.Min)
}

func (f *cropFilter) Draw(dst draw.Image, src image.Image, options *gift.Options) {
	gift.Crop(f.window(src.Bounds())).Draw(dst, src, options)
}

// window returns the rectangle of src, in src's coordinates, that the filter keeps.
func (f *cropFilter) window(src image.Rectangle) image.Rectangle {
	sw, sh := src.Dx(), src.Dy()
	if sw <= 0 || sh <= 0 {
		return image.Rectangle{Min: src.Min, Max: src.Min}
	}
	x, w := span(f.width, f.centerX, sw)
	y, h := span(f.height, f.centerY, sh)
	return image.Rect(x, y, x+w, y+h).Add(src.Min)
}

// span returns the start and length of a window of the given size centred on
// center along a dimension of cur pixels, kept inside [0, cur).
func span(size, center Length, cur int) (start, length int) {
	length = size.size(cur)
	if length == 0 || length > cur {
		length = cur
	}
	// Clamp before converting so that far-away centres cannot overflow an int.
	s := center.position(cur) - float64(length)/2
	s = math.Max(0, math.Min(math.Round(s), float64(cur-length)))
	return int(s), length
}
