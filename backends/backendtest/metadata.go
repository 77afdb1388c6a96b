package backendtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// TestMetadata runs subtests that check the contract of backends.Metadata
// on the stores newMetadata returns, one a subtest, each empty (see the
// package doc).
//
// The subtests check that:
//
//   - RoundTrip: Thumbnails returns what Put recorded, keyed by size, with
//     Source filled, and an empty map for a source without records; sources
//     and names may hold spaces, non-ASCII letters, braces and colons.
//   - PutAgain: a Put of a recorded size replaces its record and keeps the
//     other sizes, and putting the same records twice is not an error.
//   - PutSameSizeTwice: of two records of one size in one Put, the last
//     wins.
//   - PutWithoutThumbnails: a Put of no thumbnails records the source: Each
//     visits it, without thumbnails, while Thumbnails and ThumbnailsOf have
//     none.
//   - ThumbnailsOf: a batch gives every recorded source once, a source
//     listed twice once, and no entry for the sources without records,
//     for a batch of none, of a few, or of thousands.
//   - Delete: a Delete removes the source and all its records, and one of a
//     source without records is not an error.
//   - DeleteSize: a DeleteSize removes one record and keeps the source
//     recorded (Each still visits it), and one of a size or a source
//     without a record is not an error and records nothing.
//   - Each: the walk visits every recorded source once, with its records,
//     and an error from the callback stops it and is returned (wrapped or
//     not).
//   - CreatedAt: a record's CreatedAt is kept (to the second) through
//     Thumbnails and Each, and one put zero is recorded as the time of the
//     Put, a replaced record's too.
//   - Placeholder: a record of size backends.PlaceholderSize (a data: URI
//     in its Name) travels with the thumbnails through Put, Thumbnails,
//     ThumbnailsOf and Each, and goes with DeleteSize and Delete.
//   - Concurrent: Puts, reads and deletes from several goroutines at once,
//     of their own sources and of one shared source (the same record put by
//     all of them at once too), all succeed, and leave every record.
func TestMetadata(t *testing.T, newMetadata func(t *testing.T) backends.Metadata) {
	t.Helper()
	run(t, "newMetadata", newMetadata, []subtest[backends.Metadata]{
		{"RoundTrip", metadataRoundTrip},
		{"PutAgain", metadataPutAgain},
		{"PutSameSizeTwice", metadataPutSameSizeTwice},
		{"PutWithoutThumbnails", metadataPutWithoutThumbnails},
		{"ThumbnailsOf", metadataThumbnailsOf},
		{"Delete", metadataDelete},
		{"DeleteSize", metadataDeleteSize},
		{"Each", metadataEach},
		{"CreatedAt", metadataCreatedAt},
		{"Placeholder", metadataPlaceholder},
		{"Concurrent", metadataConcurrent},
	})
}

// record returns the record of size of source that the plugin would make,
// named as it names thumbnails.
func record(source, size string, w, h int) backends.Thumbnail {
	stem, _, _ := strings.Cut(source, ".")
	return backends.Thumbnail{Source: source, Size: size, Name: "thumbnails/" + stem + "_" + size + ".jpg", Width: w, Height: h}
}

// sameRecord reports whether got is want but for CreatedAt.
func sameRecord(got, want backends.Thumbnail) bool {
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	return got == want
}

func put(t *testing.T, m backends.Metadata, source string, thumbs ...backends.Thumbnail) {
	t.Helper()
	if err := m.Put(context.Background(), source, thumbs...); err != nil {
		t.Fatalf("Put(%q, %d records): %v", source, len(thumbs), err)
	}
}

func thumbnailsOf(t *testing.T, m backends.Metadata, source string) map[string]backends.Thumbnail {
	t.Helper()
	got, err := m.Thumbnails(context.Background(), source)
	if err != nil {
		t.Fatalf("Thumbnails(%q): %v", source, err)
	}
	return got
}

// checkRecords fails t unless got holds the records of want (but for
// CreatedAt), each once, in any order.
func checkRecords(t *testing.T, where string, got []backends.Thumbnail, want ...backends.Thumbnail) {
	t.Helper()
	bySize := map[string]backends.Thumbnail{}
	for _, r := range got {
		if _, twice := bySize[r.Size]; twice {
			t.Errorf("%s: size %q twice: %+v", where, r.Size, got)
		}
		bySize[r.Size] = r
	}
	checkMap(t, where, bySize, want...)
}

// checkMap fails t unless got, keyed by size, holds the records of want
// (but for CreatedAt).
func checkMap(t *testing.T, where string, got map[string]backends.Thumbnail, want ...backends.Thumbnail) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records %+v; want %d: %+v", where, len(got), got, len(want), want)
		return
	}
	for _, w := range want {
		g, ok := got[w.Size]
		if !ok || !sameRecord(g, w) {
			t.Errorf("%s: size %q = %+v; want %+v", where, w.Size, g, w)
		}
	}
	for size, g := range got {
		if g.Size != size {
			t.Errorf("%s: key %q holds a record of size %q", where, size, g.Size)
		}
	}
}

// walk returns what Each visits, by source.
func walk(t *testing.T, m backends.Metadata) map[string][]backends.Thumbnail {
	t.Helper()
	seen := map[string][]backends.Thumbnail{}
	err := m.Each(context.Background(), func(source string, thumbs []backends.Thumbnail) error {
		if _, twice := seen[source]; twice {
			t.Errorf("Each visited %q twice", source)
		}
		seen[source] = append([]backends.Thumbnail{}, thumbs...)
		return nil
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
	return seen
}

// checkWalk fails t unless Each visits exactly the sources of want, each
// with its records.
func checkWalk(t *testing.T, m backends.Metadata, want map[string][]backends.Thumbnail) {
	t.Helper()
	seen := walk(t, m)
	for source, records := range want {
		got, ok := seen[source]
		if !ok {
			t.Errorf("Each did not visit %q", source)
			continue
		}
		checkRecords(t, fmt.Sprintf("Each's records of %q", source), got, records...)
	}
	for source := range seen {
		if _, ok := want[source]; !ok {
			t.Errorf("Each visited %q, which is not recorded", source)
		}
	}
}

func metadataRoundTrip(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	a, b, odd := "foods/3f1c9a.jpg", "foods/b.png", "foods/a b é/{lazy}:x.jpg"
	as := []backends.Thumbnail{record(a, "small", 100, 80), record(a, "large", 1200, 960)}
	bs := []backends.Thumbnail{record(b, "x_small-2", 50, 40)}
	odds := []backends.Thumbnail{record(odd, "small", 10, 10)}
	put(t, m, a, as...)
	put(t, m, b, bs...)
	put(t, m, odd, odds...)
	checkMap(t, fmt.Sprintf("Thumbnails(%q)", a), thumbnailsOf(t, m, a), as...)
	checkMap(t, fmt.Sprintf("Thumbnails(%q)", b), thumbnailsOf(t, m, b), bs...)
	checkMap(t, fmt.Sprintf("Thumbnails(%q)", odd), thumbnailsOf(t, m, odd), odds...)
	if got, err := m.Thumbnails(ctx, "foods/unknown.jpg"); err != nil || len(got) != 0 {
		t.Errorf("Thumbnails of a source without records = %+v, %v; want an empty map", got, err)
	}
	many, err := m.ThumbnailsOf(ctx, []string{odd})
	if err != nil {
		t.Fatalf("ThumbnailsOf: %v", err)
	}
	checkRecords(t, fmt.Sprintf("ThumbnailsOf(%q)", odd), many[odd], odds...)
	checkWalk(t, m, map[string][]backends.Thumbnail{a: as, b: bs, odd: odds})
}

func metadataPutAgain(t *testing.T, m backends.Metadata) {
	a := "foods/a.jpg"
	small, large := record(a, "small", 100, 80), record(a, "large", 1200, 960)
	put(t, m, a, small, large)
	put(t, m, a, small, large) // the same again: not an error
	checkMap(t, "after the same Put twice", thumbnailsOf(t, m, a), small, large)

	newLarge := large
	newLarge.Name, newLarge.Width, newLarge.Height = "thumbnails/foods/a_large.png", 1000, 800
	put(t, m, a, newLarge)
	checkMap(t, "after a Put of one size again", thumbnailsOf(t, m, a), small, newLarge)
	put(t, m, a)
	checkMap(t, "after a Put of no records", thumbnailsOf(t, m, a), small, newLarge)
}

func metadataPutSameSizeTwice(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	a := "foods/a.jpg"
	first, last := record(a, "small", 100, 80), record(a, "small", 90, 70)
	last.Name = "thumbnails/foods/a_small.png"
	if err := m.Put(ctx, a, first, last); err != nil {
		t.Fatalf("Put of two records of one size: %v; want the last to win", err)
	}
	checkMap(t, "Thumbnails after a Put of two records of one size", thumbnailsOf(t, m, a), last)
	many, err := m.ThumbnailsOf(ctx, []string{a})
	if err != nil {
		t.Fatalf("ThumbnailsOf: %v", err)
	}
	checkRecords(t, "ThumbnailsOf after a Put of two records of one size", many[a], last)
}

func metadataPutWithoutThumbnails(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	lazy, braced := "foods/lazy.jpg", "foods/{lazy}.jpg"
	put(t, m, lazy)
	put(t, m, braced)
	for _, s := range []string{lazy, braced} {
		if got := thumbnailsOf(t, m, s); len(got) != 0 {
			t.Errorf("Thumbnails(%q) of a source put without thumbnails = %+v; want none", s, got)
		}
	}
	if many, err := m.ThumbnailsOf(ctx, []string{lazy, braced}); err != nil || len(many) != 0 {
		t.Errorf("ThumbnailsOf of sources put without thumbnails = %+v, %v; want none", many, err)
	}
	checkWalk(t, m, map[string][]backends.Thumbnail{lazy: nil, braced: nil})

	large := record(lazy, "large", 1200, 960)
	put(t, m, lazy, large)
	checkMap(t, "after a lazy size's Put", thumbnailsOf(t, m, lazy), large)
	checkWalk(t, m, map[string][]backends.Thumbnail{lazy: {large}, braced: nil})
}

func metadataThumbnailsOf(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	a, b, c := "foods/a.jpg", "foods/b.jpg", "foods/c.jpg"
	as := []backends.Thumbnail{record(a, "small", 100, 80), record(a, "large", 1200, 960)}
	bs := []backends.Thumbnail{record(b, "small", 90, 70)}
	put(t, m, a, as...)
	put(t, m, b, bs...)
	put(t, m, c) // recorded, without thumbnails

	for _, sources := range [][]string{nil, {}, {"foods/unknown.jpg"}, {c}} {
		if got, err := m.ThumbnailsOf(ctx, sources); err != nil || len(got) != 0 {
			t.Errorf("ThumbnailsOf(%q) = %+v, %v; want an empty map", sources, got, err)
		}
	}
	sources := []string{a, "foods/unknown.jpg", b, a, c, "foods/unknown.jpg", b}
	got, err := m.ThumbnailsOf(ctx, sources)
	if err != nil {
		t.Fatalf("ThumbnailsOf(%q): %v", sources, err)
	}
	if len(got) != 2 {
		t.Errorf("ThumbnailsOf(%q) gave %d sources: %+v; want %q and %q", sources, len(got), got, a, b)
	}
	checkRecords(t, fmt.Sprintf("ThumbnailsOf's records of %q, listed twice", a), got[a], as...)
	checkRecords(t, fmt.Sprintf("ThumbnailsOf's records of %q, listed twice", b), got[b], bs...)

	// A page of thousands, as Preload reads: a store that limits a
	// request's size chunks it.
	const n = 3000
	many := make([]string, n)
	want := map[string]backends.Thumbnail{}
	for i := range many {
		many[i] = fmt.Sprintf("foods/page-%04d.jpg", i)
		if i%700 == 0 || i == n-1 {
			r := record(many[i], "small", i+1, 7)
			put(t, m, many[i], r)
			want[many[i]] = r
		}
	}
	got, err = m.ThumbnailsOf(ctx, many)
	if err != nil {
		t.Fatalf("ThumbnailsOf(%d sources): %v", n, err)
	}
	if len(got) != len(want) {
		t.Errorf("ThumbnailsOf(%d sources) gave %d sources; want %d", n, len(got), len(want))
	}
	for s, r := range want {
		checkRecords(t, fmt.Sprintf("ThumbnailsOf(%d sources)'s records of %q", n, s), got[s], r)
	}
}

func metadataDelete(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	a, b := "foods/a.jpg", "foods/b.jpg"
	bs := []backends.Thumbnail{record(b, "small", 90, 70)}
	put(t, m, a, record(a, "small", 100, 80), record(a, "large", 1200, 960))
	put(t, m, b, bs...)
	if err := m.Delete(ctx, a); err != nil {
		t.Fatalf("Delete(%q): %v", a, err)
	}
	if got := thumbnailsOf(t, m, a); len(got) != 0 {
		t.Errorf("Thumbnails(%q) after its Delete = %+v; want none", a, got)
	}
	got, err := m.ThumbnailsOf(ctx, []string{a, b})
	if err != nil {
		t.Fatalf("ThumbnailsOf: %v", err)
	}
	if _, ok := got[a]; ok || len(got) != 1 {
		t.Errorf("ThumbnailsOf after the Delete of %q = %+v; want %q alone", a, got, b)
	}
	checkWalk(t, m, map[string][]backends.Thumbnail{b: bs})
	for _, s := range []string{a, "foods/never.jpg"} {
		if err := m.Delete(ctx, s); err != nil {
			t.Errorf("Delete(%q) of a source without records: %v; want nil", s, err)
		}
	}
	checkMap(t, fmt.Sprintf("Thumbnails(%q) after the Deletes of others", b), thumbnailsOf(t, m, b), bs...)
	checkWalk(t, m, map[string][]backends.Thumbnail{b: bs})
}

func metadataDeleteSize(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	a := "foods/a.jpg"
	small, large := record(a, "small", 100, 80), record(a, "large", 1200, 960)
	put(t, m, a, small, large)
	deleteSize := func(source, size, why string) {
		t.Helper()
		if err := m.DeleteSize(ctx, source, size); err != nil {
			t.Errorf("DeleteSize(%q, %q) (%s): %v; want nil", source, size, why, err)
		}
	}
	deleteSize(a, "small", "recorded")
	checkMap(t, "after DeleteSize of small", thumbnailsOf(t, m, a), large)
	deleteSize(a, "small", "deleted already")
	deleteSize(a, "medium", "never recorded")
	deleteSize("foods/never.jpg", "small", "of a source never recorded")
	checkMap(t, "after DeleteSizes of what is not recorded", thumbnailsOf(t, m, a), large)
	checkWalk(t, m, map[string][]backends.Thumbnail{a: {large}})

	deleteSize(a, "large", "its last size")
	if got := thumbnailsOf(t, m, a); len(got) != 0 {
		t.Errorf("Thumbnails(%q) after DeleteSize of its last size = %+v; want none", a, got)
	}
	if got, err := m.ThumbnailsOf(ctx, []string{a}); err != nil || len(got) != 0 {
		t.Errorf("ThumbnailsOf after DeleteSize of the last size = %+v, %v; want none", got, err)
	}
	// The source stays recorded: a walk that missed it would have Prune
	// take its file for an orphan.
	checkWalk(t, m, map[string][]backends.Thumbnail{a: nil})
}

func metadataEach(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	// More than a batch of the built-in stores (500), so that a walk
	// that loses its place between batches is seen.
	const n = 1100
	want := map[string][]backends.Thumbnail{}
	for i := range n {
		s := fmt.Sprintf("foods/each-%04d.jpg", i)
		var records []backends.Thumbnail
		switch i % 3 {
		case 1:
			records = []backends.Thumbnail{record(s, "small", i+1, 10)}
		case 2:
			records = []backends.Thumbnail{record(s, "small", i+1, 10), record(s, "large", i+1, 100)}
		}
		put(t, m, s, records...)
		want[s] = records
	}
	checkWalk(t, m, want)

	calls := 0
	err := m.Each(ctx, func(string, []backends.Thumbnail) error {
		calls++
		if calls == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Errorf("Each whose callback fails = %v; want the callback's error", err)
	}
	if calls != 3 {
		t.Errorf("Each called its callback %d times, the third of which failed; want it to stop there", calls)
	}
}

func metadataCreatedAt(t *testing.T, m backends.Metadata) {
	s := "foods/created.jpg"
	then := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	old := record(s, "small", 10, 10)
	old.CreatedAt = then
	medium := record(s, "medium", 40, 40)
	before := time.Now().Truncate(time.Second)
	put(t, m, s, old, medium)
	after := time.Now()
	inPut := func(c time.Time) bool { return !c.Before(before) && !c.After(after.Add(time.Second)) }

	got := thumbnailsOf(t, m, s)
	if c := got["small"].CreatedAt; !c.Equal(then) {
		t.Errorf("Thumbnails: small put with CreatedAt %v has %v", then, c)
	}
	if c := got["medium"].CreatedAt; !inPut(c) {
		t.Errorf("Thumbnails: medium put with no CreatedAt has %v; want the time of the Put, %v to %v", c, before, after)
	}
	walked := walk(t, m)[s]
	for _, r := range walked {
		switch {
		case r.Size == "small" && !r.CreatedAt.Equal(then):
			t.Errorf("Each: small put with CreatedAt %v has %v", then, r.CreatedAt)
		case r.Size == "medium" && !r.CreatedAt.Equal(got["medium"].CreatedAt):
			t.Errorf("Each: medium has CreatedAt %v; Thumbnails said %v", r.CreatedAt, got["medium"].CreatedAt)
		}
	}
	checkRecords(t, "Each", walked, old, medium)

	// A record replaced by one without a time gets the new Put's.
	before = time.Now().Truncate(time.Second)
	put(t, m, s, record(s, "small", 10, 10))
	after = time.Now()
	if c := thumbnailsOf(t, m, s)["small"].CreatedAt; !inPut(c) {
		t.Errorf("small replaced by a record with no CreatedAt has %v; want the time of that Put, %v to %v", c, before, after)
	}
}

// placeholderURI is a placeholder as the plugin records it: a data: URI of
// a few hundred bytes, holding '/', '+' and '='.
var placeholderURI = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAGCAYAAAD+Bd/7AAAA" + strings.Repeat("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs+/", 5) + "=="

func metadataPlaceholder(t *testing.T, m backends.Metadata) {
	ctx := context.Background()
	a := "foods/a.jpg"
	small := record(a, "small", 100, 80)
	ph := backends.Thumbnail{Source: a, Size: backends.PlaceholderSize, Name: placeholderURI, Width: 8, Height: 6}
	put(t, m, a, small, ph)
	checkMap(t, "Thumbnails with a placeholder", thumbnailsOf(t, m, a), small, ph)
	many, err := m.ThumbnailsOf(ctx, []string{a})
	if err != nil {
		t.Fatalf("ThumbnailsOf: %v", err)
	}
	checkRecords(t, "ThumbnailsOf with a placeholder", many[a], small, ph)
	checkWalk(t, m, map[string][]backends.Thumbnail{a: {small, ph}})

	if err := m.DeleteSize(ctx, a, backends.PlaceholderSize); err != nil {
		t.Fatalf("DeleteSize of the placeholder: %v", err)
	}
	checkMap(t, "Thumbnails after DeleteSize of the placeholder", thumbnailsOf(t, m, a), small)

	b := "foods/b.jpg"
	phb := ph
	phb.Source = b
	put(t, m, b, phb) // a placeholder alone: every size lazy
	checkMap(t, "Thumbnails of a placeholder alone", thumbnailsOf(t, m, b), phb)
	if err := m.Delete(ctx, b); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := thumbnailsOf(t, m, b); len(got) != 0 {
		t.Errorf("Thumbnails after Delete of a source with a placeholder = %+v; want none", got)
	}
	checkWalk(t, m, map[string][]backends.Thumbnail{a: {small}})
}

func metadataConcurrent(t *testing.T, m backends.Metadata) {
	const workers, rounds = 4, 10
	ctx := context.Background()
	shared := "foods/shared.jpg"
	common := record(shared, "common", 10, 10)
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*6)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			size := fmt.Sprintf("w%d", w)
			for r := range rounds {
				own := fmt.Sprintf("foods/worker-%d-%d.jpg", w, r)
				if err := m.Put(ctx, own, record(own, "small", w+1, r+1)); err != nil {
					errs <- fmt.Errorf("Put(%q): %w", own, err)
				}
				if err := m.Put(ctx, shared, record(shared, size, w+1, r+1), common); err != nil {
					errs <- fmt.Errorf("Put(%q) of its size and the common one: %w", shared, err)
				}
				if got, err := m.Thumbnails(ctx, own); err != nil || len(got) != 1 || got["small"].Width != w+1 {
					errs <- fmt.Errorf("Thumbnails(%q) = %+v, %v; want its small", own, got, err)
				}
				if got, err := m.ThumbnailsOf(ctx, []string{own, shared}); err != nil || len(got[own]) != 1 || len(got[shared]) < 2 {
					errs <- fmt.Errorf("ThumbnailsOf(%q, %q) = %+v, %v", own, shared, got, err)
				}
				if r%2 == 1 {
					if err := m.DeleteSize(ctx, own, "small"); err != nil {
						errs <- fmt.Errorf("DeleteSize(%q): %w", own, err)
					}
					if err := m.Delete(ctx, own); err != nil {
						errs <- fmt.Errorf("Delete(%q): %w", own, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := []backends.Thumbnail{common}
	for w := range workers {
		want = append(want, record(shared, fmt.Sprintf("w%d", w), w+1, rounds))
	}
	checkMap(t, fmt.Sprintf("Thumbnails(%q) after the concurrent Puts", shared), thumbnailsOf(t, m, shared), want...)
	var kept []string
	for source := range walk(t, m) {
		kept = append(kept, source)
	}
	sort.Strings(kept)
	if len(kept) != 1+workers*rounds/2 {
		t.Errorf("Each after the concurrent writes visited %d sources %q; want %d", len(kept), kept, 1+workers*rounds/2)
	}
}
