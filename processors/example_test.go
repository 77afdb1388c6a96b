package processors_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"time"

	"github.com/disintegration/gift"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

func ExampleResize() {
	src := image.NewNRGBA(image.Rect(0, 0, 2560, 1600))

	g := gift.New(
		processors.Resize(processors.Px(1200), processors.Px(1200), processors.Fit),
		processors.Crop(processors.Pct(50), processors.Px(300)),
	)
	dst := image.NewNRGBA(g.Bounds(src.Bounds()))
	g.Draw(dst, src)

	fmt.Println(dst.Bounds())
	// Output: (0,0)-(600,300)
}

func ExampleNew() {
	f, err := processors.New("thumbnails.processors.resize", map[string]any{
		"width":  100,
		"height": "50%",
		"method": "fill",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Bounds(image.Rect(0, 0, 2560, 1600)))

	_, err = processors.New("resize", map[string]any{"widht": 100})
	fmt.Println(err)
	// Output:
	// (0,0)-(100,800)
	// processors: resize: unknown parameter "widht": invalid parameter
}

func ExampleSplitCommand() {
	words, err := processors.SplitCommand(`optipng -o7 "%(filename)s" 'a b' $HOME;rm`)
	fmt.Printf("%q %v\n", words, err)

	_, err = processors.SplitCommand(`optipng "%(filename)s`)
	fmt.Println(err)
	// Output:
	// ["optipng" "-o7" "%(filename)s" "a b" "$HOME;rm"] <nil>
	// processors: command "optipng \"%(filename)s": the double quote at byte 8 is never closed: invalid parameter
}

func ExampleOptimize() {
	p, err := processors.Optimize(map[string]string{
		"png":  `optipng -quiet -o2 "%(filename)s"`,
		"jpeg": `jpegoptim -f --strip-all "%(filename)s"`,
	}, 30*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Commands())

	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	if err := enc.Encode(&b, image.NewGray(image.Rect(0, 0, 300, 200))); err != nil {
		fmt.Println(err)
		return
	}
	out, err := p.Process(context.Background(), "png", b.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := png.DecodeConfig(bytes.NewReader(out))
	fmt.Printf("%dx%d, smaller: %v\n", c.Width, c.Height, len(out) < b.Len())

	// GIFs have no command here: they come back as they are.
	gif := []byte("GIF89a...")
	out, _ = p.Process(context.Background(), "gif", gif)
	fmt.Println(bytes.Equal(out, gif))
	// With optipng and jpegoptim installed, it prints:
	//
	//	[jpegoptim optipng]
	//	300x200, smaller: true
	//	true
	//
	// It has no Output line, so that go test compiles it but does not run it
	// where they are missing; TestOptimize runs the programs when present.
}

func ExampleNewPost() {
	// The post_processors entry of a size, as in django-thumbnails' settings.
	p, err := processors.NewPost("thumbnails.post_processors.optimize", map[string]any{
		"png_command": `optipng -force -o7 "%(filename)s"`,
		"jpg_command": `jpegoptim -f --strip-all "%(filename)s"`,
		"timeout":     "1m",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Commands())

	// A command must say where the file goes.
	_, err = processors.NewPost("optimize", map[string]any{"png_command": "optipng -o7"})
	fmt.Println(err)
	// Output:
	// [jpegoptim optipng]
	// processors: optimize: parameter "png_command": it has no %(filename)s, so it could not work on the file: invalid parameter
}
