package thumbnails

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
)

// riffChunks calls fn with the id and payload of each chunk of body, the
// chunks of a RIFF file after its header, until fn returns false or a
// chunk runs past the end. Chunks are padded to an even length. It returns
// where it stopped: the end of body (or one past it, the last chunk's
// padding byte left out) when every chunk was whole and fn went on.
func riffChunks(body []byte, fn func(id string, payload []byte) bool) int64 {
	pos := int64(0)
	for pos+8 <= int64(len(body)) {
		n := int64(binary.LittleEndian.Uint32(body[pos+4:]))
		end := pos + 8 + n
		if end > int64(len(body)) || !fn(string(body[pos:pos+4]), body[pos+8:end]) {
			return pos
		}
		pos = end + n%2
	}
	return pos
}

// riffWhole reports whether data, a RIFF file, holds the bytes its header
// gives it, and chunks that end where they do. Fewer bytes after the last
// chunk than a chunk's header are let be, as libwebp lets them.
func riffWhole(data []byte) bool {
	if len(data) < 12 {
		return false
	}
	size := int64(binary.LittleEndian.Uint32(data[4:])) // of what follows the 8 bytes of "RIFF" and itself
	if size < 4 || size+8 > int64(len(data)) {
		return false
	}
	body := data[12 : 8+size]
	end := riffChunks(body, func(string, []byte) bool { return true })
	// the last chunk's padding byte may be left out; a chunk that overruns
	// the body stops the walk where its header is, 8 bytes or more short
	// of the end
	return end <= int64(len(body))+1 && int64(len(body))-end < 8
}

// checkWebP refuses as ErrInvalidImage a WebP file cut short, even of its
// last byte, or whose chunks overrun it (see riffWhole). The decoders read
// the image chunk only (of an animated WebP, its first frame): a file cut
// after it, an aborted upload, in the EXIF or XMP chunks cwebp -metadata
// and libvips write after the pixels, would decode, without its
// orientation.
func checkWebP(data []byte) error {
	if !riffWhole(data) {
		return fmt.Errorf("%w: a WebP cut short, or whose chunks overrun it", ErrInvalidImage)
	}
	return nil
}

// webpBody returns the chunks of a WebP file, or false when data is not one.
func webpBody(data []byte) ([]byte, bool) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, false
	}
	return data[12:], true
}

// webpFirstFrame returns, when data is an animated WebP (a VP8X chunk with
// the animation flag), its first frame as a still WebP of its own, and
// where the frame lies on the canvas; anim is false for any other data.
// golang.org/x/image/webp decodes stills only, and a thumbnail shows the
// first frame, as of an animated GIF: checkWebP has refused a file cut
// short after it. Its errors are decode errors, which the caller wraps in
// ErrInvalidImage.
func webpFirstFrame(data []byte) (still []byte, at image.Rectangle, anim bool, err error) {
	body, ok := webpBody(data)
	if !ok {
		return nil, image.Rectangle{}, false, nil
	}
	var frame []byte
	riffChunks(body, func(id string, p []byte) bool {
		switch {
		case id == "VP8X" && len(p) >= 10:
			anim = p[0]&0x02 != 0
			return anim
		case id == "ANMF":
			frame = p
			return false
		}
		return true
	})
	if !anim {
		return nil, image.Rectangle{}, false, nil
	}
	if len(frame) < 16 {
		return nil, image.Rectangle{}, true, errors.New("an animated WebP without a whole frame")
	}
	u24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	x, y := 2*u24(frame[0:]), 2*u24(frame[3:])
	w, h := 1+u24(frame[6:]), 1+u24(frame[9:])
	at = image.Rect(x, y, x+w, y+h)
	// The frame's data: an ALPH chunk (alpha of a lossy frame) and a VP8
	// chunk, or a VP8L chunk (lossless, alpha within).
	var alph, bitstream []byte
	riffChunks(frame[16:], func(id string, p []byte) bool {
		switch id {
		case "ALPH":
			alph = p
		case "VP8 ", "VP8L":
			bitstream = chunk(id, p)
			return false
		}
		return true
	})
	if bitstream == nil {
		return nil, at, true, errors.New("an animated WebP whose first frame has no image data")
	}
	var chunks []byte
	if alph != nil && string(bitstream[:4]) == "VP8 " {
		header := make([]byte, 10)
		header[0] = 0x10 // alpha
		put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
		put24(header[4:], w-1)
		put24(header[7:], h-1)
		chunks = append(chunk("VP8X", header), chunk("ALPH", alph)...)
	}
	// the file is itself a chunk: RIFF, holding "WEBP" and the chunks
	return chunk("RIFF", append([]byte("WEBP"), append(chunks, bitstream...)...)), at, true, nil
}

// chunk returns a RIFF chunk of id and payload, padded to an even length.
func chunk(id string, payload []byte) []byte {
	c := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(payload)))
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// moveTo returns img, an *image.RGBA or *image.NRGBA whose bounds start at
// (0, 0), with its bounds moved to start at p; other images as they are.
func moveTo(img image.Image, p image.Point) image.Image {
	switch m := img.(type) {
	case *image.RGBA:
		c := *m
		c.Rect = m.Rect.Add(p)
		return &c
	case *image.NRGBA:
		c := *m
		c.Rect = m.Rect.Add(p)
		return &c
	}
	return img
}
