package backends_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// batchAgrees fails the test unless the batch read (ThumbnailsOf, which
// reads the summaries the triggers keep) gives for each source exactly the
// records that the one-source read (Thumbnails, which reads the records)
// gives.
func batchAgrees(t *testing.T, m backends.Metadata, sources ...string) {
	t.Helper()
	ctx := context.Background()
	batch, err := m.ThumbnailsOf(ctx, sources)
	if err != nil {
		t.Fatalf("ThumbnailsOf: %v", err)
	}
	for _, s := range sources {
		one, err := m.Thumbnails(ctx, s)
		if err != nil {
			t.Fatalf("Thumbnails(%q): %v", s, err)
		}
		var want, got []string
		for _, r := range one {
			want = append(want, fmt.Sprintf("%s %s %dx%d %s", r.Source, r.Size, r.Width, r.Height, r.Name))
		}
		for _, r := range batch[s] {
			got = append(got, fmt.Sprintf("%s %s %dx%d %s", r.Source, r.Size, r.Width, r.Height, r.Name))
		}
		sort.Strings(want)
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ThumbnailsOf(%q) = %q, Thumbnails = %q", s, got, want)
		}
		if _, ok := batch[s]; ok != (len(one) > 0) {
			t.Errorf("ThumbnailsOf has %q: %v, with %d records", s, ok, len(one))
		}
	}
}

// step is one change of the records, made by do.
type step struct {
	name string
	do   func() error
}

// writeSteps changes the records of a and b in m in every way a Metadata
// can be changed.
func writeSteps(m backends.Metadata, a, b string) []step {
	ctx := context.Background()
	holder := backends.Thumbnail{Source: a, Size: backends.PlaceholderSize, Name: "data:image/png;base64,iVBORw0KGgo=", Width: 12, Height: 8}
	return []step{
		{"nothing recorded", func() error { return nil }},
		{"put two sizes", func() error { return m.Put(ctx, a, thumb(a, "small", 100, 100), thumb(a, "medium", 400, 267)) }},
		{"put another source", func() error { return m.Put(ctx, b, thumb(b, "small", 100, 100)) }},
		{"replace one size", func() error {
			r := thumb(a, "small", 90, 60)
			r.Name = "thumbnails/foods/a_small_v2.jpg"
			return m.Put(ctx, a, r)
		}},
		{"add a placeholder", func() error { return m.Put(ctx, a, holder) }},
		{"replace the placeholder", func() error {
			h := holder
			h.Name, h.Width = "data:image/png;base64,AAAA", 11
			return m.Put(ctx, a, h)
		}},
		{"delete a size", func() error { return m.DeleteSize(ctx, a, "medium") }},
		{"delete a size it does not have", func() error { return m.DeleteSize(ctx, a, "huge") }},
		{"delete the placeholder", func() error { return m.DeleteSize(ctx, a, backends.PlaceholderSize) }},
		{"delete the last size", func() error { return m.DeleteSize(ctx, a, "small") }},
		{"record again", func() error { return m.Put(ctx, a, thumb(a, "large", 1200, 800), holder) }},
		{"delete a source", func() error { return m.Delete(ctx, a) }},
		{"delete a source it does not have", func() error { return m.Delete(ctx, "foods/never.jpg") }},
	}
}

// TestSummaryFollowsEveryWrite changes records in every way the database
// backend can, and after each change the batch read agrees with the records.
func TestSummaryFollowsEveryWrite(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		a, b := "foods/a.jpg", "foods/b.jpg"
		steps := append(writeSteps(m, a, b),
			step{"a rolled-back put", func() error {
				err := db.Transaction(func(tx *gorm.DB) error {
					if err := m.WithDB(tx).Put(ctx, b, thumb(b, "medium", 400, 400)); err != nil {
						return err
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					return err
				}
				return nil
			}},
			step{"a committed put in a transaction", func() error {
				return db.Transaction(func(tx *gorm.DB) error {
					return m.WithDB(tx).Put(ctx, b, thumb(b, "large", 1200, 1200))
				})
			}},
		)
		for _, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			t.Run(s.name, func(t *testing.T) { batchAgrees(t, m, a, b, "foods/never.jpg") })
		}
	})
}

// TestSummaryConcurrentWriters records and deletes the sizes of one source
// from many goroutines at once: on PostgreSQL a trigger that waited for
// another transaction's lock must still summarise what that one committed.
func TestSummaryConcurrentWriters(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *gorm.DB, m backends.TxMetadata) {
		ctx := context.Background()
		const source, writers = "foods/busy.jpg", 8
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				size := fmt.Sprintf("s%d", i)
				if err := m.Put(ctx, source, thumb(source, size, i+1, i+1)); err != nil {
					errs <- err
					return
				}
				if i%2 == 0 {
					errs <- m.DeleteSize(ctx, source, size)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		batchAgrees(t, m, source)
		if got := thumbs(t, m, source); len(got) != writers/2 {
			t.Errorf("%d sizes left, want %d: %+v", len(got), writers/2, got)
		}
	})
}
