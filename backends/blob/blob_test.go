package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/backends/backendtest"
	"github.com/gorm-thumbnails/thumbnails/backends/blob"
	"github.com/gorm-thumbnails/thumbnails/internal/fakes3"
)

func TestRoundTrip(t *testing.T) {
	f := fakes3.New(t)
	s := blob.NewStorage(f.Bucket, "https://cdn.example") // the slash is added
	ctx := context.Background()
	if _, ok := s.(backends.Lister); !ok {
		t.Fatal("the storage does not implement backends.Lister")
	}

	before := time.Now().Add(-time.Minute)
	content := []byte("\x89PNG not really")
	name, err := s.Save(ctx, "foods/./ab12_small.png", bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if name != "foods/ab12_small.png" {
		t.Fatalf("Save returned %q, want the cleaned name", name)
	}
	attrs, err := f.Bucket.Attributes(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.ContentType != "image/png" {
		t.Errorf("Content-Type = %q, want image/png", attrs.ContentType)
	}
	if _, err := s.Save(ctx, "foods/ab12.jpg", strings.NewReader("jpeg")); err != nil {
		t.Fatal(err)
	}

	// Open makes one request: no existence check before the read.
	reqs := f.Requests.Load()
	rc, err := s.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("Open read %q, %v; want %q", got, err, content)
	}
	if n := f.Requests.Load() - reqs; n != 1 {
		t.Errorf("Open made %d requests, want 1", n)
	}

	// Save replaces.
	if _, err := s.Save(ctx, name, strings.NewReader("v2")); err != nil {
		t.Fatal(err)
	}
	if b, err := f.Bucket.ReadAll(ctx, name); err != nil || string(b) != "v2" {
		t.Fatalf("after replace: %q, %v", b, err)
	}

	var listed []backends.FileInfo
	err = s.(backends.Lister).List(ctx, func(fi backends.FileInfo) error {
		listed = append(listed, fi)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(listed, func(a, b backends.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	if len(listed) != 2 || listed[0].Name != "foods/ab12.jpg" || listed[1].Name != name {
		t.Fatalf("List = %+v", listed)
	}
	if listed[0].Size != 4 || listed[1].Size != 2 {
		t.Errorf("List sizes = %d, %d; want 4, 2", listed[0].Size, listed[1].Size)
	}
	for _, fi := range listed {
		if fi.ModTime.Before(before) || fi.ModTime.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: ModTime %v is not now", fi.Name, fi.ModTime)
		}
	}

	// An error from fn stops the listing and is returned.
	stop := errors.New("stop")
	calls := 0
	err = s.(backends.Lister).List(ctx, func(backends.FileInfo) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with a failing fn: %v after %d calls", err, calls)
	}

	if err := s.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if keys := f.Keys(t); !slices.Equal(keys, []string{"foods/ab12.jpg"}) {
		t.Fatalf("keys after delete = %q", keys)
	}

	for in, want := range map[string]string{
		"foods/ab12_small.png": "https://cdn.example/foods/ab12_small.png",
		"a b/ü?.jpg":           "https://cdn.example/a%20b/%C3%BC%3F.jpg",
	} {
		if got := s.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := blob.NewStorage(f.Bucket, "").URL("x.jpg"); got != "x.jpg" {
		t.Errorf("URL with no base = %q", got)
	}
}

// TestURLMatchesFileSystem checks that both storages give the same URLs.
func TestURLMatchesFileSystem(t *testing.T) {
	s := blob.NewStorage(nil, "/media")
	fs := backends.NewFileSystemStorage(t.TempDir(), "/media")
	for _, name := range []string{"foods/ab.jpg", "a b/c#d.png", "ü/%.gif", "x~y_z-1.jpg"} {
		if got, want := s.URL(name), fs.URL(name); got != want {
			t.Errorf("URL(%q) = %q, file storage says %q", name, got, want)
		}
	}
}

func TestHostileNames(t *testing.T) {
	f := fakes3.New(t)
	s := blob.NewStorage(f.Bucket, "https://cdn.example/")
	ctx := context.Background()
	for _, name := range []string{"", ".", "/etc/passwd", "../x.jpg", "a/../../x.jpg", "a/..", `a\b.jpg`, "a\x00b.jpg", "a\nb.jpg"} {
		reqs := f.Requests.Load()
		if _, err := s.Save(ctx, name, strings.NewReader("x")); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Save(%q) = %v, want ErrInvalidName", name, err)
		}
		if _, err := s.Open(ctx, name); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Open(%q) = %v, want ErrInvalidName", name, err)
		}
		if err := s.Delete(ctx, name); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidName", name, err)
		}
		if n := f.Requests.Load() - reqs; n != 0 {
			t.Errorf("%q: %d requests sent for a refused name", name, n)
		}
	}
	if keys := f.Keys(t); len(keys) != 0 {
		t.Fatalf("hostile names stored %q", keys)
	}
}

// TestListSkipsUnsafeKeys checks that keys the Storage could not open or
// delete, written to the bucket by something else, are not listed.
func TestListSkipsUnsafeKeys(t *testing.T) {
	f := fakes3.New(t)
	s := blob.NewStorage(f.Bucket, "")
	ctx := context.Background()
	for _, key := range []string{"ok/a.jpg", "/abs.jpg", "a/../b.jpg", "a//b.jpg"} {
		if err := f.Bucket.WriteAll(ctx, key, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	if err := s.(backends.Lister).List(ctx, func(fi backends.FileInfo) error {
		names = append(names, fi.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"ok/a.jpg"}) {
		t.Fatalf("List = %q, want only ok/a.jpg", names)
	}
}

func TestMissing(t *testing.T) {
	f := fakes3.New(t)
	s := blob.NewStorage(f.Bucket, "")
	ctx := context.Background()
	// One request each: the failed request's own error says the object
	// is missing (a second one asking would double the requests of every
	// 404, and race a concurrent write).
	reqs := f.Requests.Load()
	if _, err := s.Open(ctx, "foods/nope.jpg"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open of a missing name = %v, want ErrNotFound", err)
	}
	if n := f.Requests.Load() - reqs; n != 1 {
		t.Errorf("Open of a missing name made %d requests, want 1", n)
	}
	reqs = f.Requests.Load()
	if err := s.Delete(ctx, "foods/nope.jpg"); err != nil {
		t.Errorf("Delete of a missing name = %v, want nil", err)
	}
	if n := f.Requests.Load() - reqs; n != 1 {
		t.Errorf("Delete of a missing name made %d requests, want 1", n)
	}
	// An empty bucket lists nothing, without error.
	if err := s.(backends.Lister).List(ctx, func(fi backends.FileInfo) error {
		t.Errorf("listed %+v", fi)
		return nil
	}); err != nil {
		t.Errorf("List of an empty bucket = %v", err)
	}
}

// cancelReader cancels its context once half of its content has been read,
// as a client that disconnects in the middle of an upload.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n <= 0 && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	if c.n > 0 {
		p = p[:min(len(p), c.n)]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestCancelledContext(t *testing.T) {
	f := fakes3.New(t)
	s := blob.NewStorage(f.Bucket, "")
	if _, err := s.Save(context.Background(), "kept.jpg", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Save(ctx, "a.jpg", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Save = %v, want context.Canceled", err)
	}
	if _, err := s.Open(ctx, "kept.jpg"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "kept.jpg"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete = %v, want context.Canceled", err)
	}
	if err := s.(backends.Lister).List(ctx, func(backends.FileInfo) error { return nil }); err == nil {
		t.Error("List with a cancelled context succeeded")
	}

	// Cancelled in the middle of the upload: an error, and nothing stored.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	body := &cancelReader{r: bytes.NewReader(make([]byte, 1<<20)), n: 1 << 19, cancel: cancel}
	if _, err := s.Save(ctx, "half.jpg", body); err == nil {
		t.Error("Save cancelled mid-upload succeeded")
	}
	if keys := f.Keys(t); !slices.Equal(keys, []string{"kept.jpg"}) {
		t.Errorf("keys = %q, want only kept.jpg", keys)
	}
}

// errReader fails after some bytes, as a broken upload stream.
type errReader struct{ n int }

func (e *errReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := min(len(p), e.n)
	e.n -= n
	return n, nil
}

func TestSaveFailingReader(t *testing.T) {
	f := fakes3.New(t)
	s := blob.NewStorage(f.Bucket, "")
	if _, err := s.Save(context.Background(), "broken.jpg", &errReader{n: 100 << 10}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Save = %v, want the reader's error", err)
	}
	if keys := f.Keys(t); len(keys) != 0 {
		t.Fatalf("a failed save stored %q", keys)
	}
}

// TestStorageConforms runs the conformance suite of package backendtest on
// the Storage over S3 (a fake S3 server, through the AWS SDK).
func TestStorageConforms(t *testing.T) {
	backendtest.TestStorage(t, func(t *testing.T) backends.Storage {
		return blob.NewStorage(fakes3.New(t).Bucket, "https://cdn.example/")
	})
}
