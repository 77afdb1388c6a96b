package thumbnails

import "fmt"

// checkGIF walks the blocks of a GIF without decoding a pixel, and refuses
// one with more than limits.MaxFrames frames or a frame over
// limits.MaxPixels. Only the first frame is decoded later, but a file of
// ten thousand frames is still refused: it is not a picture anyone uploads
// in good faith, and the work to skip it grows with it. A file cut short
// anywhere, even of its last byte (the trailer), is refused as
// ErrInvalidImage, as image/gif's DecodeAll refuses it: decoding the first
// frame alone would not notice.
func checkGIF(data []byte, limits Limits) error {
	invalid := func(what string) error { return fmt.Errorf("%w: gif: %s", ErrInvalidImage, what) }
	if len(data) < 13 {
		return invalid("short header")
	}
	pos := 13
	if flags := data[10]; flags&0x80 != 0 { // global colour table
		pos += 3 << (flags&7 + 1)
	}
	// skipSubBlocks returns the position after a run of data sub-blocks.
	skipSubBlocks := func(p int) (int, bool) {
		for p < len(data) {
			n := int(data[p])
			p++
			if n == 0 {
				return p, true
			}
			p += n
		}
		return p, false
	}
	frames := 0
	for pos < len(data) {
		switch data[pos] {
		case 0x3B: // trailer
			return nil
		case 0x21: // extension: label, then sub-blocks
			var ok bool
			if pos, ok = skipSubBlocks(pos + 2); !ok {
				return invalid("truncated extension")
			}
		case 0x2C: // image descriptor
			if pos+10 > len(data) {
				return invalid("truncated image descriptor")
			}
			w := int64(data[pos+5]) | int64(data[pos+6])<<8
			h := int64(data[pos+7]) | int64(data[pos+8])<<8
			if w*h > limits.MaxPixels {
				return fmt.Errorf("%w: gif frame of %dx%d is over %d pixels", ErrImageTooLarge, w, h, limits.MaxPixels)
			}
			frames++
			if frames > limits.MaxFrames {
				return fmt.Errorf("%w: gif has more than %d frames", ErrImageTooLarge, limits.MaxFrames)
			}
			flags := data[pos+9]
			pos += 10
			if flags&0x80 != 0 { // local colour table
				pos += 3 << (flags&7 + 1)
			}
			var ok bool
			if pos, ok = skipSubBlocks(pos + 1); !ok { // LZW minimum code size, then the data
				return invalid(fmt.Sprintf("frame %d is truncated", frames))
			}
		default:
			return invalid(fmt.Sprintf("unknown block 0x%02x", data[pos]))
		}
	}
	return invalid("truncated: no trailer")
}
