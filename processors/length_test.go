package processors

import (
	"math"
	"testing"
)

func TestLengthSize(t *testing.T) {
	tests := []struct {
		name string
		l    Length
		cur  int
		want int
	}{
		{"zero", Length{}, 100, 0},
		{"pixels", Px(40), 100, 40},
		{"pixels ignore current", Px(40), 7, 40},
		{"fractional pixels round", Length{Value: 40.5}, 100, 41},
		{"tiny pixels are one", Length{Value: 0.2}, 100, 1},
		{"percent", Pct(50), 300, 150},
		{"percent rounds", Pct(50), 5, 3},
		{"tiny percent is one", Pct(1), 10, 1},
		{"zero percent", Pct(0), 100, 0},
		{"more than 100 percent", Pct(200), 100, 200},
		{"negative is missing", Px(-5), 100, 0},
		{"NaN is missing", Length{Value: math.NaN()}, 100, 0},
		{"huge pixels clamp", Length{Value: 1e300}, 100, MaxDimension},
		{"huge percent clamps", Pct(1e300), 100, MaxDimension},
		{"infinity clamps", Length{Value: math.Inf(1)}, 100, MaxDimension},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.size(tt.cur); got != tt.want {
				t.Errorf("%+v.size(%d) = %d, want %d", tt.l, tt.cur, got, tt.want)
			}
		})
	}
}

func TestLengthPosition(t *testing.T) {
	tests := []struct {
		name string
		l    Length
		cur  int
		want float64
	}{
		{"zero", Length{}, 100, 0},
		{"pixels", Px(10), 100, 10},
		{"percent", Pct(25), 200, 50},
		{"NaN is zero", Length{Value: math.NaN()}, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.position(tt.cur); got != tt.want {
				t.Errorf("%+v.position(%d) = %v, want %v", tt.l, tt.cur, got, tt.want)
			}
		})
	}
}

func TestLengthIsZero(t *testing.T) {
	tests := []struct {
		l    Length
		want bool
	}{
		{Length{}, true},
		{Px(0), true},
		{Pct(0), true},
		{Px(1), false},
		{Pct(0.5), false},
	}
	for _, tt := range tests {
		if got := tt.l.IsZero(); got != tt.want {
			t.Errorf("%+v.IsZero() = %v, want %v", tt.l, got, tt.want)
		}
	}
}
