package backends_test

import (
	"context"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// placeholder returns the placeholder record of source with a data: URI.
func placeholder(source, data string) backends.Thumbnail {
	return backends.Thumbnail{Source: source, Size: backends.PlaceholderSize, Name: "data:image/png;base64," + data, Width: 16, Height: 11}
}

// TestMetadataPlaceholder checks that every store keeps a placeholder
// record beside the thumbnails of its source and returns it from every
// read, that two sources may have the same placeholder, and that deleting
// the source or the size removes it.
func TestMetadataPlaceholder(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		a, b := "foods/a.jpg", "foods/b.jpg"
		// the same tiny picture for both sources: not a conflict
		if err := m.Put(ctx, a, thumb(a, "small", 100, 100), placeholder(a, "AAAA")); err != nil {
			t.Fatal(err)
		}
		if err := m.Put(ctx, b, placeholder(b, "AAAA"), thumb(b, "small", 100, 100)); err != nil {
			t.Fatal(err)
		}
		got := thumbs(t, m, a)
		ph, ok := got[backends.PlaceholderSize]
		if len(got) != 2 || !ok || ph != thumbWithoutTime(ph, placeholder(a, "AAAA")) || ph.IsFile() {
			t.Fatalf("Thumbnails(a) = %+v", got)
		}
		if !got["small"].IsFile() {
			t.Errorf("small is not a file: %+v", got["small"])
		}

		// replaced by a second Put, as a thumbnail is
		if err := m.Put(ctx, a, placeholder(a, "BBBB")); err != nil {
			t.Fatal(err)
		}
		if got := thumbs(t, m, a)[backends.PlaceholderSize]; got.Name != "data:image/png;base64,BBBB" {
			t.Fatalf("placeholder after a second Put = %+v", got)
		}

		many, err := m.ThumbnailsOf(ctx, []string{a, b, "foods/missing.jpg"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{a, b} {
			n := 0
			for _, r := range many[s] {
				if r.Size == backends.PlaceholderSize {
					n++
					if r.Source != s || r.Width != 16 || r.Height != 11 {
						t.Errorf("ThumbnailsOf: placeholder of %s = %+v", s, r)
					}
				}
			}
			if len(many[s]) != 2 || n != 1 {
				t.Errorf("ThumbnailsOf(%s) = %+v, want small and one placeholder", s, many[s])
			}
		}

		walked := map[string]int{}
		err = m.Each(ctx, func(source string, list []backends.Thumbnail) error {
			walked[source] = len(list)
			return nil
		})
		if err != nil || walked[a] != 2 || walked[b] != 2 {
			t.Fatalf("Each = %v, %v; want both sources with 2 records", walked, err)
		}

		if err := m.DeleteSize(ctx, b, backends.PlaceholderSize); err != nil {
			t.Fatal(err)
		}
		if got := thumbs(t, m, b); len(got) != 1 || got["small"].Name == "" {
			t.Fatalf("after DeleteSize of the placeholder: %+v", got)
		}
		if err := m.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := thumbs(t, m, a); len(got) != 0 {
			t.Fatalf("after Delete: %+v", got)
		}
		// a source that has only a placeholder is a source too
		if err := m.Put(ctx, a, placeholder(a, "CCCC")); err != nil {
			t.Fatal(err)
		}
		if got := thumbs(t, m, a); len(got) != 1 {
			t.Fatalf("placeholder only: %+v", got)
		}
	})
}
