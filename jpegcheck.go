package thumbnails

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
)

// checkJPEG walks the markers of a JPEG without decoding a pixel, and
// refuses one with more than limits.MaxScans scans. Each scan of a
// progressive JPEG is a pass over every block of its components, however
// few bytes it takes: twenty thousand scans of end-of-band runs, in 280 KB,
// cost a decoder (ours, image/jpeg's or libjpeg-turbo's) seconds of CPU
// that no deadline interrupts. Encoders write about ten. A large JPEG may
// have fewer: scans × pixels at most scanPixels × MaxPixels (a JPEG of 50
// megapixels, 20 scans), or its 100 allowed scans of end-of-band runs, in
// 100 KB, cost image/jpeg 10 s and a gigabyte.
//
// The walk skips a segment's payload by its length (an APP1 may hold a
// whole JPEG, whose scans are not this one's) and anything else up to the
// next 0xff: the entropy-coded data of a scan, where 0xff is followed by a
// stuffed 0x00 or a restart marker until the next real marker, and junk
// between segments, which decoders skip too. What it cannot follow is
// left to the decoder to refuse.
//
// It also refuses a Huffman-coded frame that claims more blocks than the
// file can code (see checkBlocks).
func checkJPEG(data []byte, limits Limits) error {
	scans := 0
	var pixels int64 // of the frame, once read
	budget := scanPixels * cmp.Or(limits.MaxPixels, DefaultLimits.MaxPixels)
	pos := 2 // after SOI
	for pos+1 < len(data) {
		if data[pos] != 0xff {
			i := bytes.IndexByte(data[pos:], 0xff)
			if i < 0 {
				return nil
			}
			pos += i
			continue
		}
		switch marker := data[pos+1]; {
		case marker == 0xff: // a fill byte
			pos++
			continue
		case marker == 0x00 || marker == 0x01 || marker >= 0xd0 && marker <= 0xd8: // stuffed 0xff, TEM, RSTn, SOI: no length
			pos += 2
			continue
		case marker == 0xd9: // EOI
			return nil
		case marker == 0xda: // SOS
			if scans++; scans > limits.MaxScans {
				return fmt.Errorf("%w: a JPEG of more than %d scans", ErrImageTooLarge, limits.MaxScans)
			}
			if pixels > 0 && int64(scans)*pixels > budget {
				return fmt.Errorf("%w: a JPEG of %d pixels and more than %d scans (scans × pixels at most %d × the pixel limit)", ErrImageTooLarge, pixels, budget/pixels, scanPixels)
			}
		case isSOF(marker) && pos+9 <= len(data):
			pixels = int64(binary.BigEndian.Uint16(data[pos+5:])) * int64(binary.BigEndian.Uint16(data[pos+7:]))
			if marker <= 0xc2 { // Huffman-coded
				if err := checkBlocks(data, pos); err != nil {
					return err
				}
			}
		}
		if pos+4 > len(data) {
			return nil
		}
		length := int(binary.BigEndian.Uint16(data[pos+2:]))
		if length < 2 {
			return nil // the decoder refuses it
		}
		pos += 2 + length
	}
	return nil
}

// isSOF reports whether marker starts a frame (SOF0 to SOF15, but DHT, JPG
// and DAC, which share their range).
func isSOF(marker byte) bool {
	return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc
}

// scanPixels bounds the work of a JPEG's scans: scans × pixels is at most
// scanPixels times Limits.MaxPixels.
const scanPixels = 20

// checkBlocks refuses the Huffman-coded frame whose SOF marker is at
// data[pos] when the file is too short to code it. Each 8x8 block of a
// component at full resolution codes its DC coefficient in at least one
// bit (a Huffman code is never shorter), so a whole file holds at least
// one bit a block of such a component. A file below that is truncated or
// crafted: a few hundred bytes claiming 7000x7000 pixels, within the
// pixel limit, would make a decoder allocate its coefficients and pixels
// (a gigabyte for a progressive one) before it found the data missing.
// An arithmetic-coded frame, which may code less, is left to the decoder.
func checkBlocks(data []byte, pos int) error {
	h := int64(binary.BigEndian.Uint16(data[pos+5:]))
	w := int64(binary.BigEndian.Uint16(data[pos+7:]))
	if blocks := ((w + 7) / 8) * ((h + 7) / 8); blocks > 8*int64(len(data)) {
		return fmt.Errorf("%w: a %dx%d JPEG codes at least %d bytes of image data, the file is %d bytes: truncated or crafted",
			ErrInvalidImage, w, h, (blocks+7)/8, len(data))
	}
	return nil
}
