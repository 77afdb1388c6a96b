package sizes_test

import (
	"errors"
	"image"
	"strings"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"small:\n  processors:\n    - {path: resize, width: 100, height: 100, method: fill}\n    - {path: crop, width: 80, height: 80, center: [\"50%\", \"50%\"]}\n  format: png\n",
		"large: {processors: [{path: thumbnails.processors.resize, width: 1200, height: 1200, method: fit}, {path: flip, direction: horizontal}], quality: 80, lazy: true, fallback_image_url: /x.png}",
		`{"a": {"processors": [{"path": "rotate", "degrees": 45}], "format": "jpg"}}`,
		`{"a": {"processors": [{"path": "crop", "width": "10%", "center": [0, "100%"]}]}}`,
		"large:\n  processors:\n    - {path: resize, width: 1200, height: 1200, method: fit}\n  post_processors:\n    - path: thumbnails.post_processors.optimize\n      png_command: 'optipng -force -o7 \"%(filename)s\"'\n      jpg_command: 'jpegoptim -f --strip-all \"%(filename)s\"'\n",
		`{"a": {"post_processors": [{"path": "optimize", "GIF_command": "gifsicle -b '%(filename)s'", "timeout": "1m"}, {"path": "optimize", "jpeg_command": "x\\ y %(filename)s", "timeout": 0.5}]}}`,
		"a: {post_processors: [{path: optimize, png_command: 'a \"%(filename)s', timeout: -1}]}",
		"base: &b {format: png}\nthumb:\n  <<: *b\n  quality: 70\n",
		"a: &a [*a]",
		"Small: {}\nsmall: {}\n",
		"small: {quality: .nan}",
		"",
		"---\n---\n",
		"[1, 2]",
		"? [a]\n: b\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		s, err := sizes.Load(strings.NewReader(doc))
		if err != nil {
			if !errors.Is(err, sizes.ErrInvalidSize) {
				t.Fatalf("error %v does not wrap ErrInvalidSize", err)
			}
			return
		}
		if len(s) == 0 {
			t.Fatal("no error and no sizes")
		}
		src := image.NewNRGBA(image.Rect(0, 0, 7, 5))
		for _, name := range s.Names() {
			size, ok := s.Get(name)
			if !ok || size.Name != name {
				t.Fatalf("Get(%q) = %+v, %v", name, size, ok)
			}
			// Post-processors are only built, never run: their programs could be anything.
			for i, p := range size.PostProcessors {
				if p == nil || len(p.Commands()) == 0 {
					t.Fatalf("size %q: post-processor %d is %v", name, i+1, p)
				}
			}
			// Drawing allocates the output and temporary images: draw only small ones.
			g := gift.New(size.Processors...)
			if b := g.Bounds(src.Bounds()); b.Dx() <= 256 && b.Dy() <= 256 {
				g.Draw(image.NewNRGBA(b), src)
			}
		}
	})
}
