package processors_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

// Colours of the quadrants of the images made by quadrants.
var (
	red   = color.NRGBA{R: 255, A: 255}
	green = color.NRGBA{G: 255, A: 255}
	blue  = color.NRGBA{B: 255, A: 255}
	white = color.NRGBA{R: 255, G: 255, B: 255, A: 255}
)

// quadrants returns a w×h image, with its origin at (ox, oy), whose top-left
// quarter is red, top-right green, bottom-left blue and bottom-right white.
func quadrants(ox, oy, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(ox, oy, ox+w, oy+h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y >= h/2:
				c = white
			case x >= w/2:
				c = green
			case y >= h/2:
				c = blue
			}
			img.SetNRGBA(ox+x, oy+y, c)
		}
	}
	return img
}

// apply runs filters over src and returns the result.
func apply(src image.Image, filters ...gift.Filter) *image.NRGBA {
	g := gift.New(filters...)
	dst := image.NewNRGBA(g.Bounds(src.Bounds()))
	g.Draw(dst, src)
	return dst
}

// dims returns the width and height of r.
func dims(r image.Rectangle) [2]int { return [2]int{r.Dx(), r.Dy()} }

// assertSolid fails t unless every pixel of img is c.
func assertSolid(t *testing.T, img *image.NRGBA, c color.NRGBA) {
	t.Helper()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if got := img.NRGBAAt(x, y); got != c {
				t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, got, c)
			}
		}
	}
}

// The commands of django-thumbnails' documentation.
const (
	pngCommand = `optipng -force -o7 "%(filename)s"`
	jpgCommand = `jpegoptim -f --strip-all "%(filename)s"`
)

// noisyGradient returns a w×h gradient with noise, which optimizers can
// compress better than the encoders of the standard library do.
func noisyGradient(w, h int) *image.NRGBA {
	r := rand.New(rand.NewPCG(1, 2))
	noisy := func(v int) uint8 { return uint8(max(0, min(255, v+r.IntN(33)-16))) }
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{noisy(x * 255 / w), noisy(y * 255 / h), noisy((x + y) * 255 / (w + h)), 255})
		}
	}
	return img
}

// encodePNG returns img as an uncompressed PNG, which optipng surely shrinks.
func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, img); err != nil {
		panic(err) // writing to a bytes.Buffer does not fail
	}
	return b.Bytes()
}

// encodeJPEG returns img as a JPEG of quality 95, without optimised Huffman tables.
func encodeJPEG(img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Test images, made once: 400×300 ones, and a 10×10 PNG.
var (
	testPNG  = sync.OnceValue(func() []byte { return encodePNG(noisyGradient(400, 300)) })
	testJPEG = sync.OnceValue(func() []byte { return encodeJPEG(noisyGradient(400, 300)) })
	smallPNG = sync.OnceValue(func() []byte { return encodePNG(noisyGradient(10, 10)) })
)

// tempDir points os.TempDir at a new directory, whose name holds spaces and
// shell syntax, and returns it. The tests check that post-processors leave
// nothing in it.
func tempDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), `tmp dir;'"$x&`)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", dir)
	return dir
}

// assertEmpty fails t unless dir holds no files.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left behind in the temporary directory", e.Name())
	}
}

// needs skips t unless the programs are installed.
func needs(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Skip(err)
		}
	}
}

// optimize returns Optimize(commands, timeout), failing t on an error.
func optimize(t testing.TB, commands map[string]string, timeout time.Duration) processors.PostProcessor {
	t.Helper()
	p, err := processors.Optimize(commands, timeout)
	if err != nil {
		t.Fatalf("Optimize(%q): %v", commands, err)
	}
	return p
}

// config returns the size and format of the image in data.
func config(t *testing.T, data []byte) (image.Config, string) {
	t.Helper()
	c, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return c, format
}
