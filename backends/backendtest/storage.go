package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// invalidNames are names that a Storage refuses with an error wrapping
// backends.ErrInvalidName, as that error's doc comment defines them:
// empty, absolute, holding a backslash, a control character (NUL
// included) or a ".." element, or escaping the root. "a/../keep.jpg" would
// name a file the test stores, were it cleaned instead of refused.
var invalidNames = []string{
	"",
	"..",
	"../x.jpg",
	"a/../../x.jpg",
	"a/../keep.jpg",
	"a/..",
	"/etc/passwd",
	"/",
	`a\b.jpg`,
	`..\x.jpg`,
	"a\x00b.jpg",
	"a\nb.jpg",
	"a\x7fb.jpg",
}

// TestStorage runs subtests that check the contract of backends.Storage
// on the storages newStorage returns, one a subtest, each empty (see the
// package doc); those of backends.Lister too, when the storage implements
// it (the subtest List is skipped otherwise).
//
// The subtests check that:
//
//   - RoundTrip: what Save stored is what Open returns, under the name Save
//     returned, for small, empty and large (1 MiB) content and for names with
//     spaces and non-ASCII letters.
//   - SaveReplaces: a Save of a name that is stored replaces its content
//     whole, longer or shorter.
//   - FailedSave: a Save whose reader fails part way returns an error and
//     leaves nothing of its content under the name: a new name stays
//     missing, a stored one keeps its old content whole (or is missing).
//   - OpenMissing: an Open of a name that is not stored (never saved,
//     deleted, a folder of stored names, a name under a stored file) fails
//     with an error wrapping backends.ErrNotFound.
//   - Delete: a Delete removes the name and no other; one of a name that is
//     not stored succeeds, so that a retried clean-up does.
//   - InvalidNames: Save, Open and Delete refuse the names that
//     backends.ErrInvalidName describes with an error wrapping it, store
//     nothing and delete nothing (backends.CleanName checks a name so).
//   - URL: a stored name has a URL, the same each time, and two names two
//     URLs.
//   - List: a Lister lists every stored file once with its size and a
//     time of last write, not the deleted ones, and an error from the
//     callback stops it and is returned (wrapped or not).
//   - Concurrent: Saves, Opens, Deletes (and Lists) from several goroutines
//     at once work, and readers of a name that several goroutines save at
//     once see one whole content or none, never a part.
func TestStorage(t *testing.T, newStorage func(t *testing.T) backends.Storage) {
	t.Helper()
	run(t, "newStorage", newStorage, []subtest[backends.Storage]{
		{"RoundTrip", storageRoundTrip},
		{"SaveReplaces", storageSaveReplaces},
		{"FailedSave", storageFailedSave},
		{"OpenMissing", storageOpenMissing},
		{"Delete", storageDelete},
		{"InvalidNames", storageInvalidNames},
		{"URL", storageURL},
		{"List", storageList},
		{"Concurrent", storageConcurrent},
	})
}

// save stores content under name and returns the name Save gave back.
func save(t *testing.T, s backends.Storage, name string, content []byte) string {
	t.Helper()
	got, err := s.Save(context.Background(), name, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("Save(%q): %v", name, err)
	}
	if got == "" {
		t.Fatalf("Save(%q) returned an empty name", name)
	}
	return got
}

// read opens name and reads it whole, with the error of Open, of the read
// or of Close.
func read(s backends.Storage, name string) ([]byte, error) {
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		if rc != nil {
			_ = rc.Close()
		}
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("Close: %w", cerr)
	}
	return b, err
}

// checkContent fails t unless name holds want.
func checkContent(t *testing.T, s backends.Storage, name string, want []byte) {
	t.Helper()
	got, err := read(s, name)
	if err != nil {
		t.Errorf("Open(%q): %v; want %s", name, err, describe(want))
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Open(%q) read %s; want %s", name, describe(got), describe(want))
	}
}

// checkMissing fails t unless an Open of name fails with ErrNotFound.
func checkMissing(t *testing.T, s backends.Storage, name, why string) {
	t.Helper()
	got, err := read(s, name)
	if !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Open(%q) (%s) = %s, %v; want an error wrapping backends.ErrNotFound", name, why, describe(got), err)
	}
}

func storageRoundTrip(t *testing.T, s backends.Storage) {
	files := []struct {
		name    string
		content []byte
	}{
		{"foods/3f1c9a.jpg", []byte("\xff\xd8\xff\xe0 not really a JPEG")},
		{"thumbnails/foods/3f1c9a_small.jpg", pattern(1, 999)},
		{"top.png", []byte("\x89PNG\r\n\x1a\n")},
		{"foods/a b é/ü.jpg", []byte("a legacy column's name")},
		{"foods/empty.gif", []byte{}},
		{"foods/large.webp", pattern(2, 1<<20+17)},
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = save(t, s, f.name, f.content)
	}
	for i, f := range files {
		checkContent(t, s, names[i], f.content)
	}
	// read again: an Open does not consume what it reads
	checkContent(t, s, names[0], files[0].content)
}

func storageSaveReplaces(t *testing.T, s backends.Storage) {
	for i, content := range [][]byte{
		[]byte("first"),
		[]byte("a second, longer version"),
		[]byte("third"),
		pattern(3, 300_000),
		[]byte("x"),
	} {
		name := save(t, s, "foods/replaced.jpg", content)
		checkContent(t, s, name, content)
		if t.Failed() {
			t.Fatalf("after Save number %d", i+1)
		}
	}
}

func storageFailedSave(t *testing.T, s backends.Storage) {
	ctx := context.Background()
	heads := [][]byte{[]byte("half"), pattern(4, 300_000)}
	for i, head := range heads {
		name := fmt.Sprintf("foods/failed-new-%d.jpg", i)
		if got, err := s.Save(ctx, name, failingReader(head)); err == nil {
			t.Errorf("Save(%q) of a reader that fails after %d bytes = %q, nil; want an error", name, len(head), got)
		}
		checkMissing(t, s, name, "its only Save failed")

		old := pattern(5, 1000+i)
		name = save(t, s, fmt.Sprintf("foods/failed-old-%d.jpg", i), old)
		if _, err := s.Save(ctx, name, failingReader(head)); err == nil {
			t.Errorf("Save(%q) of a reader that fails after %d bytes = nil; want an error", name, len(head))
		}
		got, err := read(s, name)
		switch {
		case errors.Is(err, backends.ErrNotFound): // gone whole: allowed
		case err != nil:
			t.Errorf("Open(%q) after a failed Save: %v; want the old content (or ErrNotFound)", name, err)
		case !bytes.Equal(got, old):
			t.Errorf("Open(%q) after a failed Save read %s; want the old content whole, %s", name, describe(got), describe(old))
		}
	}
}

func storageOpenMissing(t *testing.T, s backends.Storage) {
	checkMissing(t, s, "foods/missing.jpg", "an empty storage")
	other := save(t, s, "foods/other.jpg", []byte("other"))
	gone := save(t, s, "foods/gone.jpg", []byte("gone"))
	if err := s.Delete(context.Background(), gone); err != nil {
		t.Fatalf("Delete(%q): %v", gone, err)
	}
	for _, c := range []struct{ name, why string }{
		{"foods/missing.jpg", "never saved, beside a stored name"},
		{"missing/a.jpg", "never saved, in no folder of stored names"},
		{"missing.jpg", "never saved, at the top"},
		{gone, "deleted"},
		{"foods", "a folder of stored names, not a stored name"},
		{other + "/x", "under a stored name"},
	} {
		checkMissing(t, s, c.name, c.why)
	}
	checkContent(t, s, other, []byte("other"))
}

func storageDelete(t *testing.T, s backends.Storage) {
	ctx := context.Background()
	deleteOK := func(name, why string) {
		t.Helper()
		if err := s.Delete(ctx, name); err != nil {
			t.Errorf("Delete(%q) (%s): %v; want nil", name, why, err)
		}
	}
	deleteOK("foods/missing.jpg", "an empty storage")
	a := save(t, s, "foods/a.jpg", []byte("a"))
	b := save(t, s, "foods/b.jpg", []byte("b"))
	c := save(t, s, "thumbnails/foods/a_small.jpg", []byte("c"))
	deleteOK(a, "stored")
	checkMissing(t, s, a, "deleted")
	deleteOK(a, "deleted already: a retried clean-up")
	deleteOK("foods/missing.jpg", "never saved")
	deleteOK("missing/a.jpg", "in no folder of stored names")
	deleteOK(b+"/x", "under a stored name")
	checkContent(t, s, b, []byte("b"))
	checkContent(t, s, c, []byte("c"))
	// the last name of a folder, then the folder used again
	deleteOK(c, "stored")
	checkMissing(t, s, c, "deleted")
	c = save(t, s, "thumbnails/foods/a_small.jpg", []byte("c again"))
	checkContent(t, s, c, []byte("c again"))
}

func storageInvalidNames(t *testing.T, s backends.Storage) {
	ctx := context.Background()
	keep := save(t, s, "keep.jpg", []byte("keep"))
	for _, name := range invalidNames {
		got, err := s.Save(ctx, name, bytes.NewReader([]byte("escaped")))
		if !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Save(%q) = %q, %v; want an error wrapping backends.ErrInvalidName", name, got, err)
		}
		rc, err := s.Open(ctx, name)
		if rc != nil {
			_ = rc.Close()
		}
		if !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Open(%q): %v; want an error wrapping backends.ErrInvalidName", name, err)
		}
		if err := s.Delete(ctx, name); !errors.Is(err, backends.ErrInvalidName) {
			t.Errorf("Delete(%q): %v; want an error wrapping backends.ErrInvalidName", name, err)
		}
	}
	checkContent(t, s, keep, []byte("keep"))
	for _, name := range []string{"x.jpg", "etc/passwd"} { // where a cleaned name would have gone
		checkMissing(t, s, name, "only invalid names were saved")
	}
	if l, ok := s.(backends.Lister); ok {
		var listed []string
		err := l.List(ctx, func(fi backends.FileInfo) error {
			listed = append(listed, fi.Name)
			return nil
		})
		if err != nil || len(listed) != 1 || listed[0] != keep {
			t.Errorf("List after Saves of invalid names = %q, %v; want [%q] alone", listed, err, keep)
		}
	}
}

func storageURL(t *testing.T, s backends.Storage) {
	names := []string{
		save(t, s, "foods/a.jpg", []byte("a")),
		save(t, s, "foods/b.jpg", []byte("b")),
		save(t, s, "thumbnails/foods/a_small.jpg", []byte("c")),
		save(t, s, "foods/a b é.jpg", []byte("d")),
	}
	seen := map[string]string{}
	for _, name := range names {
		u := s.URL(name)
		if u == "" {
			t.Errorf("URL(%q) is empty", name)
			continue
		}
		if again := s.URL(name); again != u {
			t.Errorf("URL(%q) = %q, then %q", name, u, again)
		}
		if prev, ok := seen[u]; ok {
			t.Errorf("URL(%q) = URL(%q) = %q", name, prev, u)
		}
		seen[u] = name
	}
}

func storageList(t *testing.T, s backends.Storage) {
	l, ok := s.(backends.Lister)
	if !ok {
		t.Skipf("%T does not implement backends.Lister", s)
	}
	ctx := context.Background()
	start := time.Now()
	want := map[string]int64{}
	for i, name := range []string{"foods/a.jpg", "foods/b.png", "thumbnails/foods/a_small.jpg", "thumbnails/foods/a_large.jpg", "top.gif"} {
		content := pattern(byte(10+i), 10*i+1)
		want[save(t, s, name, content)] = int64(len(content))
	}
	gone := save(t, s, "thumbnails/foods/gone.jpg", []byte("gone"))
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatalf("Delete(%q): %v", gone, err)
	}
	listed := map[string]int{}
	err := l.List(ctx, func(fi backends.FileInfo) error {
		listed[fi.Name]++
		size, ok := want[fi.Name]
		switch {
		case !ok:
			t.Errorf("List gave %q, which is not stored", fi.Name)
		case fi.Size != size:
			t.Errorf("List gave %q of %d bytes; want %d", fi.Name, fi.Size, size)
		}
		// An hour either way: the clock of a remote store may differ a little.
		if fi.ModTime.Before(start.Add(-time.Hour)) || fi.ModTime.After(time.Now().Add(time.Hour)) {
			t.Errorf("List gave %q last written at %v; want about %v", fi.Name, fi.ModTime, start)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for name := range want {
		if listed[name] != 1 {
			t.Errorf("List gave %q %d times; want once", name, listed[name])
		}
	}

	calls := 0
	err = l.List(ctx, func(backends.FileInfo) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Errorf("List whose callback fails = %v; want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("List called its callback %d times after it failed once; want it to stop", calls)
	}
}

func storageConcurrent(t *testing.T, s backends.Storage) {
	const workers, rounds = 4, 8
	ctx := context.Background()
	shared := "thumbnails/foods/shared_small.jpg"
	// Each worker saves its own content under the shared name, as the
	// writers of a lazy size do: every content is of its own length.
	contents := make([][]byte, workers)
	for w := range contents {
		contents[w] = pattern(byte(20+w), 20_000+w*7_001)
	}
	whole := func(b []byte) bool {
		for _, c := range contents {
			if bytes.Equal(b, c) {
				return true
			}
		}
		return false
	}
	// Reads go to the name Save gave back.
	sharedName := save(t, s, shared, contents[0])
	l, _ := s.(backends.Lister)
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*6+2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				own := fmt.Sprintf("foods/worker-%d/%d.jpg", w, r)
				content := pattern(byte(w*rounds+r), 100+r)
				name, err := s.Save(ctx, own, bytes.NewReader(content))
				if err != nil {
					errs <- fmt.Errorf("Save(%q): %w", own, err)
					continue
				}
				if got, err := read(s, name); err != nil || !bytes.Equal(got, content) {
					errs <- fmt.Errorf("Open(%q) of its own file: %s, %v; want %s", name, describe(got), err, describe(content))
				}
				if _, err := s.Save(ctx, shared, bytes.NewReader(contents[w])); err != nil {
					errs <- fmt.Errorf("Save(%q): %w", shared, err)
				}
				if got, err := read(s, sharedName); err != nil && !errors.Is(err, backends.ErrNotFound) {
					errs <- fmt.Errorf("Open(%q) while others save it: %w", sharedName, err)
				} else if err == nil && !whole(got) {
					errs <- fmt.Errorf("Open(%q) while others save it read %s: no writer's whole content", sharedName, describe(got))
				}
				if l != nil {
					if err := l.List(ctx, func(backends.FileInfo) error { return nil }); err != nil {
						errs <- fmt.Errorf("List while others save and delete: %w", err)
					}
				}
				if r%2 == 1 {
					if err := s.Delete(ctx, name); err != nil {
						errs <- fmt.Errorf("Delete(%q): %w", name, err)
					}
				}
			}
		}()
	}
	// Readers of the shared name while the workers save it.
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; i < 100_000; i++ {
				select {
				case <-done:
					return
				default:
				}
				if got, err := read(s, sharedName); err != nil && !errors.Is(err, backends.ErrNotFound) {
					errs <- fmt.Errorf("Open(%q) while others save it: %w", sharedName, err)
					return
				} else if err == nil && !whole(got) {
					errs <- fmt.Errorf("Open(%q) while others save it read %s: no writer's whole content", sharedName, describe(got))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, err := read(s, sharedName); err != nil || !whole(got) {
		t.Errorf("Open(%q) after the concurrent Saves: %s, %v; want one writer's whole content", sharedName, describe(got), err)
	}
}
