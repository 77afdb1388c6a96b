package thumbnails

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Job asks for one async size of one stored source to be generated. The
// plugin makes one per async size of each upload it stores, and hands them
// to Config.Enqueuer in the transaction that writes the row.
type Job struct {
	Source string // storage name of the source image
	Size   string // name of the size, lower case
	Table  string // table of the model whose row referenced Source when the job was queued
	Column string // that row's image column
	// FocusColumn is the row's field.Focus column, when the image column has
	// one: the job crops around the focal point the row holds when it runs.
	FocusColumn string
}

// Enqueuer queues the background generation of async sizes (sizes.Size's
// Async). Package riverjobs implements it on River, a job queue in
// PostgreSQL. The plugin calls it from many goroutines at once: an
// implementation must be safe for concurrent use.
//
// If an Enqueuer also has a method CheckDB(*gorm.DB) error, db.Use calls it
// with the database the plugin is used with, so that an Enqueuer that cannot
// work with that database fails there rather than at the first save.
type Enqueuer interface {
	// Enqueue queues jobs in tx, the transaction that writes the rows
	// referencing their sources, so that they exist only if it commits.
	// tx is nil when the statement runs outside any transaction (gorm's
	// SkipDefaultTransaction); the rows are written by then. An error fails
	// the save, and the transaction rolls back.
	Enqueue(ctx context.Context, tx *sql.Tx, jobs []Job) error
}

// PendingPolicy says what Thumbnail returns for an async size whose job has
// not run yet. A size's fallback URL, when it has one, is returned in any
// case: the page shows it until the thumbnail exists.
type PendingPolicy int

const (
	// PendingGenerate generates a pending size on demand, as a lazy size is
	// (the job then finds it done). It is the zero value.
	PendingGenerate PendingPolicy = iota
	// PendingError returns an error wrapping ErrPending, so that a request
	// never waits for image work.
	PendingError
)

// ErrPending is returned by Thumbnail for an async size whose job has not
// run yet, that has no fallback URL, when Config.OnPending is PendingError.
var ErrPending = errors.New("thumbnails: the size is generated in the background and is not ready yet")

// pendingError wraps ErrPending with the method by which field.Image's
// Responsive tells a pending size, to leave it out of a srcset (package
// field cannot import this one).
type pendingError struct{ error }

func (e pendingError) Unwrap() error { return e.error }
func (pendingError) Pending() bool   { return true }

// dbChecker is the optional method of an Enqueuer that db.Use calls.
type dbChecker interface {
	CheckDB(db *gorm.DB) error
}

// asyncJobs returns the jobs of the async sizes of the uploads in list,
// written by a statement of model m to rows of table (its model's own, or
// the one db.Table names). An upload of another model's column (a child's,
// that a hook copied) is in that model's table.
func asyncJobs(list []*stored, m *model, table string) []Job {
	var jobs []Job
	for _, st := range list {
		tbl := st.col.table
		if slices.Contains(m.columns, st.col) {
			tbl = table
		}
		for _, sz := range st.col.sizes {
			if sz.Async {
				j := Job{Source: st.source, Size: sz.Name, Table: tbl, Column: st.col.name}
				if st.col.focus != nil {
					j.FocusColumn = st.col.focus.DBName
				}
				jobs = append(jobs, j)
			}
		}
	}
	return jobs
}

// enqueueAsync queues the jobs of the async sizes of the uploads a
// statement stored, in its transaction.
func (p *plugin) enqueueAsync(db *gorm.DB, list []*stored) error {
	if len(list) == 0 {
		return nil
	}
	m := p.modelOf(db)
	if m == nil {
		return db.Error
	}
	table, err := statementTable(db, m)
	if err != nil {
		return err
	}
	jobs := asyncJobs(list, m, table)
	if len(jobs) == 0 {
		return nil
	}
	tx, err := sqlTxOf(db.Statement.ConnPool)
	if err != nil {
		return err
	}
	if err := p.cfg.Enqueuer.Enqueue(db.Statement.Context, tx, jobs); err != nil {
		return fmt.Errorf("thumbnails: queue %d async size(s): %w", len(jobs), err)
	}
	return nil
}

// sqlTxOf returns the *sql.Tx under a gorm connection pool, or nil when the
// pool is not a transaction. It is an error for a transaction whose *sql.Tx
// cannot be found, rather than jobs queued outside it.
func sqlTxOf(pool gorm.ConnPool) (*sql.Tx, error) {
	inTx := false
	for {
		if _, ok := pool.(gorm.TxCommitter); ok {
			inTx = true
		}
		switch v := pool.(type) {
		case *sql.Tx:
			return v, nil
		case *txPool:
			pool = v.ConnPool
		case *gorm.PreparedStmtTX:
			pool = v.Tx
		default:
			if inTx {
				return nil, fmt.Errorf("thumbnails: queue async sizes: the statement's transaction is a %T, not a *sql.Tx", pool)
			}
			return nil, nil
		}
	}
}

// Generate runs job: it makes the thumbnail of job.Source in job.Size and
// records it. It is what a background worker calls (see package riverjobs),
// and it is idempotent: it does nothing when the thumbnail is recorded
// already, and a retry after a crash writes the same file name and the same
// record again. It also does nothing when no row holds job.Source any more
// (the row was deleted, or its image replaced, and no other image column
// the plugin knows holds it), so a job queued for a source that is gone is
// a no-op, also when it goes while the job runs (what the job made then is
// removed).
//
// It fails with ErrUnknownSize when job.Size is not a configured size, or
// not a size of job's column when this process knows the column's model
// (a size taken out of the tag since the job was queued), and
// with ErrInvalidConfig when job lacks a source, table or column (which no
// retry can fix), and with ErrNotRegistered when db does not use the
// plugin.
func Generate(ctx context.Context, db *gorm.DB, job Job) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	sz, ok := p.cfg.Sizes.Get(job.Size)
	if !ok {
		return fmt.Errorf("%w: %q (job for %q)", ErrUnknownSize, job.Size, job.Source)
	}
	if job.Source == "" || job.Table == "" || job.Column == "" {
		return fmt.Errorf("%w: generate: job %+v lacks a source, table or column", ErrInvalidConfig, job)
	}
	if p.columnLacks(job.Table, job.Column, sz.Name) {
		return fmt.Errorf("%w: %q is not a size of column %s.%s (job for %q)", ErrUnknownSize, job.Size, job.Table, job.Column, job.Source)
	}
	referenced, focus, err := p.held(ctx, job)
	if err != nil {
		return fmt.Errorf("thumbnails: generate: check references to %q: %w", job.Source, err)
	}
	if !referenced {
		// An earlier try may have left what it made: one cancelled (a
		// queue's job timeout, a worker's shutdown) once the size was
		// recorded, but before it saw the row gone, or one that crashed.
		return p.forgetLeft(context.WithoutCancel(ctx), job.Source, sz.Name)
	}
	// generate returns the record of a size already made without making it.
	// When ctx ends first (a queue's job timeout, a worker's shutdown), the
	// generation goes on, and settle runs once it has recorded the size: a
	// retry meanwhile finds no record to remove yet.
	settle := func(ctx context.Context, t backends.Thumbnail) error {
		return p.settleJob(ctx, job, sz, focus, t)
	}
	t, err := p.generate(ctx, job.Source, focused([]sizes.Size{sz}, focus)[0], settle)
	if errors.Is(err, backends.ErrNotFound) {
		// The source went with its row (a replace or delete committed
		// since the check): a job with nothing to do, not one to retry.
		if referenced, _, herr := p.held(ctx, job); herr == nil && !referenced {
			return nil
		}
	}
	if err != nil {
		return err
	}
	return settle(context.WithoutCancel(ctx), t) // though ctx ends meanwhile
}

// maxRefocus bounds how many times refocus makes sizes again around a
// focal point that keeps moving.
const maxRefocus = 3

// settleJob is Generate's check of t, the size sz of job.Source that it
// made around the focal point focus (or found made). When no row holds the
// source any more, what the job made is nobody's and goes (see forget): the
// row may have let go of the source while the size was made (a replace or
// delete committed meanwhile), and its clean-up read the source's records
// before this one was written. When the row's point moved meanwhile (the
// application moved it and ran Regenerate, whose file and record this
// job's write, made around the old point, replaced), the size is made
// again around the point the row holds now (see refocus).
func (p *plugin) settleJob(ctx context.Context, job Job, sz sizes.Size, focus field.Focus, t backends.Thumbnail) error {
	point := func() (bool, field.Focus, error) { return p.held(ctx, job) }
	letGo := func() bool { return p.letGo(ctx, job) }
	held, err := p.refocus(ctx, job.Source, []sizes.Size{sz}, focus, point, letGo)
	switch {
	case errors.Is(err, errLetGo):
		return nil
	case err != nil:
		return err
	case !held:
		return p.forget(ctx, t)
	}
	return nil
}

// refocus makes the sizes of list that crop around the row's focal point
// (see usesFocus), last made around used, again around the point the row
// holds now, as point reads it, when it moved: and again, a few times at
// most, should it keep moving. held is false when point finds that no row
// holds source any more, and nothing more is made then; letGo is
// regenerateRow's. A row that does not hold the point its sizes were made
// around is one whose point the application moved, and regenerated, while
// they were being made: their write replaced the new crop with the old.
func (p *plugin) refocus(ctx context.Context, source string, list []sizes.Size, used field.Focus, point func() (bool, field.Focus, error), letGo func() bool) (held bool, err error) {
	list = slices.DeleteFunc(slices.Clone(list), func(sz sizes.Size) bool { return !usesFocus(sz) })
	for range maxRefocus {
		held, now, err := point()
		if err != nil || !held || now == used || len(list) == 0 {
			return held, err
		}
		used = now
		recs, err := thumbnailsIn(ctx, p.meta, []string{source})
		if err != nil {
			return true, err
		}
		if err := p.regenerateRow(ctx, source, focused(list, now), recs[0], letGo); err != nil {
			return true, fmt.Errorf("thumbnails: make the sizes of %q again around the row's new focal point: %w", source, err)
		}
	}
	return true, nil
}

// forgetLeft forgets (see forget) the record of size of source, if any,
// once no row holds source. Without a record, it deletes the file an
// earlier try may have written and failed to record: its name is that of
// source's thumbnail in size, which no other source's ever is.
func (p *plugin) forgetLeft(ctx context.Context, source, size string) error {
	recs, err := thumbnailsIn(ctx, p.meta, []string{source})
	if err != nil {
		return fmt.Errorf("thumbnails: generate: clean up %q: %w", source, err)
	}
	for _, t := range recs[0] {
		if t.Size == size {
			return p.forget(ctx, t)
		}
	}
	sz, ok := p.cfg.Sizes[size]
	if !ok {
		return nil
	}
	name := thumbnailName(p.cfg.BaseDir, source, sz.Name, thumbnailExt(source, sz))
	if err := p.storage.Delete(ctx, name); err != nil && !errors.Is(err, backends.ErrNotFound) {
		return fmt.Errorf("thumbnails: generate: clean up %q: %w", name, err)
	}
	return nil
}

// columnLacks reports whether the models this process has parsed have the
// image column table.name, and none of them with size: a column it does
// not know (a model it has not used, a db.Table table) lacks nothing.
func (p *plugin) columnLacks(table, name, size string) bool {
	found := false
	for _, c := range p.parsedColumns() {
		if c.table == table && c.name == name {
			if _, ok := c.size(size); ok {
				return false
			}
			found = true
		}
	}
	return found
}

// held reports whether a row holds job.Source: a row of job.Table in
// job.Column (with the focal point it holds), or, once none does, a row of
// any other image column the plugin knows in this process (another model
// the image was copied to: the job, unique for a source and size, was
// queued for the first row only, and nobody else would make the size).
func (p *plugin) held(ctx context.Context, job Job) (bool, field.Focus, error) {
	referenced, focus, err := p.referencingRow(ctx, job)
	if err != nil || referenced {
		return referenced, focus, err
	}
	held, err := p.heldAnywhere(ctx, job.Source, tableColumn{job.Table, job.Column})
	return held, field.Focus{}, err
}

// heldAnywhere reports whether a row of an image column the plugin knows
// (see knownColumns), but skip, holds source.
func (p *plugin) heldAnywhere(ctx context.Context, source string, skip tableColumn) (bool, error) {
	db := p.db.WithContext(ctx)
	known, err := p.knownColumns(db)
	if err != nil {
		return false, err
	}
	for _, c := range known {
		if c == skip {
			continue
		}
		refs, err := referencesInKnown(db, c.table, c.name, []string{source})
		if err != nil {
			return false, err
		}
		if refs[source] {
			return true, nil
		}
	}
	return false, nil
}

// forget deletes t, a size of its source made while the source's row let
// go of it (a replace or delete committed meanwhile): its file and its
// record, which the row's clean-up did not see if it read the metadata
// before t was recorded. Once no record of the source is left and its file
// is gone (that clean-up has run), the source's own record goes too. The
// records left are those of sizes in the making, whose makers forget them
// likewise, or the clean-up's to come.
func (p *plugin) forget(ctx context.Context, t backends.Thumbnail) error {
	if t.IsFile() { // a placeholder is a record alone
		if err := p.storage.Delete(ctx, t.Name); err != nil && !errors.Is(err, backends.ErrNotFound) {
			return fmt.Errorf("thumbnails: generate: clean up: %w", err)
		}
	}
	if err := p.meta.DeleteSize(ctx, t.Source, t.Size); err != nil {
		return fmt.Errorf("thumbnails: generate: clean up %q: %w", t.Source, err)
	}
	recs, err := thumbnailsIn(ctx, p.meta, []string{t.Source})
	if err != nil {
		return fmt.Errorf("thumbnails: generate: clean up %q: %w", t.Source, err)
	}
	if len(recs[0]) > 0 {
		return nil
	}
	if gone, err := p.gone(ctx, t.Source); err != nil {
		return fmt.Errorf("thumbnails: generate: clean up %q: %w", t.Source, err)
	} else if !gone {
		return nil // its clean-up is still to come
	}
	if err := p.meta.Delete(ctx, t.Source); err != nil {
		return fmt.Errorf("thumbnails: generate: clean up %q: %w", t.Source, err)
	}
	return nil
}

// referencingRow reports whether a row of job.Table holds job.Source in
// job.Column, and the focal point it holds in job.FocusColumn, if any.
func (p *plugin) referencingRow(ctx context.Context, job Job) (bool, field.Focus, error) {
	cols := []clause.Column{{Name: job.Column}}
	if job.FocusColumn != "" {
		cols = append(cols, clause.Column{Name: job.FocusColumn})
	}
	rows, err := p.db.WithContext(ctx).Table("?", clause.Table{Name: job.Table}).
		Clauses(clause.Select{Columns: cols}).
		Where(clause.Eq{Column: clause.Column{Name: job.Column}, Value: job.Source}).
		Limit(1).Rows()
	if err != nil {
		return false, field.Focus{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, field.Focus{}, rows.Err()
	}
	var (
		source string
		focus  field.Focus
	)
	dest := []any{&source}
	if job.FocusColumn != "" {
		dest = append(dest, &focus)
	}
	if err := rows.Scan(dest...); err != nil {
		return false, field.Focus{}, err
	}
	return true, focus, rows.Err()
}

// pending answers Thumbnail for an async size that img's known records do
// not have. When they are the records of the save that stored img, the job
// may have run since, so metadata is read again first, at every access
// until it has; records read from metadata (by Preload, or a first access
// of a loaded row) are trusted as they are.
func (b *binder) pending(ctx context.Context, img *field.Image, sz sizes.Size) (field.Thumbnail, bool, error) {
	if _, stale := bridge.Cached(img).(saved); stale {
		k, err := b.read(ctx, img)
		if err != nil {
			return field.Thumbnail{}, false, err
		}
		if t, ok := k.get(sz.Name); ok {
			return b.thumbnail(t), true, nil
		}
		// Still pending: the next access reads again, until the job has run.
		bridge.Cache(img, saved(k))
	}
	if sz.FallbackImageURL != "" {
		return field.Thumbnail{Size: sz.Name, URL: sz.FallbackImageURL}, true, nil
	}
	if b.p.cfg.OnPending == PendingError {
		return field.Thumbnail{}, true, pendingError{fmt.Errorf("%w: %s.%s, size %q of %q", ErrPending, b.col.table, b.col.name, sz.Name, img.Name())}
	}
	return field.Thumbnail{}, false, nil
}
