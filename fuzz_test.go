package thumbnails

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// fuzzLimits keep each fuzzed decode small, so the fuzzer explores inputs
// rather than waits on big images.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxFrames: 100, Formats: DefaultLimits.Formats}

// FuzzDecode feeds arbitrary bytes to the upload decoding path: it must
// return an image or a typed error, never panic or allocate past the limits.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/exif/Landscape_6.jpg"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:8192])
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x00\x00\x00\x00"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := decode(data, fuzzLimits, nil)
		if err != nil {
			if !isTyped(err) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		b := src.img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || int64(b.Dx())*int64(b.Dy()) > fuzzLimits.MaxPixels {
			t.Fatalf("decoded %v", b)
		}
	})
}

func isTyped(err error) bool {
	return errors.Is(err, ErrInvalidImage) || errors.Is(err, ErrImageTooLarge)
}

// FuzzParseTag feeds arbitrary struct tags to the tag parser: an error or a
// tag whose dir is a safe storage name, never a panic.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"sizes:small,large;dir:foods", "", "dir:../x", "sizes:;", "SIZES: a , b ;DIR:/a/b/", "x:y", "dir:a\\b", ";;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := parseTag(s)
		if err != nil {
			return
		}
		if tg.dir != "" {
			if clean, err := backends.CleanName(tg.dir); err != nil || clean != tg.dir || strings.HasPrefix(tg.dir, "/") {
				t.Fatalf("unsafe dir %q from %q", tg.dir, s)
			}
		}
		for _, n := range tg.sizes {
			if n == "" || strings.TrimSpace(n) != n {
				t.Fatalf("bad size name %q from %q", n, s)
			}
		}
	})
}
