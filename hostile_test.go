package thumbnails_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gen2brain/webp"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// pngBomb returns a PNG whose header claims w×h 8-bit gray pixels, with a
// few KiB of compressed zero rows: what a decompression bomb looks like.
func pngBomb(t testing.TB, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		buf.WriteString(typ)
		buf.Write(data)
		_ = binary.Write(&buf, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grayscale
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 1<<20)) // the first MiB of zero rows
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return buf.Bytes()
}

// manyFrameGIF returns a GIF of n 1×1 frames.
func manyFrameGIF(t testing.TB, n int) []byte {
	t.Helper()
	anim := &gif.GIF{}
	for i := 0; i < n; i++ {
		frame := image.NewPaletted(image.Rect(0, 0, 1, 1), palette.Plan9[:2])
		frame.SetColorIndex(0, 0, uint8(i%2))
		anim.Image = append(anim.Image, frame)
		anim.Delay = append(anim.Delay, 1)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// onlyReader hides every method of r but Read, so its length is unknown.
type onlyReader struct{ io.Reader }

func TestLimits(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	bomb := pngBomb(t, 50000, 50000)
	if len(bomb) > 8<<10 {
		t.Fatalf("the bomb is %d bytes, want a few KiB", len(bomb))
	}
	frames := manyFrameGIF(t, 10000)
	huge := make([]byte, 60<<20)
	copy(huge, photo(t, pizzaJPG))
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"PNG bomb 50000x50000", bytes.NewReader(bomb)},
		{"PNG of 2^30 x 2^30, which image/png refuses itself", bytes.NewReader(pngBomb(t, 1<<30, 1<<30))},
		{"PNG of (2^31-1)^2", bytes.NewReader(pngBomb(t, 1<<31-1, 1<<31-1))},
		{"PNG of (2^32-1)^2, whose pixel count overflows an int64", bytes.NewReader(pngBomb(t, 1<<32-1, 1<<32-1))},
		{"GIF of 10000 frames", bytes.NewReader(frames)},
		{"60 MiB upload", bytes.NewReader(huge)},
		{"60 MiB stream of unknown length", onlyReader{bytes.NewReader(huge)}},
		{"60 MiB file", func() io.Reader {
			p := filepath.Join(t.TempDir(), "huge.jpg")
			if err := os.WriteFile(p, huge, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Create(&Food{Name: tc.name, Image: field.NewImage("x.jpg", tc.r)}).Error
			if !errors.Is(err, thumbnails.ErrImageTooLarge) {
				t.Fatalf("err = %v, want ErrImageTooLarge", err)
			}
		})
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files stored: %v", files)
	}
	if n := count(t, db, "foods"); n != 0 {
		t.Errorf("rows: %d", n)
	}
	// a GIF at the frame limit is accepted, and its first frame used
	ok := Food{Image: field.NewImage("ok.gif", bytes.NewReader(manyFrameGIF(t, 100)))}
	if err := db.Create(&ok).Error; err != nil {
		t.Fatalf("GIF of 100 frames: %v", err)
	}
	if !strings.HasSuffix(ok.Image.Name(), ".gif") {
		t.Errorf("GIF stored as %q", ok.Image.Name())
	}
}

// BenchmarkReject measures the time and memory it takes to refuse each
// hostile upload: a 50,000 × 50,000 PNG (2.5 gigapixels), a GIF of 10,000
// frames, and a 60 MiB upload of known length: kilobytes, not gigabytes.
func BenchmarkReject(b *testing.B) {
	db := openSQLite(b)
	setup(b, db, &Food{})
	huge := make([]byte, 60<<20)
	for _, bc := range []struct {
		name string
		data []byte
	}{
		{"png-bomb-50000x50000", pngBomb(b, 50000, 50000)},
		{"gif-10000-frames", manyFrameGIF(b, 10000)},
		{"upload-60MiB", huge},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := db.Create(&Food{Image: field.NewImage("x.png", bytes.NewReader(bc.data))}).Error
				if !errors.Is(err, thumbnails.ErrImageTooLarge) {
					b.Fatal(err)
				}
			}
		})
	}
	// of unknown length, with a fine JPEG header: read to its end
	b.Run("stream-60MiB", func(b *testing.B) {
		jpg := photo(b, pizzaJPG)
		b.ReportAllocs()
		for b.Loop() {
			s := &countedStream{prefix: jpg, size: 60 << 20}
			err := db.Create(&Food{Image: field.NewImage("x.jpg", s)}).Error
			if !errors.Is(err, thumbnails.ErrImageTooLarge) {
				b.Fatal(err)
			}
		}
	})
}

func TestFormatFromBytes(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	pngBytes := smallPNG(t, 7)
	food := Food{Image: field.NewImage("holiday.jpg", bytes.NewReader(pngBytes))}
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(food.Image.Name(), ".png") {
		t.Fatalf("a PNG named .jpg was stored as %q", food.Image.Name())
	}
	if _, format := e.decodeStored(t, food.Image.Name()); format != "png" {
		t.Fatalf("stored format %q", format)
	}

	jpegBytes := photo(t, pizzaJPG)
	gifBytes := manyFrameGIF(t, 3)
	corruptPNG := bytes.Clone(pngBytes)
	corruptPNG[len(corruptPNG)/2] ^= 0xFF // breaks the IDAT CRC
	badMarker := bytes.Clone(jpegBytes)
	badMarker[2], badMarker[3] = 0xFF, 0x01
	for name, data := range map[string][]byte{
		"text named .jpg":  []byte("GIF? no: plain text, with a .jpg name"),
		"truncated JPEG":   jpegBytes[:len(jpegBytes)/3],
		"truncated PNG":    pngBytes[:len(pngBytes)/2],
		"truncated GIF":    gifBytes[:len(gifBytes)/2],
		"corrupt PNG":      corruptPNG,
		"JPEG bad marker":  badMarker,
		"header only":      jpegBytes[:2],
		"HTML":             []byte("<html><script>alert(1)</script></html>"),
		"SVG":              []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`),
		"PNG signature":    []byte("\x89PNG\r\n\x1a\n"),
		"GIF header alone": []byte("GIF89a"),
	} {
		t.Run(name, func(t *testing.T) {
			before := e.files(t)
			err := db.Create(&Food{Image: field.NewImage("upload.jpg", bytes.NewReader(data))}).Error
			if !errors.Is(err, thumbnails.ErrInvalidImage) {
				t.Fatalf("err = %v, want ErrInvalidImage", err)
			}
			if after := e.files(t); len(after) != len(before) {
				t.Fatalf("files stored: %v", after)
			}
		})
	}
}

func TestAcceptedFormats(t *testing.T) {
	db := openSQLite(t)
	if err := db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:   testSizes(),
		Storage: nil,
		Limits:  thumbnails.Limits{Formats: []string{"jpeg"}},
		BaseDir: "thumbs",
	})); err != nil {
		t.Fatal(err)
	}
	jpegBytes := photo(t, pizzaJPG)
	t.Chdir(t.TempDir()) // the default storage writes under ./media
	if err := db.AutoMigrate(&Food{}); err != nil {
		t.Fatal(err)
	}
	err := db.Create(&Food{Image: field.NewImage("a.png", bytes.NewReader(smallPNG(t, 1)))}).Error
	if !errors.Is(err, thumbnails.ErrInvalidImage) || !strings.Contains(err.Error(), "png") {
		t.Fatalf("PNG with only JPEG accepted: %v", err)
	}
	food := Food{Image: field.NewImage("a.jpg", bytes.NewReader(jpegBytes))}
	if err := db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	small, err := food.Image.Thumbnail(t.Context(), "small")
	if err != nil || !strings.HasPrefix(small.Name, "thumbs/foods/") {
		t.Fatalf("small = %+v, %v", small, err)
	}
	if _, err := os.Stat(filepath.Join("media", small.Name)); err != nil {
		t.Fatalf("default storage: %v", err)
	}
	if err := (thumbnails.Config{Sizes: testSizes(), Limits: thumbnails.Limits{Formats: []string{"bmp"}}}).Validate(); !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Fatalf("unknown format accepted: %v", err)
	}
}

// TestHostileFileNames checks that the uploaded file name never reaches the
// storage: whatever it holds, the stored name is the folder, a random id and
// the sniffed extension, and nothing is written outside the storage root.
func TestHostileFileNames(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	parent := filepath.Dir(e.root)
	before, _ := os.ReadDir(parent)
	safe := regexp.MustCompile(`^foods/[0-9a-f]{32}\.png$`)
	for _, name := range []string{
		"../../etc/passwd", "/etc/passwd", "..", "a\x00b.jpg", strings.Repeat("long", 2000) + ".jpg",
		"фото 😀.jpg", "$(rm -rf /).jpg", "`reboot`;|&>.jpg", "C:\\Windows\\win.ini", "", " ", "\n.jpg",
	} {
		food := Food{Image: field.NewImage(name, bytes.NewReader(smallPNG(t, 3)))}
		if err := db.Create(&food).Error; err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if !safe.MatchString(food.Image.Name()) {
			t.Errorf("%q stored as %q", name, food.Image.Name())
		}
	}
	after, _ := os.ReadDir(parent)
	if len(after) != len(before) {
		t.Errorf("entries next to the storage root: %d before, %d after", len(before), len(after))
	}
	for _, f := range e.files(t) {
		if strings.Contains(f, "..") || !(strings.HasPrefix(f, "foods/") || strings.HasPrefix(f, "thumbnails/foods/")) {
			t.Errorf("unexpected stored file %q", f)
		}
	}
}

// stripPNG returns a PNG of w×h pixels of a gradient, a few hundred bytes
// for a strip.
func stripPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 256)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLongShapesAndGrowingSizes saves uploads that are small but whose
// sizes would make huge images: a 1×60000 strip filled to 100×100 (gift
// alone resamples it to 100×6,000,000 first) is saved quickly in little
// memory, and a size that would enlarge an image past Limits.MaxPixels
// fails the save with ErrImageTooLarge, storing nothing.
func TestLongShapesAndGrowingSizes(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	strip := stripPNG(t, 1, 60000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	food := Food{Image: field.NewImage("strip.png", bytes.NewReader(strip))}
	if err := db.Create(&food).Error; err != nil {
		t.Fatalf("the %d-byte strip: %v", len(strip), err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 256<<20 {
		t.Errorf("saving the strip allocated %d MB", n>>20)
	}
	small, err := food.Image.Thumbnail(context.Background(), "small")
	if err != nil || small.Width != 100 || small.Height != 100 {
		t.Errorf("the strip's small: %+v, %v", small, err)
	}

	// Sizes may make images up to the larger of Limits.MaxPixels and
	// DefaultLimits.MaxPixels: a small limit on uploads does not refuse a
	// size that enlarges them.
	db2 := openSQLite(t)
	set, err := sizes.Load(strings.NewReader("double:\n  processors:\n    - {path: resize, width: 2500%, height: 2500%}\n"))
	if err != nil {
		t.Fatal(err)
	}
	type Grower struct {
		ID    uint
		Image field.Image // every size: 25 times
	}
	e2 := setupSizesConfig(t, db2, thumbnails.Config{Sizes: set, Limits: thumbnails.Limits{MaxPixels: 100_000}}, &Grower{})
	err = db2.Create(&Grower{Image: field.NewImage("p.png", bytes.NewReader(stripPNG(t, 40, 40)))}).Error // 1000x1000
	if err != nil {
		t.Fatalf("a 40x40 upload made 1000x1000, over MaxPixels but under the default: %v", err)
	}
	err = db2.Create(&Grower{Image: field.NewImage("big.png", bytes.NewReader(stripPNG(t, 300, 300)))}).Error // 7500x7500
	if !errors.Is(err, thumbnails.ErrImageTooLarge) {
		t.Errorf("300x300 made 7500x7500, over 50,000,000 pixels: %v, want ErrImageTooLarge", err)
	}
	if n := count(t, db2, "growers"); n != 1 {
		t.Errorf("%d rows, want the first only", n)
	}
	if files := e2.files(t); len(files) != 2 {
		t.Errorf("files %v, want the first source and its size", files)
	}
	if files := e.files(t); len(files) < 2 {
		t.Errorf("the strip's files: %v", files)
	}
}

// TestTruncatedGIF saves a three-frame GIF cut short at every byte, over a
// row that has an image: each fails with ErrInvalidImage, the row keeps its
// image, and nothing is stored; the whole GIF saves.
func TestTruncatedGIF(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	anim := &gif.GIF{}
	for i := range 3 {
		frame := image.NewPaletted(image.Rect(0, 0, 40, 30), palette.Plan9)
		for p := range frame.Pix {
			frame.Pix[p] = uint8(p*7 + i*50)
		}
		anim.Image = append(anim.Image, frame)
		anim.Delay = append(anim.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	food := Food{Image: field.NewImage("first.gif", bytes.NewReader(whole))}
	if err := db.Create(&food).Error; err != nil {
		t.Fatalf("the whole GIF: %v", err)
	}
	name := food.Image.Name()
	files := e.files(t)
	for n := len(whole) - 1; n > 0; n -= max(1, n/40) { // the last byte, then cuts down to the header
		food.Image = field.NewImage("cut.gif", bytes.NewReader(whole[:n]))
		err := db.Save(&food).Error
		if !errors.Is(err, thumbnails.ErrInvalidImage) {
			t.Errorf("cut at %d of %d bytes: %v, want ErrInvalidImage", n, len(whole), err)
		}
	}
	var got Food
	if err := db.First(&got, food.ID).Error; err != nil || got.Image.Name() != name {
		t.Errorf("the row's image is %q (%v), want %q", got.Image.Name(), err, name)
	}
	if after := e.files(t); len(after) != len(files) {
		t.Errorf("files before %v, after %v", files, after)
	}
}

// TestTruncatedWebP saves still WebPs cut short, as an aborted upload is:
// each fails with ErrInvalidImage and nothing is stored. The still's
// decoder stops after its image chunk, so a file cut anywhere after it (in
// the EXIF chunk that cwebp and libvips write after the pixels) was saved,
// without its orientation: a photo of orientation 6 came out sideways. The
// whole file saves, upright.
func TestTruncatedWebP(t *testing.T) {
	e := setupSameSize(t, 20)
	img := solidNRGBA(40, 20, color.NRGBA{200, 100, 50, 255})
	rotated := withEXIFAfterPixels(encodeWebP(t, img, webp.Options{Quality: 90}), 40, 20, orientation6EXIF())
	cuts := map[string][]byte{
		"lossy, 1 byte short":                 encodeWebP(t, img, webp.Options{Quality: 90}),
		"lossless, 1 byte short":              encodeWebP(t, img, webp.Options{Lossless: true}),
		"EXIF after the pixels, 1 byte short": rotated,
	}
	for name, data := range cuts {
		cuts[name] = data[:len(data)-1]
	}
	cuts["EXIF after the pixels, 10 bytes short"] = rotated[:len(rotated)-10]
	for name, data := range cuts {
		err := e.db.Create(&Kite{Image: field.NewImage("a.webp", bytes.NewReader(data))}).Error
		if !errors.Is(err, thumbnails.ErrInvalidImage) {
			t.Errorf("%s: %v, want ErrInvalidImage", name, err)
		}
	}
	if n := count(t, e.db, "kites"); n != 0 {
		t.Errorf("%d rows stored", n)
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files stored: %v", files)
	}
	row := Kite{Image: field.NewImage("a.webp", bytes.NewReader(rotated))}
	if err := e.db.Create(&row).Error; err != nil {
		t.Fatalf("the whole file: %v", err)
	}
	if th, err := row.Image.Thumbnail(t.Context(), "same"); err != nil || th.Width != 20 || th.Height != 40 {
		t.Errorf("the whole file's thumbnail: %+v, %v; want 20x40, upright", th, err)
	}
	// A few stray bytes after the last chunk, within the RIFF size (too
	// few for a chunk's header), are no cut: libwebp decodes such a file.
	lossy := encodeWebP(t, img, webp.Options{Quality: 90})
	stray := binary.LittleEndian.AppendUint32([]byte("RIFF"), binary.LittleEndian.Uint32(lossy[4:])+4)
	stray = append(append(stray, lossy[8:]...), 0, 0, 0, 0)
	if err := e.db.Create(&Kite{Image: field.NewImage("b.webp", bytes.NewReader(stray))}).Error; err != nil {
		t.Errorf("4 stray bytes after the last chunk: %v", err)
	}
}

// withEXIFAfterPixels returns still, a simple WebP of w×h pixels, in the
// extended format with an EXIF chunk after its image chunk, where cwebp
// -metadata and libvips write it.
func withEXIFAfterPixels(still []byte, w, h int, exif []byte) []byte {
	riff, u24 := riffChunk, appendU24
	body := riff("VP8X", u24(u24([]byte{0x08, 0, 0, 0}, w-1), h-1)) // the EXIF flag
	body = append(body, still[12:]...)                              // the image chunk
	body = append(body, riff("EXIF", exif)...)
	return riff("RIFF", append([]byte("WEBP"), body...))
}

// orientation6EXIF is a little-endian TIFF header whose IFD0 holds one
// entry: Orientation 6 (rotate 90° clockwise to show it).
func orientation6EXIF() []byte {
	t := []byte("II\x2a\x00\x08\x00\x00\x00")
	t = binary.LittleEndian.AppendUint16(t, 1) // entries
	t = binary.LittleEndian.AppendUint16(t, 0x0112)
	t = binary.LittleEndian.AppendUint16(t, 3) // SHORT
	t = binary.LittleEndian.AppendUint32(t, 1)
	t = binary.LittleEndian.AppendUint32(t, 6)
	return binary.LittleEndian.AppendUint32(t, 0) // no next IFD
}

// TestPointerColumnAndUsedUpload checks two mistakes that fail clearly: a
// *field.Image column (ErrInvalidConfig at its first use, where the plugin
// would otherwise ignore it), and a copy of a field.Image whose upload a
// save has read already (ErrInvalidImage saying so).
func TestPointerColumnAndUsedUpload(t *testing.T) {
	type PtrFood struct {
		ID    uint
		Image *field.Image `thumbnails:"sizes:small"`
	}
	db := openSQLite(t)
	setup(t, db, &Food{})
	if err := db.AutoMigrate(&PtrFood{}); err != nil {
		t.Fatal(err)
	}
	img := field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))
	if err := db.Create(&PtrFood{Image: &img}).Error; !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Errorf("a *field.Image column: %v, want ErrInvalidConfig", err)
	}

	upload := field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))
	first, second := Food{Image: upload}, Food{Image: upload}
	if err := db.Create(&first).Error; err != nil {
		t.Fatal(err)
	}
	err := db.Create(&second).Error
	if !errors.Is(err, thumbnails.ErrInvalidImage) || !strings.Contains(err.Error(), "read once") {
		t.Errorf("a used upload saved again: %v, want ErrInvalidImage saying a reader is read once", err)
	}
}

// manyScans returns the progressive JPEG data with its shortest scan
// repeated until the file has n scans: each repeat is a pass over the
// image for a decoder, however few bytes it takes.
func manyScans(t testing.TB, data []byte, n int) []byte {
	t.Helper()
	eoi := bytes.LastIndex(data, []byte{0xff, 0xd9})
	var starts []int // of each scan: its SOS, up to the next SOS or EOI
	for at := 0; ; {
		k := bytes.Index(data[at:], []byte{0xff, 0xda})
		if k < 0 {
			break
		}
		starts = append(starts, at+k)
		at += k + 2
	}
	if len(starts) == 0 || eoi < starts[len(starts)-1] || len(starts) > n {
		t.Fatalf("not a progressive JPEG of at most %d scans", n)
	}
	shortest := data[starts[len(starts)-1]:eoi]
	for k := 0; k+1 < len(starts); k++ {
		if scan := data[starts[k]:starts[k+1]]; len(scan) < len(shortest) {
			shortest = scan
		}
	}
	out := append([]byte(nil), data[:eoi]...)
	for range n - len(starts) {
		out = append(out, shortest...)
	}
	return append(out, data[eoi:]...)
}

// TestProgressiveScanLimit: a JPEG of more scans than Limits.MaxScans is
// refused (ErrImageTooLarge) before any decoding; its scans were passes
// over the image that a small file could repeat by the thousand, for
// seconds of CPU that no deadline interrupts. A progressive photo of as
// many scans as the limit saves.
func TestProgressiveScanLimit(t *testing.T) {
	progressive, err := os.ReadFile("internal/jpegdct/testdata/progressive-pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	scans := bytes.Count(progressive, []byte{0xff, 0xda}) // never in entropy-coded data, where 0xff is stuffed
	for _, limit := range []int{scans, scans - 1} {
		db := openSQLite(t)
		e := setupSizesConfig(t, db, thumbnails.Config{Sizes: testSizes(), Limits: thumbnails.Limits{MaxScans: limit}}, &Food{})
		err := db.Create(&Food{Image: field.NewImage("p.jpg", bytes.NewReader(progressive))}).Error
		if limit == scans && err != nil {
			t.Fatalf("%d scans, at most %d: %v", scans, limit, err)
		}
		if limit < scans && !errors.Is(err, thumbnails.ErrImageTooLarge) {
			t.Fatalf("%d scans, at most %d: %v, want ErrImageTooLarge", scans, limit, err)
		}
		if limit < scans && len(e.files(t)) != 0 {
			t.Errorf("the refused upload stored files: %v", e.files(t))
		}
	}
	e := setup(t, openSQLite(t), &Food{})
	bomb := manyScans(t, progressive, 5000)
	if len(bomb) > int(thumbnails.DefaultLimits.MaxBytes)/4 {
		t.Fatalf("the bomb is %d bytes: the byte limit, not the scans', would refuse it", len(bomb))
	}
	// junk before a marker, which decoders skip, does not hide the scans
	junk := append([]byte{0xff, 0xd8, 0x00, 0x42}, bomb[2:]...)
	for name, data := range map[string][]byte{"bomb": bomb, "junk": junk} {
		row := Food{Image: field.NewImage("bomb.jpg", bytes.NewReader(data))}
		if err := e.db.Create(&row).Error; !errors.Is(err, thumbnails.ErrImageTooLarge) || !strings.Contains(err.Error(), "scans") {
			t.Errorf("%s: a JPEG of 5,000 scans: %v, want ErrImageTooLarge for its scans", name, err)
		}
	}
}

// BenchmarkRejectScanBomb measures refusing a JPEG of 5,000 scans (a walk
// over its markers).
func BenchmarkRejectScanBomb(b *testing.B) {
	progressive, err := os.ReadFile("internal/jpegdct/testdata/progressive-pizza-600x400.jpg")
	if err != nil {
		b.Fatal(err)
	}
	db := openSQLite(b)
	setup(b, db, &Food{})
	data := manyScans(b, progressive, 5000)
	b.ReportAllocs()
	for b.Loop() {
		row := Food{Image: field.NewImage("bomb.jpg", bytes.NewReader(data))}
		if err := db.Create(&row).Error; !errors.Is(err, thumbnails.ErrImageTooLarge) {
			b.Fatal(err)
		}
	}
}

// countedStream is an upload of unknown length: prefix, then zeros up to
// size bytes in all; read counts the bytes handed out.
type countedStream struct {
	prefix     []byte
	size, read int64
}

func (s *countedStream) Read(p []byte) (int, error) {
	if s.read >= s.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.size-s.read)]
	n := 0
	if s.read < int64(len(s.prefix)) {
		n = copy(p, s.prefix[s.read:])
	}
	clear(p[n:])
	s.read += int64(len(p))
	return len(p), nil
}

// TestStreamOverMaxBytesIsNotHeld sends a 60 MiB stream of unknown length
// whose header is a fine JPEG's: only reading it to its end tells that it
// is over MaxBytes (50 MiB), but what is past its first MiB goes to a
// temporary file rather than memory, which the refusal removes. Before, a
// buffer doubling up to 64 MiB took 128 MiB of allocations and ~112 MiB
// of peak heap. A stream of a size under the limit but over what memory
// holds is read back from that file, whole.
func TestStreamOverMaxBytesIsNotHeld(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	jpg := photo(t, pizzaJPG)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := &countedStream{prefix: jpg, size: 60 << 20}
	err := db.Create(&Food{Name: "stream", Image: field.NewImage("x.jpg", s)}).Error
	runtime.ReadMemStats(&after)
	if !errors.Is(err, thumbnails.ErrImageTooLarge) {
		t.Fatalf("err = %v, want ErrImageTooLarge", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("refusing the stream allocated %d MiB, want at most 8", alloc>>20)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files stored: %v", files)
	}

	// a JPEG with 20 MiB of trailing bytes (after its end marker, which
	// decoders ignore), of unknown length: read back whole, and stored as sent
	padded := append(bytes.Clone(jpg), make([]byte, 20<<20)...)
	food := Food{Name: "padded", Image: field.NewImage("p.jpg", onlyReader{bytes.NewReader(padded)})}
	if err := db.Create(&food).Error; err != nil {
		t.Fatalf("a 20 MiB stream: %v", err)
	}
	if got := e.read(t, food.Image.Name()); !bytes.Equal(got, padded) {
		t.Errorf("stored %d bytes, want the %d sent", len(got), len(padded))
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// no temporary file can be made: the stream is read in memory
	t.Setenv("TMPDIR", filepath.Join(tmp, "missing"))
	again := Food{Name: "in memory", Image: field.NewImage("p.jpg", onlyReader{bytes.NewReader(padded)})}
	if err := db.Create(&again).Error; err != nil {
		t.Fatalf("a 20 MiB stream without a temporary directory: %v", err)
	}
	if got := e.read(t, again.Image.Name()); !bytes.Equal(got, padded) {
		t.Errorf("stored %d bytes, want the %d sent", len(got), len(padded))
	}
	s = &countedStream{prefix: jpg, size: 60 << 20}
	if err := db.Create(&Food{Name: "stream", Image: field.NewImage("x.jpg", s)}).Error; !errors.Is(err, thumbnails.ErrImageTooLarge) {
		t.Errorf("60 MiB without a temporary directory: %v, want ErrImageTooLarge", err)
	}
}

// TestStreamRefusedByItsHeader sends 60 MiB streams of unknown length whose
// first bytes already condemn them: a PNG header of 50,000 × 50,000, text,
// a BMP. Each is refused with its typed error after its first 64 KiB, not
// once 50 MiB (MaxBytes) have been read and held.
func TestStreamRefusedByItsHeader(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	bmp := append([]byte("BM"), make([]byte, 52)...)
	for _, tc := range []struct {
		name   string
		prefix []byte
		want   error
	}{
		{"PNG bomb", pngBomb(t, 50000, 50000)[:64], thumbnails.ErrImageTooLarge},
		{"text", bytes.Repeat([]byte("hello "), 1000), thumbnails.ErrInvalidImage},
		{"BMP", bmp, thumbnails.ErrInvalidImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &countedStream{prefix: tc.prefix, size: 60 << 20}
			err := db.Create(&Food{Name: tc.name, Image: field.NewImage("x.png", s)}).Error
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if s.read > 1<<20 {
				t.Errorf("read %d bytes before refusing it, want at most 1 MiB", s.read)
			}
		})
	}
	// A stream whose header is fine is read whole, as before.
	ok := Food{Image: field.NewImage("ok.jpg", onlyReader{bytes.NewReader(photo(t, pizzaJPG))})}
	if err := db.Create(&ok).Error; err != nil {
		t.Fatalf("a JPEG stream: %v", err)
	}
	if files := e.files(t); len(files) != 3 {
		t.Errorf("files stored: %v, want the JPEG's source and its two sizes", files)
	}
}

// TestStripsMadeWideOrThin saves small uploads of degenerate shapes to
// sizes that resample them both ways: a 1×2,000,000 strip stretched to
// 100×100 (gift resamples across first, to 100×2,000,000: 1.6 GB) is saved
// in under 256 MB (gift's resampling weights); a 1×7 strip filled to 3000×1000, whose covering image
// has 63,000,000 pixels however it is cut, is refused with
// ErrImageTooLarge, storing nothing.
func TestStripsMadeWideOrThin(t *testing.T) {
	thumbnails.ImageOnly(t)
	set, err := sizes.Load(strings.NewReader(`
square: {processors: [{path: resize, width: 100, height: 100}], format: png}
hero:   {processors: [{path: resize, width: 3000, height: 1000, method: fill}], format: png, lazy: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	type Strip struct {
		ID    uint
		Image field.Image // every size
	}
	db := openSQLite(t)
	e := setupSizes(t, db, set, &Strip{})
	strip := stripPNG(t, 1, 2_000_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	food := Strip{Image: field.NewImage("strip.png", bytes.NewReader(strip))}
	if err := db.Create(&food).Error; err != nil {
		t.Fatalf("the %d-byte strip: %v", len(strip), err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 256<<20 {
		t.Errorf("saving the strip allocated %d MB", n>>20)
	}
	if sq, err := food.Image.Thumbnail(context.Background(), "square"); err != nil || sq.Width != 100 || sq.Height != 100 {
		t.Errorf("the strip's square: %+v, %v", sq, err)
	}
	files := e.files(t)
	thin := Strip{Image: field.NewImage("thin.png", bytes.NewReader(stripPNG(t, 1, 7)))}
	if err := db.Create(&thin).Error; err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&before)
	_, err = thin.Image.Thumbnail(context.Background(), "hero")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, thumbnails.ErrImageTooLarge) {
		t.Errorf("a 1x7 strip filled to 3000x1000: %v, want ErrImageTooLarge", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("refusing the hero allocated %d MB", n>>20)
	}
	if got := e.files(t); len(got) != len(files)+2 {
		t.Errorf("files %v, want those before and the thin strip's source and square", got)
	}
}

// lyingLen is an upload whose Len says less than nothing.
type lyingLen struct{ *bytes.Reader }

func (lyingLen) Len() int { return -1 }

// cancellingReader cancels a context once half of r is read.
type cancellingReader struct {
	r      *bytes.Reader
	cancel func()
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.r.Len() < int(c.r.Size())/2 {
		c.cancel()
	}
	return c.r.Read(p[:min(len(p), 1000)])
}

// idleReader returns nothing, for ever.
type idleReader struct{}

func (idleReader) Read([]byte) (int, error) { return 0, nil }

// TestUploadReaders saves uploads whose readers misbehave: one that says
// its length is below zero is read as a stream; a file read past its end
// is an empty upload; one that returns nothing for ever fails with
// io.ErrNoProgress. None panics, and nothing is stored for the failures.
func TestUploadReaders(t *testing.T) {
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	data := photo(t, pizzaJPG)
	if err := db.Create(&Food{Image: field.NewImage("l.jpg", lyingLen{bytes.NewReader(data)})}).Error; err != nil {
		t.Errorf("a reader whose Len is -1: %v", err)
	}
	files := e.files(t)

	f, err := os.CreateTemp(t.TempDir(), "upload")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(10); err != nil { // cut after it was read to its end
		t.Fatal(err)
	}
	if err := db.Create(&Food{Image: field.NewImage("f.jpg", f)}).Error; !errors.Is(err, thumbnails.ErrInvalidImage) {
		t.Errorf("a file read past its end: %v, want ErrInvalidImage", err)
	}

	// The save's context ends while the upload is read: the save fails,
	// and the same Image saves whole once tried again.
	ctx, cancel := context.WithCancel(context.Background())
	retried := Food{Image: field.NewImage("c.jpg", &cancellingReader{r: bytes.NewReader(data), cancel: cancel})}
	if err := db.WithContext(ctx).Create(&retried).Error; !errors.Is(err, context.Canceled) {
		t.Errorf("a save whose context ends during the read: %v, want context.Canceled", err)
	}
	if err := db.Create(&retried).Error; err != nil {
		t.Fatalf("the same Image tried again: %v", err)
	}
	if got := e.read(t, retried.Image.Name()); !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes, want the %d uploaded", len(got), len(data))
	}
	files = e.files(t)
	if err := db.Create(&Food{Image: field.NewImage("i.jpg", idleReader{})}).Error; !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("a reader that returns nothing: %v, want io.ErrNoProgress", err)
	}
	if got := e.files(t); !slices.Equal(got, files) {
		t.Errorf("files after the failures: %v, want %v", got, files)
	}
}

// afterEOF returns data, then io.EOF, then more bytes on the next reads:
// once after the first EOF (then EOF), or for ever.
type afterEOF struct {
	data    []byte
	more    []byte
	endless bool
	eofs    int
}

func (r *afterEOF) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	r.eofs++
	if r.eofs == 2 || r.endless && r.eofs > 1 {
		return copy(p, r.more), nil
	}
	return 0, io.EOF
}

// TestUploadReadStopsAtEOF: an upload is read up to its reader's first
// io.EOF, as io.ReadAll reads: what a reader returns after it is not part
// of the upload.
func TestUploadReadStopsAtEOF(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	e := setup(t, db, &Food{})
	jpg := photo(t, pizzaJPG)
	for name, r := range map[string]*afterEOF{
		"then a script": {data: jpg, more: []byte("<script>alert(1)</script>")},
		"then for ever": {data: jpg, more: bytes.Repeat([]byte{0}, 32<<10), endless: true},
	} {
		food := Food{Name: name, Image: field.NewImage("a.jpg", r)}
		if err := db.WithContext(ctx).Create(&food).Error; err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := e.read(t, food.Image.Name()); !bytes.Equal(got, jpg) {
			t.Errorf("%s: stored %d bytes, the upload is %d", name, len(got), len(jpg))
		}
	}
}

// TestEmptyStoredSource: a stored source emptied since its save (a disk
// that filled up, a hand's truncate) makes a lazy size and Regenerate
// fail with ErrInvalidImage naming the file, not blaming an upload's
// reader; nothing is made.
func TestEmptyStoredSource(t *testing.T) {
	ctx := context.Background()
	e := setup(t, openSQLite(t), &Food{})
	food := newFood(t, "a", pizzaJPG)
	if err := e.db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	e.write(t, food.Image.Name(), nil)
	_, lazy := food.Image.Thumbnail(ctx, "large")
	var regen error
	c, err := thumbnails.Regenerate(ctx, e.db, &Food{}, thumbnails.RegenerateOptions{
		Progress: func(p thumbnails.Progress) {
			if p.Err != nil {
				regen = p.Err
			}
		},
	})
	if err != nil || c.Failed != 1 {
		t.Errorf("Regenerate: %+v, %v; want the row failed", c, err)
	}
	for what, err := range map[string]error{"lazy size": lazy, "Regenerate": regen} {
		if !errors.Is(err, thumbnails.ErrInvalidImage) || !strings.Contains(err.Error(), food.Image.Name()) || strings.Contains(err.Error(), "upload") {
			t.Errorf("%s: %v; want ErrInvalidImage naming %s, and no upload", what, err, food.Image.Name())
		}
	}
}

// largeScanned returns the markers of a w×h progressive JPEG of n scans,
// each of a byte of data, after a padding segment that makes the file long
// enough for its blocks (see TestJPEGTooShortForItsFrame): what the walk
// over the markers sees of a scan bomb of end-of-band runs.
func largeScanned(w, h, n int) []byte {
	out := []byte{0xff, 0xd8}
	for pad := ((w+7)/8*((h+7)/8))/8 + 1; pad > 0; pad -= 65000 {
		out = append(out, 0xff, 0xef, 0xfd, 0xea) // APP15 of 65,000 bytes
		out = append(out, make([]byte, 65000-2)...)
	}
	out = append(out, 0xff, 0xc2, 0, 11, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0)
	for range n {
		out = append(out, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 0, 0, 0x2a)
	}
	return append(out, 0xff, 0xd9)
}

// TestLargeJPEGScanLimit: a JPEG of 50 megapixels takes at most 20 scans
// (scans × pixels at most 20 × MaxPixels), not the 100 a small one may
// have: 100 scans of end-of-band runs on 7071x7071 pixels, a 400 KB file,
// took a save 10 s of CPU and 1.4 GB in image/jpeg. One of 20 scans
// passes the check (and this one, all markers, is then refused as
// invalid by the decoders).
func TestLargeJPEGScanLimit(t *testing.T) {
	e := setup(t, openSQLite(t), &Food{})
	for _, n := range []int{20, 21} {
		data := largeScanned(7071, 7071, n)
		err := e.db.Create(&Food{Image: field.NewImage("large.jpg", bytes.NewReader(data))}).Error
		switch {
		case n == 21 && (!errors.Is(err, thumbnails.ErrImageTooLarge) || !strings.Contains(err.Error(), "scans")):
			t.Errorf("7071x7071, %d scans: %v, want ErrImageTooLarge for its scans", n, err)
		case n == 20 && !errors.Is(err, thumbnails.ErrInvalidImage):
			t.Errorf("7071x7071, %d scans of nothing: %v, want the decoders' ErrInvalidImage", n, err)
		}
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("refused uploads stored %v", files)
	}
}
