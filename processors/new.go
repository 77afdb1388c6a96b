package processors

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"github.com/disintegration/gift"
)

// djangoPrefix is the module path django-thumbnails' settings put before a processor's name.
const djangoPrefix = "thumbnails.processors."

// builder makes one kind of processor from its parameters.
type builder struct {
	params []string // the parameter names it accepts, lower-case
	build  func(a args) (gift.Filter, error)
	desc   string // one line for Descriptions
}

var builders = map[string]builder{
	"crop": {params: []string{"width", "height", "center", "anchor"}, build: buildCrop,
		desc: "cut a width×height window around a centre point or at a named anchor, without scaling"},
	"flip": {params: []string{"direction"}, build: buildFlip,
		desc: "mirror the image horizontally or vertically"},
	"resize": {params: []string{"width", "height", "method", "upscale"}, build: buildResize,
		desc: "scale to width×height: stretch, fit inside or fill the box, optionally never enlarging"},
	"rotate": {params: []string{"degrees"}, build: buildRotate,
		desc: "rotate counter-clockwise by a number of degrees"},
	"watermark": {params: []string{"image", "anchor", "opacity", "margin", "width"}, build: buildWatermark,
		desc: "draw an image from the storage over the thumbnail at an anchor, with an opacity, at any size"},
	"pad": {params: []string{"width", "height", "color"}, build: buildPad,
		desc: "fit inside width×height keeping the aspect ratio, then pad to exactly width×height with a colour"},
	"focal": {params: []string{"width", "height", "x", "y"}, build: buildFocal,
		desc: "scale to cover width×height, then crop it around a focal point"},
	"smart": {params: []string{"width", "height"}, build: buildSmart,
		desc: "scale to cover width×height, then crop the window with the most detail"},
	"blur": {params: []string{"sigma"}, build: buildBlur,
		desc: "Gaussian blur of a standard deviation of sigma pixels"},
	"sharpen": {params: []string{"sigma", "amount"}, build: buildSharpen,
		desc: "sharpen with an unsharp mask of sigma pixels and a strength of amount"},
	"unsharp": {params: []string{"sigma", "amount"}, build: buildSharpen,
		desc: "the same as sharpen, under the name of the technique"},
	"grayscale": {params: nil, build: buildGrayscale,
		desc: "convert to shades of grey"},
	"brightness": {params: []string{"percent"}, build: buildBrightness,
		desc: "lighten or darken by a percentage from -100 to 100"},
	"contrast": {params: []string{"percent"}, build: buildContrast,
		desc: "raise or lower the contrast by a percentage from -100 to 100"},
}

// Descriptions returns a one-line description of each known processor, by name.
func Descriptions() map[string]string {
	d := make(map[string]string, len(builders))
	for name, b := range builders {
		d[name] = b.desc
	}
	return d
}

// Names returns the names of the known processors, sorted.
func Names() []string {
	names := make([]string, 0, len(builders))
	for name := range builders {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// New builds the processor named name ("resize", or the dotted django form
// "thumbnails.processors.resize") from params, as decoded from YAML or JSON.
//
// Names and parameter keys are case-insensitive. Sizes and centres are
// numbers of pixels or strings such as "100" or "50%". The processors and
// their parameters are:
//
//	resize:     width, height, method ("stretch" by default, "fit" or "fill"), upscale (true by default);
//	            at least one of width and height
//	crop:       width, height, center (a list of two values, the middle by default) or anchor
//	            ("top-left", "top", ..., "center", ..., "bottom-right"); at least one of width and height
//	rotate:     degrees, counter-clockwise
//	flip:       direction, "horizontal" or "vertical"
//	pad:        width, height (both required), color ("#rrggbb", "#rrggbbaa", "white", "black" or
//	            "transparent"; white by default)
//	focal:      width, height (both required), x, y (the focal point, "50%" by default)
//	smart:      width, height (both required)
//	blur:       sigma, in pixels, above 0 and at most 50
//	sharpen:    sigma, in pixels, above 0 and at most 50; amount, from 0 to 10 (1 by default)
//	unsharp:    the same as sharpen
//	watermark:  image (the storage name of the image drawn; required), anchor (as crop's,
//	            "bottom-right" by default), opacity (from 0 to 1, 1 by default), margin (pixels
//	            from the edges, 0 by default), width (of the drawn image: pixels or a percentage
//	            of the thumbnail's width; its own by default)
//	grayscale:  no parameters
//	brightness: percent, from -100 to 100
//	contrast:   percent, from -100 to 100
//
// An unknown name is an ErrUnknownProcessor; a bad parameter is an ErrInvalidParameter.
func New(name string, params map[string]any) (gift.Filter, error) {
	key := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), djangoPrefix)
	b, ok := builders[key]
	if !ok {
		return nil, fmt.Errorf("processors: %q: %w", name, ErrUnknownProcessor)
	}
	a, err := newArgs(key, b.params, params)
	if err != nil {
		return nil, err
	}
	return b.build(a)
}

func buildResize(a args) (gift.Filter, error) {
	width, err := a.size("width")
	if err != nil {
		return nil, err
	}
	height, err := a.size("height")
	if err != nil {
		return nil, err
	}
	if width.IsZero() && height.IsZero() {
		return nil, a.errorf("", "neither width nor height is given")
	}
	method := Stretch
	if s, ok, err := a.text("method"); err != nil {
		return nil, err
	} else if ok {
		if method, ok = parseMethod(s); !ok {
			return nil, a.errorf("method", "unknown method %q, want stretch, fit or fill", s)
		}
	}
	upscale, err := a.boolean("upscale", true)
	if err != nil {
		return nil, err
	}
	if !upscale {
		return ResizeNoUpscale(width, height, method), nil
	}
	return Resize(width, height, method), nil
}

func buildCrop(a args) (gift.Filter, error) {
	width, err := a.size("width")
	if err != nil {
		return nil, err
	}
	height, err := a.size("height")
	if err != nil {
		return nil, err
	}
	if width.IsZero() && height.IsZero() {
		return nil, a.errorf("", "neither width nor height is given")
	}
	if s, ok, err := a.text("anchor"); err != nil {
		return nil, err
	} else if ok {
		if a.vals["center"] != nil {
			return nil, a.errorf("", "both center and anchor are given, want one")
		}
		anchor, ok := parseAnchor(s)
		if !ok {
			return nil, a.errorf("anchor", "unknown anchor %q, want %s", s, strings.Join(anchorNames[:], ", "))
		}
		return CropAnchor(width, height, anchor), nil
	}
	x, y, err := a.point("center")
	if err != nil {
		return nil, err
	}
	return CropAt(width, height, x, y), nil
}

func buildRotate(a args) (gift.Filter, error) {
	degrees, err := a.number("degrees")
	if err != nil {
		return nil, err
	}
	return Rotate(degrees), nil
}

func buildFlip(a args) (gift.Filter, error) {
	s, ok, err := a.text("direction")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, a.errorf("direction", "missing")
	}
	d, ok := parseDirection(s)
	if !ok {
		return nil, a.errorf("direction", "unknown direction %q, want horizontal or vertical", s)
	}
	return Flip(d), nil
}

func buildWatermark(a args) (gift.Filter, error) {
	name, ok, err := a.text("image")
	if err != nil {
		return nil, err
	}
	if !ok || name == "" {
		return nil, a.errorf("image", "missing: the storage name of the watermark image")
	}
	anchor := BottomRight
	if s, ok, err := a.text("anchor"); err != nil {
		return nil, err
	} else if ok {
		if anchor, ok = parseAnchor(s); !ok {
			return nil, a.errorf("anchor", "unknown anchor %q", s)
		}
	}
	opacity, err := a.optNumber("opacity", 1)
	if err != nil {
		return nil, err
	}
	if opacity < 0 || opacity > 1 {
		return nil, a.errorf("opacity", "%v is not from 0 to 1", opacity)
	}
	margin, err := a.optNumber("margin", 0)
	if err != nil {
		return nil, err
	}
	if margin < 0 || margin > MaxDimension {
		return nil, a.errorf("margin", "%v is out of range", margin)
	}
	var width Length
	if a.vals["width"] != nil {
		if width, err = a.size("width"); err != nil {
			return nil, err
		}
	}
	return &watermarkFilter{name: name, anchor: anchor, opacity: opacity, margin: int(margin), width: width}, nil
}

func buildPad(a args) (gift.Filter, error) {
	width, height, err := a.box()
	if err != nil {
		return nil, err
	}
	c := color.NRGBA{R: 255, G: 255, B: 255, A: 255}
	if s, ok, err := a.text("color"); err != nil {
		return nil, err
	} else if ok {
		if c, ok = parseColor(s); !ok {
			return nil, a.errorf("color", "unknown colour %q, want \"#rrggbb\", \"#rrggbbaa\", white, black or transparent", s)
		}
	}
	return Pad(width, height, c), nil
}

func buildFocal(a args) (gift.Filter, error) {
	width, height, err := a.box()
	if err != nil {
		return nil, err
	}
	x, y := Pct(50), Pct(50)
	if a.vals["x"] != nil {
		if x, err = a.size("x"); err != nil {
			return nil, err
		}
	}
	if a.vals["y"] != nil {
		if y, err = a.size("y"); err != nil {
			return nil, err
		}
	}
	return Focal(width, height, x, y), nil
}

func buildSmart(a args) (gift.Filter, error) {
	width, height, err := a.box()
	if err != nil {
		return nil, err
	}
	return Smart(width, height), nil
}

// maxSigma bounds the blur radius, whose cost per pixel grows with it.
const maxSigma = 50

// sigma returns the required parameter "sigma", above 0 and at most maxSigma.
func (a args) sigma() (float64, error) {
	s, err := a.number("sigma")
	if err != nil {
		return 0, err
	}
	if !(s > 0 && s <= maxSigma) {
		return 0, a.errorf("sigma", "%v is not above 0 and at most %d pixels", s, maxSigma)
	}
	return s, nil
}

// percent returns the required parameter "percent", from -100 to 100.
func (a args) percent() (float64, error) {
	p, err := a.number("percent")
	if err != nil {
		return 0, err
	}
	if p < -100 || p > 100 {
		return 0, a.errorf("percent", "%v is not from -100 to 100", p)
	}
	return p, nil
}

func buildBlur(a args) (gift.Filter, error) {
	sigma, err := a.sigma()
	if err != nil {
		return nil, err
	}
	return Blur(sigma), nil
}

func buildSharpen(a args) (gift.Filter, error) {
	sigma, err := a.sigma()
	if err != nil {
		return nil, err
	}
	amount, err := a.optNumber("amount", 1)
	if err != nil {
		return nil, err
	}
	if amount < 0 || amount > 10 {
		return nil, a.errorf("amount", "%v is not from 0 to 10", amount)
	}
	return Sharpen(sigma, amount), nil
}

func buildGrayscale(args) (gift.Filter, error) { return Grayscale(), nil }

func buildBrightness(a args) (gift.Filter, error) {
	p, err := a.percent()
	if err != nil {
		return nil, err
	}
	return Brightness(p), nil
}

func buildContrast(a args) (gift.Filter, error) {
	p, err := a.percent()
	if err != nil {
		return nil, err
	}
	return Contrast(p), nil
}
