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
//
// Post-processors work on the encoded thumbnail instead: Optimize runs an
// optimizer such as optipng or jpegoptim on a temporary file, and NewPost
// builds it from the post_processors entry of a size. Their commands are
// split into words by SplitCommand and run without a shell, so nothing in a
// command or in a file name is ever interpreted as shell syntax:
//
//	p, err := processors.Optimize(map[string]string{"png": `optipng -o7 "%(filename)s"`}, 30*time.Second)
//	out, err := p.Process(ctx, "png", data)
package processors
