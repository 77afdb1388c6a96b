package processors

import (
	"fmt"
	"strings"

	"github.com/disintegration/gift"
)

// Direction is the axis along which Flip mirrors an image.
type Direction int

const (
	// Horizontal mirrors left and right.
	Horizontal Direction = iota
	// Vertical mirrors top and bottom.
	Vertical
)

var directionNames = [...]string{Horizontal: "horizontal", Vertical: "vertical"}

// String returns the name of d as ParseDirection accepts it.
func (d Direction) String() string {
	if d >= 0 && int(d) < len(directionNames) {
		return directionNames[d]
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// ParseDirection parses "horizontal" or "vertical", ignoring case and surrounding spaces.
func ParseDirection(s string) (Direction, error) {
	d, ok := parseDirection(s)
	if !ok {
		return Horizontal, fmt.Errorf("processors: unknown direction %q: %w", s, ErrInvalidParameter)
	}
	return d, nil
}

func parseDirection(s string) (Direction, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d, name := range directionNames {
		if s == name {
			return Direction(d), true
		}
	}
	return Horizontal, false
}

// Flip returns a filter that mirrors the image along d. An unknown direction
// leaves the image unchanged.
func Flip(d Direction) gift.Filter {
	switch d {
	case Horizontal:
		return gift.FlipHorizontal()
	case Vertical:
		return gift.FlipVertical()
	}
	return identity{}
}
