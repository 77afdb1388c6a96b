package thumbnails

import (
	"context"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// MigrateMetadata copies every record of one metadata store into another —
// from the database to Redis or back — a batch of sources at a time. It is
// idempotent: a record already in the destination is replaced by the same
// one, so an interrupted run can simply be run again. Done counts the
// sources copied, Skipped those without thumbnails; with WithDryRun it only
// counts them.
func MigrateMetadata(ctx context.Context, from, to backends.Metadata, opts ...Option) (Counts, error) {
	o := collect(opts)
	var counts Counts
	err := from.Each(ctx, func(source string, thumbs []backends.Thumbnail) error {
		if len(thumbs) == 0 {
			counts.Skipped++ // a source with no thumbnail has nothing to copy
			o.progress(Progress{Counts: counts, Source: source})
			return nil
		}
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
