package thumbnails

import (
	"os"
	"testing"
)

// BenchmarkPlaceholder measures what Config.Placeholders adds to the save
// of a 1800x1200 photo: the downscale by means of samples and the PNG
// encoding, from the decoded image.
func BenchmarkPlaceholder(b *testing.B) {
	data, err := os.ReadFile("testdata/exif/Landscape_1.jpg")
	if err != nil {
		b.Fatal(err)
	}
	src, err := decode(data, DefaultLimits, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := placeholder(src.img); err != nil {
			b.Fatal(err)
		}
	}
}
