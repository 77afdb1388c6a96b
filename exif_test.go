package thumbnails

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"testing"

	"github.com/disintegration/gift"
	"github.com/gen2brain/webp"
)

func TestJPEGOrientation(t *testing.T) {
	for n := 0; n <= 8; n++ {
		data, err := os.ReadFile(fmt.Sprintf("testdata/exif/Landscape_%d.jpg", n))
		if err != nil {
			t.Fatal(err)
		}
		want := n
		if n == 0 {
			want = 1 // no tag: upright
		}
		if got := jpegOrientation(data); got != want {
			t.Errorf("Landscape_%d: orientation %d, want %d", n, got, want)
		}
		// every truncation of the header is read without a panic
		for cut := 0; cut < 200 && cut < len(data); cut++ {
			_ = jpegOrientation(data[:cut])
		}
	}
	for name, data := range map[string][]byte{
		"empty":       nil,
		"png":         []byte("\x89PNG\r\n\x1a\n"),
		"bad length":  {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01},
		"bad tiff":    append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10}, []byte("Exif\x00\x00XX\x00\x2a\x00\x00\x00\x08")...),
		"ifd outside": append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10}, []byte("Exif\x00\x00II\x2a\x00\xff\xff\x00\x00")...),
	} {
		if got := jpegOrientation(data); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
}

func FuzzJPEGOrientation(f *testing.F) {
	for _, n := range []int{1, 6} {
		data, err := os.ReadFile(fmt.Sprintf("testdata/exif/Landscape_%d.jpg", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:4096])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d out of range", o)
		}
	})
}

// exifOf returns the TIFF block of a JPEG's EXIF segment.
func exifOf(t *testing.T, jpg []byte) []byte {
	t.Helper()
	i := bytes.Index(jpg, []byte("Exif\x00\x00"))
	if i < 4 {
		t.Fatal("no EXIF segment")
	}
	n := int(binary.BigEndian.Uint16(jpg[i-2:]))
	return jpg[i+6 : i-2+n]
}

// withPNGChunk returns png with a chunk of kind and data inserted after
// its IHDR.
func withPNGChunk(p []byte, kind string, data []byte) []byte {
	at := 8 + 8 + 13 + 4 // signature, IHDR
	var c bytes.Buffer
	_ = binary.Write(&c, binary.BigEndian, uint32(len(data)))
	c.WriteString(kind)
	c.Write(data)
	_ = binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	return append(append(append([]byte{}, p[:at]...), c.Bytes()...), p[at:]...)
}

// withWebPEXIF returns a simple WebP file of w×h pixels rewritten in the
// extended format (a VP8X chunk) with an EXIF chunk.
func withWebPEXIF(wp []byte, w, h int, exif []byte) []byte {
	chunk := func(kind string, data []byte) []byte {
		var c bytes.Buffer
		c.WriteString(kind)
		_ = binary.Write(&c, binary.LittleEndian, uint32(len(data)))
		c.Write(data)
		if len(data)%2 == 1 {
			c.WriteByte(0)
		}
		return c.Bytes()
	}
	vp8x := []byte{0x08, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	body := append(append(chunk("VP8X", vp8x), wp[12:]...), chunk("EXIF", exif)...)
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(4+len(body)))
	out.WriteString("WEBP")
	out.Write(body)
	return out.Bytes()
}

// TestPNGAndWebPOrientation reads the EXIF orientation of PNG (eXIf) and
// WebP (EXIF chunk) sources made from the EXIF samples: each is decoded
// upright, 1800x1200, as the JPEG is.
func TestPNGAndWebPOrientation(t *testing.T) {
	ImageOnly(t)
	for _, n := range []int{1, 3, 6, 8} {
		jpg, err := os.ReadFile(fmt.Sprintf("testdata/exif/Landscape_%d.jpg", n))
		if err != nil {
			t.Fatal(err)
		}
		exif := exifOf(t, jpg)
		stored, err := jpeg.Decode(bytes.NewReader(jpg)) // as stored: no orientation applied
		if err != nil {
			t.Fatal(err)
		}
		small := gift.New(gift.Resize(stored.Bounds().Dx()/4, 0, gift.BoxResampling))
		img := image.NewNRGBA(small.Bounds(stored.Bounds()))
		small.Draw(img, stored)
		var p bytes.Buffer
		if err := png.Encode(&p, img); err != nil {
			t.Fatal(err)
		}
		pngData := withPNGChunk(p.Bytes(), "eXIf", exif)
		var wp bytes.Buffer
		if err := webp.Encode(&wp, img, webp.Options{Lossless: true}); err != nil {
			t.Fatal(err)
		}
		webpData := withWebPEXIF(wp.Bytes(), img.Bounds().Dx(), img.Bounds().Dy(), append([]byte("Exif\x00\x00"), exif...))
		for format, data := range map[string][]byte{"png": pngData, "webp": webpData} {
			got := map[string]int{"png": pngOrientation(data), "webp": webpOrientation(data)}[format]
			if got != n {
				t.Errorf("Landscape_%d as %s: orientation %d, want %d", n, format, got, n)
			}
			src, err := decode(data, DefaultLimits, nil)
			if err != nil {
				t.Fatalf("Landscape_%d as %s: %v", n, format, err)
			}
			if b := src.img.Bounds(); b.Dx() != 450 || b.Dy() != 300 || src.size != image.Pt(450, 300) {
				t.Errorf("Landscape_%d as %s: decoded %v (size %v), want 450x300 upright", n, format, b, src.size)
			}
		}
	}
	for _, data := range [][]byte{nil, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x10eXIf"), []byte("RIFF\x00\x00\x00\x00WEBPEXIF\xff\xff\xff\xff")} {
		if pngOrientation(data) != 1 || webpOrientation(data) != 1 {
			t.Errorf("%q: an orientation", data)
		}
	}
}
