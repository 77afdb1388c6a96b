package thumbnails

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// checkJPEG walks the markers of a JPEG without decoding a pixel, and
// refuses one with more than limits.MaxScans scans. Each scan of a
// progressive JPEG is a pass over every block of its components, however
// few bytes it takes: twenty thousand scans of end-of-band runs, in 280 KB,
// cost a decoder (ours, image/jpeg's or libjpeg-turbo's) seconds of CPU
// that no deadline interrupts. Encoders write about ten. What the walk
// cannot follow is left to the decoder to refuse.
func checkJPEG(data []byte, limits Limits) error {
	scans := 0
	pos := 2 // after SOI
	for pos+4 <= len(data) {
		if data[pos] != 0xff {
			return nil // not a marker: the decoder decides
		}
		marker := data[pos+1]
		switch {
		case marker == 0xff: // fill byte
			pos++
			continue
		case marker == 0xd9: // EOI
			return nil
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd7: // TEM, RSTn: no length
			pos += 2
			continue
		}
		length := int(binary.BigEndian.Uint16(data[pos+2:]))
		if length < 2 {
			return nil
		}
		pos += 2 + length
		if marker != 0xda { // not SOS
			continue
		}
		if scans++; scans > limits.MaxScans {
			return fmt.Errorf("%w: a JPEG of more than %d scans", ErrImageTooLarge, limits.MaxScans)
		}
		// The entropy-coded data runs to the next marker that is not a
		// stuffed 0xff 0x00 or a restart.
		for {
			i := bytes.IndexByte(data[min(pos, len(data)):], 0xff)
			if i < 0 || pos+i+1 >= len(data) {
				return nil
			}
			pos += i
			if next := data[pos+1]; next != 0x00 && (next < 0xd0 || next > 0xd7) {
				break
			}
			pos += 2
		}
	}
	return nil
}
