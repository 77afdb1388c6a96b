package processors_test

import (
	"errors"
	"image"
	"image/color"
	"testing"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func uniform(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	return img
}

func TestWatermark(t *testing.T) {
	gray := color.NRGBA{128, 128, 128, 255}
	red := color.NRGBA{255, 0, 0, 255}
	src := uniform(64, 48, gray)
	mark := uniform(8, 4, red)
	at := func(img image.Image, x, y int) color.NRGBA {
		return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	}
	run := func(f gift.Filter) *image.NRGBA {
		g := gift.New(f)
		dst := image.NewNRGBA(g.Bounds(src.Bounds()))
		g.Draw(dst, src)
		return dst
	}
	// opaque, bottom-right, 2 px in
	out := run(processors.Watermark(mark, processors.BottomRight, 1, 2, processors.Length{}))
	if out.Bounds() != src.Bounds() || at(out, 61, 45) != red || at(out, 54, 42) != red || at(out, 53, 45) != gray || at(out, 62, 46) != gray || at(out, 0, 0) != gray {
		t.Fatalf("bottom-right: %v %v %v %v", at(out, 61, 45), at(out, 54, 42), at(out, 53, 45), at(out, 62, 46))
	}
	// top-left at half opacity: a blend
	out = run(processors.Watermark(mark, processors.TopLeft, 0.5, 0, processors.Length{}))
	if c := at(out, 1, 1); c.R < 180 || c.R > 200 || c.G < 55 || c.G > 75 {
		t.Fatalf("half opacity: %v", c)
	}
	// scaled to half the image's width, whatever the mark's size
	out = run(processors.Watermark(mark, processors.Center, 1, 0, processors.Pct(50)))
	if at(out, 16, 24) != red || at(out, 47, 24) != red || at(out, 15, 24) != gray || at(out, 48, 24) != gray {
		t.Fatalf("scaled mark: %v %v %v %v", at(out, 16, 24), at(out, 47, 24), at(out, 15, 24), at(out, 48, 24))
	}
	// a mark larger than the image is clipped, not a panic
	_ = run(processors.Watermark(uniform(200, 200, red), processors.Center, 1, 0, processors.Length{}))

	// from YAML: the image is set later, by the plugin
	f, err := processors.New("watermark", map[string]any{"image": "marks/logo.png", "anchor": "top-right", "opacity": 0.8, "margin": 4, "width": "25%"})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := f.(processors.NeedsImage)
	if !ok || n.ImageName() != "marks/logo.png" {
		t.Fatalf("watermark from New: %T", f)
	}
	if out := run(f); at(out, 60, 5) != gray { // no image yet: unchanged
		t.Fatal("a watermark without its image drew something")
	}
	n.SetImage(mark)
	if out := run(f); at(out, 58, 5) == gray {
		t.Fatal("a watermark given its image drew nothing")
	}
	for name, params := range map[string]map[string]any{
		"no image":    {},
		"bad anchor":  {"image": "a.png", "anchor": "middle"},
		"opacity > 1": {"image": "a.png", "opacity": 2},
		"bad margin":  {"image": "a.png", "margin": -1},
		"unknown":     {"image": "a.png", "alpha": 1},
	} {
		if _, err := processors.New("watermark", params); !errors.Is(err, processors.ErrInvalidParameter) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWatermarkLargerThanImage: a mark wider and taller than the image
// (a wordmark on a small thumbnail) is anchored as one that fits, and
// clipped: bottom-right shows its bottom-right end, center its middle.
func TestWatermarkLargerThanImage(t *testing.T) {
	gray := color.NRGBA{128, 128, 128, 255}
	red := color.NRGBA{255, 0, 0, 255}
	blue := color.NRGBA{0, 0, 255, 255}
	green := color.NRGBA{0, 255, 0, 255}
	// 300x140: left half red, right half blue, but its bottom 20 rows green
	mark := uniform(300, 140, red)
	for y := 0; y < 140; y++ {
		for x := 0; x < 300; x++ {
			switch {
			case y >= 120:
				mark.Set(x, y, green)
			case x >= 150:
				mark.Set(x, y, blue)
			}
		}
	}
	src := uniform(100, 100, gray)
	at := func(img image.Image, x, y int) color.NRGBA {
		return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	}
	for _, tc := range []struct {
		name   string
		anchor processors.Anchor
		margin int
		want   map[image.Point]color.NRGBA
	}{
		{"top-left", processors.TopLeft, 0, map[image.Point]color.NRGBA{{0, 0}: red, {99, 99}: red}},
		{"bottom-right", processors.BottomRight, 0, map[image.Point]color.NRGBA{{99, 99}: green, {99, 79}: blue, {0, 79}: blue}},
		{"bottom-right, margin", processors.BottomRight, 5, map[image.Point]color.NRGBA{{96, 96}: gray, {94, 94}: green, {94, 74}: blue}},
		{"top-right", processors.TopRight, 0, map[image.Point]color.NRGBA{{99, 0}: blue, {0, 99}: blue}},
		{"center", processors.Center, 0, map[image.Point]color.NRGBA{{49, 10}: red, {50, 10}: blue, {50, 99}: blue}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := gift.New(processors.Watermark(mark, tc.anchor, 1, tc.margin, processors.Length{}))
			out := image.NewNRGBA(g.Bounds(src.Bounds()))
			g.Draw(out, src)
			for p, want := range tc.want {
				if got := at(out, p.X, p.Y); got != want {
					t.Errorf("pixel %v: %v, want %v", p, got, want)
				}
			}
		})
	}
}
