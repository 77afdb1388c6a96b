package processors_test

import (
	"fmt"
	"image"

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
