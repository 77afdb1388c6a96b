package processors

import "image"

// fixedBox is the output size of a filter that makes an image of exactly
// width×height (pad, focal, smart): a missing dimension keeps the source's.
type fixedBox struct {
	width, height Length
}

// box returns the size of the result for an image of sw×sh.
func (b fixedBox) box(sw, sh int) (w, h int) {
	if w = b.width.size(sw); w == 0 {
		w = sw
	}
	if h = b.height.size(sh); h == 0 {
		h = sh
	}
	return w, h
}

// Bounds implements gift.Filter's Bounds for the embedding filter.
func (b fixedBox) Bounds(src image.Rectangle) image.Rectangle {
	if src.Dx() <= 0 || src.Dy() <= 0 {
		return image.Rectangle{}
	}
	w, h := b.box(src.Dx(), src.Dy())
	return image.Rect(0, 0, w, h)
}
