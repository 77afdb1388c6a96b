package thumbnails_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/gen2brain/webp"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestAnimatedWebP saves animated WebPs, which golang.org/x/image/webp
// refused ("invalid format") although WebP is an accepted format: the
// thumbnail is the first frame, at its place on the canvas, transparent
// around it, as for an animated GIF. Frames: lossless, lossy, lossy with
// alpha (an ALPH chunk beside its VP8 one).
func TestAnimatedWebP(t *testing.T) {
	e := setupSameSize(t, 60)
	red := solidNRGBA(30, 20, color.NRGBA{255, 0, 0, 255})
	blue := solidNRGBA(60, 40, color.NRGBA{0, 0, 255, 255})
	halfRed := solidNRGBA(30, 20, color.NRGBA{255, 0, 0, 128})
	for _, tc := range []struct {
		name  string
		first []byte
		at    image.Point
		want  color.NRGBA // inside the first frame
		tol   int
	}{
		{"lossless", encodeWebP(t, red, webp.Options{Lossless: true}), image.Pt(10, 6), color.NRGBA{255, 0, 0, 255}, 0},
		{"lossy", encodeWebP(t, red, webp.Options{Quality: 95}), image.Pt(20, 14), color.NRGBA{255, 0, 0, 255}, 3},
		{"lossy with alpha", encodeWebP(t, halfRed, webp.Options{Quality: 95}), image.Pt(4, 2), color.NRGBA{255, 0, 0, 128}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			second := encodeWebP(t, blue, webp.Options{Lossless: true})
			got := e.sameSize(t, animatedWebP(t, 60, 40, []frame{{tc.first, tc.at}, {second, image.Point{}}}))
			if got.Bounds() != image.Rect(0, 0, 60, 40) {
				t.Fatalf("bounds %v, want the 60x40 canvas", got.Bounds())
			}
			inside := tc.at.Add(image.Pt(15, 10))
			if c := color.NRGBAModel.Convert(got.At(inside.X, inside.Y)).(color.NRGBA); maxChannelDiff(c, tc.want) > tc.tol {
				t.Errorf("inside the first frame, at %v: %v, want %v", inside, c, tc.want)
			}
			outside := tc.at.Sub(image.Pt(1, 1))
			if c := color.NRGBAModel.Convert(got.At(outside.X, outside.Y)).(color.NRGBA); c.A != 0 {
				t.Errorf("outside the first frame, at %v: %v, want transparent (not the second frame's blue)", outside, c)
			}
		})
	}
	lossless := encodeWebP(t, red, webp.Options{Lossless: true})
	// cut short after its first frame, even of its last byte, as an
	// aborted upload is: the first frame alone would not tell
	two := animatedWebP(t, 60, 40, []frame{{lossless, image.Point{}}, {encodeWebP(t, blue, webp.Options{Lossless: true}), image.Point{}}})
	cuts := map[string][]byte{}
	for _, n := range []int{1, 2, 6, 10} {
		cuts[fmt.Sprintf("cut %d bytes short", n)] = two[:len(two)-n]
	}
	for name, data := range cuts {
		err := e.db.Create(&Kite{Image: field.NewImage("a.webp", bytes.NewReader(data))}).Error
		if !errors.Is(err, thumbnails.ErrInvalidImage) {
			t.Errorf("%s: %v, want ErrInvalidImage", name, err)
		}
	}
	for name, data := range map[string][]byte{
		"a frame larger than its canvas": animatedWebP(t, 20, 10, []frame{{lossless, image.Point{}}}),
		"no frame":                       animatedWebP(t, 60, 40, nil),
		"cut inside its first frame":     animatedWebP(t, 60, 40, []frame{{lossless, image.Point{}}})[:60],
	} {
		err := e.db.Create(&Kite{Image: field.NewImage("a.webp", bytes.NewReader(data))}).Error
		if !errors.Is(err, thumbnails.ErrInvalidImage) || strings.Count(err.Error(), "invalid image") != 1 {
			t.Errorf("%s: %v, want ErrInvalidImage", name, err)
		}
	}
}

// frame is a frame of animatedWebP: a still WebP, at a point of the canvas
// (even coordinates).
type frame struct {
	still []byte
	at    image.Point
}

// riffChunk returns the RIFF chunk id holding payload, padded to an even
// length.
func riffChunk(id string, payload []byte) []byte {
	c := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(payload)))
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// appendU24 appends v to b in 24 bits, little-endian.
func appendU24(b []byte, v int) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16)) }

// animatedWebP returns an animated WebP of a w×h canvas holding frames,
// laid out by the WebP container specification: VP8X (animation and
// alpha flags), ANIM, then an ANMF chunk a frame wrapping the still's
// image chunks (VP8L, or ALPH and VP8).
func animatedWebP(t *testing.T, w, h int, frames []frame) []byte {
	t.Helper()
	riff, u24 := riffChunk, appendU24
	body := riff("VP8X", u24(u24([]byte{0x02 | 0x10, 0, 0, 0}, w-1), h-1))
	body = append(body, riff("ANIM", []byte{0, 0, 0, 0, 0, 0})...)
	for _, f := range frames {
		cfg, err := webp.DecodeConfig(bytes.NewReader(f.still))
		if err != nil {
			t.Fatal(err)
		}
		anmf := u24(u24(u24(u24(nil, f.at.X/2), f.at.Y/2), cfg.Width-1), cfg.Height-1)
		anmf = u24(anmf, 100) // duration, ms
		anmf = append(anmf, 0)
		// the still's chunks after its header, but VP8X
		for pos := 12; pos+8 <= len(f.still); {
			n := int(binary.LittleEndian.Uint32(f.still[pos+4:]))
			if id := string(f.still[pos : pos+4]); id != "VP8X" {
				anmf = append(anmf, riff(id, f.still[pos+8:pos+8+n])...)
			}
			pos += 8 + n + n%2
		}
		body = append(body, riff("ANMF", anmf)...)
	}
	return riff("RIFF", append([]byte("WEBP"), body...)) // the file is a chunk too
}

// encodeWebP encodes img as a still WebP.
func encodeWebP(t *testing.T, img image.Image, o webp.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := webp.Encode(&buf, img, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// solidNRGBA is a w×h image of c.
func solidNRGBA(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}
