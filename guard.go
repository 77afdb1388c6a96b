package thumbnails

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// On PostgreSQL, a source copied into a row (b.Image = a.Image) and the
// clean-up of a source that a delete or a replace let go of (the outbox's
// drain) can race: the drain, checking for rows that still reference the
// source, cannot see the copy's row while its transaction is open, and
// would delete the files that row is about to commit. They share a
// transaction-scoped advisory lock per source (per stripe of sources, in
// the current schema):
//
//   - the statement that writes a copy takes it shared, in its
//     transaction, before the row is written;
//   - the drain takes it exclusively, without waiting (a source whose lock
//     is held stays in the outbox for the next drain), checks the
//     references again under it, and holds it until the files and the
//     records are deleted.
//
// A copy that had to wait for the lock waited for a drain, which may have
// deleted the source: it then fails with backends.ErrNotFound, before
// writing anything, unless the source is still in the storage. So does a
// copy of a source that a drain of the same process deleted during the
// copy's statement (plugin.deleted, whose count the statement reads as it
// begins), lock or no lock. A source the drain left for later is drained
// again at the commit of the next statement that copies a source.
//
// On SQLite, which has one writer, the drain takes the database's write
// lock before its check and holds it until the files and the records are
// deleted: a copy written in a transaction still open commits before the
// check reads the rows, and none commits between the check and the
// deletes. A statement that copies a source takes the write lock before
// it writes (waitForDrains); a source of it that a drain of this process
// deleted since the statement began must still be stored, as above. A
// drain of another process is not seen there.
//
// A copy of a source that a drain of this process deleted before the
// statement began is refused before the statement writes (guardCopies),
// and what the rows hold once written is checked again
// (refuseDeletedCopies). A row's
// own image that an insert writes back into a row that no longer exists
// (a row loaded, deleted since, and saved again) is refused before the
// statement writes when a drain of this process deleted it (see
// refuseRevived), and otherwise guarded as a copy when an upsert found
// the row missing (see guardRevived). Not covered: a copy of a source
// that a drain of another process deleted before the copy took its lock
// (an Image read long before, of a row deleted since) is not checked, for
// applications write names of files the plugin never stored, which a
// check of the storage would refuse.

// lockClass is the first half of the plugin's advisory lock keys on
// PostgreSQL, computed by the server: the first 32 bits of the MD5 of
// "thumbnails:" and the current schema, so that applications (and tests)
// in different schemas of one database do not share locks. The second
// half is a stripe of the sources.
const lockClass = "CAST(CAST('x' || left(md5('thumbnails:' || current_schema()), 8) AS bit(32)) AS int)"

// lockStripes is the number of stripes the sources' locks are spread
// over: a transaction that copies thousands of sources takes at most this
// many locks (PostgreSQL's lock table has max_locks_per_transaction, 64 by
// default, times max_connections entries, shared by every transaction),
// and a drain leaves for later a source that merely shares its stripe
// with one being copied.
const lockStripes = 64

// sourceStripe is the stripe of source's lock.
func sourceStripe(source string) int32 {
	h := fnv.New32a()
	h.Write([]byte(source))
	return int32(h.Sum32() % lockStripes)
}

// lockKeys returns the stripes of sources, each with the sources in it,
// and the JSON array of the stripes as text, which the queries bind as one
// parameter.
func lockKeys(sources []string) (map[int32][]string, string) {
	keys := make(map[int32][]string, min(len(sources), lockStripes))
	list := make([]string, 0, min(len(sources), lockStripes))
	for _, s := range sources {
		k := sourceStripe(s)
		if _, dup := keys[k]; !dup {
			list = append(list, strconv.Itoa(int(k)))
		}
		keys[k] = append(keys[k], s)
	}
	b, _ := json.Marshal(list) // strings always encode
	return keys, string(b)
}

// guardCopies records the columns the statement makes hold images (see
// recordColumns) and takes, on PostgreSQL, the shared lock of every source
// the statement copies (see keyCopies), before the statement writes; a
// lock held by a drain is waited for, after which the source must still be
// stored. An insert without ON CONFLICT then guards the own images it
// writes back (see guardOwnInserts). create tells a Create from an Update.
func (p *plugin) guardCopies(db *gorm.DB, create bool) {
	if db.Error != nil || db.DryRun {
		return
	}
	m := p.modelOf(db)
	_, records := db.InstanceGet(keyRecordColumns)
	v, copies := db.InstanceGet(keyCopies)
	if names, _ := v.([]string); len(names) > 0 {
		// Before anything is written, which nothing rolls back without a
		// transaction (an upsert that would write nothing, its row there,
		// is refused too); a name that may be a stale copy of the row's
		// own image is left to refuseDeletedCopies, once written.
		if gone := foreignCopy(db, p.deleted.ever(names)); gone != "" {
			_ = db.AddError(deletedSource(gone, roleCopied))
			return
		}
	}
	if m != nil && (records || copies) && dialect.Of(db) == dialect.SQLite {
		// These writes to the main database come before the statement's
		// own: take the locks in the order every other writer takes them,
		// the table's database first (an attached one may be another),
		// or two transactions each wait for the lock the other holds
		// until the busy timeout fails one of them.
		q := onStatementTable(db, m)
		if writeLock(q, m); q.Error != nil {
			_ = db.AddError(q.Error)
			return
		}
	}
	if err := p.recordColumns(db); err != nil {
		_ = db.AddError(err)
		return
	}
	if names, _ := v.([]string); len(names) > 0 {
		if err := p.queueCopiedSizes(db); err != nil {
			_ = db.AddError(err)
			return
		}
		if err := p.guardNames(db, names); err != nil {
			_ = db.AddError(err)
			return
		}
	}
	if create && m != nil {
		if err := p.guardOwnInserts(db, m); err != nil {
			_ = db.AddError(err)
		}
	}
}

// guardNames takes what a statement writing names it did not upload,
// names, needs before it writes them (see guardCopies): on SQLite the
// write lock, on PostgreSQL the shared locks of their sources; those it
// waited for, and those a drain of this process deleted since the
// statement began, must still be stored.
func (p *plugin) guardNames(db *gorm.DB, names []string) error {
	drained, ok := db.InstanceGet(keyDrained) // as the statement began, before its transaction
	if !ok {
		drained = p.deleted.now()
	}
	switch dialect.Of(db) {
	case dialect.SQLite:
		return p.waitForDrains(db, names, drained.(uint64))
	case dialect.Postgres:
		if err := p.lockCopies(db, names, drained.(uint64)); err != nil {
			return err
		}
		if p.redrain.Load() {
			// a drain left sources for later: this commit drains again
			db.InstanceSet(keyOutbox, true)
			noteOutbox(db)
		}
	}
	return nil
}

// lockCopies takes the shared locks of the sources names, and checks those
// it waited for, and those that a drain of this process deleted since the
// statement began (drained is plugin.deleted's count then).
func (p *plugin) lockCopies(db *gorm.DB, names []string, drained uint64) error {
	names = slices.Clone(names)
	slices.Sort(names)
	keys, list := lockKeys(slices.Compact(names))
	q := db.Session(&gorm.Session{NewDB: true})
	locked, err := tryLocks(q, "pg_try_advisory_xact_lock_shared", list)
	if err != nil {
		return fmt.Errorf("thumbnails: lock copied sources: %w", err)
	}
	var busy []int32
	for k := range keys {
		if !slices.Contains(locked, k) {
			busy = append(busy, k)
		}
	}
	slices.Sort(busy)
	for _, k := range busy {
		if err := q.Exec("SELECT pg_advisory_xact_lock_shared("+lockClass+", ?)", k).Error; err != nil {
			return fmt.Errorf("thumbnails: lock copied sources: %w", err)
		}
		if err := p.stillStored(db, keys[k]); err != nil {
			return err
		}
	}
	var others []string // those in stripes it did not wait for
	for _, k := range locked {
		others = append(others, keys[k]...)
	}
	return p.stillStored(db, p.deleted.since(drained, others))
}

// waitForDrains takes, on SQLite, the write lock in the statement's
// transaction before the statement writes, waiting for a drain that holds
// it (see drainRows). Those of the sources names, copied by the statement,
// that a drain of this process deleted since the statement began (drained
// is plugin.deleted's count then) must still be stored. Drains of other
// processes are not seen. A statement that runs outside a transaction
// (SkipDefaultTransaction) lets go of the lock at once.
func (p *plugin) waitForDrains(db *gorm.DB, names []string, drained uint64) error {
	if err := lockWrites(db.Session(&gorm.Session{NewDB: true})); err != nil {
		return fmt.Errorf("thumbnails: lock copied sources: %w", err)
	}
	return p.stillStored(db, p.deleted.since(drained, names))
}

// lockWrites takes SQLite's write lock in db's transaction, waiting for
// the writer that holds it: a statement that writes nothing, which SQLite
// still begins as a write.
func lockWrites(db *gorm.DB) error {
	return db.Exec("UPDATE " + outboxTable + " SET id = id WHERE id < 0").Error
}

// stillStored checks that the sources names, copied (or written back, see
// guardRevived) by the statement on db, are still in the storage: those
// it waited for a drain's lock for, and those a drain of this process
// deleted since the statement began.
func (p *plugin) stillStored(db *gorm.DB, names []string) error {
	for _, name := range names {
		gone, err := p.gone(db.Statement.Context, name)
		if err != nil {
			return fmt.Errorf("thumbnails: check copied source %q: %w", name, err)
		}
		if gone {
			return fmt.Errorf("thumbnails: the source %q, %s, was deleted meanwhile: %w", name, p.sourceRole(db, name), backends.ErrNotFound)
		}
	}
	return nil
}

// lockFree takes, on PostgreSQL, the exclusive lock of each of the sources
// free (those a drain found unreferenced) that no statement copying it
// holds, in tx, and returns them: the caller checks their references again
// under the locks, and deletes them before tx ends.
func lockFree(tx *gorm.DB, free []string) ([]string, error) {
	keys, list := lockKeys(free)
	locked, err := tryLocks(tx, "pg_try_advisory_xact_lock", list)
	if err != nil {
		return nil, fmt.Errorf("thumbnails: lock sources to delete: %w", err)
	}
	out := make([]string, 0, len(free))
	for _, k := range locked {
		out = append(out, keys[k]...)
	}
	return out, nil
}

// tryLocks runs fn, pg_try_advisory_xact_lock or its _shared form, on the
// stripes of list (see lockKeys), in db's transaction, without waiting,
// and returns the stripes it locked.
func tryLocks(db *gorm.DB, fn, list string) ([]int32, error) {
	var locked []int32
	err := db.Raw("SELECT CAST(t AS int) FROM json_array_elements_text(CAST(? AS json)) AS j(t)"+
		" WHERE "+fn+"("+lockClass+", CAST(t AS int))", list).Scan(&locked).Error
	return locked, err
}

// lockAndRecheck takes, in tx, the locks of the sources free that a drain
// found unreferenced (see lockFree), and checks every image column of
// columns again for them, under the locks. It
// returns those to delete (locked, and still unreferenced) and those
// referenced again; a source it could not lock is in neither, and stays in
// the outbox.
func lockAndRecheck(tx *gorm.DB, free []string, columns []tableColumn) (del []string, still map[string]bool, err error) {
	locked, err := lockFree(tx, free)
	if err != nil || len(locked) == 0 {
		return nil, nil, err
	}
	// A copy that committed before the locks were taken may have recorded
	// a column that columns, read before, lacks.
	recorded, err := copiedInto(tx)
	if err != nil {
		return nil, nil, err
	}
	columns = slices.Clone(columns)
	for _, c := range recorded {
		if !slices.Contains(columns, c) {
			columns = append(columns, c)
		}
	}
	if still, err = heldInColumns(tx, columns, locked); err != nil {
		return nil, nil, err
	}
	return slices.DeleteFunc(locked, func(s string) bool { return still[s] }), still, nil
}
