package thumbnails_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// zonePlate returns a w×h gray JPEG of rings whose frequency rises from the
// centre to near the pixel's towards the corners: detail that any
// averaging too coarse for the size turns into visible moiré.
func zonePlate(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	scale := math.Pi / float64(w*w+h*h) * 2
	for y := range h {
		for x := range w {
			dx, dy := float64(x-w/2), float64(y-h/2)
			img.SetGray(x, y, color.Gray{Y: uint8(127.5 + 127*math.Cos((dx*dx+dy*dy)*scale*float64(w)/2))})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reducedRow has one size a column, so that each is drawn from the source
// at the reduction that size alone allows.
type reducedRow struct {
	ID     uint
	Small  field.Image `thumbnails:"sizes:small"`
	Tiny   field.Image `thumbnails:"sizes:tiny"`
	Medium field.Image `thumbnails:"sizes:medium"`
	Strip  field.Image `thumbnails:"sizes:strip"`
}

// TestReducedDecodeMatchesWhole checks that a JPEG decoded reduced for its
// sizes (DCT scaling, the fast path of a save whose sizes all shrink it a
// lot) gives thumbnails as close to a plain Lanczos resize of the whole
// image as the same pixels uploaded as a PNG, decoded whole, give: the
// decoder's reduction stands for part of the resize's box shrink, not for
// an extra one before it, which left Lanczos nothing to do (measured
// before: 5 to 14.5 levels off on the zone plates where the PNG's are 1 to
// 2, 3.8 where they are 1 on the Grey photo; after: within 0.15 of the PNG's).
func TestReducedDecodeMatchesWhole(t *testing.T) {
	thumbnails.ImageOnly(t)
	set, err := sizes.Load(strings.NewReader(`
small:  {processors: [{path: resize, width: 100, height: 100, method: fill}], format: png}
tiny:   {processors: [{path: resize, width: 50, height: 50, method: fill}], format: png}
medium: {processors: [{path: resize, width: 400, height: 400, method: fit}], format: png}
strip:  {processors: [{path: resize, width: 200}], format: png}
`))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"zone-1600x1000": zonePlate(t, 1600, 1000), "zone-640x400": zonePlate(t, 640, 400)}
	for _, name := range []string{"Grey", "Kite"} {
		if data, err := os.ReadFile("../shared/testdata/photos/" + name + "-2560x1600.jpg"); err == nil {
			inputs[name] = data
		}
	}
	e := setupSizes(t, openSQLite(t), set, &reducedRow{})
	db := e.db
	for name, data := range inputs {
		decoded, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var whole bytes.Buffer
		if err := png.Encode(&whole, decoded); err != nil {
			t.Fatal(err)
		}
		var rows [2]reducedRow
		for i, upload := range []struct {
			name string
			data []byte
		}{{name + ".jpg", data}, {name + ".png", whole.Bytes()}} {
			rows[i] = reducedRow{
				Small:  field.NewImage(upload.name, reader(upload.data)),
				Tiny:   field.NewImage(upload.name, reader(upload.data)),
				Medium: field.NewImage(upload.name, reader(upload.data)),
				Strip:  field.NewImage(upload.name, reader(upload.data)),
			}
			if err := db.Create(&rows[i]).Error; err != nil {
				t.Fatal(err)
			}
		}
		for size, images := range map[string][2]*field.Image{
			"small":  {&rows[0].Small, &rows[1].Small},
			"tiny":   {&rows[0].Tiny, &rows[1].Tiny},
			"medium": {&rows[0].Medium, &rows[1].Medium},
			"strip":  {&rows[0].Strip, &rows[1].Strip},
		} {
			var got [2]image.Image
			for i, img := range images {
				thumb, err := img.Thumbnail(context.Background(), size)
				if err != nil {
					t.Fatal(err)
				}
				got[i], _ = e.decodeStored(t, thumb.Name)
			}
			b := got[1].Bounds()
			if got[0].Bounds() != b {
				t.Fatalf("%s %s: %v from the JPEG, %v from the PNG", name, size, got[0].Bounds(), b)
			}
			resize := gift.Resize(b.Dx(), b.Dy(), gift.LanczosResampling)
			if size == "small" || size == "tiny" {
				resize = gift.ResizeToFill(b.Dx(), b.Dy(), gift.LanczosResampling, gift.CenterAnchor)
			}
			ideal := image.NewRGBA(b)
			gift.New(resize).Draw(ideal, decoded)
			fromJPEG, fromPNG := meanDiff(got[0], ideal), meanDiff(got[1], ideal)
			t.Logf("%s %s %v: from a plain Lanczos resize, %.2f levels (the JPEG's), %.2f (the PNG's)", name, size, b.Size(), fromJPEG, fromPNG)
			if fromJPEG > fromPNG+0.5 {
				t.Errorf("%s %s: the reduced decode's thumbnail is %.2f levels from a plain resize, the whole decode's %.2f", name, size, fromJPEG, fromPNG)
			}
		}
	}
}

// TestReducedDecodeKeepsTheEdges saves JPEGs whose sides the decoder's 1/8
// does not divide, with sharp edges near their far sides: the reduced
// image's last pixel stands for the few pixels of the last partial block,
// and the resampling, spreading the reduced image evenly over the result,
// moved the picture by up to 0.4 of a result pixel (1001x1001 to 60x60:
// 3 levels off a plain Lanczos resize on average, 25 along the edges). It
// is now within 1.5 levels (measured: 0.4 to 1.0).
func TestReducedDecodeKeepsTheEdges(t *testing.T) {
	thumbnails.ImageOnly(t)
	set, err := sizes.Load(strings.NewReader(`
s60: {processors: [{path: resize, width: 60, height: 60, method: fit}], format: png}
`))
	if err != nil {
		t.Fatal(err)
	}
	e := setupSizes(t, openSQLite(t), set, &Kite{})
	db := e.db
	for _, n := range []int{1001, 1002, 1007, 1008} {
		img := image.NewGray(image.Rect(0, 0, n, n))
		for y := range n {
			for x := range n {
				if x >= n*9/10 || y >= n*9/10 {
					img.SetGray(x, y, color.Gray{Y: 255})
				}
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
			t.Fatal(err)
		}
		decoded, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		row := Kite{Image: field.NewImage("edge.jpg", reader(buf.Bytes()))}
		if err := db.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		th, err := row.Image.Thumbnail(context.Background(), "s60")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := e.decodeStored(t, th.Name)
		ideal := image.NewGray(got.Bounds())
		gift.New(gift.Resize(got.Bounds().Dx(), got.Bounds().Dy(), gift.LanczosResampling)).Draw(ideal, decoded)
		if d := meanDiff(got, ideal); d > 1.5 {
			t.Errorf("%dx%d: %.2f levels from a plain Lanczos resize, want at most 1.5", n, n, d)
		} else {
			t.Logf("%dx%d: %.2f levels from a plain Lanczos resize", n, n, d)
		}
	}
}
