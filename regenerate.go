package thumbnails

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// RegenerateOptions say what Regenerate does.
type RegenerateOptions struct {
	Column      string         // the image column; may be empty when the model has one
	Sizes       []string       // sizes to make; nil: the column's eager and async sizes, and its lazy sizes a row already has (async ones are made in the call, not queued)
	IDs         []any          // primary keys of the rows to do; nil: every row with an image
	After       any            // resume point: only rows whose primary key is greater (Counts.Last of an earlier run)
	OnlyMissing bool           // make only the sizes the metadata does not record
	BatchSize   int            // rows read (and their metadata) at a time; 0 means 200
	Workers     int            // rows processed at once; 0 means GOMAXPROCS
	Progress    func(Progress) // called after each row, one call at a time, from the worker that did it; nil: no reports
	// DryRun counts the rows that would be regenerated (Done) and those
	// with nothing to make (Skipped), and changes nothing: no file is
	// read, written or deleted (a size whose format changed would have its
	// old file deleted), no record written.
	DryRun bool
}

// Regenerate makes the thumbnails of a column again — after its sizes
// changed, or to fill in the missing ones — for every row, or the rows
// opts.IDs names, in primary key order. It reads rows and their metadata a
// batch at a time (memory does not grow with the table), works on
// opts.Workers rows at once, reports a row that fails (one whose focus
// column holds no focal point, when a size to make crops around it, too)
// through opts.Progress and goes on. Cancelling ctx stops it after the rows
// in progress; the returned Counts.Last is where to resume. model is a model
// value (&Food{}) or a Table; with a model, the rows are those of its table,
// or of the table db.Table names (db.Table("foods_archive")). opts.IDs may
// name any number of keys: more than 10,000 are read that many at a time. A
// row whose image is replaced or deleted while its sizes are made is counted
// as skipped, and what was made for the image it let go of is removed.
func Regenerate(ctx context.Context, db *gorm.DB, model any, opts RegenerateOptions) (Counts, error) {
	p, err := pluginOf(db)
	if err != nil {
		return Counts{}, err
	}
	tg, err := p.target(db, model, opts.Column)
	if err != nil {
		return Counts{}, err
	}
	var wanted []sizes.Size
	for _, n := range opts.Sizes {
		sz, ok := tg.col.size(n)
		if !ok {
			return Counts{}, fmt.Errorf("%w: %q is not a size of %s.%s", ErrUnknownSize, n, tg.table, tg.col.name)
		}
		// a size named twice ("small", "Small") is made once
		if !slices.ContainsFunc(wanted, func(w sizes.Size) bool { return w.Name == sz.Name }) {
			wanted = append(wanted, sz)
		}
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Progress == nil {
		opts.Progress = func(Progress) {}
	}
	total, err := tg.count(ctx, db, opts.After, opts.IDs)
	if err != nil {
		return Counts{}, err
	}

	var counts Counts
	after := opts.After
	for ctx.Err() == nil {
		rows, err := tg.batch(ctx, db, after, opts.IDs, opts.BatchSize)
		if err != nil {
			return counts, err
		}
		if len(rows) == 0 {
			break
		}
		sources := make([]string, len(rows))
		for i, r := range rows {
			sources[i] = r.source
		}
		recorded, err := p.meta.ThumbnailsOf(ctx, sources)
		if err != nil {
			return counts, err
		}
		// the rows of the batch, opts.Workers at a time; done[i] once row i is handled
		done := make([]bool, len(rows))
		results := make([]error, len(rows))
		skipped := make([]bool, len(rows))
		var mu sync.Mutex
		next := 0
		var wg sync.WaitGroup
		for w := 0; w < opts.Workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= len(rows) || ctx.Err() != nil {
						return
					}
					todo := p.sizesToMake(tg.col, wanted, recorded[rows[i].source], opts.OnlyMissing)
					if len(todo) == 0 {
						skipped[i] = true
					} else if rows[i].focusErr != nil && cropsAtFocus(todo) {
						results[i] = rows[i].focusErr
					} else if !opts.DryRun {
						// a row once started is finished, even if ctx is cancelled
						// meanwhile: the run stops after the rows in progress
						rctx, r := context.WithoutCancel(ctx), rows[i]
						letGo := func() bool {
							// the row itself, by its key, first: it holds the source but for a race
							if held, err := tg.holds(rctx, db, r.pk, r.source); err != nil || held {
								return false
							}
							return p.letGo(rctx, Job{Source: r.source, Table: tg.table, Column: tg.col.name})
						}
						results[i] = p.regenerateRow(rctx, r.source, focused(todo, r.focus), recorded[r.source], letGo)
						if results[i] == nil && tg.col.focus != nil && cropsAtFocus(todo) {
							// the point may have moved while the sizes were made
							point := func() (bool, field.Focus, error) { return tg.focusOf(rctx, db, r.pk, r.source) }
							_, results[i] = p.refocus(rctx, r.source, todo, r.focus, point, letGo)
						}
						if errors.Is(results[i], errLetGo) {
							skipped[i], results[i] = true, nil
						}
					}
					mu.Lock()
					done[i] = true
					switch {
					case skipped[i]:
						counts.Skipped++
					case results[i] != nil:
						counts.Failed++
					default:
						counts.Done++
					}
					// the resume point moves over the rows handled in key order
					for j := 0; j < len(rows) && done[j]; j++ {
						counts.Last = rows[j].pk
					}
					opts.Progress(Progress{Counts: counts, Total: int(total), PrimaryKey: rows[i].pk, Source: rows[i].source, Err: results[i]})
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if !done[len(rows)-1] || slices.Contains(done, false) {
			break // cancelled part way
		}
		after = rows[len(rows)-1].pk
	}
	if err := ctx.Err(); err != nil {
		return counts, err
	}
	return counts, nil
}

// sizesToMake returns the sizes to make for a source whose thumbnails recs
// are recorded.
func (p *plugin) sizesToMake(col *column, wanted []sizes.Size, recs []backends.Thumbnail, onlyMissing bool) []sizes.Size {
	has := func(size string) bool {
		return slices.ContainsFunc(recs, func(t backends.Thumbnail) bool { return t.Size == size })
	}
	list := wanted
	if list == nil {
		for _, sz := range col.sizes {
			if !sz.Lazy || has(sz.Name) {
				list = append(list, sz)
			}
		}
	}
	if !onlyMissing {
		return list
	}
	var out []sizes.Size
	for _, sz := range list {
		if !has(sz.Name) {
			out = append(out, sz)
		}
	}
	return out
}

// errLetGo is regenerateRow's answer for a row that let go of its source
// (a replace or delete committed) while its sizes were made: nothing to do.
var errLetGo = errors.New("thumbnails: the row let go of its source")

// regenerateRow makes the sizes of a row's source and records them;
// recorded are its records as the batch read them, whose files a size
// recorded under another name (its format changed) leaves behind and
// deletes. The row may let go of the source meanwhile, and its clean-up
// read the records before these were written: once letGo says that no row
// holds the source and it is released, what was made is nobody's, goes
// (see forget), and the answer is errLetGo, or, when some of it could not
// be removed, why; so it is when the source is gone before it is read.
func (p *plugin) regenerateRow(ctx context.Context, source string, list []sizes.Size, recorded []backends.Thumbnail, letGo func() bool) error {
	rc, err := p.storage.Open(ctx, source)
	if errors.Is(err, backends.ErrNotFound) && letGo() {
		return errLetGo
	}
	if err != nil {
		return fmt.Errorf("thumbnails: open source: %w", err)
	}
	data, err := readStored(rc, p.cfg.Limits, source)
	_ = rc.Close()
	if err != nil {
		return err
	}
	src, err := decode(data, p.cfg.Limits, list)
	if err != nil {
		return fmt.Errorf("thumbnails: source %q: %w", source, err)
	}
	out, err := renderAll(ctx, src, list, p.cfg.Background)
	if err != nil {
		return err
	}
	thumbs := make([]backends.Thumbnail, 0, len(out)+1)
	var errs []error
	if ph, err := p.placeholderFor(src); err != nil {
		errs = append(errs, err)
	} else if ph != nil {
		ph.Source = source
		thumbs = append(thumbs, *ph)
	}
	var writes []overwritten
	for _, r := range out {
		name := thumbnailName(p.cfg.BaseDir, source, r.size.Name, r.ext)
		w := p.previous(ctx, name, recorded)
		t, err := p.saveThumbnail(ctx, source, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t.Name != name { // the storage chose another name: nothing was overwritten
			w = overwritten{}
		}
		w.t = t
		writes = append(writes, w)
		thumbs = append(thumbs, t)
	}
	if len(thumbs) > 0 {
		if err := p.meta.Put(ctx, source, thumbs...); err != nil {
			return errors.Join(append(errs, err, p.undo(ctx, source, writes))...)
		}
		// A size whose format changed gets a new name: its old file goes
		// once the new record is in.
		// One named before names were hashed (see maybeShared) may be
		// another source's too: Prune removes it once no record names it.
		for _, t := range thumbs {
			for _, o := range recorded {
				if o.Size == t.Size && o.IsFile() && o.Name != t.Name && !maybeShared(source, o.Name) {
					if err := p.storage.Delete(ctx, o.Name); err != nil {
						errs = append(errs, fmt.Errorf("thumbnails: delete the replaced %q: %w", o.Name, err))
					}
				}
			}
		}
		if letGo() {
			// The row is nothing to do any more, unless what was made
			// for it stays: then it failed, with why.
			var stays []error
			for _, t := range thumbs {
				if err := p.forget(ctx, t); err != nil {
					stays = append(stays, err)
				}
			}
			if len(stays) > 0 {
				return errors.Join(append(errs, stays...)...)
			}
			return errLetGo
		}
	}
	return errors.Join(errs...)
}

// letGo reports whether no row holds job.Source any more, and the source
// is released: queued for its clean-up, or gone. It says no when it cannot
// tell: what was made then stays, for the clean-up or Prune to judge.
func (p *plugin) letGo(ctx context.Context, job Job) bool {
	held, _, err := p.held(ctx, job)
	if err != nil || held {
		return false
	}
	released, err := p.released(ctx, job.Source)
	return err == nil && released
}

// overwritten is a thumbnail t that regenerateRow wrote, and what it
// overwrote: when a record named the file, its old content (kept), or
// that it could not be read (recorded alone).
type overwritten struct {
	t        backends.Thumbnail
	recorded bool
	kept     bool
	old      []byte
}

// previous reads the file that writing name replaces when a record names it
// (a size regenerated in its recorded format). A file that is missing or
// cannot be read is overwritten all the same: Regenerate is what repairs
// a broken thumbnail.
func (p *plugin) previous(ctx context.Context, name string, recorded []backends.Thumbnail) overwritten {
	if !slices.ContainsFunc(recorded, func(t backends.Thumbnail) bool { return t.IsFile() && t.Name == name }) {
		return overwritten{}
	}
	o := overwritten{recorded: true}
	rc, err := p.storage.Open(ctx, name)
	if err != nil {
		return o
	}
	defer rc.Close()
	if o.old, err = io.ReadAll(rc); err == nil { // a thumbnail of ours, of bounded size
		o.kept = true
	}
	return o
}

// undo takes back the files that regenerateRow wrote for source when their
// records could not be written, so that the records it keeps still
// describe their files: a file it overwrote gets its old content back, and
// a file that no record named is deleted. It first reads the records again:
// a write recorded after all (a Put that failed after it applied, or a
// read that made the size meanwhile) is left as it is, and when they cannot
// be read a new file is left for Prune rather than deleted.
func (p *plugin) undo(ctx context.Context, source string, writes []overwritten) error {
	ctx = context.WithoutCancel(ctx)
	now, readErr := p.meta.ThumbnailsOf(ctx, []string{source})
	var errs []error
	for _, w := range writes {
		if readErr == nil && slices.ContainsFunc(now[source], func(r backends.Thumbnail) bool {
			return r.Name == w.t.Name && (r.Size != w.t.Size || r.Width == w.t.Width && r.Height == w.t.Height)
		}) {
			continue // recorded as written, or by another size
		}
		switch {
		case w.kept:
			if _, err := p.storage.Save(ctx, w.t.Name, bytes.NewReader(w.old)); err != nil {
				errs = append(errs, fmt.Errorf("thumbnails: put back %q: %w", w.t.Name, err))
			}
		case !w.recorded && readErr == nil:
			if err := p.storage.Delete(ctx, w.t.Name); err != nil {
				errs = append(errs, fmt.Errorf("thumbnails: delete %q, recorded nowhere: %w", w.t.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}
