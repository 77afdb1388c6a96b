package processors_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func TestDescriptions(t *testing.T) {
	d := processors.Descriptions()
	if got := slices.Sorted(maps.Keys(d)); !slices.Equal(got, processors.Names()) {
		t.Errorf("Descriptions() names = %v, want %v", got, processors.Names())
	}
	for name, line := range d {
		if line == "" || strings.Contains(line, "\n") {
			t.Errorf("description of %s = %q, want one line", name, line)
		}
	}
}

func TestNewMore(t *testing.T) {
	src := image.Rect(0, 0, 2560, 1600)
	tests := []struct {
		name   string
		proc   string
		params map[string]any
		want   [2]int // output size for a 2560×1600 source
	}{
		{"resize upscale true", "resize", map[string]any{"width": 5000, "method": "fit", "upscale": true}, [2]int{5000, 3125}},
		{"resize upscale null", "resize", map[string]any{"width": 5000, "upscale": nil}, [2]int{5000, 3125}},
		{"resize no upscale width", "resize", map[string]any{"width": 5000, "upscale": false}, [2]int{2560, 1600}},
		{"resize no upscale shrinks", "resize", map[string]any{"width": 640, "Upscale": false}, [2]int{640, 400}},
		{"resize no upscale fit", "resize", map[string]any{"width": 3000, "height": 3000, "method": "fit", "upscale": false}, [2]int{2560, 1600}},
		{"resize no upscale fit shrinks", "resize", map[string]any{"width": 3000, "height": 800, "method": "fit", "upscale": false}, [2]int{1280, 800}},
		{"resize no upscale fill", "resize", map[string]any{"width": 100, "height": 100, "method": "fill", "upscale": false}, [2]int{100, 100}},
		{"resize no upscale fill overhang", "resize", map[string]any{"width": 3000, "height": 100, "method": "fill", "upscale": false}, [2]int{2560, 100}},
		{"resize no upscale stretch", "resize", map[string]any{"width": 3000, "height": 100, "upscale": false}, [2]int{2560, 100}},
		{"crop anchor", "crop", map[string]any{"width": 80, "height": 40, "anchor": "Bottom-Right"}, [2]int{80, 40}},
		{"crop anchor null center", "crop", map[string]any{"width": 80, "anchor": "top", "center": nil}, [2]int{80, 1600}},
		{"pad", "pad", map[string]any{"width": 100, "height": 100}, [2]int{100, 100}},
		{"pad percent", "pad", map[string]any{"width": "10%", "height": 1000, "color": " #FFFFFF80 "}, [2]int{256, 1000}},
		{"pad black", "pad", map[string]any{"width": 10, "height": 10, "COLOR": "Black"}, [2]int{10, 10}},
		{"focal", "focal", map[string]any{"width": 100, "height": 50, "x": "10%", "y": 30}, [2]int{100, 50}},
		{"focal without point", "focal", map[string]any{"width": 100, "height": 50}, [2]int{100, 50}},
		{"smart", "smart", map[string]any{"width": 300, "height": 300}, [2]int{300, 300}},
		{"smart percent", "smart", map[string]any{"width": "50%", "height": "50%"}, [2]int{1280, 800}},
		{"blur", "blur", map[string]any{"sigma": "2.5"}, [2]int{2560, 1600}},
		{"unsharp", "unsharp", map[string]any{"sigma": 1, "amount": 0}, [2]int{2560, 1600}},
		{"unsharp default amount", "thumbnails.processors.unsharp", map[string]any{"sigma": 50}, [2]int{2560, 1600}},
		{"grayscale", "Grayscale", nil, [2]int{2560, 1600}},
		{"brightness", "brightness", map[string]any{"percent": -100}, [2]int{2560, 1600}},
		{"contrast", "contrast", map[string]any{"percent": "100"}, [2]int{2560, 1600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustNew(t, tt.proc, tt.params)
			if got := dims(f.Bounds(src)); got != tt.want {
				t.Errorf("Bounds = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewMoreErrors(t *testing.T) {
	tests := []struct {
		name    string
		proc    string
		params  map[string]any
		message string // a part of the ErrInvalidParameter's message
	}{
		{"upscale string", "resize", map[string]any{"width": 1, "upscale": "no"}, `parameter "upscale": want true or false, got a string`},
		{"upscale number", "resize", map[string]any{"width": 1, "upscale": 0}, "want true or false, got a number"},
		{"anchor and center", "crop", map[string]any{"width": 1, "anchor": "top", "center": []any{1, 1}}, "processors: crop: both center and anchor"},
		{"bad anchor", "crop", map[string]any{"width": 1, "anchor": "middle"}, `parameter "anchor": unknown anchor "middle"`},
		{"anchor not a string", "crop", map[string]any{"width": 1, "anchor": 1}, "want a string, got a number"},
		{"anchor without sizes", "crop", map[string]any{"anchor": "top"}, "neither width nor height"},
		{"pad without width", "pad", map[string]any{"height": 10}, `processors: pad: parameter "width": missing`},
		{"pad without height", "pad", map[string]any{"width": 10}, `parameter "height": missing`},
		{"pad zero", "pad", map[string]any{"width": 0, "height": 10}, `parameter "width": missing`},
		{"pad negative", "pad", map[string]any{"width": -1, "height": 10}, "negative size"},
		{"pad bad colour", "pad", map[string]any{"width": 1, "height": 1, "color": "red"}, `parameter "color": unknown colour "red"`},
		{"pad short hex", "pad", map[string]any{"width": 1, "height": 1, "color": "#fff"}, "unknown colour"},
		{"pad hex without hash", "pad", map[string]any{"width": 1, "height": 1, "color": "ffffff"}, "unknown colour"},
		{"pad bad hex", "pad", map[string]any{"width": 1, "height": 1, "color": "#gggggg"}, "unknown colour"},
		{"pad signed hex", "pad", map[string]any{"width": 1, "height": 1, "color": "#+fffff"}, "unknown colour"},
		{"pad colour number", "pad", map[string]any{"width": 1, "height": 1, "color": 0xffffff}, "want a string, got a number"},
		{"pad unknown key", "pad", map[string]any{"width": 1, "height": 1, "colour": "white"}, `unknown parameter "colour"`},
		{"focal without sizes", "focal", map[string]any{"x": 1, "y": 1}, `parameter "width": missing`},
		{"focal bad x", "focal", map[string]any{"width": 1, "height": 1, "x": "left"}, `parameter "x": malformed size`},
		{"focal negative y", "focal", map[string]any{"width": 1, "height": 1, "y": -3}, `parameter "y": negative size`},
		{"focal center key", "focal", map[string]any{"width": 1, "height": 1, "center": []any{1, 1}}, `unknown parameter "center"`},
		{"smart without height", "smart", map[string]any{"width": 10}, `processors: smart: parameter "height": missing`},
		{"smart NaN", "smart", map[string]any{"width": math.NaN(), "height": 1}, "not a finite number"},
		{"blur without sigma", "blur", nil, `processors: blur: parameter "sigma": missing`},
		{"blur zero", "blur", map[string]any{"sigma": 0}, "0 is not above 0 and at most 50 pixels"},
		{"blur negative", "blur", map[string]any{"sigma": -1}, "not above 0"},
		{"blur huge", "blur", map[string]any{"sigma": 1e9}, "not above 0"},
		{"blur infinite", "blur", map[string]any{"sigma": "inf"}, "not a finite number"},
		{"unsharp without sigma", "unsharp", map[string]any{"amount": 1}, `parameter "sigma": missing`},
		{"unsharp negative amount", "unsharp", map[string]any{"sigma": 1, "amount": -1}, `parameter "amount": -1 is not from 0 to 10`},
		{"unsharp huge amount", "unsharp", map[string]any{"sigma": 1, "amount": 11}, "not from 0 to 10"},
		{"unsharp amount string", "unsharp", map[string]any{"sigma": 1, "amount": "much"}, "malformed number"},
		{"grayscale parameter", "grayscale", map[string]any{"amount": 1}, `processors: grayscale: unknown parameter "amount"`},
		{"brightness without percent", "brightness", nil, `parameter "percent": missing`},
		{"brightness too high", "brightness", map[string]any{"percent": 101}, "101 is not from -100 to 100"},
		{"contrast too low", "contrast", map[string]any{"percent": -100.5}, "not from -100 to 100"},
		{"contrast percent sign", "contrast", map[string]any{"percent": "50%"}, "malformed number"},
		{"contrast boolean", "contrast", map[string]any{"percent": true}, "want a number, got a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := processors.New(tt.proc, tt.params)
			if !errors.Is(err, processors.ErrInvalidParameter) {
				t.Fatalf("New() = %v, %v; want an ErrInvalidParameter", f, err)
			}
			if f != nil {
				t.Errorf("New() returned a filter with the error %v", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

func TestResizeNoUpscale(t *testing.T) {
	px := processors.Px
	tests := []struct {
		name   string
		w, h   int
		width  processors.Length
		height processors.Length
		method processors.Method
		want   [2]int
	}{
		{"stretch inside", 40, 30, px(100), px(50), processors.Stretch, [2]int{40, 30}},
		{"stretch one larger", 200, 30, px(100), px(50), processors.Stretch, [2]int{100, 30}},
		{"stretch both larger", 200, 300, px(100), px(50), processors.Stretch, [2]int{100, 50}},
		{"fit inside", 40, 20, px(100), px(100), processors.Fit, [2]int{40, 20}},
		{"fit exact", 100, 50, px(100), px(100), processors.Fit, [2]int{100, 50}},
		{"fit one larger", 200, 20, px(100), px(100), processors.Fit, [2]int{100, 10}},
		{"fill inside", 40, 20, px(100), px(100), processors.Fill, [2]int{40, 20}},
		// What overhangs the box is cropped, centred, nothing enlarged (as
		// easy-thumbnails, libvips and imgproxy do).
		{"fill overhangs one way", 400, 20, px(100), px(100), processors.Fill, [2]int{100, 20}},
		{"fill overhangs the other way", 30, 250, px(100), px(100), processors.Fill, [2]int{30, 100}},
		{"fill equal one way", 400, 100, px(100), px(100), processors.Fill, [2]int{100, 100}},
		{"fill larger both ways", 400, 200, px(100), px(100), processors.Fill, [2]int{100, 100}},
		{"width only inside", 40, 20, px(100), processors.Length{}, processors.Fill, [2]int{40, 20}},
		{"height only larger", 40, 200, processors.Length{}, px(100), processors.Fit, [2]int{20, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := processors.ResizeNoUpscale(tt.width, tt.height, tt.method)
			src := quadrants(3, -7, tt.w, tt.h)
			if got := dims(f.Bounds(src.Bounds())); got != tt.want {
				t.Fatalf("Bounds = %v, want %v", got, tt.want)
			}
			dst := apply(src, f)
			if got := dims(dst.Bounds()); got != tt.want {
				t.Fatalf("drawn size = %v, want %v", got, tt.want)
			}
			if tt.want == [2]int{tt.w, tt.h} && dst.NRGBAAt(tt.w-1, tt.h-1) != white {
				t.Errorf("unchanged image's bottom-right pixel = %v, want white", dst.NRGBAAt(tt.w-1, tt.h-1))
			}
			if tt.method == processors.Fill && tt.want != [2]int{tt.w, tt.h} && (tt.want[0] == tt.w || tt.want[1] == tt.h) {
				// cropped, not resized
				want := apply(src, gift.CropToSize(tt.want[0], tt.want[1], gift.CenterAnchor))
				if !bytes.Equal(dst.Pix, want.Pix) {
					t.Error("not the centre crop of the image")
				}
			}
		})
	}
}

func TestCropAnchor(t *testing.T) {
	for _, tt := range []struct {
		anchor processors.Anchor
		name   string
		want   image.Point // top-left of the 10×10 window kept of the 40×30 source
	}{
		{processors.TopLeft, "top-left", image.Pt(0, 0)},
		{processors.Top, "top", image.Pt(15, 0)},
		{processors.TopRight, "top-right", image.Pt(30, 0)},
		{processors.Left, "left", image.Pt(0, 10)},
		{processors.Center, "center", image.Pt(15, 10)},
		{processors.Right, "right", image.Pt(30, 10)},
		{processors.BottomLeft, "bottom-left", image.Pt(0, 20)},
		{processors.Bottom, "bottom", image.Pt(15, 20)},
		{processors.BottomRight, "bottom-right", image.Pt(30, 20)},
		{processors.Anchor(42), "Anchor(42)", image.Pt(15, 10)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.anchor.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			src := noisyGradient(40, 30)
			dst := apply(src, processors.CropAnchor(processors.Px(10), processors.Px(10), tt.anchor))
			want := src.SubImage(image.Rectangle{Min: tt.want, Max: tt.want.Add(image.Pt(10, 10))}).(*image.NRGBA)
			for y := range 10 {
				for x := range 10 {
					if got, w := dst.NRGBAAt(x, y), want.NRGBAAt(tt.want.X+x, tt.want.Y+y); got != w {
						t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, got, w)
					}
				}
			}
		})
	}
	if a, err := processors.ParseAnchor(" Bottom-LEFT "); err != nil || a != processors.BottomLeft {
		t.Errorf("ParseAnchor = %v, %v", a, err)
	}
	if _, err := processors.ParseAnchor("north"); !errors.Is(err, processors.ErrInvalidParameter) {
		t.Errorf("ParseAnchor(north) error = %v", err)
	}
}

func TestParseColor(t *testing.T) {
	for in, want := range map[string]color.NRGBA{
		"white":       {255, 255, 255, 255},
		" BLACK ":     {0, 0, 0, 255},
		"transparent": {},
		"#336699":     {0x33, 0x66, 0x99, 255},
		"#33669980":   {0x33, 0x66, 0x99, 0x80},
		"#AbCdEf":     {0xab, 0xcd, 0xef, 255},
	} {
		if got, err := processors.ParseColor(in); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "#", "#12345", "#1234567", "#123456789", "rgb(1,2,3)", "#-12345"} {
		if _, err := processors.ParseColor(in); !errors.Is(err, processors.ErrInvalidParameter) {
			t.Errorf("ParseColor(%q) error = %v", in, err)
		}
	}
}

func TestPadDraw(t *testing.T) {
	bg := color.NRGBA{1, 2, 3, 255}
	dst := apply(quadrants(-5, 4, 40, 20), processors.Pad(processors.Px(40), processors.Px(40), bg))
	if got := dims(dst.Bounds()); got != [2]int{40, 40} {
		t.Fatalf("size = %v", got)
	}
	// 40×20 fits at full size, with bars of 10 above and below.
	for _, c := range []struct {
		x, y int
		want color.NRGBA
	}{{0, 0, bg}, {39, 9, bg}, {0, 10, red}, {39, 10, green}, {0, 29, blue}, {39, 29, white}, {20, 30, bg}, {39, 39, bg}} {
		if got := dst.NRGBAAt(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestFocalAndSmartStayInside(t *testing.T) {
	// Whatever the point, the window stays inside the image: a tall box
	// covers a half of the 400×300 source, a wide one a third of its height.
	src := quadrants(7, 3, 400, 300)
	for _, c := range []struct {
		w, h, x, y           processors.Length
		topLeft, bottomRight color.NRGBA
	}{
		{processors.Px(40), processors.Px(60), processors.Px(0), processors.Px(0), red, blue},
		{processors.Px(40), processors.Px(60), processors.Pct(100), processors.Px(0), green, white},
		{processors.Px(40), processors.Px(60), processors.Px(60000), processors.Px(60000), green, white},
		{processors.Px(80), processors.Px(20), processors.Px(0), processors.Pct(1000), blue, white},
		{processors.Px(80), processors.Px(20), processors.Pct(50), processors.Px(0), red, green},
	} {
		dst := apply(src, processors.Focal(c.w, c.h, c.x, c.y))
		if got, want := dims(dst.Bounds()), [2]int{int(c.w.Value), int(c.h.Value)}; got != want {
			t.Fatalf("size = %v, want %v", got, want)
		}
		b := dst.Bounds()
		if got := dst.NRGBAAt(0, 0); got != c.topLeft {
			t.Errorf("focal (%v, %v): top-left = %v, want %v", c.x, c.y, got, c.topLeft)
		}
		if got := dst.NRGBAAt(b.Max.X-1, b.Max.Y-1); got != c.bottomRight {
			t.Errorf("focal (%v, %v): bottom-right = %v, want %v", c.x, c.y, got, c.bottomRight)
		}
	}
	// A flat image is cropped in the middle, like Fill.
	flat := image.NewGray(image.Rect(0, 0, 300, 100))
	for i := range flat.Pix {
		flat.Pix[i] = uint8(i % 300 / 150 * 200) // left half black, right half light
	}
	got := apply(flat, processors.Smart(processors.Px(100), processors.Px(100)))
	if l, r := got.NRGBAAt(0, 50).R, got.NRGBAAt(99, 50).R; l != 0 || r != 200 {
		t.Errorf("smart crop of two flat halves: left %d, right %d, want the middle (0 and 200)", l, r)
	}
}
