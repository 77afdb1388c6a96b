package thumbnails

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// The outbox is a table of sources whose files and metadata are to be
// deleted once the change that released them has committed. Rows are
// written in the same transaction as that change, so a rollback takes them
// back; they are drained after the commit. Draining checks that no row of
// the model still references the source, so a queued name that a committed
// row still holds is never deleted.
//
// A statement outside any transaction (SkipDefaultTransaction) has its
// rows committed before its write: they are there for a drain after a
// crash between the write and its own drain. A drain of another commit may
// read them in between, find the row still holding the source and let them
// go; so after the write the statement queues the same sources again (see
// requeueReleased), and its drain, which reads the rows after the write,
// deletes them.

// outboxTable is created by the migrations.
const outboxTable = "thumbnails_outbox"

// drainBatch is how many outbox rows a drain reads at a time, and
// enqueueBatch how many it writes in one INSERT (4 parameters a row: far
// under SQLite's 32,766 and PostgreSQL's 65,535).
const (
	drainBatch   = 500
	enqueueBatch = 1000
)

type outboxRow struct {
	ID          int64     `gorm:"column:id"`
	Source      string    `gorm:"column:source"`
	ModelTable  string    `gorm:"column:model_table"`
	ModelColumn string    `gorm:"column:model_column"`
	CreatedAt   time.Time `gorm:"column:created_at"`
}

// keyReleased holds the sources that the statement queued for deletion
// ([]released), for requeueReleased.
const keyReleased = "thumbnails:released"

// released is the sources a statement queued for one image column.
type released struct {
	table   string
	col     *column
	sources []string
}

// enqueue writes outbox rows for sources released by the statement running
// on db, in db's transaction, and notes them on the statement.
func enqueue(db *gorm.DB, table string, col *column, sources []string) error {
	if len(sources) == 0 {
		return nil
	}
	if err := queue(db, table, col, sources); err != nil {
		return err
	}
	var all []released
	if v, ok := db.InstanceGet(keyReleased); ok {
		all = v.([]released)
	}
	db.InstanceSet(keyReleased, append(all, released{table, col, sources}))
	return nil
}

// requeueReleased writes again the outbox rows of the sources that the
// statement on db, outside any transaction, queued before its write, once
// that write has been made (it failed after, or did not fail). Those rows
// committed before the write, and a drain of another commit that read them
// in between found the rows of the model still holding the sources, and
// let them go: the new ones are read by a drain that sees the write. A
// failure is logged: the first rows still serve, unless such a drain let
// them go, and then Prune reclaims the sources.
func (p *plugin) requeueReleased(db *gorm.DB) {
	v, ok := db.InstanceGet(keyReleased)
	if !ok || (db.Error != nil && db.RowsAffected == 0) {
		return
	}
	ctx, cancel := cleanupContext(db.Statement.Context)
	defer cancel()
	conn := statementConn(ctx, db)
	for _, r := range v.([]released) {
		if err := queue(conn, r.table, r.col, r.sources); err != nil {
			p.db.Logger.Error(ctx, "%v", err)
		}
	}
}

// queue writes outbox rows for sources released by a statement running on
// db, in db's transaction.
func queue(db *gorm.DB, table string, col *column, sources []string) error {
	rows := make([]outboxRow, len(sources))
	now := time.Now().UTC()
	for i, s := range sources {
		rows[i] = outboxRow{Source: s, ModelTable: table, ModelColumn: col.name, CreatedAt: now}
	}
	tx := db.Session(&gorm.Session{NewDB: true})
	if err := tx.Table(outboxTable).CreateInBatches(&rows, enqueueBatch).Error; err != nil {
		return fmt.Errorf("thumbnails: queue deletion of %d source(s): %w", len(sources), err)
	}
	return nil
}

// drainAfterCommit drains the outbox after a commit, under ctx (the
// context of the statement or of the transaction's begin) without its
// cancellation: the commit is done whatever happens to the caller. A
// failure is logged and left for the next drain.
func (p *plugin) drainAfterCommit(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	if _, err := p.drain(ctx); err != nil {
		p.db.Logger.Error(ctx, "thumbnails: drain outbox: %v", err)
	}
}

// drain deletes the files and metadata of the sources queued in the outbox
// that no row references any more, drainBatch outbox rows at a time until
// it has seen them all. A row whose source could not be deleted stays for
// the next drain. It returns how many sources it deleted.
//
// Drains run one at a time in a process (p.draining): concurrent commits
// would otherwise walk the same rows and delete the same files together.
func (p *plugin) drain(ctx context.Context) (int, error) {
	p.draining.Lock()
	defer p.draining.Unlock()
	p.redrain.Store(false)
	db := p.db.Session(&gorm.Session{NewDB: true, Context: ctx})
	deleted := 0
	var errs []error
	for after := int64(0); ; {
		var rows []outboxRow
		if err := db.Table(outboxTable).Where("id > ?", after).Order("id").Limit(drainBatch).Find(&rows).Error; err != nil {
			return deleted, errors.Join(append(errs, err)...)
		}
		if len(rows) == 0 {
			return deleted, errors.Join(errs...)
		}
		n, err := p.drainRows(ctx, db, rows)
		deleted += n
		if err != nil {
			errs = append(errs, err)
		}
		if len(rows) < drainBatch {
			return deleted, errors.Join(errs...)
		}
		after = rows[len(rows)-1].ID
	}
}

// drainRows handles one batch of outbox rows: a query a model column for
// the sources its rows still reference, one metadata read for the others,
// the deletion of their files, then, in one transaction (which takes the
// metadata along when it lives in the database), the deletion of their
// metadata and of the outbox rows done with. Files go first, so that a
// failure part way leaves metadata behind for the next drain rather than
// files nobody knows of. It returns how many sources it deleted.
func (p *plugin) drainRows(ctx context.Context, db *gorm.DB, rows []outboxRow) (int, error) {
	var errs []error
	// On SQLite the whole batch runs in a transaction that first takes the
	// database's write lock, and holds it until the files and the records
	// are deleted: a copy written in a transaction still open is then
	// committed before the check reads the rows, and none can commit
	// between the check and the deletes (SQLite has one writer).
	meta := p.meta
	var locks *gorm.DB
	if dialect.Of(db) == dialect.SQLite {
		locks = db.Begin()
		if locks.Error != nil {
			return 0, fmt.Errorf("thumbnails: drain outbox: %w", locks.Error)
		}
		defer locks.Rollback() // after its Commit, a no-op
		if err := lockWrites(locks); err != nil {
			return 0, fmt.Errorf("thumbnails: drain outbox: take the write lock: %w", err)
		}
		db = locks
		if tm, ok := meta.(backends.TxMetadata); ok {
			meta = tm.WithDB(locks)
		}
	}
	type column = tableColumn
	byColumn := map[column][]string{}
	for _, r := range rows {
		c := column{r.ModelTable, r.ModelColumn}
		byColumn[c] = append(byColumn[c], r.Source)
	}
	referenced := map[column]map[string]bool{} // nil for a column that could not be checked
	for c, sources := range byColumn {
		refs, err := referencesIn(db, c.table, c.name, sources)
		if err != nil {
			errs = append(errs, err)
			continue // its rows stay for the next drain
		}
		referenced[c] = refs
	}
	// A source let go of by one column may still be another's: a row's
	// other image column (two columns that swapped their images each let
	// go of what the other now holds), or another model's, given the same
	// name. Every image column the plugin knows in this process, and every
	// column of the batch, is checked for the sources the others let go of.
	all := make([]string, 0, len(rows))
	for _, r := range rows {
		all = append(all, r.Source)
	}
	targets := make([]column, 0, len(byColumn))
	listed := map[column]bool{}
	known, err := p.knownColumns(db)
	if err != nil {
		return 0, errors.Join(append(errs, err)...) // every row stays for the next drain
	}
	for _, k := range known {
		if !listed[k] {
			listed[k] = true
			targets = append(targets, k)
		}
	}
	for c := range byColumn {
		if !listed[c] {
			listed[c] = true
			targets = append(targets, c)
		}
	}
	elsewhere := map[string]bool{}
	othersChecked := true
	for _, c := range targets {
		sources := all
		if own, queued := byColumn[c]; queued {
			sources = slices.DeleteFunc(slices.Clone(all), func(s string) bool { return slices.Contains(own, s) })
			if len(sources) == 0 {
				continue // its own were checked above
			}
		}
		refs, err := referencesInKnown(db, c.table, c.name, sources)
		if err != nil {
			errs = append(errs, err)
			othersChecked = false
			continue
		}
		maps.Copy(elsewhere, refs)
	}

	// The sources to delete, each once: those whose every row in the batch
	// was checked and found unreferenced, and that no other column holds
	// (a source queued by two columns stays while either references it, or
	// could not be checked).
	var free []string
	kept := map[string]bool{}
	for _, r := range rows {
		if refs, checked := referenced[column{r.ModelTable, r.ModelColumn}]; !checked || refs[r.Source] || elsewhere[r.Source] || !othersChecked {
			kept[r.Source] = true
		}
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if !kept[r.Source] && !seen[r.Source] {
			seen[r.Source] = true
			free = append(free, r.Source)
		}
	}
	// On PostgreSQL the rest runs in a transaction that holds the locks
	// of the sources it deletes (see guard.go), checked again under them.
	if len(free) > 0 && dialect.Of(db) == dialect.Postgres {
		locks = db.Begin()
		if locks.Error != nil {
			return 0, errors.Join(append(errs, locks.Error)...)
		}
		defer locks.Rollback() // after its Commit, a no-op
		var still map[string]bool
		var err error
		asked := len(free)
		if free, still, err = lockAndRecheck(locks, free, targets); err != nil {
			return 0, errors.Join(append(errs, err)...)
		}
		if len(free)+len(still) < asked {
			p.redrain.Store(true) // some were being copied: see guardCopies
		}
		for s := range still {
			delete(seen, s) // referenced again: the row holding it releases it
		}
		db = locks
		if tm, ok := meta.(backends.TxMetadata); ok {
			meta = tm.WithDB(locks)
		}
	}
	gone := map[string]bool{}
	if len(free) > 0 {
		recs, err := thumbnailsIn(ctx, meta, free)
		if err != nil {
			return 0, errors.Join(append(errs, err)...)
		}
		for i, source := range free {
			if err := p.deleteFilesOf(ctx, source, recs[i]); err != nil {
				errs = append(errs, err)
				continue
			}
			gone[source] = true
		}
	}

	// The rows done with: those of a checked column, unless their source
	// was to be deleted and could not be (they stay for the next drain).
	// A source kept for another row is that row's to release.
	var done []int64
	for _, r := range rows {
		_, checked := referenced[column{r.ModelTable, r.ModelColumn}]
		if checked && othersChecked && (!seen[r.Source] || gone[r.Source]) {
			done = append(done, r.ID)
		}
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		meta := p.meta
		if tm, ok := meta.(backends.TxMetadata); ok {
			meta = tm.WithDB(tx)
		}
		for _, source := range free {
			if !gone[source] {
				continue
			}
			if err := meta.Delete(ctx, source); err != nil {
				return fmt.Errorf("thumbnails: delete metadata of %q: %w", source, err)
			}
		}
		if len(done) == 0 {
			return nil
		}
		return tx.Table(outboxTable).Where("id IN ?", done).Delete(&outboxRow{}).Error
	})
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	if locks != nil {
		if len(gone) > 0 {
			// before the commit, which lets a waiting copy go on
			p.deleted.add(slices.Collect(maps.Keys(gone)))
		}
		if err := locks.Commit().Error; err != nil {
			return 0, errors.Join(append(errs, fmt.Errorf("thumbnails: drain outbox: %w", err))...)
		}
	}
	return len(gone), errors.Join(errs...)
}

// deleteFilesOf deletes the thumbnails of source whose records are recs,
// then source itself. A legacy thumbnail that another source's record may
// name too (see mayShare) is left to Prune, which deletes it once no
// record names it.
func (p *plugin) deleteFilesOf(ctx context.Context, source string, recs []backends.Thumbnail) error {
	for _, t := range recs {
		if !t.IsFile() || p.mayShare(source, t.Name) {
			continue
		}
		// A name the storage refuses (a legacy "../x.jpg") names no file.
		if err := p.storage.Delete(ctx, t.Name); err != nil && !errors.Is(err, backends.ErrInvalidName) {
			return fmt.Errorf("thumbnails: delete %q: %w", t.Name, err)
		}
	}
	if !backends.IsCleanName(source) {
		// Nor does a source the storage refuses; and one spelled otherwise
		// than its clean form (a legacy row's "legacy//cat.jpg") may be
		// held by a row that spells it the clean way, which the check of
		// the references did not look for: Prune, which compares the
		// clean forms, reclaims it when no row holds it.
		return nil
	}
	if err := p.storage.Delete(ctx, source); err != nil {
		return fmt.Errorf("thumbnails: delete %q: %w", source, err)
	}
	return nil
}

// mayShare reports whether name, a recorded thumbnail of source, may be
// recorded for another source too: one named before the names of legacy
// sources were hashed (see maybeShared), in a metadata store that let two
// sources record one name (the database's refuses it).
func (p *plugin) mayShare(source, name string) bool {
	_, database := p.meta.(backends.TxMetadata)
	return !database && maybeShared(source, name)
}

// anySlice returns s as a []any, for a clause.IN.
func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// discard removes what was stored for uploads that no row references (a
// statement that failed, wrote no row, or rolled back): their files and,
// when the metadata store is not part of the transaction (Redis), their
// records. Failures are logged: what is left is an orphan for Prune. It
// runs even when ctx is cancelled (a cancelled save is the usual reason to
// discard), under cleanupTimeout.
func (p *plugin) discard(ctx context.Context, list []*stored) { p.discardFrom(ctx, list, nil) }

// discardFrom is discard; recorded, when not nil, is the metadata that
// holds records the statement wrote outside any transaction, where they
// committed as they were written, whatever the store: they are removed
// from it too (a Save whose update matched no row, recorded for the
// insert it may fall back to, and failed at an association).
func (p *plugin) discardFrom(ctx context.Context, list []*stored, recorded backends.Metadata) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	meta := recorded
	if _, transactional := p.meta.(backends.TxMetadata); meta == nil && !transactional {
		meta = p.meta
	}
	for _, st := range list {
		if meta != nil {
			if err := meta.Delete(ctx, st.source); err != nil {
				p.db.Logger.Error(ctx, "thumbnails: delete metadata of orphan %q: %v", st.source, err)
			}
		}
		p.deleteFiles(ctx, st.files)
		if st.img != nil {
			bridge.Discard(st.img)
			if st.mapDest != nil {
				st.mapDest[st.mapKey] = *st.img
			}
		}
		for _, c := range st.copies {
			bridge.Discard(c)
		}
	}
}

// deleteFiles removes files that no row references (those stored for a
// statement that failed or rolled back), logging failures; like discard,
// even when ctx is cancelled.
func (p *plugin) deleteFiles(ctx context.Context, names []string) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	for _, n := range names {
		if err := p.storage.Delete(ctx, n); err != nil {
			p.db.Logger.Error(ctx, "thumbnails: delete orphan %q: %v", n, err)
		}
	}
}

// cleanupTimeout bounds the deletion of what a failed save stored.
const cleanupTimeout = time.Minute

// cleanupContext returns ctx without its cancellation (its values, such as
// a trace, stay) and with cleanupTimeout: what a cancelled save stored must
// still be deleted.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// table starts a statement on the table called name, quoted whatever it
// holds: gorm's Table writes a name with a space as it is.
func table(db *gorm.DB, name string) *gorm.DB {
	return db.Table("?", clause.Table{Name: name})
}

// pluck reads column (a name, quoted whatever it holds: gorm's Pluck and
// Select leave a name with a space, say, unquoted) of the rows of q into
// dest, a pointer to a slice; distinct reads each value once.
func pluck(q *gorm.DB, column string, distinct bool, dest any) *gorm.DB {
	return q.Clauses(clause.Select{Distinct: distinct, Columns: []clause.Column{{Name: column}}}).Find(dest)
}

// referencesIn returns which of sources a row of table holds in column, in
// one query.
func referencesIn(db *gorm.DB, tableName, column string, sources []string) (map[string]bool, error) {
	refs, err := heldIn(table(db, tableName), column, sources)
	if err != nil {
		return nil, fmt.Errorf("check references to %d sources in %s.%s: %w", len(sources), tableName, column, err)
	}
	return refs, nil
}

// heldIn returns which of sources a row of q's table holds in column, in
// one query.
func heldIn(q *gorm.DB, column string, sources []string) (map[string]bool, error) {
	var names []string
	q = q.Where(clause.IN{Column: clause.Column{Name: column}, Values: anySlice(sources)})
	if err := pluck(q, column, true, &names).Error; err != nil {
		return nil, err
	}
	refs := make(map[string]bool, len(names))
	for _, n := range names {
		refs[n] = true
	}
	return refs, nil
}

// referencesInKnown is referencesIn for a column the plugin has seen in
// this process: one whose table or column is not there (any more, or in
// this database) holds nothing, and is no error.
func referencesInKnown(db *gorm.DB, tableName, column string, sources []string) (map[string]bool, error) {
	refs, err := referencesIn(db, tableName, column, sources)
	if err != nil {
		if exists, _ := hasColumn(db, tableColumn{tableName, column}); !exists { // nor when it cannot tell, as gorm's HasColumn
			return nil, nil
		}
	}
	return refs, err
}

// tableColumn names an image column by its table and column names, as the
// outbox records it.
type tableColumn struct{ table, name string }

// knownColumns returns the image columns (table and name) of every model
// the plugin has parsed in this process, and of every other table that a
// statement of any process copied a model's images into (db.Table; read
// from columnsTable on db), each once.
func (p *plugin) knownColumns(db *gorm.DB) ([]tableColumn, error) {
	copied, err := copiedInto(db)
	if err != nil {
		return nil, err
	}
	var cols []tableColumn
	seen := map[tableColumn]bool{}
	add := func(k tableColumn) {
		if !seen[k] {
			seen[k] = true
			cols = append(cols, k)
		}
	}
	for _, c := range p.usedColumns() {
		add(c)
	}
	for _, c := range copied {
		add(c)
	}
	return cols, nil
}
