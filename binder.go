package thumbnails

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// binder answers an Image's questions about its thumbnails for one column.
// It implements field.Binder.
type binder struct {
	p   *plugin
	col *column
	// tx is a session on the caller's transaction the images were saved or
	// loaded in, nil outside one: reads and lazy generations go through it
	// while it is open, so that they see its uncommitted rows and wait on
	// none of its locks. It is dropped once found committed or rolled back.
	tx atomic.Pointer[gorm.DB]
}

// binderFor returns a binder for col's images saved or loaded in the caller's
// transaction on db, or col's own binder outside one. The binder holds a
// fresh session on the transaction's connection only, not db's statement
// (its rows, its SQL, its context).
func (c *column) binderFor(db *gorm.DB) *binder {
	if !inCallersTx(db) {
		return c.binder
	}
	b := &binder{p: c.binder.p, col: c}
	tx := b.p.db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	tx.Statement.ConnPool = db.Statement.ConnPool
	b.tx.Store(tx)
	return b
}

// inCallersTx reports whether the statement on db runs in a transaction of
// the caller's, not one gorm began for this statement alone (committed or
// rolled back by the time the plugin's after-callbacks run).
func inCallersTx(db *gorm.DB) bool {
	if _, started := db.InstanceGet("gorm:started_transaction"); started {
		return false
	}
	_, inTx := db.Statement.ConnPool.(gorm.TxCommitter)
	return inTx
}

// readViaTx runs the read fn with the metadata of the caller's transaction
// while it is open (the plugin's own otherwise), and again with the plugin's
// own metadata when that fails otherwise than by its context: the
// transaction has ended (it is then forgotten), or it is open but can run
// no more statements (PostgreSQL's state after a failed one). Reading
// outside it only misses its uncommitted records.
func (b *binder) readViaTx(ctx context.Context, fn func(backends.Metadata) error) error {
	tx := b.tx.Load()
	if tx == nil {
		return fn(b.p.meta)
	}
	err := fn(b.p.metadata(tx))
	if err == nil || ctx.Err() != nil {
		return err
	}
	if errors.Is(err, sql.ErrTxDone) {
		b.tx.CompareAndSwap(tx, nil)
	}
	return fn(b.p.meta)
}

var _ field.Binder = (*binder)(nil)

// URL implements field.Binder.
func (b *binder) URL(name string) string { return b.p.storage.URL(name) }

// Thumbnail implements field.Binder. A size that is recorded is answered
// from metadata; one that is not (a lazy size, or a size added after the
// row was saved) is generated once, recorded, and returned. An async size
// whose job has not run is answered as Config.OnPending says.
func (b *binder) Thumbnail(ctx context.Context, img *field.Image, size string) (field.Thumbnail, error) {
	sz, ok := b.col.size(size)
	if !ok {
		return field.Thumbnail{}, fmt.Errorf("%w: %q is not a size of column %s.%s", ErrUnknownSize, size, b.col.table, b.col.name)
	}
	source := img.Name()
	if source == "" {
		if sz.FallbackImageURL != "" {
			return field.Thumbnail{Size: sz.Name, URL: sz.FallbackImageURL}, nil
		}
		return field.Thumbnail{}, noSourceError{fmt.Errorf("%w: %s.%s, size %q", ErrNoSource, b.col.table, b.col.name, sz.Name)}
	}
	k, err := b.known(ctx, img)
	if err != nil {
		return field.Thumbnail{}, err
	}
	if t, ok := k.get(sz.Name); ok {
		return b.thumbnail(t), nil
	}
	if sz.Async {
		t, done, err := b.pending(ctx, img, sz)
		if done || err != nil {
			return t, err
		}
		if k, err = b.known(ctx, img); err != nil { // what pending read again
			return field.Thumbnail{}, err
		}
	}
	rec, err := b.make(ctx, source, focused([]sizes.Size{sz}, imageFocus(img))[0])
	if err != nil {
		return field.Thumbnail{}, err
	}
	k = append(slices.Clip(k), rec)
	if _, ok := bridge.Cached(img).(saved); ok {
		// Still a saved row's records: its other pending async sizes keep
		// reading metadata again, until their jobs have run.
		bridge.Cache(img, saved(k))
	} else {
		bridge.Cache(img, k)
	}
	return b.thumbnail(rec), nil
}

// noSourceError wraps ErrNoSource with the method by which field.Image's
// Responsive tells a size of an empty column that has no fallback URL from
// one that is not the column's (package field cannot import this one).
type noSourceError struct{ error }

func (e noSourceError) Unwrap() error { return e.error }
func (noSourceError) NoSource() bool  { return true }

// make makes the thumbnail of source in sz, which no record was found for,
// and records it: in the caller's transaction while it is open, under its
// context and unshared; otherwise as generateLazy does. A panic in either
// (a processor of the caller's) is returned as an error.
func (b *binder) make(ctx context.Context, source string, sz sizes.Size) (_ backends.Thumbnail, err error) {
	tx := b.tx.Load()
	if tx == nil {
		return b.p.generateLazy(ctx, source, sz)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("thumbnails: generate %q of %q: panic: %v", sz.Name, source, r)
		}
	}()
	rec, err := b.p.makeThumbnail(ctx, b.p.metadata(tx), source, sz)
	if errors.Is(err, sql.ErrTxDone) {
		b.tx.CompareAndSwap(tx, nil)
		return b.p.generateLazy(ctx, source, sz)
	}
	if err == nil {
		noteMadeIn(tx, source, rec.Name)
	}
	return rec, err
}

// Thumbnails implements field.Binder.
func (b *binder) Thumbnails(ctx context.Context, img *field.Image) (map[string]field.Thumbnail, error) {
	out := map[string]field.Thumbnail{}
	if img.Name() == "" {
		return out, nil
	}
	k, err := b.known(ctx, img)
	if err != nil {
		return nil, err
	}
	if _, ok := bridge.Cached(img).(saved); ok && b.pendingIn(k) {
		// A saved row's async size may have been made by its job since:
		// read again, as Thumbnail does for that size.
		if k, err = b.read(ctx, img); err != nil {
			return nil, err
		}
		if b.pendingIn(k) {
			bridge.Cache(img, saved(k))
		}
	}
	for _, sz := range b.col.sizes {
		if t, ok := k.get(sz.Name); ok {
			out[sz.Name] = b.thumbnail(t)
		}
	}
	return out, nil
}

// pendingIn reports whether an async size of the column has no record in k.
func (b *binder) pendingIn(k known) bool {
	for _, sz := range b.col.sizes {
		if _, ok := k.get(sz.Name); sz.Async && !ok {
			return true
		}
	}
	return false
}

// known are the records of the thumbnails that exist for one source, as an
// Image remembers them (see bridge.Cache). A slice, not a map: a source has
// a handful of sizes, and Preload makes one of these per row.
type known []backends.Thumbnail

// get returns the record of size. By index: a record is 88 bytes to copy,
// and a page reads thousands.
func (k known) get(size string) (backends.Thumbnail, bool) {
	for i := range k {
		if k[i].Size == size {
			return k[i], true
		}
	}
	return backends.Thumbnail{}, false
}

// cachedKnown returns the known records that img holds, a known or a
// pointer to one (Preload gives a page's images pointers into one slice),
// and whether it holds them.
func cachedKnown(img *field.Image) (known, bool) {
	switch k := bridge.Cached(img).(type) {
	case *known:
		return *k, true
	case known:
		return k, true
	}
	return nil, false
}

// saved are the records of the thumbnails a save made: all that exist of
// the eager sizes, but the job of an async size may have recorded more
// since, so a pending async size reads metadata again (see pending).
type saved known

// known returns the thumbnails that exist for img's source: remembered by
// the image when the plugin saved, preloaded or already looked them up,
// otherwise read from metadata and remembered.
func (b *binder) known(ctx context.Context, img *field.Image) (known, error) {
	if k, ok := cachedKnown(img); ok {
		return k, nil
	}
	if k, ok := bridge.Cached(img).(saved); ok {
		return known(k), nil
	}
	return b.read(ctx, img)
}

// read reads the thumbnails that exist for img's source from metadata, and
// remembers them.
func (b *binder) read(ctx context.Context, img *field.Image) (known, error) {
	var recs map[string]backends.Thumbnail
	err := b.readViaTx(ctx, func(meta backends.Metadata) (err error) {
		recs, err = meta.Thumbnails(ctx, img.Name())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("thumbnails: %w", err)
	}
	k := make(known, 0, len(recs))
	for _, r := range recs {
		k = append(k, r)
	}
	bridge.Cache(img, k)
	return k, nil
}

func (b *binder) thumbnail(t backends.Thumbnail) field.Thumbnail {
	return field.Thumbnail{Size: t.Size, Name: t.Name, URL: b.p.storage.URL(t.Name), Width: t.Width, Height: t.Height}
}

// generate makes the thumbnail of source in sz on demand, records it, and
// returns it. Concurrent calls for the same source and size in this process
// share one generation; across processes, the metadata's unique (source,
// size) makes the second record replace the first with the same name.
//
// The shared generation runs without the cancellation and the deadline of
// the caller that started it (bounded by lazyTimeout instead), so that a
// caller going away (a browser closing its connection) or running out of
// time fails no other; each caller waits under its own context, and one that gives up
// leaves the generation to finish for the next. A panic in it (a processor
// of the caller's) is returned as an error, not left to crash the process
// from its goroutine.
//
// settle is the caller's check of the record once the generation has
// finished (whether a row still holds the source, and if not the removal
// of what was made): a caller that waits runs it itself, and generate runs
// it in the background for one that gives up, once the generation it
// leaves has finished. What a generation records is thus always checked,
// also when its row let go of the source meanwhile and no caller waits any
// more (see settleLater).
func (p *plugin) generate(ctx context.Context, source string, sz sizes.Size, settle func(context.Context, backends.Thumbnail) error) (backends.Thumbnail, error) {
	if err := ctx.Err(); err != nil {
		return backends.Thumbnail{}, err
	}
	ch := p.lazy.DoChan(source+"\x00"+sz.Name, func() (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("thumbnails: generate %q of %q: panic: %v", sz.Name, source, r)
			}
		}()
		// Not the first caller's deadline either: a request with a short
		// timeout would fail every other caller waiting for the size.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lazyTimeout)
		defer cancel()
		return p.makeThumbnail(ctx, p.meta, source, sz)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return backends.Thumbnail{}, r.Err
		}
		return r.Val.(backends.Thumbnail), nil
	case <-ctx.Done():
		go p.settleLater(ctx, source, sz.Name, ch, settle)
		return backends.Thumbnail{}, fmt.Errorf("thumbnails: generate %q of %q: %w", sz.Name, source, ctx.Err())
	}
}

// settleLater runs settle, for a caller of generate that gave up, on the
// record of the generation it left once that has finished (ch), under
// ctx without its cancellation, bounded by lazyTimeout: the caller's
// check, which it could not run, that a row still holds the source (its
// row may have let go of it meanwhile, and the clean-up read the records
// before this one was written, as a retry of the caller's job may have).
// A failure, or a panic (a Storage's), is logged.
func (p *plugin) settleLater(ctx context.Context, source, size string, ch <-chan singleflight.Result, settle func(context.Context, backends.Thumbnail) error) {
	r := <-ch
	if r.Err != nil {
		return // nothing recorded
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lazyTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			p.db.Logger.Error(ctx, "thumbnails: check %q of %q once made: panic: %v", size, source, v)
		}
	}()
	if err := settle(ctx, r.Val.(backends.Thumbnail)); err != nil {
		p.db.Logger.Error(ctx, "thumbnails: check %q of %q once made: %v", size, source, err)
	}
}

// generateLazy is generate for a row's lazy size. The row may have let go
// of the source while the size was made (its delete or replace committed
// meanwhile), and the clean-up may have read the source's records before
// this one was written: a source that no row of a column the plugin knows
// holds once the size is recorded, and that is queued for its clean-up or
// gone, is nobody's, and the size goes (see forget), with an error
// wrapping backends.ErrNotFound. (A clean-up reads
// the records once the release has committed: a release that commits after
// this check finds this record.)
//
// A caller that gives up before the size is recorded leaves the same check
// to run once it is (see generate).
func (p *plugin) generateLazy(ctx context.Context, source string, sz sizes.Size) (backends.Thumbnail, error) {
	rec, err := p.generate(ctx, source, sz, func(ctx context.Context, t backends.Thumbnail) error {
		_, err := p.forgetReleased(ctx, t)
		return err
	})
	if err != nil {
		return rec, err
	}
	forgot, err := p.forgetReleased(context.WithoutCancel(ctx), rec)
	if err != nil {
		p.db.Logger.Error(ctx, "thumbnails: %v", err)
	}
	if !forgot {
		return rec, nil
	}
	return backends.Thumbnail{}, fmt.Errorf("thumbnails: %s of %q: the source is gone (its row was deleted, or its image replaced): %w", sz.Name, source, backends.ErrNotFound)
}

// forgetReleased forgets rec (see forget) when no row of a column the
// plugin knows holds its source, and the source is queued for its clean-up
// or gone; it reports whether it did, and the error of forget. When
// either is unknown, the record stands, for the clean-up to judge.
func (p *plugin) forgetReleased(ctx context.Context, rec backends.Thumbnail) (bool, error) {
	held, err := p.heldAnywhere(ctx, rec.Source, tableColumn{})
	if err != nil || held {
		return false, nil
	}
	// No column this process knows holds it; one it does not know (a
	// process that only serves the Handler) may. The source is let go of
	// only when it is queued for its clean-up, or gone.
	if released, err := p.released(ctx, rec.Source); err != nil || !released {
		return false, nil
	}
	return true, p.forget(ctx, rec)
}

// released reports whether source is queued for its clean-up (a row let
// go of it, and the clean-up has not finished), or gone from the storage.
func (p *plugin) released(ctx context.Context, source string) (bool, error) {
	var n int64
	if err := p.db.WithContext(ctx).Table(outboxTable).Where("source = ?", source).Limit(1).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	return p.gone(ctx, source)
}

// gone reports whether the storage no longer holds name.
func (p *plugin) gone(ctx context.Context, name string) (bool, error) {
	rc, err := p.storage.Open(ctx, name)
	if err == nil {
		_ = rc.Close()
		return false, nil
	}
	if errors.Is(err, backends.ErrNotFound) {
		return true, nil
	}
	return false, err
}

// makeThumbnail makes the thumbnail of source in sz, reading and recording
// through meta, unless meta already records one: a caller that found it
// missing may come just after another generation of it finished (Handler's
// requests do).
func (p *plugin) makeThumbnail(ctx context.Context, meta backends.Metadata, source string, sz sizes.Size) (backends.Thumbnail, error) {
	if recs, err := meta.Thumbnails(ctx, source); err != nil {
		return backends.Thumbnail{}, fmt.Errorf("thumbnails: %w", err)
	} else if t, ok := recs[sz.Name]; ok {
		return t, nil
	}
	rc, err := p.storage.Open(ctx, source)
	if err != nil {
		return backends.Thumbnail{}, fmt.Errorf("thumbnails: open source: %w", err)
	}
	data, err := readStored(rc, p.cfg.Limits, source)
	_ = rc.Close()
	if err != nil {
		return backends.Thumbnail{}, err
	}
	src, err := decode(data, p.cfg.Limits, []sizes.Size{sz})
	if err != nil {
		return backends.Thumbnail{}, fmt.Errorf("thumbnails: source %q: %w", source, err)
	}
	r, err := render(ctx, src, sz, p.cfg.Background)
	if err != nil {
		return backends.Thumbnail{}, err
	}
	t, err := p.saveThumbnail(ctx, source, r)
	if err != nil {
		// Nothing is deleted: the name is every writer's of the size, and
		// another's whole file may be under it (a Storage replaces a file
		// whole or not at all; see backends.Storage).
		return backends.Thumbnail{}, fmt.Errorf("thumbnails: %w", err)
	}
	if err := meta.Put(ctx, source, t); err != nil {
		return backends.Thumbnail{}, fmt.Errorf("thumbnails: %w", err)
	}
	return t, nil
}

// lazyTimeout bounds a shared generation: no caller's cancellation or
// deadline stops it.
const lazyTimeout = 10 * time.Minute
