package field

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrInvalidFocus is returned for a focal point outside the image, or a
// column value that is not one.
var ErrInvalidFocus = errors.New("field: invalid focal point")

// Focus is the focal point of an image, kept in a column of its own that the
// image column's tag names (focus:Field). The sizes of that column whose
// processors crop around a point (focal) crop around it instead of the point
// their YAML gives, when the sizes are made: on save, on first access of a
// lazy size, by a background job, and by thumbnails.Regenerate.
//
//	type Food struct {
//		ID    uint
//		Image field.Image `thumbnails:"sizes:hero;focus:Focus"`
//		Focus field.Focus
//	}
//
// X and Y are fractions of the upright image's width and height, from 0 at
// the left or top to 1 at the right or bottom. The zero value has Valid
// false: no focal point, stored as NULL.
type Focus struct {
	X, Y  float64
	Valid bool
}

// NewFocus returns the focal point at fractions x and y of the image's width
// and height; values outside 0..1 are clamped to the image.
func NewFocus(x, y float64) Focus {
	clamp := func(v float64) float64 {
		if math.IsNaN(v) {
			return 0.5
		}
		return math.Max(0, math.Min(1, v))
	}
	return Focus{X: clamp(x), Y: clamp(y), Valid: true}
}

// String returns "x,y", or "" for no focal point.
func (f Focus) String() string {
	if !f.Valid {
		return ""
	}
	return strconv.FormatFloat(f.X, 'f', -1, 64) + "," + strconv.FormatFloat(f.Y, 'f', -1, 64)
}

// Scan implements sql.Scanner, from "x,y" or NULL.
func (f *Focus) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("%w: cannot scan %T into field.Focus", ErrInvalidFocus, src)
	}
	if s = strings.TrimSpace(s); s == "" {
		*f = Focus{}
		return nil
	}
	xs, ys, ok := strings.Cut(s, ",")
	x, err1 := strconv.ParseFloat(strings.TrimSpace(xs), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(ys), 64)
	if !ok || err1 != nil || err2 != nil || !inside(x) || !inside(y) {
		return fmt.Errorf("%w: %q, want \"x,y\" with x and y from 0 to 1", ErrInvalidFocus, s)
	}
	*f = Focus{X: x, Y: y, Valid: true}
	return nil
}

// Value implements driver.Valuer: "x,y", or NULL for no focal point.
func (f Focus) Value() (driver.Value, error) {
	if !f.Valid {
		return nil, nil
	}
	if !inside(f.X) || !inside(f.Y) {
		return nil, fmt.Errorf("%w: (%v, %v) is outside the image (use NewFocus)", ErrInvalidFocus, f.X, f.Y)
	}
	return f.String(), nil
}

// inside reports whether v is a fraction of the image, from 0 to 1; false
// for NaN.
func inside(v float64) bool { return v >= 0 && v <= 1 }

// GormDataType tells gorm's migrator to make the column a string.
func (Focus) GormDataType() string { return "string" }
