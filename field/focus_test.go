package field_test

import (
	"errors"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/field"
)

func TestFocusScanValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want field.Focus
		err  bool
	}{
		{nil, field.Focus{}, false},
		{"", field.Focus{}, false},
		{"0.25,0.75", field.NewFocus(0.25, 0.75), false},
		{[]byte(" 1 , 0 "), field.NewFocus(1, 0), false},
		{"0.5", field.Focus{}, true},
		{"1.5,0.5", field.Focus{}, true},
		{"-0.1,0.5", field.Focus{}, true},
		{"x,y", field.Focus{}, true},
		{"NaN,0.5", field.Focus{}, true},
		{"0.5,nan", field.Focus{}, true},
		{"Inf,0.5", field.Focus{}, true},
		{42, field.Focus{}, true},
	} {
		var f field.Focus
		err := f.Scan(tc.in)
		if tc.err {
			if !errors.Is(err, field.ErrInvalidFocus) {
				t.Errorf("Scan(%v) = %v, want ErrInvalidFocus", tc.in, err)
			}
			continue
		}
		if err != nil || f != tc.want {
			t.Errorf("Scan(%v) = %+v, %v; want %+v", tc.in, f, err, tc.want)
			continue
		}
		v, err := f.Value()
		var back field.Focus
		if err != nil || back.Scan(v) != nil || back != f {
			t.Errorf("round trip of %+v: %v -> %+v (%v)", f, v, back, err)
		}
	}
	if got := field.NewFocus(-3, 7); got != field.NewFocus(0, 1) {
		t.Errorf("NewFocus clamps to %+v", got)
	}
	if _, err := (field.Focus{X: 2, Y: 0, Valid: true}).Value(); !errors.Is(err, field.ErrInvalidFocus) {
		t.Errorf("Value of a point outside the image: %v", err)
	}
}
