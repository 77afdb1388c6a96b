package thumbnails

import (
	"fmt"
	"os"
	"testing"
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
