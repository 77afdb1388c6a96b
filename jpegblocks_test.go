package thumbnails_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
)

// TestJPEGTooShortForItsFrame: a JPEG whose frame claims more blocks than
// its bytes can code (every block of a Huffman-coded JPEG takes at least a
// bit) is refused as invalid before any decoder allocates its pixels: a
// few hundred bytes claiming 7000x7000 (under the 50-megapixel limit) made
// a save allocate about a gigabyte. A real photo of the same kind saves.
func TestJPEGTooShortForItsFrame(t *testing.T) {
	db := openSQLite(t)
	setup(t, db, &Food{})
	progressive := photo(t, "progressive-restart-pizza.jpg")
	sof := bytes.Index(progressive, []byte{0xff, 0xc2})
	sos := bytes.Index(progressive, []byte{0xff, 0xda})
	if sof < 0 || sos < sof {
		t.Fatal("the test photo is not a progressive JPEG")
	}
	// the frame made 7000x7000, the data cut 64 bytes into the first scan
	crafted := append([]byte(nil), progressive[:sos+2+12+64]...)
	binary.BigEndian.PutUint16(crafted[sof+5:], 7000)
	binary.BigEndian.PutUint16(crafted[sof+7:], 7000)
	crafted = append(crafted, 0xff, 0xd9)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	food := Food{Name: "crafted", Image: field.NewImage("x.jpg", reader(crafted))}
	err := db.Create(&food).Error
	runtime.ReadMemStats(&after)
	if !errors.Is(err, thumbnails.ErrInvalidImage) {
		t.Fatalf("a %d-byte JPEG claiming 7000x7000: %v, want ErrInvalidImage", len(crafted), err)
	}
	if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 64 {
		t.Errorf("refusing a %d-byte JPEG allocated %d MB", len(crafted), mb)
	}
	for _, name := range []string{"progressive-restart-pizza.jpg", pizzaJPG} {
		if err := db.Create(&Food{Name: name, Image: field.NewImage(name, reader(photo(t, name)))}).Error; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
