package sizes_test

import (
	"fmt"
	"strings"

	"github.com/gorm-thumbnails/thumbnails/sizes"
)

func ExampleLoad() {
	const doc = `
small:
  processors:
    - {path: resize, width: 100, height: 100, method: fill}
    - {path: crop, width: 80, height: 80, center: ["50%", "50%"]}
  format: png
Large:
  processors:
    - {path: thumbnails.processors.resize, width: 1200, height: 1200, method: fit}
  format: JPG
  quality: 80
  lazy: true
original:
  fallback_image_url: /static/no-image.png
`
	s, err := sizes.Load(strings.NewReader(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range s.Names() {
		size, _ := s.Get(name)
		format := size.Format
		if format == "" {
			format = "(source format)"
		}
		fmt.Printf("%s: %s, %d processors, quality %d\n", name, format, len(size.Processors), size.JPEGQuality())
	}
	// Output:
	// large: jpeg, 1 processors, quality 80
	// original: (source format), 0 processors, quality 85
	// small: png, 2 processors, quality 85
}

func ExampleLoad_error() {
	_, err := sizes.Load(strings.NewReader(`small: {processors: [{path: resize, widht: 100}]}`))
	fmt.Println(err)
	// Output: sizes: size "small": processor 1 (resize): processors: resize: unknown parameter "widht": invalid parameter
}

func ExampleLoad_postProcessors() {
	const doc = `
large:
  processors:
    - {path: resize, width: 1200, height: 1200, method: fit}
  post_processors:
    - path: thumbnails.post_processors.optimize
      png_command: 'optipng -force -o7 "%(filename)s"'
      jpg_command: 'jpegoptim -f --strip-all "%(filename)s"'
      timeout: 1m
`
	s, err := sizes.Load(strings.NewReader(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	large, _ := s.Get("large")
	for _, p := range large.PostProcessors {
		// A plugin checks these with exec.LookPath when it starts.
		fmt.Println(p.Commands())
	}

	_, err = sizes.Load(strings.NewReader(`large: {post_processors: [{path: optimize, png_command: "optipng -o7"}]}`))
	fmt.Println(err)
	// Output:
	// [jpegoptim optipng]
	// sizes: size "large": post-processor 1 (optimize): processors: optimize: parameter "png_command": it has no %(filename)s, so it could not work on the file: invalid parameter
}
