package processors

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"github.com/disintegration/gift"
)

// NeedsImage is implemented by processors that draw a stored image, such
// as watermark built from YAML: the plugin opens ImageName in its storage
// when it starts, and hands the decoded image to SetImage.
type NeedsImage interface {
	ImageName() string
	SetImage(image.Image)
}

// Watermark returns a filter that draws mark over the image at anchor a,
// margin pixels in from the edges it touches, at opacity from 0 to 1. A
// non-zero width scales the mark to that width (pixels, or a percentage of
// the image's width), keeping its aspect ratio; otherwise it is drawn at its
// own size, whatever that is.
func Watermark(mark image.Image, a Anchor, opacity float64, margin int, width Length) gift.Filter {
	return &watermarkFilter{mark: mark, anchor: a, opacity: opacity, margin: margin, width: width}
}

type watermarkFilter struct {
	name    string // storage name, for a watermark built from YAML
	anchor  Anchor
	opacity float64
	margin  int
	width   Length

	mu   sync.RWMutex
	mark image.Image
}

func (f *watermarkFilter) ImageName() string { return f.name }

func (f *watermarkFilter) SetImage(img image.Image) {
	f.mu.Lock()
	f.mark = img
	f.mu.Unlock()
}

func (f *watermarkFilter) Bounds(src image.Rectangle) image.Rectangle {
	return image.Rect(0, 0, src.Dx(), src.Dy())
}

func (f *watermarkFilter) Draw(dst draw.Image, src image.Image, _ *gift.Options) {
	db := dst.Bounds()
	draw.Draw(dst, db, src, src.Bounds().Min, draw.Src)
	f.mu.RLock()
	mark := f.mark
	f.mu.RUnlock()
	if mark == nil || f.opacity <= 0 {
		return
	}
	if w := f.width.size(db.Dx()); w > 0 && w != mark.Bounds().Dx() {
		g := gift.New(gift.Resize(w, 0, gift.LanczosResampling))
		scaled := image.NewNRGBA(g.Bounds(mark.Bounds()))
		g.Draw(scaled, mark)
		mark = scaled
	}
	mb := mark.Bounds()
	a := f.anchor
	if a < 0 || int(a) >= len(anchorPoints) {
		a = Center
	}
	p := anchorPoints[a]
	place := func(room, size int, pct float64) int {
		free := room - size - 2*f.margin
		return f.margin + int(float64(free)*pct/100)
	}
	at := image.Pt(db.Min.X+place(db.Dx(), mb.Dx(), p[0]), db.Min.Y+place(db.Dy(), mb.Dy(), p[1]))
	alpha := image.NewUniform(color.Alpha{A: uint8(min(f.opacity, 1)*255 + 0.5)})
	// DrawMask clips the rectangle to dst and moves the mark's point with
	// it: a mark larger than the image shows its anchored part.
	draw.DrawMask(dst, image.Rectangle{Min: at, Max: at.Add(mb.Size())}, mark, mb.Min, alpha, image.Point{}, draw.Over)
}
