// Package processors turns the processors of a thumbnail size into
// github.com/disintegration/gift filters.
//
// Each processor is a gift.Filter that works out its output size from the
// bounds of the image it receives, so a percentage always refers to the image
// as it is at that step of the pipeline, not to the original upload:
//
//	g := gift.New(
//		processors.Resize(processors.Px(1200), processors.Px(1200), processors.Fit),
//		processors.Crop(processors.Pct(50), processors.Pct(50)),
//	)
//	dst := image.NewNRGBA(g.Bounds(src.Bounds()))
//	g.Draw(dst, src)
//
// New builds the same filters from a processor name and the parameters
// decoded from a YAML or JSON configuration, in the shape django-thumbnails
// uses for its SIZES setting:
//
//	f, err := processors.New("resize", map[string]any{"width": 100, "method": "fit"})
package processors
