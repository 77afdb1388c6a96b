package jpegdct

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os"
	"testing"
)

// BenchmarkDecode decodes a 2560x1600 photo (../shared/testdata/photos when
// present, else the project's 1800x1200 EXIF sample) with image/jpeg and
// reduced 2, 4 and 8 times with Decode.
func BenchmarkDecode(b *testing.B) {
	name := "../../../shared/testdata/photos/Kite-2560x1600.jpg"
	data, err := os.ReadFile(name)
	if err != nil {
		name = "../../testdata/exif/Landscape_1.jpg"
		if data, err = os.ReadFile(name); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("decoding %s", name)
	b.Run("image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, k := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("reduced-%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(data, k, 1<<30); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
