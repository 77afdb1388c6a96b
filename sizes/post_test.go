package sizes_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// djangoSizes is a size with post-processors as django-thumbnails' documentation writes it.
const djangoSizes = `
large:
  processors:
    - {path: resize, width: 1200, height: 1200, method: fit}
  post_processors:
    - path: thumbnails.post_processors.optimize
      png_command: 'optipng -force -o7 "%(filename)s"'
      jpg_command: 'jpegoptim -f --strip-all "%(filename)s"'
`

func TestLoadPostProcessors(t *testing.T) {
	s, err := sizes.Load(strings.NewReader(djangoSizes))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	large, ok := s.Get("large")
	if !ok || len(large.Processors) != 1 || len(large.PostProcessors) != 1 {
		t.Fatalf("Get(large) = %+v, %v; want one processor and one post-processor", large, ok)
	}
	got := large.PostProcessors[0].Commands()
	slices.Sort(got)
	if want := []string{"jpegoptim", "optipng"}; !slices.Equal(got, want) {
		t.Errorf("Commands() = %q, want %q", got, want)
	}

	// The documentation's gif_command, '...', is a placeholder for the reader
	// but not for the post-processor: it could not work on the file.
	_, err = sizes.Load(strings.NewReader(djangoSizes + "      gif_command: '...'\n"))
	if !errors.Is(err, processors.ErrInvalidParameter) || !strings.Contains(err.Error(),
		`sizes: size "large": post-processor 1 (thumbnails.post_processors.optimize): processors: optimize: parameter "gif_command": it has no %(filename)s`) {
		t.Errorf("Load with gif_command '...': %v", err)
	}
}

func TestLoadPostProcessorsRun(t *testing.T) {
	// The loaded size makes and optimises a thumbnail, as the plugin will.
	for _, program := range []string{"optipng", "jpegoptim"} {
		if _, err := exec.LookPath(program); err != nil {
			t.Skip(err)
		}
	}
	s, err := sizes.Load(strings.NewReader(djangoSizes))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	large, _ := s.Get("large")
	src := image.NewNRGBA(image.Rect(0, 0, 2400, 300))
	for y := range 300 {
		for x := range 2400 {
			src.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	g := gift.New(large.Processors...)
	thumb := image.NewNRGBA(g.Bounds(src.Bounds()))
	g.Draw(thumb, src)

	var pngData, jpegData bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&pngData, thumb); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegData, thumb, &jpeg.Options{Quality: large.JPEGQuality()}); err != nil {
		t.Fatal(err)
	}
	for format, data := range map[string][]byte{"png": pngData.Bytes(), "jpeg": jpegData.Bytes()} {
		out := data
		for _, p := range large.PostProcessors {
			if out, err = p.Process(context.Background(), format, out); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
		c, gotFormat, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || gotFormat != format || c.Width != 1200 || c.Height != 150 {
			t.Errorf("%s: output is a %dx%d %s (%v), want a 1200x150 %s", format, c.Width, c.Height, gotFormat, err, format)
		}
		if len(out) >= len(data) {
			t.Errorf("%s: %d bytes optimised to %d", format, len(data), len(out))
		}
	}
}
