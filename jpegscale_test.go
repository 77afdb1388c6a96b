package thumbnails

import (
	"image"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/sizes"
)

func TestJPEGScale(t *testing.T) {
	set, err := sizes.Load(strings.NewReader(cascadeSizes + `
tiny:  {processors: [{path: resize, width: 100, height: 100, method: fill}, {path: blur, sigma: 1}]}
exact: {processors: [{path: resize, width: 1279}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	pick := func(names ...string) []sizes.Size {
		var out []sizes.Size
		for _, n := range names {
			out = append(out, set[n])
		}
		return out
	}
	photo := image.Rect(0, 0, 2560, 1600)
	for _, tc := range []struct {
		name  string
		b     image.Rectangle
		sizes []sizes.Size
		want  int
	}{
		{"no list: the whole image", photo, nil, 1},
		{"no sizes: only checked, at the smallest scale", photo, []sizes.Size{}, 8},
		{"large: its box shrink of 2", photo, pick("large"), 2},
		{"small alone: 8, the most a JPEG allows", photo, pick("small"), 8},
		{"small then a filter: the resize decides", photo, pick("tiny"), 8},
		{"the smallest of the sizes' reductions", photo, pick("small", "medium", "large"), 2},
		{"medium: 2560/400 = 6, half of it, down to a power of two", photo, pick("medium"), 2},
		{"a crop first needs every pixel", photo, pick("small", "strip"), 1},
		{"a percentage would change the result", photo, pick("half"), 1},
		{"a width that keeps the reduced height", photo, pick("exact"), 2},
		{"a small image", image.Rect(0, 0, 300, 200), pick("small"), 2},
		{"too small to reduce", image.Rect(0, 0, 150, 100), pick("small"), 1},
		{"an odd size rounds up", image.Rect(0, 0, 2561, 1601), pick("small"), 8},
		{"a portrait photo", image.Rect(0, 0, 1600, 2560), pick("large"), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jpegScale(tc.b, tc.sizes); got != tc.want {
				t.Errorf("jpegScale(%v) = %d, want %d", tc.b.Size(), got, tc.want)
			}
		})
	}
}
