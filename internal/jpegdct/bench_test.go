package jpegdct

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkDecode decodes a 2560x1600 photo (../shared/testdata/photos when
// present, else the project's 1800x1200 EXIF sample) with image/jpeg and
// reduced 2, 4 and 8 times with Decode, then its progressive transcode
// (made by jpegtran when it is installed, else the 600x400 progressive
// fixture) with both.
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

	progressive, err := progressiveOf(b, name)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("progressive/image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(progressive)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("progressive/reduced-2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(progressive, 2, 1<<30); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// progressiveOf returns the progressive transcode of the JPEG file name by
// jpegtran, or the 600x400 progressive fixture when jpegtran is missing.
func progressiveOf(b *testing.B, name string) ([]byte, error) {
	if _, err := exec.LookPath("jpegtran"); err != nil {
		b.Logf("jpegtran is not installed: the progressive case decodes testdata/progressive-pizza-600x400.jpg")
		return os.ReadFile("testdata/progressive-pizza-600x400.jpg")
	}
	out := filepath.Join(b.TempDir(), "progressive.jpg")
	if err := exec.Command("jpegtran", "-progressive", "-copy", "none", "-outfile", out, name).Run(); err != nil {
		return nil, err
	}
	b.Logf("progressive case: %s transcoded by jpegtran -progressive", name)
	return os.ReadFile(out)
}
