//go:build !(turbojpeg && cgo)

package thumbnails

import (
	"errors"
	"image"
	"os"
	"testing"

	"github.com/disintegration/gift"

	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// TestInvalidJPEGNotDecodedWholeAgain: a JPEG that internal/jpegdct found
// invalid while decoding it reduced is left to image/jpeg, which refuses
// it too, and is not decoded a third time whole by jpegdct (wholeJPEG),
// which reads the same scans: a crafted progressive file spent seconds in
// each of the three.
func TestInvalidJPEGNotDecodedWholeAgain(t *testing.T) {
	data, err := os.ReadFile("internal/jpegdct/testdata/progressive-pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	truncated := data[:len(data)*2/3] // mid-scan, no EOI
	calls := 0
	defer func(f func([]byte, int64) (image.Image, error)) { wholeJPEG = f }(wholeJPEG)
	inner := wholeJPEG
	wholeJPEG = func(b []byte, maxPixels int64) (image.Image, error) {
		calls++
		return inner(b, maxPixels)
	}
	small := sizes.Size{Name: "small", Processors: []gift.Filter{processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)}}
	if _, err := decode(truncated, DefaultLimits, []sizes.Size{small}); !errors.Is(err, ErrInvalidImage) {
		t.Fatalf("a truncated progressive JPEG: %v, want ErrInvalidImage", err)
	}
	if calls != 0 {
		t.Errorf("decoded whole again %d times after the reduced decode found it invalid", calls)
	}
	// decoded whole from the start (a size that needs every pixel), it is
	// still tried by jpegdct once image/jpeg refuses it
	if _, err := decode(truncated, DefaultLimits, nil); !errors.Is(err, ErrInvalidImage) || calls != 1 {
		t.Errorf("decoded whole: %v, %d calls of wholeJPEG; want ErrInvalidImage after one", err, calls)
	}
}
