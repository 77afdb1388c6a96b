package processors

import (
	"fmt"
	"strings"
)

// Method is how Resize treats the aspect ratio when both dimensions are given.
type Method int

const (
	// Stretch resizes to exactly the given width and height, ignoring the aspect ratio.
	Stretch Method = iota
	// Fit resizes to the largest size that fits inside the box, keeping the aspect ratio.
	Fit
	// Fill resizes to the smallest size that covers the box, keeping the aspect
	// ratio, then crops the centre to exactly the box.
	Fill
)

var methodNames = [...]string{Stretch: "stretch", Fit: "fit", Fill: "fill"}

// String returns the name of m as ParseMethod accepts it.
func (m Method) String() string {
	if m >= 0 && int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ParseMethod parses "stretch", "fit" or "fill", ignoring case and surrounding spaces.
func ParseMethod(s string) (Method, error) {
	m, ok := parseMethod(s)
	if !ok {
		return Stretch, fmt.Errorf("processors: unknown method %q: %w", s, ErrInvalidParameter)
	}
	return m, nil
}

func parseMethod(s string) (Method, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for m, name := range methodNames {
		if s == name {
			return Method(m), true
		}
	}
	return Stretch, false
}
