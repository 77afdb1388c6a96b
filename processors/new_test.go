package processors_test

import (
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func TestNames(t *testing.T) {
	want := []string{"blur", "brightness", "contrast", "crop", "flip", "focal", "grayscale", "pad", "resize", "rotate", "sharpen", "smart", "unsharp", "watermark"}
	if got := processors.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestNew(t *testing.T) {
	src := image.Rect(0, 0, 2560, 1600)
	tests := []struct {
		name   string
		proc   string
		params map[string]any
		want   [2]int // output size for a 2560×1600 source
	}{
		{"resize ints", "resize", map[string]any{"width": 100, "height": 100}, [2]int{100, 100}},
		{"resize dotted name", "thumbnails.processors.resize", map[string]any{"width": 100, "height": 50}, [2]int{100, 50}},
		{"name case", "  Resize ", map[string]any{"width": 100, "height": 50}, [2]int{100, 50}},
		{"dotted name case", "Thumbnails.Processors.RESIZE", map[string]any{"width": 10, "height": 5}, [2]int{10, 5}},
		{"resize fit", "resize", map[string]any{"width": 1200, "height": 1200, "method": "fit"}, [2]int{1200, 750}},
		{"resize fill", "resize", map[string]any{"width": 100, "height": 100, "method": "FILL"}, [2]int{100, 100}},
		{"resize stretch", "resize", map[string]any{"width": 100, "height": 100, "method": "stretch"}, [2]int{100, 100}},
		{"resize null method", "resize", map[string]any{"width": 100, "height": 100, "method": nil}, [2]int{100, 100}},
		{"resize floats", "resize", map[string]any{"width": 99.6, "height": float32(50)}, [2]int{100, 50}},
		{"resize strings", "resize", map[string]any{"width": "100", "height": " 50 "}, [2]int{100, 50}},
		{"resize percent", "resize", map[string]any{"width": "50%", "height": "25 %"}, [2]int{1280, 400}},
		{"resize fractional percent", "resize", map[string]any{"width": "12.5%"}, [2]int{320, 200}},
		{"resize width only", "resize", map[string]any{"width": 640}, [2]int{640, 400}},
		{"resize height only fit", "resize", map[string]any{"height": 400, "method": "fit"}, [2]int{640, 400}},
		{"resize null height", "resize", map[string]any{"width": 640, "height": nil}, [2]int{640, 400}},
		{"resize zero height", "resize", map[string]any{"width": 640, "height": 0}, [2]int{640, 400}},
		{"resize unsigned and json", "resize", map[string]any{"width": uint8(64), "height": json.Number("40")}, [2]int{64, 40}},
		{"key case", "resize", map[string]any{"WIDTH": 64, "Height": 40, "Method": "fit"}, [2]int{64, 40}},
		{"crop", "crop", map[string]any{"width": 80, "height": 80}, [2]int{80, 80}},
		{"crop center percent", "crop", map[string]any{"width": 80, "height": 80, "center": []any{"50%", "50%"}}, [2]int{80, 80}},
		{"crop center pixels", "crop", map[string]any{"width": 80, "height": 80, "center": []any{10, 20.5}}, [2]int{80, 80}},
		{"crop center typed list", "crop", map[string]any{"width": 80, "height": 80, "center": [2]int{10, 20}}, [2]int{80, 80}},
		{"crop width only", "crop", map[string]any{"width": "10%"}, [2]int{256, 1600}},
		{"crop larger", "crop", map[string]any{"width": 5000, "height": 100}, [2]int{2560, 100}},
		{"rotate", "rotate", map[string]any{"degrees": 90}, [2]int{1600, 2560}},
		{"rotate negative string", "rotate", map[string]any{"degrees": "-90"}, [2]int{1600, 2560}},
		{"rotate float", "rotate", map[string]any{"degrees": 180.0}, [2]int{2560, 1600}},
		{"flip", "flip", map[string]any{"direction": "horizontal"}, [2]int{2560, 1600}},
		{"flip vertical", "thumbnails.processors.flip", map[string]any{"Direction": "Vertical"}, [2]int{2560, 1600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := processors.New(tt.proc, tt.params)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := dims(f.Bounds(src)); got != tt.want {
				t.Errorf("Bounds = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewCropCenter(t *testing.T) {
	tests := []struct {
		center any
		want   *color.NRGBA
	}{
		{[]any{0, 0}, &red},
		{[]any{"100%", 0}, &green},
		{[]any{"0%", "100%"}, &blue},
		{[]any{100, 100}, &white},
		{nil, nil}, // the middle: all four colours
	}
	for _, tt := range tests {
		f, err := processors.New("crop", map[string]any{"width": 4, "height": 4, "center": tt.center})
		if err != nil {
			t.Fatalf("center %v: %v", tt.center, err)
		}
		dst := apply(quadrants(0, 0, 20, 20), f)
		if tt.want != nil {
			assertSolid(t, dst, *tt.want)
		} else if got := dst.NRGBAAt(0, 0); got != red {
			t.Errorf("centre crop top-left = %v, want red", got)
		} else if got := dst.NRGBAAt(3, 3); got != white {
			t.Errorf("centre crop bottom-right = %v, want white", got)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		proc    string
		params  map[string]any
		want    error
		message string // a part of the error message
	}{
		{"unknown processor", "emboss", nil, processors.ErrUnknownProcessor, `processors: "emboss": unknown processor`},
		{"other dotted path", "myapp.processors.resize", map[string]any{"width": 1}, processors.ErrUnknownProcessor, "unknown processor"},
		{"empty name", "", nil, processors.ErrUnknownProcessor, "unknown processor"},
		{"unknown parameter", "resize", map[string]any{"widht": 100}, processors.ErrInvalidParameter, `processors: resize: unknown parameter "widht": invalid parameter`},
		{"parameter of another processor", "rotate", map[string]any{"degrees": 90, "direction": "horizontal"}, processors.ErrInvalidParameter, `unknown parameter "direction"`},
		{"duplicate parameter", "resize", map[string]any{"width": 1, "Width": 2}, processors.ErrInvalidParameter, "duplicate parameter"},
		{"resize without sizes", "resize", nil, processors.ErrInvalidParameter, "processors: resize: neither width nor height"},
		{"resize with zero sizes", "resize", map[string]any{"width": 0, "height": "0%"}, processors.ErrInvalidParameter, "neither width nor height"},
		{"resize method only", "resize", map[string]any{"method": "fit"}, processors.ErrInvalidParameter, "neither width nor height"},
		{"negative width", "resize", map[string]any{"width": -5}, processors.ErrInvalidParameter, `processors: resize: parameter "width": negative size -5`},
		{"negative percent", "resize", map[string]any{"height": "-5%"}, processors.ErrInvalidParameter, "negative size"},
		{"width too large", "resize", map[string]any{"width": 70000}, processors.ErrInvalidParameter, "more than 65535"},
		{"NaN width", "resize", map[string]any{"width": math.NaN()}, processors.ErrInvalidParameter, "not a finite number"},
		{"infinite height", "resize", map[string]any{"height": math.Inf(1)}, processors.ErrInvalidParameter, "not a finite number"},
		{"NaN string", "resize", map[string]any{"width": "NaN"}, processors.ErrInvalidParameter, "not a finite number"},
		{"infinite percent", "resize", map[string]any{"width": "inf%"}, processors.ErrInvalidParameter, "not a finite number"},
		{"malformed percent", "resize", map[string]any{"width": "50%%"}, processors.ErrInvalidParameter, "malformed size"},
		{"bare percent sign", "resize", map[string]any{"width": "%"}, processors.ErrInvalidParameter, "malformed size"},
		{"words", "resize", map[string]any{"width": "wide"}, processors.ErrInvalidParameter, "malformed size"},
		{"empty string", "resize", map[string]any{"width": ""}, processors.ErrInvalidParameter, "malformed size"},
		{"pixel suffix", "resize", map[string]any{"width": "100px"}, processors.ErrInvalidParameter, "malformed size"},
		{"boolean width", "resize", map[string]any{"width": true}, processors.ErrInvalidParameter, "got a boolean"},
		{"list width", "resize", map[string]any{"width": []any{1}}, processors.ErrInvalidParameter, "got a list"},
		{"bad method", "resize", map[string]any{"width": 1, "method": "crop"}, processors.ErrInvalidParameter, `parameter "method": unknown method "crop"`},
		{"method not a string", "resize", map[string]any{"width": 1, "method": 2}, processors.ErrInvalidParameter, "want a string"},
		{"crop without sizes", "crop", map[string]any{"center": []any{1, 2}}, processors.ErrInvalidParameter, "processors: crop: neither width nor height"},
		{"center not a list", "crop", map[string]any{"width": 1, "center": "50%"}, processors.ErrInvalidParameter, `parameter "center": want a list of two values`},
		{"center of three", "crop", map[string]any{"width": 1, "center": []any{1, 2, 3}}, processors.ErrInvalidParameter, "want a list of two values"},
		{"center of one", "crop", map[string]any{"width": 1, "center": []any{1}}, processors.ErrInvalidParameter, "want a list of two values"},
		{"center null element", "crop", map[string]any{"width": 1, "center": []any{1, nil}}, processors.ErrInvalidParameter, "element 2: missing"},
		{"center bad element", "crop", map[string]any{"width": 1, "center": []any{"x", 1}}, processors.ErrInvalidParameter, "element 1: malformed size"},
		{"center negative", "crop", map[string]any{"width": 1, "center": []any{-1, 1}}, processors.ErrInvalidParameter, "negative size"},
		{"center mapping", "crop", map[string]any{"width": 1, "center": map[string]any{"x": 1, "y": 2}}, processors.ErrInvalidParameter, "got a mapping"},
		{"rotate without degrees", "rotate", nil, processors.ErrInvalidParameter, `processors: rotate: parameter "degrees": missing`},
		{"rotate null degrees", "rotate", map[string]any{"degrees": nil}, processors.ErrInvalidParameter, "missing"},
		{"rotate NaN", "rotate", map[string]any{"degrees": math.NaN()}, processors.ErrInvalidParameter, "not a finite number"},
		{"rotate infinity string", "rotate", map[string]any{"degrees": "-Inf"}, processors.ErrInvalidParameter, "not a finite number"},
		{"rotate percent", "rotate", map[string]any{"degrees": "90%"}, processors.ErrInvalidParameter, "malformed number"},
		{"rotate boolean", "rotate", map[string]any{"degrees": false}, processors.ErrInvalidParameter, "want a number, got a boolean"},
		{"flip without direction", "flip", nil, processors.ErrInvalidParameter, `processors: flip: parameter "direction": missing`},
		{"bad direction", "flip", map[string]any{"direction": "diagonal"}, processors.ErrInvalidParameter, `unknown direction "diagonal"`},
		{"direction not a string", "flip", map[string]any{"direction": 1}, processors.ErrInvalidParameter, "want a string, got a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := processors.New(tt.proc, tt.params)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New() = %v, %v; want an error wrapping %v", f, err, tt.want)
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
