package processors_test

import (
	"errors"
	"image"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func TestFlip(t *testing.T) {
	tests := []struct {
		d     processors.Direction
		white image.Point // where the top-left pixel of the 3×2 source ends up
	}{
		{processors.Horizontal, image.Pt(2, 0)},
		{processors.Vertical, image.Pt(0, 1)},
		{processors.Direction(7), image.Pt(0, 0)}, // unknown: unchanged
	}
	for _, tt := range tests {
		dst := apply(marked(), processors.Flip(tt.d))
		if got := dims(dst.Bounds()); got != [2]int{3, 2} {
			t.Fatalf("Flip(%v): size %v", tt.d, got)
		}
		for y := range 2 {
			for x := range 3 {
				want := red
				if image.Pt(x, y) == tt.white {
					want = white
				}
				if got := dst.NRGBAAt(x, y); got != want {
					t.Errorf("Flip(%v): pixel (%d, %d) = %v, want %v", tt.d, x, y, got, want)
				}
			}
		}
	}
}

func TestParseDirection(t *testing.T) {
	tests := []struct {
		in      string
		want    processors.Direction
		wantErr bool
	}{
		{"horizontal", processors.Horizontal, false},
		{"vertical", processors.Vertical, false},
		{" Vertical ", processors.Vertical, false},
		{"HORIZONTAL", processors.Horizontal, false},
		{"", processors.Horizontal, true},
		{"diagonal", processors.Horizontal, true},
	}
	for _, tt := range tests {
		got, err := processors.ParseDirection(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDirection(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, processors.ErrInvalidParameter) {
			t.Errorf("ParseDirection(%q) error %v is not ErrInvalidParameter", tt.in, err)
		}
	}
	for d, want := range map[processors.Direction]string{processors.Horizontal: "horizontal", processors.Vertical: "vertical", 5: "Direction(5)"} {
		if got := d.String(); got != want {
			t.Errorf("Direction(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}
