package thumbnails

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// placeholderSide is the longer side of a placeholder, in pixels: the
// browser scales it up smoothly, which blurs it.
const placeholderSide = 12

// placeholderBits is how many bits of each colour channel a placeholder
// keeps: fewer levels compress better, and a blur shows no banding. With
// 12 pixels, a photo's placeholder is a PNG of 250 to 500 bytes.
const placeholderBits = 5

// placeholderSamples is how many pixels are averaged, along each axis, for
// one pixel of a placeholder: the average of a grid of samples rather than
// of every pixel keeps it well under a millisecond for any source (but for
// the scan of a source with an alpha channel for any transparency, about
// 0.5 ms a megapixel: see placeholder).
const placeholderSamples = 6

// placeholderPrefix starts every placeholder.
const placeholderPrefix = "data:image/png;base64,"

// placeholderFor returns the placeholder record of src when Config.Placeholders
// is on (its Source left for the caller to set), or nil.
func (p *plugin) placeholderFor(src *source) (*backends.Thumbnail, error) {
	if !p.cfg.Placeholders {
		return nil, nil
	}
	uri, w, h, err := placeholder(src.img, src.size)
	if err != nil {
		return nil, err
	}
	return &backends.Thumbnail{Size: backends.PlaceholderSize, Name: uri, Width: w, Height: h}, nil
}

// placeholder returns a tiny copy of img — placeholderSide pixels on its
// longer side (or the image's size, if smaller), the aspect ratio of size
// kept — as a PNG data: URI, with its width and height. size is the
// image's as uploaded, which img may be a reduced decode of. Each pixel is
// the mean of a grid of samples of the area it covers.
func placeholder(img image.Image, size image.Point) (uri string, w, h int, err error) {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || size.X <= 0 || size.Y <= 0 {
		return "", 0, 0, fmt.Errorf("%w: empty image", ErrInvalidImage)
	}
	side := min(placeholderSide, max(size.X, size.Y)) // never larger than the image
	w, h = side, side
	if size.X >= size.Y {
		h = max(1, (size.Y*side+size.X/2)/size.X)
	} else {
		w = max(1, (size.X*side+size.Y/2)/size.Y)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := b.Min.Y+y*b.Dy()/h, b.Min.Y+(y+1)*b.Dy()/h
		for x := 0; x < w; x++ {
			x0, x1 := b.Min.X+x*b.Dx()/w, b.Min.X+(x+1)*b.Dx()/w
			dst.SetNRGBA(x, y, quantize(meanColor(img, x0, y0, max(x1, x0+1), max(y1, y0+1))))
		}
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && dst.Opaque() && !o.Opaque() {
		// Transparency too small for the means (rounded corners, a thin
		// border) still marks the placeholder as of an image with some:
		// one pixel a level short of opaque makes it an RGBA PNG, which
		// Responsive.Attr does not draw behind the image.
		dst.Pix[3] = 254
	}
	var buf bytes.Buffer
	if err := placeholderEncoder.Encode(&buf, dst); err != nil {
		return "", 0, 0, fmt.Errorf("thumbnails: placeholder: %w", err)
	}
	return placeholderPrefix + base64.StdEncoding.EncodeToString(buf.Bytes()), w, h, nil
}

// placeholderEncoder reuses its compressor's state (most of a PNG
// encoding's memory) from one placeholder to the next.
var placeholderEncoder = png.Encoder{CompressionLevel: png.BestCompression, BufferPool: &encoderPool{}}

// encoderPool is a png.EncoderBufferPool on a sync.Pool.
type encoderPool struct{ p sync.Pool }

func (e *encoderPool) Get() *png.EncoderBuffer {
	b, _ := e.p.Get().(*png.EncoderBuffer)
	return b
}

func (e *encoderPool) Put(b *png.EncoderBuffer) { e.p.Put(b) }

// meanColor returns the mean colour of a grid of samples of img in the
// rectangle [x0, x1) × [y0, y1), which is not empty.
func meanColor(img image.Image, x0, y0, x1, y1 int) color.NRGBA {
	var r, g, b, a, n uint64
	fast, _ := img.(image.RGBA64Image) // every image of package image: no allocation a pixel
	for j := range placeholderSamples {
		y := y0 + (2*j+1)*(y1-y0)/(2*placeholderSamples)
		for i := range placeholderSamples {
			x := x0 + (2*i+1)*(x1-x0)/(2*placeholderSamples)
			var cr, cg, cb, ca uint32 // premultiplied, 16 bits
			if fast != nil {
				c := fast.RGBA64At(x, y)
				cr, cg, cb, ca = uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
			} else {
				cr, cg, cb, ca = img.At(x, y).RGBA()
			}
			r, g, b, a, n = r+uint64(cr), g+uint64(cg), b+uint64(cb), a+uint64(ca), n+1
		}
	}
	if a == 0 {
		return color.NRGBA{}
	}
	// un-premultiply the mean: the sums of colour over the sum of alpha
	return color.NRGBA{
		R: uint8(r * 0xffff / a >> 8),
		G: uint8(g * 0xffff / a >> 8),
		B: uint8(b * 0xffff / a >> 8),
		A: uint8(a / n >> 8),
	}
}

// quantize keeps placeholderBits bits of each colour channel of c, spread
// back over the 8-bit range (the high bits repeated into the low ones).
func quantize(c color.NRGBA) color.NRGBA {
	const keep = uint8(0xff << (8 - placeholderBits) & 0xff)
	q := func(v uint8) uint8 { v &= keep; return v | v>>placeholderBits }
	return color.NRGBA{R: q(c.R), G: q(c.G), B: q(c.B), A: c.A}
}

// Placeholder implements the placeholder accessor of field.Image: the
// data: URI recorded for img's source, or "" when it has none (an empty
// column, Config.Placeholders off when it was saved). It is answered from
// what the image knows (Preload loads it with the thumbnails).
func (b *binder) Placeholder(ctx context.Context, img *field.Image) (string, error) {
	if img.Name() == "" {
		return "", nil
	}
	k, err := b.known(ctx, img)
	if err != nil {
		return "", err
	}
	t, _ := k.get(backends.PlaceholderSize)
	return t.Name, nil
}
