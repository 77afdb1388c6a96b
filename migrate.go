package thumbnails

import (
	"context"
	"slices"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// migrateBatch is how many sources MigrateMetadata reads from the
// destination in one round trip.
const migrateBatch = 500

// MigrateMetadata copies every record of one metadata store into another —
// from the database to Redis or back — a batch of sources at a time. It is
// idempotent: a record already in the destination is replaced by the same
// one, so an interrupted run can simply be run again. Each source copied
// ends up with the same records in both: a size the destination records
// for it and the origin no longer does (deleted since an earlier run) is
// removed from the destination (so is one made in the destination after
// the application switched to it: copy before switching, not after). A
// source the origin does not record at all is left in the destination
// (Prune, run on it, removes one whose files are gone). Done counts the
// sources copied, those recorded without thumbnails included (an upload
// whose sizes are all lazy: Prune keeps the file of a recorded source);
// with WithDryRun it only counts them. The first source the destination
// refuses stops the copy (counted in Failed), and its error is returned:
// the store is down or full, which the next sources would meet too.
func MigrateMetadata(ctx context.Context, from, to backends.Metadata, opts ...Option) (Counts, error) {
	o := collect(opts)
	var counts Counts
	type entry struct {
		source string
		thumbs []backends.Thumbnail
	}
	var batch []entry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if o.dryRun {
			for _, e := range batch {
				counts.Done++
				o.progress(Progress{Counts: counts, Source: e.source})
			}
			batch = batch[:0]
			return nil
		}
		sources := make([]string, len(batch))
		for i, e := range batch {
			sources[i] = e.source
		}
		there, err := to.ThumbnailsOf(ctx, sources)
		if err != nil {
			counts.Failed++
			o.progress(Progress{Counts: counts, Source: batch[0].source, Err: err})
			return err
		}
		for _, e := range batch {
			err := copyRecords(ctx, to, e.source, e.thumbs, there[e.source])
			if err != nil {
				counts.Failed++
			} else {
				counts.Done++
			}
			o.progress(Progress{Counts: counts, Source: e.source, Err: err})
			if err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := from.Each(ctx, func(source string, thumbs []backends.Thumbnail) error {
		batch = append(batch, entry{source, slices.Clone(thumbs)})
		if len(batch) < migrateBatch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	return counts, err
}

// copyRecords makes the destination's records of source those of the
// origin, thumbs: it removes the sizes it has beyond them (had), then
// records them.
func copyRecords(ctx context.Context, to backends.Metadata, source string, thumbs, had []backends.Thumbnail) error {
	for _, h := range had {
		if !slices.ContainsFunc(thumbs, func(t backends.Thumbnail) bool { return t.Size == h.Size }) {
			if err := to.DeleteSize(ctx, source, h.Size); err != nil {
				return err
			}
		}
	}
	return to.Put(ctx, source, thumbs...)
}
