package thumbnails

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// fullFile is a temporary file with room for so many bytes, as on a full
// or small file system: a write past them fails, having written what fit.
type fullFile struct {
	*os.File
	room int
}

func (f *fullFile) Write(p []byte) (int, error) {
	if len(p) <= f.room {
		f.room -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:f.room])
	f.room = 0
	return n, errors.New("no space left on device")
}

// TestSpillToAFullFileSystem reads upload streams of unknown length whose
// temporary file fills up: from the start, and part way. A valid stream is
// then read in memory, whole and in order, as where no temporary file can
// be created; one over MaxBytes is still ErrImageTooLarge. (Before, a
// write that failed refused a valid upload with an untyped error.)
func TestSpillToAFullFileSystem(t *testing.T) {
	jpg, err := os.ReadFile("testdata/pizza-600x400.jpg")
	if err != nil {
		t.Fatal(err)
	}
	stream := make([]byte, 3<<20) // a JPEG, and trailing bytes decoders ignore
	copy(stream, jpg)
	for i := len(jpg); i < len(stream); i++ {
		stream[i] = byte(i * 7) // no two chunks alike: their order shows
	}

	defer func(orig func() (spillFile, error)) { createTemp = orig }(createTemp)
	for _, room := range []int{0, 100, streamInMemory + 5000, 2<<20 + 1} {
		var removed []string
		createTemp = func() (spillFile, error) {
			f, err := os.CreateTemp(t.TempDir(), "upload-*")
			removed = append(removed, f.Name())
			return &fullFile{File: f, room: room}, err
		}
		data, err := readUpload(struct{ io.Reader }{bytes.NewReader(stream)}, DefaultLimits)
		if err != nil || !bytes.Equal(data, stream) {
			t.Errorf("room for %d bytes: %d bytes read, %v; want the %d of the stream", room, len(data), err, len(stream))
		}
		for _, name := range removed {
			if _, err := os.Stat(name); !os.IsNotExist(err) {
				t.Errorf("room for %d bytes: the temporary file is left: %v", room, err)
			}
		}
		huge := append(bytes.Clone(stream), make([]byte, 50<<20)...)
		if _, err := readUpload(struct{ io.Reader }{bytes.NewReader(huge)}, DefaultLimits); !errors.Is(err, ErrImageTooLarge) {
			t.Errorf("room for %d bytes, 53 MiB: %v, want ErrImageTooLarge", room, err)
		}
	}
}
