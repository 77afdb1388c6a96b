package processors

import (
	"image"
	"image/draw"

	"github.com/disintegration/gift"
)

// identity is the filter that copies its source unchanged.
type identity struct{}

func (identity) Bounds(src image.Rectangle) image.Rectangle {
	return image.Rect(0, 0, max(src.Dx(), 0), max(src.Dy(), 0))
}

func (identity) Draw(dst draw.Image, src image.Image, _ *gift.Options) {
	draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
}
