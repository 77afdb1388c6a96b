package thumbnails_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// colourSizes add colour or transparency to any source: a red pad, a
// transparent pad, corners left by a 45° rotation (transparent in PNG and
// GIF, the background in JPEG).
const colourSizes = `
redpad:   {processors: [{path: pad, width: 200, height: 200, color: "#ff0000"}], format: png}
clearpad: {processors: [{path: pad, width: 200, height: 200, color: transparent}], format: png}
turn:     {processors: [{path: rotate, degrees: 45}], format: png}
turnjpeg: {processors: [{path: rotate, degrees: 45}], format: jpeg}
turngif:  {processors: [{path: rotate, degrees: 45}], format: gif}
`

// TestColourFromGraySource checks that the processors' colour and
// transparency survive a gray source (a greyscale JPEG or PNG decodes to an
// *image.Gray) and a GIF output (whose palette must hold a transparent
// entry), and that the corners of a JPEG are the background.
func TestColourFromGraySource(t *testing.T) {
	set, err := sizes.Load(strings.NewReader(colourSizes))
	if err != nil {
		t.Fatal(err)
	}
	gray := image.NewGray(image.Rect(0, 0, 200, 100))
	for i := range gray.Pix {
		gray.Pix[i] = 128
	}
	var grayJPEG, grayPNG, rgbaPNG bytes.Buffer
	if err := jpeg.Encode(&grayJPEG, gray, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&grayPNG, gray); err != nil {
		t.Fatal(err)
	}
	green := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for i := 0; i < len(green.Pix); i += 4 {
		copy(green.Pix[i:], []byte{0, 128, 0, 255})
	}
	if err := png.Encode(&rgbaPNG, green); err != nil {
		t.Fatal(err)
	}
	type Tile struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:redpad,clearpad,turn,turnjpeg,turngif;dir:tiles"`
	}
	e := setupSizes(t, openSQLite(t), set, &Tile{})
	ctx := context.Background()
	red := color.NRGBA{255, 0, 0, 255}
	clear := color.NRGBA{}
	white := color.NRGBA{255, 255, 255, 255}
	for _, src := range []struct {
		name string
		data []byte
	}{{"gray.jpg", grayJPEG.Bytes()}, {"gray.png", grayPNG.Bytes()}, {"green.png", rgbaPNG.Bytes()}} {
		t.Run(src.name, func(t *testing.T) {
			tile := Tile{Image: field.NewImage(src.name, bytes.NewReader(src.data))}
			if err := e.db.Create(&tile).Error; err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				size   string
				format string
				want   color.NRGBA // at (2, 2): in the pad bar, or a corner of the turn
			}{
				{"redpad", "png", red},
				{"clearpad", "png", clear},
				{"turn", "png", clear},
				{"turnjpeg", "jpeg", white},
				{"turngif", "gif", clear},
			} {
				th, err := tile.Image.Thumbnail(ctx, c.size)
				if err != nil {
					t.Fatal(err)
				}
				img, format := e.decodeStored(t, th.Name)
				if format != c.format {
					t.Errorf("%s: stored as %s, want %s", c.size, format, c.format)
				}
				got := color.NRGBAModel.Convert(img.At(2, 2)).(color.NRGBA)
				if !sameColour(got, c.want) {
					t.Errorf("%s: pixel (2,2) is %v, want %v", c.size, got, c.want)
				}
			}
		})
	}
}

// sameColour reports whether a and b are near (see near) and about as
// opaque; two transparent pixels are the same whatever their colour.
func sameColour(a, b color.NRGBA) bool {
	if a.A == 0 && b.A == 0 {
		return true
	}
	return near(color.RGBA{a.R, a.G, a.B, 255}, color.RGBA{b.R, b.G, b.B, 255}) && max(int(a.A)-int(b.A), int(b.A)-int(a.A)) < 12
}

// TestGIFKeepsTransparency checks that a GIF source with a transparent
// half keeps it in a GIF thumbnail.
func TestGIFKeepsTransparency(t *testing.T) {
	m := image.NewPaletted(image.Rect(0, 0, 100, 40), color.Palette{color.RGBA{0, 0, 255, 255}, color.RGBA{}})
	for y := range 40 {
		for x := 50; x < 100; x++ {
			m.SetColorIndex(x, y, 1)
		}
	}
	var src bytes.Buffer
	if err := gif.Encode(&src, m, nil); err != nil {
		t.Fatal(err)
	}
	set, err := sizes.Load(strings.NewReader(`half: {processors: [{path: resize, width: 50}]}`))
	if err != nil {
		t.Fatal(err)
	}
	type Sticker struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:half;dir:stickers"`
	}
	e := setupSizes(t, openSQLite(t), set, &Sticker{})
	s := Sticker{Image: field.NewImage("s.gif", &src)}
	if err := e.db.Create(&s).Error; err != nil {
		t.Fatal(err)
	}
	th, err := s.Image.Thumbnail(context.Background(), "half")
	if err != nil {
		t.Fatal(err)
	}
	img, format := e.decodeStored(t, th.Name)
	if format != "gif" {
		t.Fatalf("stored as %s", format)
	}
	if _, _, _, a := img.At(45, 10).RGBA(); a != 0 {
		t.Errorf("the transparent half is opaque: %v", img.At(45, 10))
	}
	if got := color.NRGBAModel.Convert(img.At(5, 10)).(color.NRGBA); !sameColour(got, color.NRGBA{0, 0, 255, 255}) {
		t.Errorf("the blue half is %v", got)
	}
}

// TestGIFFrameOffset: an 80x60 GIF whose first frame is a 40x30 red block
// at (40, 30) of its screen is an 80x60 image, the block bottom-right and
// the rest transparent, as a browser shows it; it used to become the 40x30
// block alone, with the sizes, widths and heights of that.
func TestGIFFrameOffset(t *testing.T) {
	red := color.Palette{color.RGBA{255, 0, 0, 255}}
	g := &gif.GIF{
		Image:  []*image.Paletted{image.NewPaletted(image.Rect(40, 30, 80, 60), red), image.NewPaletted(image.Rect(0, 0, 80, 60), red)},
		Delay:  []int{10, 10},
		Config: image.Config{Width: 80, Height: 60, ColorModel: red},
	}
	var src bytes.Buffer
	if err := gif.EncodeAll(&src, g); err != nil {
		t.Fatal(err)
	}
	set, err := sizes.Load(strings.NewReader(`same: {processors: [{path: resize, width: 100, height: 100, method: fit, upscale: false}], format: png}`))
	if err != nil {
		t.Fatal(err)
	}
	type Sticker struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:same;dir:stickers"`
	}
	e := setupSizes(t, openSQLite(t), set, &Sticker{})
	s := Sticker{Image: field.NewImage("s.gif", &src)}
	if err := e.db.Create(&s).Error; err != nil {
		t.Fatal(err)
	}
	th, err := s.Image.Thumbnail(context.Background(), "same")
	if err != nil || th.Width != 80 || th.Height != 60 {
		t.Fatalf("same = %+v, %v: want 80x60", th, err)
	}
	img, _ := e.decodeStored(t, th.Name)
	if got := color.NRGBAModel.Convert(img.At(60, 45)).(color.NRGBA); !sameColour(got, color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("inside the frame: %v, want red", got)
	}
	if _, _, _, a := img.At(10, 10).RGBA(); a != 0 {
		t.Errorf("outside the frame: %v, want transparent", img.At(10, 10))
	}
}

// TestGIFKeepsFewColoursExactly: a GIF size of an image of few colours (a
// flat (10,200,77), a two-colour logo with a transparent part) keeps them
// exactly, as libvips does, where dithering to a fixed palette came out
// (0,204,68) up to 10 levels off; a photo still goes to the fixed palette.
func TestGIFKeepsFewColoursExactly(t *testing.T) {
	set, err := sizes.Load(strings.NewReader(`
flat: {format: gif, processors: [{path: flip, direction: horizontal}]}
photo: {format: gif, processors: [{path: resize, width: 120}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	type Logo struct {
		ID    uint
		Image field.Image `thumbnails:"sizes:flat,photo;dir:logos"`
	}
	e := setupSizes(t, openSQLite(t), set, &Logo{})
	ctx := context.Background()
	green, pink := color.NRGBA{10, 200, 77, 255}, color.NRGBA{250, 120, 190, 255}
	logo := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			switch {
			case x < 20:
				logo.SetNRGBA(x, y, green)
			case y < 15:
				logo.SetNRGBA(x, y, pink)
			} // else transparent
		}
	}
	for _, src := range []struct {
		name  string
		img   image.Image
		check map[image.Point]color.NRGBA // flipped horizontally
	}{
		{"solid", solidNRGBA(40, 30, green), map[image.Point]color.NRGBA{{0, 0}: green, {39, 29}: green}},
		{"logo", logo, map[image.Point]color.NRGBA{{39, 0}: green, {0, 0}: pink, {0, 29}: {}}},
	} {
		l := Logo{Image: field.NewImage(src.name+".png", bytes.NewReader(encodePNG(t, src.img)))}
		if err := e.db.Create(&l).Error; err != nil {
			t.Fatal(err)
		}
		th, err := l.Image.Thumbnail(ctx, "flat")
		if err != nil {
			t.Fatal(err)
		}
		img, format := e.decodeStored(t, th.Name)
		if format != "gif" {
			t.Fatalf("%s: stored as %s", src.name, format)
		}
		for at, want := range src.check {
			got := color.NRGBAModel.Convert(img.At(at.X, at.Y)).(color.NRGBA)
			if got != want && !(got.A == 0 && want.A == 0) {
				t.Errorf("%s: pixel %v is %v, want exactly %v", src.name, at, got, want)
			}
		}
	}
	// a photo has more than 256 colours: dithered to the fixed palette, as before
	p := Logo{Image: field.NewImage("p.jpg", bytes.NewReader(photo(t, pizzaJPG)))}
	if err := e.db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	th, err := p.Image.Thumbnail(ctx, "photo")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := e.decodeStored(t, th.Name)
	if pm, ok := img.(*image.Paletted); !ok || len(pm.Palette) != 256 {
		t.Errorf("the photo's GIF: %T, want a 256-colour palette", img)
	}
}
