//go:build !(turbojpeg && cgo)

package thumbnails

import (
	"errors"
	"image"

	"github.com/gorm-thumbnails/thumbnails/internal/jpegdct"
)

// In the default, pure-Go build, a JPEG whose sizes all shrink it at least
// twice is decoded reduced 2, 4 or 8 times by internal/jpegdct, which skips
// most of the inverse transform (libjpeg's scaled decoding, libvips'
// shrink-on-load); a full-size decode, and any JPEG that package leaves
// alone (CMYK, arithmetic coding ...), is image/jpeg's, but for what
// image/jpeg refuses and jpegdct decodes whole (see wholeJPEG). -tags
// turbojpeg replaces both with libjpeg-turbo.
func init() {
	scaledJPEG = pureGoScaled
	wholeJPEG = func(data []byte, maxPixels int64) (image.Image, error) { return jpegdct.Decode(data, 1, maxPixels) }
}

// errFullSize leaves a full-size decode to image/jpeg.
var errFullSize = errors.New("thumbnails: full-size JPEG decode")

func pureGoScaled(data []byte, k int, maxPixels int64) (image.Image, error) {
	if k == 1 {
		return nil, errFullSize
	}
	return jpegdct.Decode(data, k, maxPixels)
}
