package processors

import (
	"fmt"
	"strings"

	"github.com/disintegration/gift"
)

// Anchor is the part of the image that CropAnchor keeps, and the corner or
// side where a watermark is drawn.
type Anchor int

const (
	// Center keeps the middle of the image.
	Center Anchor = iota
	// TopLeft keeps the top-left corner.
	TopLeft
	// Top keeps the middle of the top edge.
	Top
	// TopRight keeps the top-right corner.
	TopRight
	// Left keeps the middle of the left edge.
	Left
	// Right keeps the middle of the right edge.
	Right
	// BottomLeft keeps the bottom-left corner.
	BottomLeft
	// Bottom keeps the middle of the bottom edge.
	Bottom
	// BottomRight keeps the bottom-right corner.
	BottomRight
)

var anchorNames = [...]string{
	Center: "center", TopLeft: "top-left", Top: "top", TopRight: "top-right", Left: "left",
	Right: "right", BottomLeft: "bottom-left", Bottom: "bottom", BottomRight: "bottom-right",
}

// anchorPoints are the centres, in percent of the width and height, that
// CropAt shifts into the image until the window touches the anchor's edges.
var anchorPoints = [...][2]float64{
	Center: {50, 50}, TopLeft: {0, 0}, Top: {50, 0}, TopRight: {100, 0}, Left: {0, 50},
	Right: {100, 50}, BottomLeft: {0, 100}, Bottom: {50, 100}, BottomRight: {100, 100},
}

// String returns the name of a as ParseAnchor accepts it.
func (a Anchor) String() string {
	if a >= 0 && int(a) < len(anchorNames) {
		return anchorNames[a]
	}
	return fmt.Sprintf("Anchor(%d)", int(a))
}

// ParseAnchor parses the name of an anchor, "top-left" to "bottom-right",
// ignoring case and surrounding spaces.
func ParseAnchor(s string) (Anchor, error) {
	a, ok := parseAnchor(s)
	if !ok {
		return Center, fmt.Errorf("processors: unknown anchor %q: %w", s, ErrInvalidParameter)
	}
	return a, nil
}

func parseAnchor(s string) (Anchor, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for a, name := range anchorNames {
		if s == name {
			return Anchor(a), true
		}
	}
	return Center, false
}

// CropAnchor returns a filter that cuts a width×height window out of the
// image at the corner, edge or middle that a names, as CropAt does. An
// unknown anchor behaves as Center.
func CropAnchor(width, height Length, a Anchor) gift.Filter {
	if a < 0 || int(a) >= len(anchorPoints) {
		a = Center
	}
	p := anchorPoints[a]
	return CropAt(width, height, Pct(p[0]), Pct(p[1]))
}
