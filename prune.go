package thumbnails

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// DefaultPruneMinAge is the age under which Prune leaves a file alone: an
// upload being saved right now has files but no committed row yet.
const DefaultPruneMinAge = time.Hour

// ErrNotRegistered is returned by the package's functions for a *gorm.DB
// that does not use the plugin.
var ErrNotRegistered = errors.New("thumbnails: the plugin is not registered on this *gorm.DB (db.Use(thumbnails.Plugin(cfg)))")

// ErrCannotList is returned by Prune for a storage that does not implement
// backends.Lister.
var ErrCannotList = errors.New("thumbnails: the storage cannot list its files")

// ErrWrongStorage is returned by Prune with PruneOptions.Delete, which
// then deletes nothing, when metadata records files but the storage holds
// none of them: a storage other than the application's (a wrong root
// folder) would otherwise have every record seen as gone and every file of
// it as unreferenced. A dry run reports what it found without this error.
// When the files really are all gone (a lost disk), PruneOptions.Force
// deletes what the report lists.
var ErrWrongStorage = errors.New("thumbnails: the storage holds none of the files that metadata records; is it the application's storage?")

// ErrWrongMetadata is returned by Prune with PruneOptions.Delete and
// Models, which then deletes nothing, when the metadata records nothing
// while the storage holds thumbnails of sources that rows of the models
// hold (and it holds), and Prune has files to remove: every save, and
// every size made, records its source, so the metadata is not the
// application's (a mistyped Redis key prefix, another database), and
// every thumbnail would be taken for an orphan. A dry run reports what it
// found without this error. When the records really are all gone (a
// flushed Redis), PruneOptions.Force deletes what the report lists (the
// sizes are made again on first access).
var ErrWrongMetadata = errors.New("thumbnails: the metadata records nothing of what the rows and the storage hold; is it the application's (its database, its Redis key prefix)?")

// ErrMissingColumns is returned by Prune with PruneOptions.Delete and
// Models, which then deletes nothing, when a column recorded as holding
// images (in thumbnails_columns: every column a write of the plugin went
// through) is gone, its table or itself dropped or renamed, and Prune has
// sources or files to remove: the rows of a renamed table still hold their
// images, which would be taken for unreferenced. PruneReport.Missing lists
// them. A dry run reports what it found without this error. When they are
// dropped for good, PruneOptions.Force deletes what the report lists.
var ErrMissingColumns = errors.New("thumbnails: columns recorded as holding images are gone (a table dropped or renamed?)")

// PruneOptions tell Prune what to look at and whether to delete.
type PruneOptions struct {
	// Delete removes what Prune finds. False (the default) is a dry run
	// that only reports.
	Delete bool
	// MinAge: files younger than this, and sources whose file is, are left
	// alone. Zero means DefaultPruneMinAge; a negative value, any age.
	MinAge time.Duration
	// Models are the models (values such as &Food{}, or Tables) whose image
	// columns reference sources. When
	// given, a source that is recorded in metadata but that no row of them
	// references (including soft-deleted rows), nor of a column recorded in
	// thumbnails_columns (every column, a db.Table table's too, that a
	// write went through), is pruned with its thumbnails:
	// list every model with a field.Image column, or a source used by one
	// that is not listed, nor recorded (written before the plugin recorded
	// models' own columns), would be deleted. When empty, only
	// files that no metadata references, and records whose file is gone,
	// are pruned.
	Models []any
	// Force deletes even when the storage holds none of the files that
	// metadata records (see ErrWrongStorage), the metadata nothing of
	// what the rows and the storage hold (see ErrWrongMetadata), or
	// columns recorded as holding images are gone (see ErrMissingColumns).
	Force bool
	// Progress, when not nil, is called after each item to remove (each
	// of Sources, then of Records, then of Files), one call at a time,
	// in a dry run too: Total is the number of items to remove (less,
	// once the sources are done, the files of those whose records could
	// not be removed, which are kept), Source the item's name (for a
	// record, its file's name), Err why its delete failed, and Counts its
	// Done and Failed so far. Lost sources are not reported through it,
	// nor counted in its Skipped.
	Progress func(Progress)
}

// PruneReport is what Prune found, or removed.
//
// In a dry run, the lists hold what Prune found, and Done counts the items
// that a run with Delete would remove (len(Files)+len(Sources)+len(Records)).
//
// With Delete, the lists hold what was removed, and Done counts it: an item
// whose delete failed is left out of its list and counted in Failed (its
// error is reported through PruneOptions.Progress and joined in the error
// Prune returns), and an item not attempted because ctx was cancelled is
// left out and not counted. A source whose records could not be removed
// keeps its files, which are neither removed nor counted. On PostgreSQL,
// with Models, the removal of the records commits at the end of the run:
// should the commit fail, the sources and records are counted in Failed,
// not removed, though Progress reported them done (their files are gone
// then; the next run removes the records). When Prune refuses to delete
// (ErrWrongStorage, ErrWrongMetadata, ErrMissingColumns) it has removed nothing: the lists
// then hold what it found, as in a dry run, and Done is 0.
//
// Skipped is len(Lost), which are never removed. Counts.Last is nil.
type PruneReport struct {
	Counts
	Files   []string             // files no row and no kept record references: those of Sources too
	Sources []string             // recorded sources no row references (their records; their files are in Files)
	Records []backends.Thumbnail // metadata records whose file is gone
	// Lost are recorded sources whose own file is gone (deleted by hand,
	// or lost with a disk): reported, never removed, since rows still
	// reference them and their thumbnails, if still stored, still serve;
	// their sizes cannot be made again.
	Lost []string
	// Missing are the columns ("table.column") recorded as holding images
	// whose table or column is gone (see ErrMissingColumns): their rows,
	// if any, were not read. Only with Models.
	Missing []string
}

// Prune finds what a crash or an outage left behind: files under the
// storage that no metadata and no row references (written by a save that
// never committed), recorded sources that no row of opts.Models references,
// and metadata records whose file is gone. It is a dry run unless
// opts.Delete is set. The storage must implement backends.Lister. The
// images that the sizes draw (a watermark's image) are kept. A recorded
// file that the listing did not hold is looked up again once the metadata
// is read: one written while Prune ran (a save that committed, a lazy size)
// is young, and kept with its records.
//
// A delete that fails is reported and the run goes on (see PruneReport).
// Cancelling ctx stops the removal before the next item: the item in
// progress is finished, and Prune returns what it removed so far with
// ctx's error. Running it again finds and removes the rest.
func Prune(ctx context.Context, db *gorm.DB, opts PruneOptions) (PruneReport, error) {
	p, err := pluginOf(db)
	if err != nil {
		return PruneReport{}, err
	}
	lister, ok := p.storage.(backends.Lister)
	if !ok {
		return PruneReport{}, ErrCannotList
	}
	if opts.MinAge == 0 {
		opts.MinAge = DefaultPruneMinAge
	}
	cutoff := time.Now().Add(-opts.MinAge)
	db = db.Session(&gorm.Session{NewDB: true, Context: ctx})

	// What the rows reference.
	var rows map[string]bool
	var missing []string
	if len(opts.Models) > 0 {
		if rows, missing, err = p.referencedByRows(db, opts.Models); err != nil {
			return PruneReport{}, err
		}
	}
	// What the storage holds.
	files := map[string]backends.FileInfo{}
	err = lister.List(ctx, func(f backends.FileInfo) error {
		files[f.Name] = f
		return nil
	})
	if err != nil {
		return PruneReport{}, err
	}

	var report PruneReport
	recorded := map[string]bool{}
	// stored and gone count the recorded files the storage holds and
	// those it does not.
	stored, gone := 0, 0
	// A recorded file the listing did not hold may have been written
	// since (a save, a lazy size, committed while Prune ran): what is
	// unlisted is looked up again once the metadata is read.
	var unlistedSources []recordedSource // no row held them when read
	var unlistedLost []recordedSource
	var unlistedRecords []backends.Thumbnail
	err = p.meta.Each(ctx, func(source string, thumbs []backends.Thumbnail) error {
		key := canonical(source) // as the listing and rows name it
		_, found := files[key]
		if found {
			stored++
		} else {
			gone++
		}
		if rows != nil && !rows[key] {
			if !found {
				unlistedSources = append(unlistedSources, recordedSource{source, slices.Clone(thumbs)})
				return nil
			}
			if !files[key].ModTime.After(cutoff) {
				report.Sources = append(report.Sources, source)
				return nil // its files are unreferenced below
			}
		}
		recorded[key] = true
		if !found {
			unlistedLost = append(unlistedLost, recordedSource{source, slices.Clone(thumbs)})
		}
		for _, t := range thumbs {
			if !t.IsFile() {
				continue // a placeholder lives in the record itself
			}
			name := canonical(t.Name)
			if _, ok := files[name]; !ok {
				gone++
				unlistedRecords = append(unlistedRecords, t)
				continue
			}
			stored++
			recorded[name] = true
		}
		return nil
	})
	if err != nil {
		return PruneReport{}, err
	}
	// When the storage holds none of many recorded files (a wrong root, a
	// lost disk), each is not looked up again: the report says so. A few
	// are (the first saves, committed while an empty storage was listed).
	recheck := stored > 0 || gone <= maxRecheckOfNone
	exists := func(name string) (bool, error) {
		if !recheck {
			return false, nil
		}
		ok, err := p.exists(ctx, name)
		if ok {
			stored, gone = stored+1, gone-1
		}
		return ok, err
	}
	for _, rs := range unlistedSources {
		ok, err := exists(rs.source)
		if err != nil {
			return PruneReport{}, err
		}
		if !ok {
			report.Sources = append(report.Sources, rs.source) // its records go; it has no file
			continue
		}
		// Written since the listing, so young: kept, as are its records
		// whose files exist (files are written before their records).
		recorded[canonical(rs.source)] = true
		for _, t := range rs.thumbs {
			if !t.IsFile() {
				continue
			}
			name := canonical(t.Name)
			if _, ok := files[name]; ok {
				recorded[name] = true
			} else {
				unlistedRecords = append(unlistedRecords, t)
			}
		}
	}
	released := map[string]bool{}
	for _, rs := range unlistedLost {
		ok, err := exists(rs.source)
		if err != nil {
			return PruneReport{}, err
		}
		if ok {
			continue
		}
		if len(rs.thumbs) > 0 && recheck {
			// A clean-up deletes the files, then the records: a source
			// whose records went too since they were read was released
			// meanwhile, not lost.
			if now, err := p.meta.Thumbnails(ctx, rs.source); err == nil && len(now) == 0 {
				released[rs.source] = true
				continue
			}
		}
		if rows != nil && recheck {
			// Nor is one that no row holds now (its clean-up under way).
			if held, err := p.heldAnywhere(ctx, rs.source, tableColumn{}); err == nil && !held {
				released[rs.source] = true
				continue
			}
		}
		report.Lost = append(report.Lost, rs.source)
	}
	for _, t := range unlistedRecords {
		if released[t.Source] {
			continue // gone with its source's
		}
		if ok, err := exists(t.Name); err != nil {
			return PruneReport{}, err
		} else if !ok { // files are written before their records: this one is gone
			report.Records = append(report.Records, t)
		}
	}
	drawn := p.drawnImages() // a watermark: the sizes need it
	for name, f := range files {
		if !recorded[name] && !rows[name] && !drawn[name] && f.ModTime.Before(cutoff) {
			report.Files = append(report.Files, name)
		}
	}
	slices.Sort(report.Files)
	slices.Sort(report.Sources)
	slices.Sort(report.Lost)
	report.Skipped = len(report.Lost)
	report.Missing = missing
	if opts.Delete && len(missing) > 0 && !opts.Force && len(report.Sources)+len(report.Files) > 0 {
		return report, fmt.Errorf("%w: %s (nothing deleted)", ErrMissingColumns, strings.Join(missing, ", "))
	}
	if opts.Delete && stored == 0 && gone > 0 && !opts.Force {
		return report, fmt.Errorf("%w (%d recorded, none found; nothing deleted)", ErrWrongStorage, gone)
	}
	if opts.Delete && !opts.Force && stored == 0 && gone == 0 && len(report.Files) > 0 {
		if n := thumbnailsOfHeld(rows, files, p.cfg.BaseDir); n > 0 {
			return report, fmt.Errorf("%w (it records nothing, while the storage holds %d thumbnails of sources that rows hold; nothing deleted)", ErrWrongMetadata, n)
		}
	}
	sqlite := dialect.Of(db) == dialect.SQLite && (len(report.Sources) > 0 || slices.ContainsFunc(report.Files, p.mayBeSource))
	postgres := dialect.Of(db) == dialect.Postgres && len(report.Sources) > 0
	if opts.Delete && (sqlite || postgres) {
		return p.lockedPrune(ctx, db, report, opts)
	}
	return p.prune(ctx, p.meta, report, opts)
}

// lockedPrune removes what report lists as a clean-up does (see guard.go
// and drainRows): on SQLite under the write lock, taken once a copy of a
// source written in a transaction still open (its row not yet seen) has
// committed, on PostgreSQL under the locks of the sources, which such a
// copy holds. The sources (and on SQLite the files a row may hold) are
// checked again under them, and go before another write can commit one.
// Each metadata delete runs in a savepoint of the locks' transaction,
// which goes on past ctx: a cancel stops the run after the item under
// way, whose delete must commit (database/sql rolls back, rather than
// commits, a transaction whose context has ended).
//
// Given a transaction of the caller's, it runs in it: the locks are held
// until the caller commits.
func (p *plugin) lockedPrune(ctx context.Context, db *gorm.DB, report PruneReport, opts PruneOptions) (PruneReport, error) {
	locks := db.Session(&gorm.Session{NewDB: true, Context: context.WithoutCancel(ctx)})
	_, callers := db.Statement.ConnPool.(gorm.TxCommitter)
	if !callers {
		locks = locks.Begin()
		if locks.Error != nil {
			return PruneReport{}, locks.Error
		}
		defer locks.Rollback() // after its Commit, a no-op
	}
	if dialect.Of(db) == dialect.SQLite {
		if err := lockWrites(locks); err != nil {
			return PruneReport{}, fmt.Errorf("thumbnails: prune: take the write lock: %w", err)
		}
	}
	cols, err := p.knownColumns(locks)
	if err != nil {
		return PruneReport{}, err
	}
	if dialect.Of(db) == dialect.SQLite {
		held, err := heldInColumns(locks, cols, p.rowHoldable(report))
		if err != nil {
			return PruneReport{}, err
		}
		keepSources(&report, slices.DeleteFunc(slices.Clone(report.Sources), func(s string) bool { return held[s] }), p.cfg.BaseDir)
		report.Files = slices.DeleteFunc(report.Files, func(f string) bool { return held[f] })
	} else {
		del, _, err := lockAndRecheck(locks, report.Sources, cols)
		if err != nil {
			return PruneReport{}, err
		}
		keepSources(&report, del, p.cfg.BaseDir)
	}
	meta := p.meta
	tm, bound := meta.(backends.TxMetadata)
	if bound {
		// Not another connection: the pool may have one (and SQLite has
		// one writer).
		meta = savepointMetadata{Metadata: tm.WithDB(locks), tx: locks}
	}
	// The files go before the commit, under the locks: a copy waiting for
	// one checks, once it has it, that the source is still stored.
	done, err := p.prune(ctx, meta, report, opts)
	// Before the commit, which lets a waiting copy of this process go on:
	// it then finds its source deleted (see waitForDrains and
	// refuseDeletedCopies).
	if gone := p.rowHoldable(done); len(gone) > 0 {
		p.deleted.add(gone)
	}
	if callers {
		return done, err
	}
	if cerr := locks.Commit().Error; cerr != nil {
		err = errors.Join(err, fmt.Errorf("thumbnails: commit the removal of records: %w", cerr))
		if bound {
			// Still recorded: a source's files are gone, but no row holds
			// it and none can copy it now, and the next run removes its
			// records.
			n := len(done.Sources) + len(done.Records)
			done.Done, done.Failed = done.Done-n, done.Failed+n
			done.Sources, done.Records = nil, nil
		}
	}
	return done, err
}

// mayBeSource reports whether a stored file may be a row's: one outside
// BaseDir, where thumbnails are.
func (p *plugin) mayBeSource(name string) bool {
	return !strings.HasPrefix(name, p.cfg.BaseDir+"/")
}

// rowHoldable returns the names of r that a row may hold: its sources, and
// its files that may be sources (see mayBeSource).
func (p *plugin) rowHoldable(r PruneReport) []string {
	files := slices.DeleteFunc(slices.Clone(r.Files), func(f string) bool { return !p.mayBeSource(f) })
	return append(slices.Clone(r.Sources), files...)
}

// keepSources leaves out of r the sources not in del (copied meanwhile, or
// being copied), with their files: the source's own and its thumbnails'.
func keepSources(r *PruneReport, del []string, baseDir string) {
	var kept []string
	r.Sources = slices.DeleteFunc(r.Sources, func(s string) bool {
		if slices.Contains(del, s) {
			return false
		}
		kept = append(kept, s)
		return true
	})
	r.Files = slices.DeleteFunc(r.Files, ofSources(kept, baseDir))
}

// ofSources returns whether a file is one of sources' (a source's own, or
// one of its thumbnails).
func ofSources(sources []string, baseDir string) func(f string) bool {
	return func(f string) bool {
		for _, s := range sources {
			if f == s || strings.HasPrefix(f, path.Join(baseDir, strings.TrimSuffix(s, path.Ext(s)))+"_") {
				return true
			}
		}
		return false
	}
}

// savepointMetadata runs each Delete and DeleteSize of metadata bound to
// tx in a savepoint of its own: one that fails is rolled back alone, where
// it would abort tx on PostgreSQL, and with it the others, and leave its
// first statements done on SQLite.
type savepointMetadata struct {
	backends.Metadata
	tx *gorm.DB
}

// pruneSavepoint is the name of savepointMetadata's savepoints.
const pruneSavepoint = "thumbnails_prune"

func (m savepointMetadata) Delete(ctx context.Context, source string) error {
	return m.savepoint(func() error { return m.Metadata.Delete(ctx, source) })
}

func (m savepointMetadata) DeleteSize(ctx context.Context, source, size string) error {
	return m.savepoint(func() error { return m.Metadata.DeleteSize(ctx, source, size) })
}

// savepoint runs fn in a savepoint of tx, rolled back to if fn fails.
func (m savepointMetadata) savepoint(fn func() error) error {
	tx := m.tx.Session(&gorm.Session{NewDB: true})
	if err := tx.SavePoint(pruneSavepoint).Error; err != nil {
		return fmt.Errorf("thumbnails: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if rerr := tx.RollbackTo(pruneSavepoint).Error; rerr != nil {
			return errors.Join(err, fmt.Errorf("thumbnails: roll back to savepoint: %w", rerr))
		}
		return err
	}
	if err := tx.Exec("RELEASE SAVEPOINT " + pruneSavepoint).Error; err != nil {
		return fmt.Errorf("thumbnails: release savepoint: %w", err)
	}
	return nil
}

// prune removes what found lists, or only counts it in a dry run, and
// returns the report of what it removed (see PruneReport). The sources go
// first, then the records, then the files: a run stopped part way leaves
// files that the next run finds unreferenced, never records of files gone.
// The files of a source whose records could not be removed are kept with
// them, and leave the total.
func (p *plugin) prune(ctx context.Context, meta backends.Metadata, found PruneReport, opts PruneOptions) (PruneReport, error) {
	r := &pruneRun{ctx: ctx, delete: opts.Delete, progress: opts.Progress, report: found}
	if r.progress == nil {
		r.progress = func(Progress) {}
	}
	r.total = len(found.Sources) + len(found.Records) + len(found.Files)
	r.report.Files, r.report.Sources, r.report.Records = nil, nil, nil
	var more bool
	if r.report.Sources, more = removeEach(r, found.Sources, func(s string) string { return s }, func(ctx context.Context, s string) error {
		if err := meta.Delete(ctx, s); err != nil {
			return fmt.Errorf("thumbnails: remove the records of source %q: %w", s, err)
		}
		return nil
	}); !more {
		return r.report, errors.Join(r.errs...)
	}
	files := found.Files
	if len(r.report.Sources) < len(found.Sources) {
		removed := make(map[string]bool, len(r.report.Sources))
		for _, s := range r.report.Sources {
			removed[s] = true
		}
		failed := slices.DeleteFunc(slices.Clone(found.Sources), func(s string) bool { return removed[s] })
		files = slices.DeleteFunc(slices.Clone(files), ofSources(failed, p.cfg.BaseDir))
		r.total -= len(found.Files) - len(files)
	}
	if r.report.Records, more = removeEach(r, found.Records, func(t backends.Thumbnail) string { return t.Name }, func(ctx context.Context, t backends.Thumbnail) error {
		if err := meta.DeleteSize(ctx, t.Source, t.Size); err != nil {
			return fmt.Errorf("thumbnails: remove the record of size %s of %q: %w", t.Size, t.Source, err)
		}
		return nil
	}); !more {
		return r.report, errors.Join(r.errs...)
	}
	r.report.Files, _ = removeEach(r, files, func(f string) string { return f }, func(ctx context.Context, f string) error {
		if err := p.storage.Delete(ctx, f); err != nil {
			return fmt.Errorf("thumbnails: remove file %q: %w", f, err)
		}
		return nil
	})
	return r.report, errors.Join(r.errs...)
}

// maxRecheckOfNone is how many recorded files Prune looks up again when the
// listing held none of them.
const maxRecheckOfNone = 100

// recordedSource is a source and its records, as metadata holds them.
type recordedSource struct {
	source string
	thumbs []backends.Thumbnail
}

// exists reports whether the storage holds name now.
func (p *plugin) exists(ctx context.Context, name string) (bool, error) {
	f, err := p.storage.Open(ctx, name)
	if errors.Is(err, backends.ErrNotFound) || errors.Is(err, backends.ErrInvalidName) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("thumbnails: look for %q: %w", name, err)
	}
	f.Close()
	return true, nil
}

// pruneRun is the removal of what Prune found: its report so far, and the
// errors of the items that failed.
type pruneRun struct {
	ctx      context.Context
	delete   bool // false: a dry run, which only counts
	progress func(Progress)
	total    int // items to remove
	report   PruneReport
	errs     []error
}

// removeEach removes items in turn with del (a dry run only counts them),
// counts and reports each, and returns those it removed (in a dry run, all
// of them). A delete once started is finished: a cancelled ctx stops the
// run before the next item, which adds ctx's error and returns false.
func removeEach[T any](r *pruneRun, items []T, name func(T) string, del func(context.Context, T) error) (removed []T, more bool) {
	for _, it := range items {
		if err := r.ctx.Err(); err != nil && r.delete { // a dry run deletes nothing: it counts to the end
			left := r.total - r.report.Done - r.report.Failed
			r.errs = append(r.errs, fmt.Errorf("thumbnails: prune stopped with %d of %d items left: %w", left, r.total, err))
			return removed, false
		}
		var err error
		if r.delete {
			err = del(context.WithoutCancel(r.ctx), it)
		}
		if err != nil {
			r.report.Failed++
			r.errs = append(r.errs, err)
		} else {
			r.report.Done++
			removed = append(removed, it)
		}
		// Lost sources are not items: Skipped stays out of the calls
		r.progress(Progress{Counts: Counts{Done: r.report.Done, Failed: r.report.Failed}, Total: r.total, Source: name(it), Err: err})
	}
	return removed, true
}

// namesInChunk is how many rows of a SQLite table namesIn reads per query.
const namesInChunk = 1000

// thumbnailsOfHeld counts the files the storage lists that are
// thumbnails of a source that a row holds (rows) and the storage lists
// (files): "<baseDir>/<its stem>_<size>.<ext>" for a source the plugin
// named (see pluginNamed), "<baseDir>/<its stem>_<size>.<its hash>.<ext>"
// for another (see thumbnailName). A legacy name of the plugin's form,
// which nothing made thumbnails of, counts for none.
func thumbnailsOfHeld(rows map[string]bool, files map[string]backends.FileInfo, baseDir string) int {
	stems := map[string]string{} // "<baseDir>/<stem>" → what its thumbnails hold after "_<size>"
	for name := range rows {
		if _, stored := files[name]; !stored {
			continue
		}
		stem, tag := thumbnailStem(name)
		stems[path.Join(baseDir, stem)] = tag + "."
	}
	n := 0
	for f := range files {
		for i := strings.IndexByte(f, '_'); i >= 0; {
			if hash, ok := stems[f[:i]]; ok && strings.Contains(f[i:], hash) {
				n++
				break
			}
			next := strings.IndexByte(f[i+1:], '_')
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	return n
}

// canonical returns the name under which the storage keeps name: its clean
// form ("legacy//cat.jpg" and "./legacy/cat.jpg" are "legacy/cat.jpg", as
// the storages read and delete them), or name itself when it is no valid
// storage name. Prune compares the names of rows and records with those of
// the listing so: a legacy row that spells its source otherwise still
// holds the file.
func canonical(name string) string {
	if backends.IsCleanName(name) {
		return name
	}
	if clean, err := backends.CleanName(name); err == nil {
		return clean
	}
	return name
}

// pluginOf returns the plugin registered on db.
func pluginOf(db *gorm.DB) (*plugin, error) {
	if p, ok := db.Config.Plugins[pluginName].(*plugin); ok {
		return p, nil
	}
	return nil, ErrNotRegistered
}

// hasColumn reports whether the database has c's table, with the column c,
// where its queries look for it: on PostgreSQL in the schemas of the
// search_path, not only the current one (as gorm's Migrator().HasColumn
// does); a table's name may be schema.table, as statementTable gives it.
func hasColumn(db *gorm.DB, c tableColumn) (bool, error) {
	if dialect.Of(db) != dialect.Postgres {
		return db.Migrator().HasColumn(c.table, c.name), nil
	}
	var exists bool
	err := db.Raw("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? AND attnum > 0 AND NOT attisdropped)",
		db.Statement.Quote(c.table), c.name).Scan(&exists).Error
	if err != nil {
		return false, fmt.Errorf("thumbnails: look for column %s.%s: %w", c.table, c.name, err)
	}
	return exists, nil
}
