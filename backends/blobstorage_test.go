package backends_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// TestNewBlobStorage runs the Storage of backends.NewBlobStorage, called as
// the issue writes it, on a memory bucket of gocloud.dev/blob: a save with
// its Content-Type, a read, the listing, a failed write, and missing
// objects. (backends/blob's tests run the same Storage on an S3 server.)
func TestNewBlobStorage(t *testing.T) {
	ctx := context.Background()
	var bucket *blob.Bucket = memblob.OpenBucket(nil)
	defer bucket.Close()
	s := backends.NewBlobStorage(bucket, "https://cdn.example") // the slash is added

	before := time.Now().Add(-time.Minute)
	content := []byte("\x89PNG not really") // named .png, sniffed as text
	name, err := s.Save(ctx, "foods/./ab_small.png", bytes.NewReader(content))
	if err != nil || name != "foods/ab_small.png" {
		t.Fatalf("Save = %q, %v; want the cleaned name", name, err)
	}
	if attrs, err := bucket.Attributes(ctx, name); err != nil || attrs.ContentType != "image/png" {
		t.Errorf("attributes %+v, %v; want Content-Type image/png", attrs, err)
	}
	if got := s.URL(name); got != "https://cdn.example/foods/ab_small.png" {
		t.Errorf("URL = %q", got)
	}
	rc, err := s.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("Open read %q, %v", got, err)
	}

	// A reader that fails: the error, and nothing stored.
	broken := io.MultiReader(strings.NewReader("half"), iotestErr{})
	if _, err := s.Save(ctx, "foods/broken.jpg", broken); !errors.Is(err, errBroken) {
		t.Errorf("Save of a failing reader = %v, want its error", err)
	}
	if ok, _ := bucket.Exists(ctx, "foods/broken.jpg"); ok {
		t.Error("a failed save stored its object")
	}

	// The listing: the one object, with its size and time; a key this
	// Storage could not have written is skipped.
	if err := bucket.WriteAll(ctx, "a/../b.jpg", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	var listed []backends.FileInfo
	err = s.(backends.Lister).List(ctx, func(fi backends.FileInfo) error {
		listed = append(listed, fi)
		return nil
	})
	if err != nil || len(listed) != 1 || listed[0].Name != name || listed[0].Size != int64(len(content)) || listed[0].ModTime.Before(before) {
		t.Errorf("List = %+v, %v; want %s of %d bytes, modified now", listed, err, name, len(content))
	}

	if err := s.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, name); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open of a deleted object = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Errorf("Delete of a missing object = %v, want nil", err)
	}
	for _, bad := range []string{"../x.jpg", "/etc/passwd"} {
		if _, err := s.Save(ctx, bad, strings.NewReader("x")); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Save(%q) = %v, want ErrInvalidName", bad, err)
		}
	}

	// A closed bucket: errors, none of them ErrNotFound.
	closed := memblob.OpenBucket(nil)
	_ = closed.Close()
	cs := backends.NewBlobStorage(closed, "")
	if _, err := cs.Open(ctx, "a.jpg"); err == nil || errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open on a closed bucket = %v, want an error other than ErrNotFound", err)
	}
	if err := cs.Delete(ctx, "a.jpg"); err == nil {
		t.Error("Delete on a closed bucket succeeded")
	}
}

var errBroken = errors.New("broken upload")

// iotestErr is a reader that fails with errBroken.
type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errBroken }

// TestBackendsDoesNotImportGoCloud checks that NewBlobStorage leaves
// gocloud.dev out of the build of package backends and of the plugin.
func TestBackendsDoesNotImportGoCloud(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".", "..").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "gocloud.dev/") {
			t.Errorf("package backends or thumbnails imports %s", pkg)
		}
	}
	if !strings.Contains(string(out), "github.com/gorm-thumbnails/thumbnails/backends\n") {
		t.Errorf("go list did not list package backends:\n%s", out)
	}
}

// goingBucket is a memory bucket whose listing fails once, after its first
// object, with the NotFound error of a file that went while listed (as
// gocloud's fileblob, which stats each file, fails it).
type goingBucket struct {
	*blob.Bucket
	failed *bool
}

func (b goingBucket) List(opts *blob.ListOptions) *goingIterator {
	return &goingIterator{it: b.Bucket.List(opts), b: b}
}

type goingIterator struct {
	it *blob.ListIterator
	b  goingBucket
	n  int
}

func (g *goingIterator) Next(ctx context.Context) (*blob.ListObject, error) {
	if g.n++; g.n == 2 && !*g.b.failed {
		*g.b.failed = true
		_, err := g.b.Bucket.NewReader(ctx, "gone/while-listed.png", nil)
		return nil, err
	}
	return g.it.Next(ctx)
}

// TestBlobListWhileFilesGo lists a bucket whose listing fails on a file
// that went while it was listed: the listing starts again, and gives each
// file once.
func TestBlobListWhileFilesGo(t *testing.T) {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	s := backends.NewBlobStorage(goingBucket{bucket, new(bool)}, "/media/")
	want := []string{"a/1.png", "a/2.png", "b/1.png"}
	for _, name := range want {
		if _, err := s.Save(ctx, name, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	var listed []string
	err := s.(backends.Lister).List(ctx, func(f backends.FileInfo) error {
		listed = append(listed, f.Name)
		return nil
	})
	slices.Sort(listed)
	if err != nil || !slices.Equal(listed, want) {
		t.Errorf("List = %v, %v; want %v", listed, err, want)
	}
}
