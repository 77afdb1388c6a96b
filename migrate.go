package thumbnails

import (
	"context"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// MigrateMetadata copies every record of one metadata store into another —
// from the database to Redis or back — a batch of sources at a time. It is
// idempotent: a record already in the destination is replaced by the same
// one, so an interrupted run can simply be run again. Done counts the
// sources copied, those recorded without thumbnails included (an upload
// whose sizes are all lazy: Prune keeps the file of a recorded source);
// with WithDryRun it only counts them. The first source the destination
// refuses stops the copy (counted in Failed), and its error is returned:
// the store is down or full, which the next sources would meet too.
func MigrateMetadata(ctx context.Context, from, to backends.Metadata, opts ...Option) (Counts, error) {
	o := collect(opts)
	var counts Counts
	err := from.Each(ctx, func(source string, thumbs []backends.Thumbnail) error {
		var err error
		if !o.dryRun {
			err = to.Put(ctx, source, thumbs...)
		}
		if err != nil {
			counts.Failed++
		} else {
			counts.Done++
		}
		o.progress(Progress{Counts: counts, Source: source, Err: err})
		return err
	})
	return counts, err
}
