package backends_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// TestMetadataManySizes puts one source with more sizes than a Lua
// script's unpack takes at once (about 8,000 arguments): every store
// records them all, in one Put, and reads them back.
func TestMetadataManySizes(t *testing.T) {
	forEachMetadata(t, func(t *testing.T, m backends.Metadata) {
		ctx := context.Background()
		const n = 5000
		source := "foods/many.jpg"
		thumbs := make([]backends.Thumbnail, n)
		for i := range thumbs {
			thumbs[i] = thumb(source, fmt.Sprintf("s%04d", i), i+1, 7)
		}
		if err := m.Put(ctx, source, thumbs...); err != nil {
			t.Fatalf("Put of %d sizes: %v", n, err)
		}
		got, err := m.ThumbnailsOf(ctx, []string{source})
		if err != nil {
			t.Fatal(err)
		}
		if len(got[source]) != n {
			t.Fatalf("read back %d records, want %d", len(got[source]), n)
		}
		for _, r := range got[source] {
			var i int
			if _, err := fmt.Sscanf(r.Size, "s%04d", &i); err != nil || r.Width != i+1 {
				t.Fatalf("record %+v", r)
			}
		}
	})
}
