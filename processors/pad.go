package processors

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"strings"

	"github.com/disintegration/gift"
)

// Pad returns a filter that resizes the image to fit inside width×height,
// keeping its aspect ratio (enlarging too, like Resize with Fit), and centres
// it on a width×height canvas of colour c.
//
// A zero width or height stands for that dimension of the current image; a
// percentage is taken of the current dimension. The bars are filled with c
// as it is; the image itself is copied over them unchanged, alpha included.
func Pad(width, height Length, c color.Color) gift.Filter {
	return &padFilter{fixedBox: fixedBox{width, height}, color: color.NRGBAModel.Convert(c).(color.NRGBA)}
}

type padFilter struct {
	fixedBox
	color color.NRGBA
}

func (f *padFilter) Draw(dst draw.Image, src image.Image, options *gift.Options) {
	sb, db := src.Bounds(), dst.Bounds()
	draw.Draw(dst, db, &image.Uniform{C: f.color}, image.Point{}, draw.Src)
	if sb.Dx() <= 0 || sb.Dy() <= 0 {
		return
	}
	w, h := f.box(sb.Dx(), sb.Dy())
	fw, fh := fitInside(sb.Dx(), sb.Dy(), w, h)
	r := Resize(Px(fw), Px(fh), Stretch)
	fitted := image.NewNRGBA(r.Bounds(sb))
	r.Draw(fitted, src, options)
	at := db.Min.Add(image.Pt((w-fw)/2, (h-fh)/2))
	draw.Draw(dst, image.Rectangle{Min: at, Max: at.Add(fitted.Rect.Size())}, fitted, image.Point{}, draw.Src)
}

// ParseColor parses "#rrggbb", "#rrggbbaa" (hexadecimal, not premultiplied)
// or one of the names white, black and transparent, ignoring case and
// surrounding spaces.
func ParseColor(s string) (color.NRGBA, error) {
	c, ok := parseColor(s)
	if !ok {
		return color.NRGBA{}, fmt.Errorf("processors: unknown colour %q: %w", s, ErrInvalidParameter)
	}
	return c, nil
}

func parseColor(s string) (color.NRGBA, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "white":
		return color.NRGBA{R: 255, G: 255, B: 255, A: 255}, true
	case "black":
		return color.NRGBA{A: 255}, true
	case "transparent":
		return color.NRGBA{}, true
	}
	hex, ok := strings.CutPrefix(s, "#")
	if !ok || (len(hex) != 6 && len(hex) != 8) {
		return color.NRGBA{}, false
	}
	if len(hex) == 6 {
		hex += "ff"
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return color.NRGBA{}, false
	}
	return color.NRGBA{R: uint8(v >> 24), G: uint8(v >> 16), B: uint8(v >> 8), A: uint8(v)}, true
}
