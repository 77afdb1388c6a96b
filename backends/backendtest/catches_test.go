package backendtest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/backends/backendtest"
)

// faultEnv names the variable that makes TestBrokenBackend run the suite
// on a backend with that fault.
const faultEnv = "BACKENDTEST_FAULT"

// faults are backends that break one promise each, and the subtest of the
// suite that must fail on them.
var faults = []struct {
	fault, suite, subtest string
}{
	{"partial-save", "Storage", "FailedSave"},
	{"unwrapped-not-found", "Storage", "OpenMissing"},
	{"folder-opens", "Storage", "OpenMissing"},
	{"delete-missing-fails", "Storage", "Delete"},
	{"no-name-check", "Storage", "InvalidNames"},
	{"one-url", "Storage", "URL"},
	{"list-goes-on", "Storage", "List"},
	{"list-keeps-deleted", "Storage", "List"},
	{"torn-save", "Storage", "Concurrent"},
	{"put-replaces-source", "Metadata", "PutAgain"},
	{"first-wins", "Metadata", "PutSameSizeTwice"},
	{"put-none-records-nothing", "Metadata", "PutWithoutThumbnails"},
	{"empty-entries", "Metadata", "ThumbnailsOf"},
	{"duplicate-entries", "Metadata", "ThumbnailsOf"},
	{"delete-size-drops-source", "Metadata", "DeleteSize"},
	{"each-goes-on", "Metadata", "Each"},
	{"created-now", "Metadata", "CreatedAt"},
	{"no-source", "Metadata", "RoundTrip"},
	{"drops-placeholder", "Metadata", "Placeholder"},
}

// TestSuiteCatchesFaults runs each subtest of the suite, in a child
// process, on a backend that breaks its promise: the subtest must fail.
func TestSuiteCatchesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary once a fault")
	}
	for _, f := range faults {
		t.Run(f.fault, func(t *testing.T) {
			run := "^TestBrokenBackend$/^" + f.suite + "$/^" + f.subtest + "$"
			cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), faultEnv+"="+f.fault)
			out, err := cmd.CombinedOutput()
			want := "--- FAIL: TestBrokenBackend/" + f.suite + "/" + f.subtest + " "
			if err == nil || !strings.Contains(string(out), want) {
				t.Errorf("%s of the suite passed a backend with the fault %q (%v):\n%s", f.subtest, f.fault, err, out)
			}
		})
	}
}

// TestBrokenBackend runs the suites on a backend with the fault that
// faultEnv names; it is skipped without it.
func TestBrokenBackend(t *testing.T) {
	fault := os.Getenv(faultEnv)
	if fault == "" {
		t.Skip(faultEnv + " is not set: TestSuiteCatchesFaults runs this")
	}
	t.Run("Storage", func(t *testing.T) {
		backendtest.TestStorage(t, func(t *testing.T) backends.Storage { return &brokenStorage{newMemStorage(), fault} })
	})
	t.Run("Metadata", func(t *testing.T) {
		backendtest.TestMetadata(t, func(t *testing.T) backends.Metadata { return &brokenMetadata{newMemMetadata(), fault} })
	})
}

// brokenStorage is a memStorage with a fault.
type brokenStorage struct {
	*memStorage
	fault string
}

func (s *brokenStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	switch s.fault {
	case "partial-save": // keeps what it read before the reader failed
		var buf bytes.Buffer
		_, err := io.Copy(&buf, r)
		if clean, cerr := backends.CleanName(name); cerr == nil {
			s.mu.Lock()
			s.files[clean] = memFile{buf.Bytes(), time.Now()}
			s.mu.Unlock()
		}
		return name, err
	case "no-name-check":
		data, err := io.ReadAll(r)
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.files[strings.TrimLeft(name, "/.")] = memFile{data, time.Now()}
		return name, nil
	case "torn-save": // a writer's half, then the other half
		data, err := io.ReadAll(r)
		if err != nil {
			return "", err
		}
		clean, err := backends.CleanName(name)
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		s.files[clean] = memFile{data[:len(data)/2], time.Now()}
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
		s.files[clean] = memFile{data, time.Now()}
		s.mu.Unlock()
		return clean, nil
	}
	return s.memStorage.Save(ctx, name, r)
}

func (s *brokenStorage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.memStorage.Open(ctx, name)
	switch {
	case s.fault == "unwrapped-not-found" && errors.Is(err, backends.ErrNotFound):
		return nil, fs.ErrNotExist
	case s.fault == "folder-opens" && errors.Is(err, backends.ErrNotFound):
		s.mu.Lock()
		defer s.mu.Unlock()
		for stored := range s.files {
			if strings.HasPrefix(stored, name+"/") {
				return io.NopCloser(strings.NewReader("")), nil
			}
		}
	case s.fault == "no-name-check" && errors.Is(err, backends.ErrInvalidName):
		return nil, backends.ErrNotFound
	}
	return rc, err
}

func (s *brokenStorage) Delete(ctx context.Context, name string) error {
	if s.fault == "list-keeps-deleted" {
		return nil
	}
	if s.fault == "delete-missing-fails" {
		s.mu.Lock()
		_, ok := s.files[name]
		s.mu.Unlock()
		if !ok {
			return errors.New("no such file")
		}
	}
	return s.memStorage.Delete(ctx, name)
}

func (s *brokenStorage) URL(name string) string {
	if s.fault == "one-url" {
		return "/media/"
	}
	return s.memStorage.URL(name)
}

func (s *brokenStorage) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	if s.fault != "list-goes-on" {
		return s.memStorage.List(ctx, fn)
	}
	var first error
	err := s.memStorage.List(ctx, func(fi backends.FileInfo) error {
		if err := fn(fi); err != nil && first == nil {
			first = err
		}
		return nil
	})
	if err == nil {
		err = first
	}
	return err
}

// brokenMetadata is a memMetadata with a fault.
type brokenMetadata struct {
	*memMetadata
	fault string
}

func (m *brokenMetadata) Thumbnails(ctx context.Context, source string) (map[string]backends.Thumbnail, error) {
	recs, err := m.memMetadata.Thumbnails(ctx, source)
	if m.fault == "no-source" {
		for size, r := range recs {
			r.Source = ""
			recs[size] = r
		}
	}
	return recs, err
}

func (m *brokenMetadata) ThumbnailsOf(ctx context.Context, sources []string) (map[string][]backends.Thumbnail, error) {
	out, err := m.memMetadata.ThumbnailsOf(ctx, sources)
	for _, s := range sources {
		switch {
		case m.fault == "empty-entries" && out[s] == nil:
			out[s] = []backends.Thumbnail{}
		case m.fault == "duplicate-entries" && strings.HasSuffix(s, "a.jpg"):
			if _, ok := out[s]; ok {
				out[s] = append(out[s], out[s][0])
			}
		}
	}
	return out, err
}

func (m *brokenMetadata) Put(ctx context.Context, source string, thumbs ...backends.Thumbnail) error {
	switch m.fault {
	case "put-replaces-source":
		_ = m.memMetadata.Delete(ctx, source)
	case "first-wins":
		seen := map[string]bool{}
		var firsts []backends.Thumbnail
		for _, t := range thumbs {
			if !seen[t.Size] {
				seen[t.Size] = true
				firsts = append(firsts, t)
			}
		}
		thumbs = firsts
	case "put-none-records-nothing":
		if len(thumbs) == 0 {
			return nil
		}
	case "created-now":
		for i := range thumbs {
			thumbs[i].CreatedAt = time.Time{}
		}
	case "drops-placeholder":
		var files []backends.Thumbnail
		for _, t := range thumbs {
			if t.IsFile() {
				files = append(files, t)
			}
		}
		thumbs = files
	}
	return m.memMetadata.Put(ctx, source, thumbs...)
}

func (m *brokenMetadata) DeleteSize(ctx context.Context, source, size string) error {
	err := m.memMetadata.DeleteSize(ctx, source, size)
	if m.fault == "delete-size-drops-source" {
		if recs, _ := m.memMetadata.Thumbnails(ctx, source); len(recs) == 0 {
			return m.memMetadata.Delete(ctx, source)
		}
	}
	return err
}

func (m *brokenMetadata) Each(ctx context.Context, fn func(string, []backends.Thumbnail) error) error {
	if m.fault != "each-goes-on" {
		return m.memMetadata.Each(ctx, fn)
	}
	var first error
	err := m.memMetadata.Each(ctx, func(s string, recs []backends.Thumbnail) error {
		if err := fn(s, recs); err != nil && first == nil {
			first = err
		}
		return nil
	})
	if err == nil {
		err = first
	}
	return err
}
