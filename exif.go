package thumbnails

import (
	"bytes"
	"encoding/binary"
)

// jpegOrientation returns the EXIF Orientation (1..8) of a JPEG file, or 1
// when it has none or the EXIF block is malformed. It reads only the APP1
// segment's first IFD, bounds-checking every offset.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	pos := 2
	for pos+4 <= len(data) {
		if data[pos] != 0xFF {
			return 1
		}
		marker := data[pos+1]
		if marker == 0xFF { // fill byte
			pos++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no EXIF before pixels
			return 1
		}
		length := int(binary.BigEndian.Uint16(data[pos+2:]))
		if length < 2 || pos+2+length > len(data) {
			return 1
		}
		seg := data[pos+4 : pos+2+length]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		pos += 2 + length
	}
	return 1
}

// pngOrientation returns the EXIF Orientation of a PNG file, from its eXIf
// chunk (before the image data), or 1.
func pngOrientation(data []byte) int {
	const signature = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(signature)) {
		return 1
	}
	for pos := len(signature); pos+8 <= len(data); {
		n := int64(binary.BigEndian.Uint32(data[pos:]))
		kind := string(data[pos+4 : pos+8])
		end := int64(pos) + 8 + n
		if end > int64(len(data)) || kind == "IDAT" || kind == "IEND" {
			return 1
		}
		if kind == "eXIf" {
			return tiffOrientation(exifPayload(data[pos+8 : end]))
		}
		pos = int(end) + 4 // and the CRC
	}
	return 1
}

// webpOrientation returns the EXIF Orientation of a WebP file, from its
// EXIF chunk, or 1.
func webpOrientation(data []byte) int {
	o := 1
	if body, ok := webpBody(data); ok {
		riffChunks(body, func(id string, p []byte) bool {
			if id == "EXIF" {
				o = tiffOrientation(exifPayload(p))
				return false
			}
			return true
		})
	}
	return o
}

// exifPayload returns the TIFF header of an EXIF chunk, which some writers
// start with JPEG's "Exif\0\0".
func exifPayload(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("Exif\x00\x00"))
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF header.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	ifd := int(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 1
	}
	n := int(order.Uint16(t[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(t) {
			return 1
		}
		if order.Uint16(t[e:]) != 0x0112 {
			continue
		}
		// type SHORT, count 1: the value sits in the first two bytes of the offset field
		if order.Uint16(t[e+2:]) != 3 {
			return 1
		}
		if v := int(order.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
