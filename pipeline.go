package thumbnails

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	xwebp "golang.org/x/image/webp" // also registers the WebP decoder for image.Decode

	"github.com/disintegration/gift"
	"github.com/gen2brain/webp"

	"github.com/gorm-thumbnails/thumbnails/internal/jpegdct"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Image formats the plugin reads and writes, as image.DecodeConfig names them.
const (
	formatJPEG = "jpeg"
	formatPNG  = "png"
	formatGIF  = "gif"
	formatWebP = "webp"
)

// maxSide is the largest width or height an image of a format has: a JPEG
// or GIF writes its dimensions in 16 bits, a WebP in 14. A PNG has none
// an image could reach.
var maxSide = map[string]int{formatJPEG: 65535, formatGIF: 65535, formatWebP: 16383}

// formatNames spells the formats for people.
var formatNames = map[string]string{formatJPEG: "JPEG", formatPNG: "PNG", formatGIF: "GIF", formatWebP: "WebP"}

// formatFits returns an error when a w×h image is too wide or tall for
// format.
func formatFits(format string, w, h int) error {
	if limit, ok := maxSide[format]; ok && (w > limit || h > limit) {
		return fmt.Errorf("it makes images of %dx%d, and %s holds at most %d pixels a side", w, h, formatNames[format], limit)
	}
	return nil
}

// outputFormat is the format a size's images are stored in: its own, or
// else srcFormat, the source's.
func outputFormat(sz sizes.Size, srcFormat string) string {
	if sz.Format != "" {
		return sz.Format
	}
	return srcFormat
}

// sizePixels is the most pixels of an image a size may make: l.MaxPixels,
// or DefaultLimits.MaxPixels when that is larger (a small limit on uploads
// must not refuse a size that enlarges them).
func (l Limits) sizePixels() int64 { return max(l.MaxPixels, DefaultLimits.MaxPixels) }

// extensions maps a format to the file extension it is stored with.
var extensions = map[string]string{formatJPEG: "jpg", formatPNG: "png", formatGIF: "gif", formatWebP: "webp"}

// source is a decoded upload, upright.
type source struct {
	data   []byte      // the bytes as uploaded
	format string      // sniffed from the bytes
	img    image.Image // EXIF orientation applied; a JPEG may be decoded reduced (jpegScale)
	size   image.Point // the upright dimensions of the image as uploaded
	// reduced is how many times the decoder reduced img (jpegScale), 1 when
	// it is whole.
	reduced int
	// maxPixels bounds the images its sizes make: Limits.sizePixels.
	maxPixels int64
}

// drawn returns sz as it is drawn from s.img: a leading Resize of an image
// the decoder reduced applies only what remains of its box shrink, not the
// whole of it again (see processors.Reduced).
func (s *source) drawn(sz sizes.Size) sizes.Size {
	if s.reduced < 2 || len(sz.Processors) == 0 {
		return sz
	}
	sz.Processors = append([]gift.Filter{processors.Reduced(sz.Processors[0], s.reduced, s.size)}, sz.Processors[1:]...)
	return sz
}

// streamHead is how much of an upload of unknown length readUpload reads
// before it looks at its header.
const streamHead = 64 << 10

// streamInMemory is how much of an upload of unknown length readUpload
// holds in memory before it knows the length: the rest goes to a
// temporary file (see spill).
const streamInMemory = 1 << 20

// scaledJPEG decodes a JPEG reduced k times (1, 2, 4 or 8) while
// decoding, refusing a frame of more than maxPixels: internal/jpegdct in
// the default build (jpegdct.go), libjpeg-turbo with the build tag
// turbojpeg (jpegturbo.go). An error leaves the JPEG to image/jpeg, which
// then decides whether it is valid.
var scaledJPEG func(data []byte, k int, maxPixels int64) (image.Image, error)

// wholeJPEG, when set, decodes at full size a JPEG that image/jpeg refused:
// internal/jpegdct in the default build, for the valid progressive files
// image/jpeg gets wrong (restart markers in the scans of a subsampled
// component). It refuses, as image/jpeg did, anything else.
var wholeJPEG func(data []byte, maxPixels int64) (image.Image, error)

// jpegScale returns the reduction, 1, 2, 4 or 8, at which a JPEG whose
// upright bounds are b may be decoded for the sizes in list: at most the box
// reduction that each size's leading Resize would apply to it anyway, and
// only where every size's leading Resize comes out with the same
// dimensions as from the full image (so that the rest of its chain works on
// the same picture). A size that does not start with a Resize needs the full image.
// A nil list asks for the whole image (a watermark). An empty one,
// checkOnly, has no size to render (a save whose sizes are all lazy or
// async): the image is only checked, and 8 is enough: the decoder still reads every
// coefficient, it only skips most of the inverse transform.
func jpegScale(b image.Rectangle, list []sizes.Size) int {
	switch {
	case list == nil:
		return 1
	case len(list) == 0:
		return 8
	}
	k := 8
	for _, sz := range list {
		if len(sz.Processors) == 0 || !processors.IsResize(sz.Processors[0]) {
			return 1
		}
		k = min(k, processors.ShrinkFactor(sz.Processors[0], b))
	}
	for k&(k-1) != 0 { // down to a power of two
		k &= k - 1
	}
	for ; k > 1; k /= 2 {
		scaled := image.Rect(0, 0, (b.Dx()+k-1)/k, (b.Dy()+k-1)/k)
		same := true
		for _, sz := range list {
			// The leading Resize, not only the whole chain: what follows
			// it (a crop) must see an image of the same size, or it keeps
			// another part of the picture (a percentage, a fit that does
			// not enlarge).
			same = same && sz.Processors[0].Bounds(scaled) == sz.Processors[0].Bounds(b)
		}
		if same {
			return k
		}
	}
	return 1
}

// checkOnly is the list of sizes of a decode that renders none.
var checkOnly = []sizes.Size{}

// decode sniffs the format of data from its bytes, checks the header against
// the limits, and decodes it upright. list are the sizes the image is decoded
// for: a JPEG may be decoded reduced when they all allow it (see jpegScale);
// nil decodes it whole.
func decode(data []byte, limits Limits, list []sizes.Size) (*source, error) {
	cfg, format, err := checkHeader(data, limits)
	if err != nil {
		return nil, err
	}
	// The walks that bound a format's work, and where its orientation is.
	orientation := 1
	switch format {
	case formatGIF:
		if err := checkGIF(data, limits); err != nil {
			return nil, err
		}
	case formatJPEG:
		if err := checkJPEG(data, limits); err != nil {
			return nil, err
		}
		orientation = jpegOrientation(data)
	case formatPNG:
		orientation = pngOrientation(data)
	case formatWebP:
		if err := checkWebP(data); err != nil {
			return nil, err
		}
		orientation = webpOrientation(data)
	}
	var img image.Image
	size := image.Pt(cfg.Width, cfg.Height) // upright
	if orientation >= 5 {
		size = image.Pt(cfg.Height, cfg.Width)
	}
	reduced := 1
	var scaledErr error
	if format == formatJPEG && scaledJPEG != nil {
		reduced = jpegScale(image.Rectangle{Max: size}, list)
		if img, scaledErr = scaledJPEG(data, reduced, limits.MaxPixels); img == nil {
			reduced = 1
		}
	}
	if img == nil { // not a JPEG, no faster decoder, or one that refused it
		img, err = decodeWhole(data, format, image.Rect(0, 0, cfg.Width, cfg.Height))
		// internal/jpegdct decodes the scans whole or reduced alike: one
		// it found invalid reduced is not tried again whole.
		if err != nil && format == formatJPEG && wholeJPEG != nil && !errors.Is(scaledErr, jpegdct.ErrFormat) {
			if whole, werr := wholeJPEG(data, limits.MaxPixels); werr == nil {
				img, err = whole, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidImage, err)
		}
	}
	if b := img.Bounds(); (format == formatGIF || format == formatWebP) && !b.Empty() && b != image.Rect(0, 0, cfg.Width, cfg.Height) {
		// The first frame of a GIF or an animated WebP may cover part of
		// its screen only, at an offset: the image is the screen,
		// transparent where the frame does not reach, as a browser shows
		// it.
		screen := image.NewNRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
		draw.Draw(screen, b, img, b.Min, draw.Src)
		img = screen
	}
	if orientation != 1 {
		if f := orientationFilter(orientation); f != nil {
			g := gift.New(f)
			dst := newImageLike(img, g.Bounds(img.Bounds()))
			g.Draw(dst, img)
			img = dst
		}
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		// a GIF whose first frame is empty, inside a screen that is not
		return nil, fmt.Errorf("%w: the image has no pixels (%dx%d)", ErrInvalidImage, b.Dx(), b.Dy())
	}
	return &source{data: data, format: format, img: img, size: size, reduced: reduced, maxPixels: limits.sizePixels()}, nil
}

// decodeWhole decodes data, an image of format whose header announced the
// bounds canvas, at full size. A WebP is decoded by golang.org/x/image/webp,
// which is three times as fast as github.com/gen2brain/webp (registered
// for the format too, as the WebP encoder); its lossy images come back as
// video-range planes, converted by videoRangeRGB. Of an animated WebP, the
// first frame is decoded, at its place on the canvas.
func decodeWhole(data []byte, format string, canvas image.Rectangle) (image.Image, error) {
	if format == formatWebP {
		still, at, anim, err := webpFirstFrame(data)
		if err != nil {
			return nil, err
		}
		if anim {
			// The frame's bitstream must be the frame the header
			// announced, inside the canvas the limits were checked on.
			cfg, err := xwebp.DecodeConfig(bytes.NewReader(still))
			if err != nil {
				return nil, err
			}
			if cfg.Width != at.Dx() || cfg.Height != at.Dy() || !at.In(canvas) {
				return nil, fmt.Errorf("an animated WebP's first frame of %dx%d at %v does not fit its canvas %v", cfg.Width, cfg.Height, at, canvas)
			}
			data = still
		}
		img, err := xwebp.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return moveTo(videoRangeRGB(img), at.Min), nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}

// checkHeader sniffs the format of data from its first bytes and checks
// the header, which may be all that data holds, against the limits.
func checkHeader(data []byte, limits Limits) (image.Config, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if w, h, ok := pngSize(data); ok && w > 0 && h > limits.MaxPixels/w {
			// image/png refuses a size whose pixel buffer would overflow
			// before we can: that is a size over the limit too.
			return cfg, "", fmt.Errorf("%w: %dx%d is over %d pixels", ErrImageTooLarge, w, h, limits.MaxPixels)
		}
		return cfg, "", fmt.Errorf("%w: %w", ErrInvalidImage, err)
	}
	if _, ok := extensions[format]; !ok || !limits.allows(format) {
		return cfg, "", fmt.Errorf("%w: format %q is not accepted (accepted: %v)", ErrInvalidImage, format, limits.Formats)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, "", fmt.Errorf("%w: %dx%d pixels", ErrInvalidImage, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > limits.MaxPixels {
		return cfg, "", fmt.Errorf("%w: %dx%d is over %d pixels", ErrImageTooLarge, cfg.Width, cfg.Height, limits.MaxPixels)
	}
	return cfg, format, nil
}

// pngSize returns the width and height a PNG's header declares, and false
// when data does not start with a PNG signature and an IHDR chunk.
func pngSize(data []byte) (w, h int64, ok bool) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(data) < 24 || string(data[:8]) != sig || string(data[12:16]) != "IHDR" {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint32(data[16:20])), int64(binary.BigEndian.Uint32(data[20:24])), true
}

// orientationFilter returns the transform that makes an image with EXIF
// orientation o upright, or nil for 1 (already upright).
func orientationFilter(o int) gift.Filter {
	switch o {
	case 2:
		return gift.FlipHorizontal()
	case 3:
		return gift.Rotate180()
	case 4:
		return gift.FlipVertical()
	case 5:
		return gift.Transpose()
	case 6:
		return gift.Rotate270()
	case 7:
		return gift.Transverse()
	case 8:
		return gift.Rotate90()
	}
	return nil
}

// newImageLike returns a blank image of bounds b in a pixel format suited to
// src: gray stays gray, and everything else becomes newColour's (RGBA,
// which the JPEG encoder reads without a per-pixel allocation, for an
// opaque image). Only for transforms that
// keep a gray image gray and opaque (EXIF orientation, resizes): other
// processors may pad with a colour, rotate leaving transparent corners or
// draw a coloured watermark.
func newImageLike(src image.Image, b image.Rectangle) draw.Image {
	b = image.Rect(0, 0, b.Dx(), b.Dy())
	if _, ok := src.(*image.Gray); ok {
		return image.NewGray(b)
	}
	return newColour(src, b)
}

// newColour returns a blank colour image of bounds b for what is drawn from
// src: NRGBA, straight alpha, when src has transparency, as gift's own
// filters expect (premultiplied, a filter that overshoots, a sharpen,
// rings transparent edges with wrong colours, and the colour of
// transparent pixels is lost); RGBA otherwise.
func newColour(src image.Image, b image.Rectangle) draw.Image {
	if o, ok := src.(interface{ Opaque() bool }); ok && !o.Opaque() {
		return image.NewNRGBA(b)
	}
	return image.NewRGBA(b)
}

// rendered is one size of a source, encoded.
type rendered struct {
	size   sizes.Size
	ext    string
	data   []byte
	width  int
	height int
}

// render applies the size's processors to src, encodes the result in the
// size's format (the source's when empty), and runs the size's
// post-processors on the encoded bytes: what they return is what is stored.
// The encoders of the standard library write no EXIF or other metadata.
func render(ctx context.Context, src *source, sz sizes.Size, background color.Color) (*rendered, error) {
	img, err := draw1(ctx, src.img, src.drawn(sz), outputFormat(sz, src.format), src.maxPixels)
	if err != nil {
		return nil, err
	}
	return encode(ctx, img, src.format, sz, background)
}

// flatten returns img drawn over background when it has any transparency,
// and img itself when it is opaque.
func flatten(img image.Image, background color.Color) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, image.NewUniform(background), image.Point{}, draw.Src)
	draw.Draw(out, b, img, b.Min, draw.Over)
	return out
}

// draw1 applies the size's processors to img, refusing with
// ErrImageTooLarge a size that would make an image (its result, the image
// of any step, or one a step works on: see processors.WorkingPixels) of
// more than maxPixels: a size that enlarges by a percentage, or keeps an
// aspect ratio, can turn a small upload into a huge image. A result too
// wide or tall for format, the one it is stored in, is refused so too
// (see formatFits), before it is drawn.
func draw1(ctx context.Context, img image.Image, sz sizes.Size, format string, maxPixels int64) (draw.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := img.Bounds()
	for _, f := range sz.Processors {
		if px := processors.WorkingPixels(f, b); px > maxPixels {
			return nil, fmt.Errorf("%w: size %q would make a working image of %d pixels from one of %dx%d, over %d", ErrImageTooLarge, sz.Name, px, b.Dx(), b.Dy(), maxPixels)
		}
		b = f.Bounds(b)
		if px := int64(b.Dx()) * int64(b.Dy()); px > maxPixels {
			return nil, fmt.Errorf("%w: size %q would make an image of %dx%d, over %d pixels", ErrImageTooLarge, sz.Name, b.Dx(), b.Dy(), maxPixels)
		}
	}
	g := gift.New(sz.Processors...)
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("thumbnails: size %q gives an empty image", sz.Name)
	}
	if err := formatFits(format, b.Dx(), b.Dy()); err != nil {
		return nil, fmt.Errorf("%w: size %q: %w", ErrImageTooLarge, sz.Name, err)
	}
	// A gray source stays gray only through resizes (see newImageLike).
	var dst draw.Image
	if resizesOnly(sz.Processors) {
		dst = newImageLike(img, b)
	} else {
		dst = newColour(img, image.Rect(0, 0, b.Dx(), b.Dy()))
	}
	g.Draw(dst, img)
	return dst, nil
}

// resizesOnly reports whether every filter of list is a processors.Resize.
func resizesOnly(list []gift.Filter) bool {
	for _, f := range list {
		if !processors.IsResize(f) {
			return false
		}
	}
	return true
}

// encode encodes img for the size, in its format or else srcFormat, and
// runs its post-processors. A JPEG has no transparency: a transparent image
// is flattened onto background first. draw1 has made img of a size the
// format holds.
func encode(ctx context.Context, dst image.Image, srcFormat string, sz sizes.Size, background color.Color) (*rendered, error) {
	format := outputFormat(sz, srcFormat)
	var buf bytes.Buffer
	var err error
	switch format {
	case formatJPEG:
		err = jpeg.Encode(&buf, flatten(dst, background), &jpeg.Options{Quality: sz.JPEGQuality()})
	case formatPNG:
		err = png.Encode(&buf, dst)
	case formatGIF:
		err = encodeGIF(&buf, dst, background)
	case formatWebP:
		err = webp.Encode(&buf, straightAlpha(dst), webp.Options{Quality: sz.JPEGQuality()})
	default:
		err = errors.New("unknown format " + format)
	}
	if err != nil {
		return nil, fmt.Errorf("thumbnails: encode size %q: %w", sz.Name, err)
	}
	data := buf.Bytes()
	for _, pp := range sz.PostProcessors {
		if data, err = pp.Process(ctx, format, data); err != nil {
			return nil, fmt.Errorf("thumbnails: size %q: %w", sz.Name, err)
		}
	}
	b := dst.Bounds()
	return &rendered{size: sz, ext: extensions[format], data: data, width: b.Dx(), height: b.Dy()}, nil
}

// straightAlpha returns img for the WebP encoder, which reads an
// *image.RGBA's premultiplied pixels as straight alpha (and darkened every
// half-transparent pixel): such an image with transparency is converted to
// an *image.NRGBA. An opaque one is the same either way.
func straightAlpha(img image.Image) image.Image {
	rgba, ok := img.(*image.RGBA)
	if !ok || rgba.Opaque() {
		return img
	}
	b := rgba.Bounds()
	out := image.NewNRGBA(b)
	draw.Draw(out, b, rgba, b.Min, draw.Src)
	return out
}

// gifPalette is Plan 9's palette with its second entry, a dark blue, made
// the transparent colour: a GIF has one palette of at most 256 colours.
var gifPalette = func() color.Palette {
	p := append(color.Palette(nil), palette.Plan9...)
	p[gifTransparent] = color.RGBA{}
	return p
}()

// exactPaletted returns img as a paletted image of its own colours, as
// flat (img drawn over the background, or img itself when opaque) has
// them, transparent where img is less than half opaque, when there are at
// most 256 of them; nil when there are more (a photo: it stops at the
// 257th, in the first rows). Dithering to a fixed palette would change
// every one of them (a flat (10,200,77) came out (0,204,68)).
func exactPaletted(img, flat image.Image, opaque bool) *image.Paletted {
	b := img.Bounds()
	pm := image.NewPaletted(b, nil)
	index := make(map[color.RGBA]uint8, 256)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			shown := opaque
			if !opaque {
				_, _, _, a := img.At(x, y).RGBA()
				shown = a >= 0x8000
			}
			var c color.RGBA // transparent
			if shown {
				c = color.RGBAModel.Convert(flat.At(x, y)).(color.RGBA)
				c.A = 0xff
			}
			i, ok := index[c]
			if !ok {
				if len(pm.Palette) == 256 {
					return nil
				}
				i = uint8(len(pm.Palette))
				index[c] = i
				pm.Palette = append(pm.Palette, c)
			}
			pm.Pix[pm.PixOffset(x, y)] = i
		}
	}
	return pm
}

// gifTransparent is the index of gifPalette's transparent colour.
const gifTransparent = 1

// encodeGIF writes img as a GIF. An opaque image goes to gif.Encode as it
// is. A GIF pixel is transparent or opaque, nothing between: in an image
// with transparency, a pixel less than half opaque becomes transparent, and
// the others are drawn over background (as a JPEG's are) and dithered to
// gifPalette. gif.Encode alone would make transparent pixels black.
// An image of at most 256 colours (a logo, a flat drawing, a GIF source
// resized without smoothing) keeps them exactly: see exactPaletted.
func encodeGIF(w io.Writer, img image.Image, background color.Color) error {
	o, ok := img.(interface{ Opaque() bool })
	opaque := ok && o.Opaque()
	flat := img
	if !opaque {
		flat = flatten(img, background)
	}
	if pm := exactPaletted(img, flat, opaque); pm != nil {
		return gif.Encode(w, pm, nil)
	}
	if opaque {
		return gif.Encode(w, img, nil)
	}
	b := img.Bounds()
	pm := image.NewPaletted(b, gifPalette)
	draw.FloydSteinberg.Draw(pm, b, flat, b.Min)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a < 0x8000 {
				pm.SetColorIndex(x, y, gifTransparent)
			}
		}
	}
	return gif.Encode(w, pm, nil)
}
