package processors_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/processors"
)

func TestCropAt(t *testing.T) {
	px, pct := processors.Px, processors.Pct
	tests := []struct {
		name       string
		width      processors.Length
		height     processors.Length
		cx, cy     processors.Length
		want       image.Rectangle // window of the 100×80 source that is kept
		wantColour *color.NRGBA    // when the window lies in one quadrant
	}{
		{"centred", px(20), px(10), pct(50), pct(50), image.Rect(40, 35, 60, 45), nil},
		{"top-left corner", px(20), px(20), px(0), px(0), image.Rect(0, 0, 20, 20), &red},
		{"top-right corner", px(20), px(20), pct(100), pct(0), image.Rect(80, 0, 100, 20), &green},
		{"bottom-left corner", px(20), px(20), px(0), px(80), image.Rect(0, 60, 20, 80), &blue},
		{"bottom-right corner", px(20), px(20), pct(100), pct(100), image.Rect(80, 60, 100, 80), &white},
		{"far outside", px(20), px(20), px(5000), px(5000), image.Rect(80, 60, 100, 80), &white},
		{"inside top-left quadrant", px(10), px(10), px(20), px(20), image.Rect(15, 15, 25, 25), &red},
		{"percent size", pct(50), pct(50), pct(50), pct(50), image.Rect(25, 20, 75, 60), nil},
		{"percent centre", px(10), px(10), pct(75), pct(25), image.Rect(70, 15, 80, 25), &green},
		{"larger than image", px(500), px(500), px(0), px(0), image.Rect(0, 0, 100, 80), nil},
		{"wider than image", px(500), px(10), pct(50), pct(90), image.Rect(0, 67, 100, 77), nil},
		{"zero width keeps width", processors.Length{}, px(10), pct(50), px(0), image.Rect(0, 0, 100, 10), nil},
		{"zero height keeps height", px(10), processors.Length{}, px(100), pct(50), image.Rect(90, 0, 100, 80), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each source has a different origin; the window is relative to it.
			for _, origin := range []image.Point{{0, 0}, {-30, 17}} {
				src := quadrants(origin.X, origin.Y, 100, 80)
				dst := apply(src, processors.CropAt(tt.width, tt.height, tt.cx, tt.cy))
				want := src.SubImage(tt.want.Add(origin)).(*image.NRGBA)
				if got := dims(dst.Bounds()); got != dims(tt.want) {
					t.Fatalf("origin %v: size = %v, want %v", origin, got, dims(tt.want))
				}
				for y := range tt.want.Dy() {
					for x := range tt.want.Dx() {
						wx, wy := want.Rect.Min.X+x, want.Rect.Min.Y+y
						if got, w := dst.NRGBAAt(x, y), want.NRGBAAt(wx, wy); got != w {
							t.Fatalf("origin %v: pixel (%d, %d) = %v, want %v from (%d, %d)", origin, x, y, got, w, wx, wy)
						}
					}
				}
				if tt.wantColour != nil {
					assertSolid(t, dst, *tt.wantColour)
				}
			}
		})
	}
}

func TestCropNeverOutside(t *testing.T) {
	// Whatever the window and centre, the result is inside the image: its
	// size is the window clamped to the image and no pixel is left transparent.
	for _, size := range []int{1, 3, 7, 10, 11, 50} {
		for _, c := range []float64{-20, 0, 1, 5, 9, 10, 33} {
			f := processors.CropAt(processors.Px(size), processors.Px(size), processors.Length{Value: c}, processors.Length{Value: c})
			dst := apply(quadrants(3, 4, 10, 10), f)
			want := min(size, 10)
			if got := dims(dst.Bounds()); got != [2]int{want, want} {
				t.Fatalf("size %d centre %v: got %v, want %dx%d", size, c, got, want, want)
			}
			for y := range want {
				for x := range want {
					if dst.NRGBAAt(x, y).A != 255 {
						t.Fatalf("size %d centre %v: pixel (%d, %d) is outside the image", size, c, x, y)
					}
				}
			}
		}
	}
}

func TestCropCentred(t *testing.T) {
	tests := []struct {
		name string
		w, h processors.Length
		want [2]int
	}{
		{"pixels", processors.Px(80), processors.Px(80), [2]int{80, 80}},
		{"percent", processors.Pct(50), processors.Pct(10), [2]int{1280, 160}},
		{"too large", processors.Px(4000), processors.Px(80), [2]int{2560, 80}},
		{"both zero", processors.Length{}, processors.Length{}, [2]int{2560, 1600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := processors.Crop(tt.w, tt.h)
			if got := dims(f.Bounds(image.Rect(0, 0, 2560, 1600))); got != tt.want {
				t.Errorf("Bounds = %v, want %v", got, tt.want)
			}
		})
	}
	// Crop is CropAt the middle: the 2×2 middle of the quadrants meets all four colours.
	dst := apply(quadrants(0, 0, 10, 10), processors.Crop(processors.Px(2), processors.Px(2)))
	for _, p := range []struct {
		x, y int
		c    color.NRGBA
	}{{0, 0, red}, {1, 0, green}, {0, 1, blue}, {1, 1, white}} {
		if got := dst.NRGBAAt(p.x, p.y); got != p.c {
			t.Errorf("pixel (%d, %d) = %v, want %v", p.x, p.y, got, p.c)
		}
	}
}
