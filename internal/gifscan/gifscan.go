// Package gifscan walks the blocks of a GIF file without decoding a pixel:
// what the frames of a file would cost is known, and a file cut short is
// found, before image/gif decodes any of it.
package gifscan

import (
	"errors"
	"fmt"
)

// ErrMalformed is what Frames returns, wrapped with what it found, for data
// that is cut short or is not a GIF's blocks.
var ErrMalformed = errors.New("malformed gif")

// Frames calls fn with the width and height of each frame of data, in
// order, and returns the first error fn returns. It fails with an error
// wrapping ErrMalformed when data is cut short anywhere, even of its last
// byte (the trailer), as image/gif's DecodeAll would, or holds a block
// that is not a GIF's.
func Frames(data []byte, fn func(width, height int) error) error {
	malformed := func(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }
	if len(data) < 13 {
		return malformed("short header")
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
				return malformed("truncated extension")
			}
		case 0x2C: // image descriptor
			if pos+10 > len(data) {
				return malformed("truncated image descriptor")
			}
			w := int(data[pos+5]) | int(data[pos+6])<<8
			h := int(data[pos+7]) | int(data[pos+8])<<8
			frames++
			if err := fn(w, h); err != nil {
				return err
			}
			flags := data[pos+9]
			pos += 10
			if flags&0x80 != 0 { // local colour table
				pos += 3 << (flags&7 + 1)
			}
			var ok bool
			if pos, ok = skipSubBlocks(pos + 1); !ok { // LZW minimum code size, then the data
				return malformed(fmt.Sprintf("frame %d is truncated", frames))
			}
		default:
			return malformed(fmt.Sprintf("unknown block 0x%02x", data[pos]))
		}
	}
	return malformed("truncated: no trailer")
}
