package jpegdct

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode decodes arbitrary bytes without Decode's recover: nothing may
// panic, whatever image/jpeg refuses is refused (but the restart markers
// in a progressive scan of a subsampled component that it gets wrong), and
// an accepted image has the bounds of its header reduced.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jp*g")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, shift uint8) {
		n := 1 << (shift % 4) // 1, 2, 4 or 8
		d := &decoder{data: data, n: n, adobe: -1, limit: 1 << 20}
		err := d.decode()
		var img image.Image
		if err == nil {
			img, err = d.image()
		}
		if err != nil {
			return
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("image/jpeg refuses its header (%v), decodeReduced does not", err)
		}
		if cfg.Width*cfg.Height > 1<<20 {
			t.Fatalf("%dx%d decoded over the limit", cfg.Width, cfg.Height)
		}
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil && !d.beyondImageJPEG {
			t.Fatalf("image/jpeg refuses it (%v), decodeReduced does not", err)
		}
		k := 8 / n
		if want := image.Rect(0, 0, (cfg.Width+k-1)/k, (cfg.Height+k-1)/k); img.Bounds() != want {
			t.Fatalf("%v, want %v", img.Bounds(), want)
		}
	})
}
