package thumbnails

import (
	"errors"
	"fmt"

	"github.com/gorm-thumbnails/thumbnails/internal/gifscan"
)

// checkGIF walks the blocks of a GIF without decoding a pixel, and refuses
// one with more than limits.MaxFrames frames or a frame over
// limits.MaxPixels. Only the first frame is decoded later, but a file of
// ten thousand frames is still refused: it is not a picture anyone uploads
// in good faith, and the work to skip it grows with it. A file cut short
// anywhere, even of its last byte (the trailer), is refused as
// ErrInvalidImage, as image/gif's DecodeAll refuses it: decoding the first
// frame alone would not notice.
func checkGIF(data []byte, limits Limits) error {
	frames := 0
	err := gifscan.Frames(data, func(w, h int) error {
		if int64(w)*int64(h) > limits.MaxPixels {
			return fmt.Errorf("%w: gif frame of %dx%d is over %d pixels", ErrImageTooLarge, w, h, limits.MaxPixels)
		}
		if frames++; frames > limits.MaxFrames {
			return fmt.Errorf("%w: gif has more than %d frames", ErrImageTooLarge, limits.MaxFrames)
		}
		return nil
	})
	if errors.Is(err, gifscan.ErrMalformed) {
		return fmt.Errorf("%w: %w", ErrInvalidImage, err)
	}
	return err
}
