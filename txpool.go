package thumbnails

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// GORM has no after-commit hook. The plugin gets one by wrapping the
// *gorm.DB's connection pool: every transaction begun through it (gorm's
// default transaction around a write, or the caller's db.Transaction / Begin)
// is a txPool, whose Commit drains the outbox of files to delete once the
// change is durable, and whose Rollback deletes the files that the rolled
// back statements had stored for new uploads.

// connPool wraps the *gorm.DB's pool so that transactions begun through it
// are txPools.
type connPool struct {
	gorm.ConnPool
	p *plugin
}

// wrapConnPool installs a connPool on db, once.
func wrapConnPool(db *gorm.DB, p *plugin) {
	if _, ok := db.ConnPool.(*connPool); ok {
		return
	}
	orig := db.ConnPool
	cp := &connPool{ConnPool: orig, p: p}
	db.ConnPool = cp
	if db.Statement != nil && db.Statement.ConnPool == orig {
		// (a *gorm.DB in a transaction keeps its transaction)
		db.Statement.ConnPool = cp
	}
}

// BeginTx implements gorm.ConnPoolBeginner.
func (c *connPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	var (
		tx  gorm.ConnPool
		err error
	)
	// Before BEGIN, which may wait for a drain (SQLite's BEGIN IMMEDIATE):
	// the statements of the transaction check the sources they copy that a
	// drain deleted since (see guardCopies).
	deleted := c.p.deleted.now()
	switch b := c.ConnPool.(type) {
	case gorm.TxBeginner:
		tx, err = b.BeginTx(ctx, opts)
	case gorm.ConnPoolBeginner:
		tx, err = b.BeginTx(ctx, opts)
	default:
		return nil, gorm.ErrInvalidTransaction
	}
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// ctx carries the caller's values (a trace) to the work done at the
	// commit or rollback; the cleanups drop its cancellation.
	return &txPool{ConnPool: tx, p: c.p, ctx: ctx, deleted: deleted}, nil
}

// GetDBConn implements gorm.GetDBConnector, so that db.DB() keeps working.
func (c *connPool) GetDBConn() (*sql.DB, error) {
	switch v := c.ConnPool.(type) {
	case *sql.DB:
		return v, nil
	case gorm.GetDBConnector:
		return v.GetDBConn()
	}
	return nil, gorm.ErrInvalidDB
}

// Ping lets gorm and callers ping through the wrapper.
func (c *connPool) Ping() error {
	if p, ok := c.ConnPool.(interface{ Ping() error }); ok {
		return p.Ping()
	}
	return nil
}

// txPool is a transaction begun through a connPool.
type txPool struct {
	gorm.ConnPool
	p   *plugin
	ctx context.Context // the context the transaction began with
	// deleted is plugin.deleted's count before the transaction began.
	deleted uint64

	mu      sync.Mutex
	outbox  bool      // statements in this transaction queued files to delete
	created []*stored // uploads saved in this transaction
	// pending are the uploads of statements under way, not yet recorded:
	// a rollback deletes them too, for a statement that a panic (in a
	// hook) ended never finishes.
	pending    []*stored
	copied     []copiedImage // images copied in this transaction, sized after its commit
	columns    []tableColumn // columns recorded in columnsTable by this transaction
	savepoints []savepoint   // open savepoints, oldest first
}

// savepoint is a SAVEPOINT of a txPool, and how many uploads the
// transaction had saved, and images copied, when it was set.
type savepoint struct {
	name    string
	created int
	copied  int
	columns int
	pending []*stored // the statements' under way as it was set
}

// ExecContext implements gorm.ConnPool. It follows the savepoints that
// gorm's nested transactions set, roll back to and release, so that
// rolling back to one discards the uploads saved since (their rows are
// gone), as a rollback of the whole transaction does.
func (t *txPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := t.ConnPool.ExecContext(ctx, query, args...)
	if err == nil {
		t.savepointExecuted(ctx, query)
	}
	return res, err
}

// savepointExecuted updates the savepoints after query ran, when it is a
// SAVEPOINT, ROLLBACK TO [SAVEPOINT] or RELEASE [SAVEPOINT] statement.
func (t *txPool) savepointExecuted(ctx context.Context, query string) {
	verb, name := savepointStatement(query)
	if verb == "" {
		return
	}
	t.mu.Lock()
	if verb == "SAVEPOINT" {
		t.savepoints = append(t.savepoints, savepoint{name: name, created: len(t.created), copied: len(t.copied), columns: len(t.columns), pending: slices.Clone(t.pending)})
		t.mu.Unlock()
		return
	}
	i := len(t.savepoints) - 1
	for i >= 0 && !strings.EqualFold(t.savepoints[i].name, name) {
		i--
	}
	if i < 0 {
		t.mu.Unlock()
		return
	}
	var discarded []*stored
	if verb == "ROLLBACK" { // the savepoint stays, the later ones go
		at := t.savepoints[i].created
		discarded = slices.Clone(t.created[at:])
		t.created = t.created[:at]
		// A statement begun since, still pending, ended in a panic.
		before := t.savepoints[i].pending
		t.pending = slices.DeleteFunc(t.pending, func(st *stored) bool {
			if slices.Contains(before, st) {
				return false
			}
			discarded = append(discarded, st)
			return true
		})
		t.copied = t.copied[:t.savepoints[i].copied]
		t.columns = t.columns[:t.savepoints[i].columns]
		t.savepoints = t.savepoints[:i+1]
	} else { // RELEASE: it and the later ones go, their uploads stay
		t.savepoints = t.savepoints[:i]
	}
	t.mu.Unlock()
	if len(discarded) > 0 {
		t.p.discard(ctx, discarded)
	}
}

// savepointStatement returns "SAVEPOINT", "ROLLBACK" or "RELEASE" and the
// savepoint's name when query is such a statement, else "".
func savepointStatement(query string) (verb, name string) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(query), ";"))
	switch {
	case len(f) == 2 && strings.EqualFold(f[0], "SAVEPOINT"):
		return "SAVEPOINT", f[1]
	case len(f) >= 3 && strings.EqualFold(f[0], "ROLLBACK") && strings.EqualFold(f[1], "TO"):
		if len(f) == 4 && strings.EqualFold(f[2], "SAVEPOINT") {
			return "ROLLBACK", f[3]
		}
		if len(f) == 3 {
			return "ROLLBACK", f[2]
		}
	case len(f) >= 2 && strings.EqualFold(f[0], "RELEASE"):
		if len(f) == 3 && strings.EqualFold(f[1], "SAVEPOINT") {
			return "RELEASE", f[2]
		}
		if len(f) == 2 {
			return "RELEASE", f[1]
		}
	}
	return "", ""
}

// Commit implements gorm.TxCommitter; after a successful commit it drains
// the outbox. A commit that failed in a way that does not say whether it
// landed (the connection dropped after COMMIT was sent, say) keeps the
// transaction's uploads, which its rows may reference, and returns a
// commitUnknownError: the rollback that follows deletes nothing, nor does
// the statement's own clean-up. At worst they are orphans, for Prune.
func (t *txPool) Commit() error {
	// database/sql does not send COMMIT for a transaction whose context has
	// ended: it rolls back. Only a context that ends later, while COMMIT is
	// under way, leaves the outcome unknown.
	ended := t.ctx.Err() != nil
	if err := t.ConnPool.(gorm.TxCommitter).Commit(); err != nil {
		if !ended && commitMayHaveLanded(t.p.db, err) {
			t.end()
			return &commitUnknownError{err}
		}
		// It did not commit: the uploads go now, as a rollback's do, for
		// a caller of Begin need not call Rollback after a failed Commit
		// (gorm's Transaction does; it then finds nothing left to do).
		t.discardCreated()
		return err
	}
	drain, _, copied, columns := t.end()
	t.p.markRecorded(columns)
	if drain {
		t.p.drainAfterCommit(t.ctx)
	}
	t.p.sizeCopies(t.ctx, copied)
	return nil
}

// noteRecorded adds columns that a statement of the transaction recorded
// in columnsTable: once it commits, the plugin knows they are recorded.
func (t *txPool) noteRecorded(cols []tableColumn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.columns = append(t.columns, cols...)
}

// noteCopied adds images that a statement of the transaction copied: once
// it commits, their columns' eager sizes are made (see sizeCopies).
func (t *txPool) noteCopied(list []copiedImage) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.copied = append(t.copied, list...)
}

// commitMayHaveLanded reports whether a COMMIT that returned err may still
// have committed. Not on SQLite, which runs in the process and answers
// for certain; not when the server answered with an error (one with an
// SQLSTATE) or with a rollback (a transaction that had failed before,
// which pgx and lib/pq report by the errors of answeredRollback); not when
// database/sql never sent it (the transaction was already done).
// Otherwise (a network error, a timeout or cancellation while waiting for
// the answer) it may have.
func commitMayHaveLanded(db *gorm.DB, err error) bool {
	if dialect.Of(db) == dialect.SQLite {
		return false
	}
	var server interface{ SQLState() string }
	if errors.As(err, &server) || errors.Is(err, sql.ErrTxDone) {
		return false
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if slices.Contains(answeredRollback, e.Error()) {
			return false
		}
	}
	return true
}

// answeredRollback are the messages of the drivers' errors for a COMMIT
// that the server answered by rolling back: pgx's ErrTxCommitRollback and
// lib/pq's ErrInFailedTransaction, matched by text so that the plugin
// does not import the drivers.
var answeredRollback = []string{
	"commit unexpectedly resulted in rollback",
	"pq: could not complete operation in a failed transaction",
}

// commitUnknownError is the error of a commit that may have landed. It
// reads and unwraps as the driver's error.
type commitUnknownError struct{ err error }

func (e *commitUnknownError) Error() string { return e.err.Error() }
func (e *commitUnknownError) Unwrap() error { return e.err }

// end forgets what the transaction recorded, once it has committed or
// rolled back, and returns it: whether statements queued files to delete,
// the uploads saved in it, the images copied in it, and the columns it
// recorded in columnsTable.
func (t *txPool) end() (outbox bool, created []*stored, copied []copiedImage, columns []tableColumn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// What is still pending belongs to statements a panic ended: a
	// rollback deletes it with the rest; a commit leaves it (for Prune).
	outbox, created, copied, columns = t.outbox, append(t.created, t.pending...), t.copied, t.columns
	t.outbox, t.created, t.pending, t.copied, t.columns, t.savepoints = false, nil, nil, nil, nil, nil
	return outbox, created, copied, columns
}

// Rollback implements gorm.TxCommitter; it removes the files stored for the
// uploads of the rolled-back statements, which no row can reference.
func (t *txPool) Rollback() error {
	err := t.ConnPool.(gorm.TxCommitter).Rollback()
	t.discardCreated()
	return err
}

// discardCreated ends the transaction's bookkeeping, deleting the uploads
// saved in it (under cleanupContext): it did not commit.
func (t *txPool) discardCreated() {
	if _, created, _, _ := t.end(); len(created) > 0 {
		t.p.discard(t.ctx, created)
	}
}

// StmtContext implements gorm.Tx, so that prepared-statement sessions can
// wrap a txPool.
func (t *txPool) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	if s, ok := t.ConnPool.(interface {
		StmtContext(context.Context, *sql.Stmt) *sql.Stmt
	}); ok {
		return s.StmtContext(ctx, stmt)
	}
	return stmt
}

// GetDBConn implements gorm.GetDBConnector, so that db.DB() works inside a
// transaction too.
func (t *txPool) GetDBConn() (*sql.DB, error) {
	if c, ok := t.p.db.ConnPool.(*connPool); ok {
		return c.GetDBConn()
	}
	return nil, gorm.ErrInvalidDB
}

// noteOutbox records that the statement running on db queued files to
// delete, and reports whether that happened inside a txPool (whose Commit
// will drain them).
func noteOutbox(db *gorm.DB) bool {
	if t, ok := txPoolOf(db); ok {
		t.mu.Lock()
		t.outbox = true
		t.mu.Unlock()
		return true
	}
	return false
}

// noteCreated records the uploads stored for the statement running on db,
// so that a rollback of its transaction discards them. It reports whether db
// is in a txPool.
func noteCreated(db *gorm.DB, list []*stored) bool {
	if t, ok := txPoolOf(db); ok {
		t.mu.Lock()
		t.created = append(t.created, list...)
		t.pending = slices.DeleteFunc(t.pending, func(st *stored) bool { return slices.Contains(list, st) })
		t.mu.Unlock()
		return true
	}
	return false
}

// notePending adds list, uploads that the statement on db stored, to the
// pending ones of its transaction, if it runs in one, until the statement
// records them (noteCreated) or finishes (dropPending).
func notePending(db *gorm.DB, list []*stored) {
	t, ok := txPoolOf(db)
	if !ok || len(list) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, st := range list {
		if !slices.Contains(t.pending, st) {
			t.pending = append(t.pending, st)
		}
	}
}

// dropPending removes list from the pending uploads of the transaction the
// statement on db runs in: the statement has finished, and dealt with them.
func dropPending(db *gorm.DB, list []*stored) {
	t, ok := txPoolOf(db)
	if !ok || len(list) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = slices.DeleteFunc(t.pending, func(st *stored) bool { return slices.Contains(list, st) })
}

// noteMadeIn records file, a thumbnail of source made in the transaction
// tx runs in, with the upload of source that the transaction stored, if it
// stored it: a rollback then deletes the file with the upload's others. (A
// source the transaction did not store is another's: its thumbnail's name
// is that of any process's, and is left.)
func noteMadeIn(tx *gorm.DB, source, file string) {
	t, ok := txPoolOf(tx)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, st := range t.created {
		if st.source == source {
			if !slices.Contains(st.files, file) {
				st.files = append(st.files, file)
			}
			return
		}
	}
}

// txPoolOf returns the txPool the statement on db runs in, also through a
// prepared-statement session (gorm.PreparedStmtTX).
func txPoolOf(db *gorm.DB) (*txPool, bool) {
	switch c := db.Statement.ConnPool.(type) {
	case *txPool:
		return c, true
	case *gorm.PreparedStmtTX:
		t, ok := c.Tx.(*txPool)
		return t, ok
	}
	return nil, false
}
