package backendtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/backends/backendtest"
)

// memStorage is a Storage and Lister of one's own, in memory: the kind of
// backend the suite is for.
type memStorage struct {
	mu    sync.Mutex
	files map[string]memFile
}

type memFile struct {
	data []byte
	mod  time.Time
}

func newMemStorage() *memStorage { return &memStorage{files: map[string]memFile{}} }

func (s *memStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	clean, err := backends.CleanName(name)
	if err != nil {
		return "", err
	}
	// Read it all before storing: a failed upload stores nothing.
	data, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("mem: save %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[clean] = memFile{data, time.Now()}
	return clean, nil
}

func (s *memStorage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	clean, err := backends.CleanName(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[clean]
	if !ok {
		return nil, fmt.Errorf("mem: open %q: %w", name, backends.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

func (s *memStorage) Delete(ctx context.Context, name string) error {
	clean, err := backends.CleanName(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.files, clean)
	return nil
}

func (s *memStorage) URL(name string) string { return backends.JoinURL("/media/", name) }

func (s *memStorage) List(ctx context.Context, fn func(backends.FileInfo) error) error {
	s.mu.Lock()
	infos := make([]backends.FileInfo, 0, len(s.files))
	for name, f := range s.files {
		infos = append(infos, backends.FileInfo{Name: name, Size: int64(len(f.data)), ModTime: f.mod})
	}
	s.mu.Unlock()
	for _, fi := range infos {
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

// memMetadata is a Metadata of one's own, in memory.
type memMetadata struct {
	mu      sync.Mutex
	sources map[string]map[string]backends.Thumbnail
}

func newMemMetadata() *memMetadata {
	return &memMetadata{sources: map[string]map[string]backends.Thumbnail{}}
}

func (m *memMetadata) Thumbnails(ctx context.Context, source string) (map[string]backends.Thumbnail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.sources[source]), nil
}

func (m *memMetadata) ThumbnailsOf(ctx context.Context, sources []string) (map[string][]backends.Thumbnail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]backends.Thumbnail{}
	for _, s := range sources {
		if recs := m.sources[s]; len(recs) > 0 {
			out[s] = slices.Collect(maps.Values(recs))
		}
	}
	return out, nil
}

func (m *memMetadata) Put(ctx context.Context, source string, thumbs ...backends.Thumbnail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := m.sources[source]
	if recs == nil {
		recs = map[string]backends.Thumbnail{}
		m.sources[source] = recs
	}
	now := time.Now().UTC()
	for _, t := range thumbs {
		t.Source = source
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now
		}
		recs[t.Size] = t
	}
	return nil
}

func (m *memMetadata) Delete(ctx context.Context, source string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sources, source)
	return nil
}

func (m *memMetadata) DeleteSize(ctx context.Context, source, size string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sources[source], size)
	return nil
}

func (m *memMetadata) Each(ctx context.Context, fn func(source string, thumbs []backends.Thumbnail) error) error {
	m.mu.Lock()
	batch := map[string][]backends.Thumbnail{}
	for s, recs := range m.sources {
		batch[s] = slices.Collect(maps.Values(recs))
	}
	m.mu.Unlock()
	for s, recs := range batch {
		if err := fn(s, recs); err != nil {
			return err
		}
	}
	return nil
}

// TestMemStorage is how the package of a Storage runs the suite.
func TestMemStorage(t *testing.T) {
	backendtest.TestStorage(t, func(t *testing.T) backends.Storage { return newMemStorage() })
}

// TestMemMetadata is how the package of a Metadata runs the suite.
func TestMemMetadata(t *testing.T) {
	backendtest.TestMetadata(t, func(t *testing.T) backends.Metadata { return newMemMetadata() })
}

// Example shows a backend of one's own (memStorage, memMetadata above)
// used as the plugin would use it; its test file runs
// backendtest.TestStorage and backendtest.TestMetadata on it (TestMemStorage,
// TestMemMetadata).
func Example() {
	ctx := context.Background()
	var storage backends.Storage = newMemStorage()
	var metadata backends.Metadata = newMemMetadata()

	name, _ := storage.Save(ctx, "thumbnails/foods/ab12_small.jpg", strings.NewReader("..."))
	_ = metadata.Put(ctx, "foods/ab12.jpg", backends.Thumbnail{Source: "foods/ab12.jpg", Size: "small", Name: name, Width: 100, Height: 80})
	thumbs, _ := metadata.Thumbnails(ctx, "foods/ab12.jpg")
	fmt.Println(storage.URL(thumbs["small"].Name), thumbs["small"].Width, thumbs["small"].Height)
	// Output:
	// /media/thumbnails/foods/ab12_small.jpg 100 80
}
