package processors_test

import (
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func TestResizeDimensions(t *testing.T) {
	px, pct := processors.Px, processors.Pct
	tests := []struct {
		name   string
		w, h   int // source size
		width  processors.Length
		height processors.Length
		method processors.Method
		want   [2]int
	}{
		{"stretch", 2560, 1600, px(100), px(100), processors.Stretch, [2]int{100, 100}},
		{"stretch enlarges", 40, 30, px(100), px(50), processors.Stretch, [2]int{100, 50}},
		{"fit landscape", 2560, 1600, px(1200), px(1200), processors.Fit, [2]int{1200, 750}},
		{"fit portrait", 1600, 2560, px(1200), px(1200), processors.Fit, [2]int{750, 1200}},
		{"fit wide box", 2560, 1600, px(1000), px(100), processors.Fit, [2]int{160, 100}},
		{"fit enlarges", 40, 20, px(100), px(100), processors.Fit, [2]int{100, 50}},
		{"fill", 2560, 1600, px(100), px(100), processors.Fill, [2]int{100, 100}},
		{"fill wide box", 2560, 1600, px(300), px(50), processors.Fill, [2]int{300, 50}},
		{"fill enlarges", 40, 20, px(100), px(100), processors.Fill, [2]int{100, 100}},
		{"percent stretch", 2560, 1600, pct(50), pct(25), processors.Stretch, [2]int{1280, 400}},
		{"percent fit", 2560, 1600, pct(50), pct(50), processors.Fit, [2]int{1280, 800}},
		{"percent fill", 200, 100, pct(10), pct(50), processors.Fill, [2]int{20, 50}},
		{"percent and pixels", 2560, 1600, pct(10), px(100), processors.Stretch, [2]int{256, 100}},
		{"missing height stretch", 2560, 1600, px(640), processors.Length{}, processors.Stretch, [2]int{640, 400}},
		{"missing height fit", 2560, 1600, px(640), processors.Length{}, processors.Fit, [2]int{640, 400}},
		{"missing height fill", 2560, 1600, px(640), processors.Length{}, processors.Fill, [2]int{640, 400}},
		{"missing width stretch", 2560, 1600, processors.Length{}, px(800), processors.Stretch, [2]int{1280, 800}},
		{"missing width fit", 2560, 1600, processors.Length{}, px(800), processors.Fit, [2]int{1280, 800}},
		{"missing width fill", 2560, 1600, processors.Length{}, px(800), processors.Fill, [2]int{1280, 800}},
		{"missing width percent", 2560, 1600, processors.Length{}, pct(50), processors.Fill, [2]int{1280, 800}},
		{"both missing", 2560, 1600, processors.Length{}, processors.Length{}, processors.Fill, [2]int{2560, 1600}},
		{"never below one pixel", 1000, 1, px(10), processors.Length{}, processors.Stretch, [2]int{10, 1}},
		{"tiny percent is one pixel", 10, 10, pct(1), pct(1), processors.Stretch, [2]int{1, 1}},
		{"fit never below one pixel", 1000, 1, px(10), px(10), processors.Fit, [2]int{10, 1}},
		{"unknown method stretches", 2560, 1600, px(100), px(100), processors.Method(42), [2]int{100, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := processors.Resize(tt.width, tt.height, tt.method)
			src := image.Rect(0, 0, tt.w, tt.h)
			if got := dims(f.Bounds(src)); got != tt.want {
				t.Errorf("Bounds(%v) = %v, want %v", src, got, tt.want)
			}
			// Bounds must not depend on where the source's origin is.
			if got := dims(f.Bounds(src.Add(image.Pt(-7, 13)))); got != tt.want {
				t.Errorf("Bounds(moved %v) = %v, want %v", src, got, tt.want)
			}
		})
	}
}

func TestResizeDraw(t *testing.T) {
	px := processors.Px
	tests := []struct {
		name   string
		width  processors.Length
		height processors.Length
		method processors.Method
		want   [2]int
	}{
		{"stretch", px(20), px(10), processors.Stretch, [2]int{20, 10}},
		{"fit", px(30), px(30), processors.Fit, [2]int{30, 15}},
		{"fill", px(30), px(30), processors.Fill, [2]int{30, 30}},
		{"both missing", processors.Length{}, processors.Length{}, processors.Fit, [2]int{80, 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The source's origin is not (0, 0), as for a sub-image.
			src := quadrants(5, 9, 80, 40)
			dst := apply(src, processors.Resize(tt.width, tt.height, tt.method))
			if got := dims(dst.Bounds()); got != tt.want {
				t.Fatalf("size = %v, want %v", got, tt.want)
			}
			w, h := tt.want[0], tt.want[1]
			// Far from the quadrants' edges the colours survive resampling.
			corners := []struct {
				x, y int
				want color.NRGBA
			}{
				{0, 0, red}, {w - 1, 0, green}, {0, h - 1, blue}, {w - 1, h - 1, white},
			}
			for _, c := range corners {
				if got := dst.NRGBAAt(c.x, c.y); got != c.want {
					t.Errorf("pixel (%d, %d) = %v, want %v", c.x, c.y, got, c.want)
				}
			}
		})
	}
}

func TestParseMethod(t *testing.T) {
	tests := []struct {
		in      string
		want    processors.Method
		wantErr bool
	}{
		{"stretch", processors.Stretch, false},
		{"fit", processors.Fit, false},
		{"fill", processors.Fill, false},
		{" FILL ", processors.Fill, false},
		{"Fit", processors.Fit, false},
		{"", processors.Stretch, true},
		{"crop", processors.Stretch, true},
	}
	for _, tt := range tests {
		got, err := processors.ParseMethod(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseMethod(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, processors.ErrInvalidParameter) {
			t.Errorf("ParseMethod(%q) error %v is not ErrInvalidParameter", tt.in, err)
		}
		if err == nil && got.String() != strings.ToLower(strings.TrimSpace(tt.in)) {
			t.Errorf("ParseMethod(%q).String() = %q", tt.in, got.String())
		}
	}
	if got := processors.Method(9).String(); got != "Method(9)" {
		t.Errorf("Method(9).String() = %q", got)
	}
}
