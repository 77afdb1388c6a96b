package thumbnails

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// deleteBatch is how many rows DeleteSize reads (with their metadata) at a time.
const deleteBatch = 500

// DeleteSize removes the thumbnails of one size — files and metadata — for
// every row of a column, and leaves the other sizes alone. The file names
// come from the metadata, so a size that is no longer configured can be
// deleted too. model is a model value (&Food{}), whose rows are those of its
// table or of the table db.Table names, or a Table; column may be empty
// when the model has one image column. It returns how many rows had
// the size (Done) or not (Skipped). A row whose file or record cannot be
// deleted is counted in Failed, reported through WithProgress, and keeps
// its record, so that running it again retries; the run goes on, and its
// error is that of reading the rows or the metadata, or of ctx. With
// WithDryRun it only counts.
func DeleteSize(ctx context.Context, db *gorm.DB, model any, column, size string, opts ...Option) (Counts, error) {
	o := collect(opts)
	p, err := pluginOf(db)
	if err != nil {
		return Counts{}, err
	}
	tg, err := p.target(db, model, column)
	if err != nil {
		return Counts{}, err
	}
	size = strings.ToLower(size)
	total, err := tg.count(ctx, db, nil, nil)
	if err != nil {
		return Counts{}, err
	}
	var counts Counts
	var after any
	for {
		if err := ctx.Err(); err != nil {
			return counts, err
		}
		rows, err := tg.batch(ctx, db, after, nil, deleteBatch)
		if err != nil || len(rows) == 0 {
			return counts, err
		}
		sources := make([]string, len(rows))
		for i, r := range rows {
			sources[i] = r.source
		}
		recorded, err := p.meta.ThumbnailsOf(ctx, sources)
		if err != nil {
			return counts, err
		}
		for _, r := range rows {
			if err := ctx.Err(); err != nil {
				return counts, err
			}
			var rowErr error
			found := false
			for _, t := range recorded[r.source] {
				if t.Size != size {
					continue
				}
				found = true
				if !o.dryRun {
					// the file first: a failure leaves the record, so a rerun finds it
					if t.IsFile() { // a placeholder has no file
						rowErr = p.storage.Delete(ctx, t.Name)
					}
					if rowErr == nil {
						rowErr = p.meta.DeleteSize(ctx, r.source, size)
					}
				}
			}
			switch {
			case rowErr != nil:
				counts.Failed++
			case found:
				counts.Done++
			default:
				counts.Skipped++
			}
			counts.Last = r.pk
			o.progress(Progress{Counts: counts, Total: int(total), PrimaryKey: r.pk, Source: r.source, Err: rowErr})
		}
		after = rows[len(rows)-1].pk
	}
}
