package backends_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"gocloud.dev/blob/fileblob"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// TestBlobStorageNameUnderAFile runs the blob storage on gocloud's
// fileblob, a driver NewBlobStorage supports: a name under a stored file
// ("a_small.png/x.png", as a crafted URL gives the Handler) is a missing
// object, as on the file storage. Open gave an untyped error ("not a
// directory"), which the Handler answered with 500.
func TestBlobStorageNameUnderAFile(t *testing.T) {
	ctx := context.Background()
	bucket, err := fileblob.OpenBucket(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	s := backends.NewBlobStorage(bucket, "/media/")
	name, err := s.Save(ctx, "foods/a_small.png", bytes.NewReader([]byte("png")))
	if err != nil {
		t.Fatal(err)
	}
	under := name + "/x.png"
	if _, err := s.Open(ctx, under); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open(%q) = %v; want ErrNotFound", under, err)
	}
	long := "foods/" + strings.Repeat("x", 300) + ".png" // longer than a file name can be
	if _, err := s.Open(ctx, long); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open of a name too long for a file = %v; want ErrNotFound", err)
	}
	if _, err := s.Open(ctx, "foods/missing.png"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open of a missing object = %v; want ErrNotFound", err)
	}
	if err := s.Delete(ctx, under); err != nil {
		t.Errorf("Delete(%q) = %v; want nil, as of a missing object", under, err)
	}
}
