package processors

import (
	"fmt"
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
}

var builders = map[string]builder{
	"crop":   {params: []string{"width", "height", "center"}, build: buildCrop},
	"flip":   {params: []string{"direction"}, build: buildFlip},
	"resize": {params: []string{"width", "height", "method"}, build: buildResize},
	"rotate": {params: []string{"degrees"}, build: buildRotate},
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
//	resize: width, height, method ("stretch" by default, "fit" or "fill"); at least one of width and height
//	crop:   width, height, center (a list of two values, the middle by default); at least one of width and height
//	rotate: degrees, counter-clockwise
//	flip:   direction, "horizontal" or "vertical"
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
