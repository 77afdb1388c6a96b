package thumbnails

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
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
// both (the record goes first and is put back; should that fail too, the
// file is left for Prune), so that no record names a missing file and
// running it again retries; the run goes on, and its
// error is that of reading the rows or the metadata, or of ctx. A
// cancelled ctx stops the run after the row in flight, which is finished
// and counted; Counts.Last tells where to resume. With WithDryRun it only
// counts.
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
		removed := make(map[string]string) // source: the file of size deleted
		var stopped error
		for _, r := range rows {
			if stopped = ctx.Err(); stopped != nil {
				break
			}
			var rowErr error
			found := false
			for _, t := range recorded[r.source] {
				if t.Size != size {
					continue
				}
				found = true
				if !o.dryRun {
					// A row begun is finished: a cancel between its
					// record and its file would fail it halfway.
					if rowErr = p.deleteRecordedSize(context.WithoutCancel(ctx), r.source, t); rowErr == nil && t.IsFile() {
						removed[r.source] = t.Name
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
		if err := p.unrecordRemade(context.WithoutCancel(ctx), size, removed); err != nil {
			return counts, err
		}
		if stopped != nil {
			return counts, stopped
		}
		after = rows[len(rows)-1].pk
	}
}

// deleteRecordedSize deletes the record t of source, then its file. The
// record goes first, so that a record never names a missing file; when the
// file cannot be deleted, the record is put back, for a rerun to find.
func (p *plugin) deleteRecordedSize(ctx context.Context, source string, t backends.Thumbnail) error {
	if err := p.meta.DeleteSize(ctx, source, t.Size); err != nil {
		return err
	}
	if !t.IsFile() { // a placeholder has no file
		return nil
	}
	if err := p.storage.Delete(ctx, t.Name); err != nil {
		if putErr := p.meta.Put(context.WithoutCancel(ctx), source, t); putErr != nil {
			return errors.Join(err, fmt.Errorf("thumbnails: record %q again: %w", t.Name, putErr))
		}
		return err
	}
	return nil
}

// unrecordRemade deletes the records of size that name a file DeleteSize
// has just deleted (removed maps each source to it): a read that found no
// record between the deletes of the record and of the file made the size
// again, under the same name, and its file is gone. The size is then made
// again on its next read.
func (p *plugin) unrecordRemade(ctx context.Context, size string, removed map[string]string) error {
	if len(removed) == 0 {
		return nil
	}
	recorded, err := p.meta.ThumbnailsOf(ctx, slices.Collect(maps.Keys(removed)))
	if err != nil {
		return err
	}
	for source, name := range removed {
		for _, t := range recorded[source] {
			if t.Size == size && t.Name == name {
				if err := p.meta.DeleteSize(ctx, source, size); err != nil {
					return fmt.Errorf("thumbnails: remove the record of %q, made again while its file was deleted: %w", name, err)
				}
			}
		}
	}
	return nil
}
