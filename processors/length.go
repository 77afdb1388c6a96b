package processors

import "math"

// MaxDimension is the largest width or height, in pixels, that a processor
// produces or that New accepts as a pixel value. It is the largest size a JPEG
// can have, and keeps a mistyped size from allocating gigabytes.
const MaxDimension = 65535

// Length is a dimension in pixels, or a percentage of the current image's dimension.
//
// The zero Length means "missing": the processor works the value out itself.
type Length struct {
	// Value is the number of pixels, or the percentage when Percent is set.
	Value float64
	// Percent makes Value a percentage (50 is half) of the current image's dimension.
	Percent bool
}

// Px returns a Length of n pixels.
func Px(n int) Length { return Length{Value: float64(n)} }

// Pct returns a Length of p percent of the current image's dimension.
func Pct(p float64) Length { return Length{Value: p, Percent: true} }

// IsZero reports whether l is missing, that is zero pixels or zero percent.
func (l Length) IsZero() bool { return l.Value == 0 }

// size resolves l against the current dimension cur (pixels) as a size: it
// returns 0 for a missing, negative or NaN Length, and otherwise a whole number
// of pixels between 1 and MaxDimension.
func (l Length) size(cur int) int {
	v := l.pixels(cur)
	if !(v > 0) { // also catches NaN
		return 0
	}
	return clampDimension(math.Round(v))
}

// position resolves l against the current dimension cur (pixels) as a
// coordinate; it may be any value, callers clamp it to the image.
func (l Length) position(cur int) float64 {
	v := l.pixels(cur)
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func (l Length) pixels(cur int) float64 {
	if l.Percent {
		return l.Value * float64(cur) / 100
	}
	return l.Value
}

// clampDimension converts v to a pixel count between 1 and MaxDimension,
// before the conversion to int so that huge values cannot overflow.
func clampDimension(v float64) int {
	switch {
	case !(v >= 1): // also catches NaN
		return 1
	case v > MaxDimension:
		return MaxDimension
	}
	return int(v)
}
