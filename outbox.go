package thumbnails

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

// The outbox is a table of sources whose files and metadata are to be
// deleted once the change that released them has committed. Rows are
// written in the same transaction as that change, so a rollback takes them
// back; they are drained after the commit. Draining checks that no row of
// the model still references the source, so a queued name that a committed
// row still holds is never deleted.

// outboxTable is created by the migrations.
const outboxTable = "thumbnails_outbox"

// drainBatch bounds the outbox rows handled by one drain.
const drainBatch = 500

type outboxRow struct {
	ID          int64
	Source      string
	ModelTable  string
	ModelColumn string
	CreatedAt   time.Time
}

// enqueue writes outbox rows for sources released by a statement running on
// db, in db's transaction.
func enqueue(db *gorm.DB, col *column, sources []string) error {
	if len(sources) == 0 {
		return nil
	}
	rows := make([]outboxRow, len(sources))
	now := time.Now().UTC()
	for i, s := range sources {
		rows[i] = outboxRow{Source: s, ModelTable: col.table, ModelColumn: col.name, CreatedAt: now}
	}
	tx := db.Session(&gorm.Session{NewDB: true})
	if err := tx.Table(outboxTable).Create(&rows).Error; err != nil {
		return fmt.Errorf("thumbnails: queue deletion of %d source(s): %w", len(sources), err)
	}
	return nil
}

// drainAfterCommit drains the outbox after a commit. A failure is logged and
// left for the next drain: the commit already succeeded.
func (p *plugin) drainAfterCommit() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := p.drain(ctx); err != nil {
		p.db.Logger.Error(ctx, "thumbnails: drain outbox: %v", err)
	}
}

// drain deletes the files and metadata of the sources queued in the outbox
// that no row references any more. It returns how many sources it deleted.
func (p *plugin) drain(ctx context.Context) (int, error) {
	db := p.db.Session(&gorm.Session{NewDB: true, Context: ctx})
	var rows []outboxRow
	if err := db.Table(outboxTable).Order("id").Limit(drainBatch).Find(&rows).Error; err != nil {
		return 0, err
	}
	deleted := 0
	var errs []error
	for _, r := range rows {
		var refs int64
		err := db.Table(r.ModelTable).
			Where(clause.Eq{Column: clause.Column{Name: r.ModelColumn}, Value: r.Source}).
			Count(&refs).Error
		if err != nil {
			errs = append(errs, fmt.Errorf("check references to %q: %w", r.Source, err))
			continue
		}
		if refs == 0 {
			if err := p.deleteSource(ctx, r.Source); err != nil {
				errs = append(errs, err)
				continue
			}
			deleted++
		}
		if err := db.Table(outboxTable).Where("id = ?", r.ID).Delete(&outboxRow{}).Error; err != nil {
			errs = append(errs, err)
		}
	}
	return deleted, errors.Join(errs...)
}

// deleteSource removes the thumbnails, the source file and the metadata of
// source, in that order, so that a failure part way leaves metadata behind
// for a retry rather than files nobody knows of.
func (p *plugin) deleteSource(ctx context.Context, source string) error {
	thumbs, err := p.meta.Thumbnails(ctx, source)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(thumbs)+1)
	for _, t := range thumbs {
		if t.IsFile() {
			names = append(names, t.Name)
		}
	}
	names = append(names, source)
	for _, n := range names {
		if err := p.storage.Delete(ctx, n); err != nil {
			return fmt.Errorf("thumbnails: delete %q: %w", n, err)
		}
	}
	if err := p.meta.Delete(ctx, source); err != nil {
		return fmt.Errorf("thumbnails: delete metadata of %q: %w", source, err)
	}
	return nil
}

// discard removes what was stored for uploads that no row references (a
// statement that failed, wrote no row, or rolled back): their files and,
// when the metadata store is not part of the transaction (Redis), their
// records. Failures are logged: what is left is an orphan for Prune.
func (p *plugin) discard(ctx context.Context, list []*stored) {
	_, transactional := p.meta.(backends.TxMetadata)
	for _, st := range list {
		if !transactional {
			if err := p.meta.Delete(ctx, st.source); err != nil {
				p.db.Logger.Error(ctx, "thumbnails: delete metadata of orphan %q: %v", st.source, err)
			}
		}
		p.deleteFiles(ctx, st.files)
	}
}

// deleteFiles removes files that no row references (those stored for a
// statement that failed or rolled back), logging failures.
func (p *plugin) deleteFiles(ctx context.Context, names []string) {
	for _, n := range names {
		if err := p.storage.Delete(ctx, n); err != nil {
			p.db.Logger.Error(ctx, "thumbnails: delete orphan %q: %v", n, err)
		}
	}
}
