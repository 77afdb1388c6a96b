package thumbnails

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// keyCopiedSizes holds the images a statement copies into a column
// ([]copiedImage): a name, not an upload, that is not the row's own
// unchanged image. Once it commits, the column's eager sizes that the
// source lacks are made (see makeCopiedSizes).
const keyCopiedSizes = "thumbnails:copied_sizes"

// copiedImage is a source name written into col by a statement, with the
// focal point of the row it was written to.
type copiedImage struct {
	col   *column
	name  string
	focus field.Focus
	// foreign: the name comes from another row or column, not from a
	// stale copy of the written row's own image, which an update replaces
	// by what its row holds now (see guardCopies).
	foreign bool
}

// eager returns c's sizes made when an image is saved: neither lazy nor
// async.
func (c *column) eager() []sizes.Size {
	var out []sizes.Size
	for _, sz := range c.sizes {
		if !sz.Lazy && !sz.Async {
			out = append(out, sz)
		}
	}
	return out
}

// noteCopied adds list to the images the statement on db copies.
func noteCopied(db *gorm.DB, list []copiedImage) {
	if len(list) == 0 {
		return
	}
	if v, ok := db.InstanceGet(keyCopiedSizes); ok {
		prev, _ := v.([]copiedImage)
		list = append(prev, list...)
	}
	db.InstanceSet(keyCopiedSizes, list)
}

// foreignCopy returns the first of names that the statement on db copies
// from another row or column (copiedImage.foreign), or "".
func foreignCopy(db *gorm.DB, names []string) string {
	if len(names) == 0 {
		return ""
	}
	v, _ := db.InstanceGet(keyCopiedSizes)
	list, _ := v.([]copiedImage)
	for _, c := range list {
		if c.foreign && slices.Contains(names, c.name) {
			return c.name
		}
	}
	return ""
}

// copiedImages returns the images the statement on db copies, each column
// and name once.
func copiedImages(db *gorm.DB) []copiedImage {
	v, _ := db.InstanceGet(keyCopiedSizes)
	list, _ := v.([]copiedImage)
	if len(list) == 0 || db.DryRun {
		return nil
	}
	return uniqueCopies(list)
}

// uniqueCopies returns list with each column and name once, and no empty
// name.
func uniqueCopies(list []copiedImage) []copiedImage {
	type key struct {
		col  *column
		name string
	}
	seen := make(map[key]bool, len(list))
	out := list[:0:0]
	for _, c := range list {
		if k := (key{c.col, c.name}); c.name != "" && !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// queueCopiedSizes queues, in the statement's transaction, the jobs of the
// async sizes of the columns that the statement on db copies images into,
// as for an upload. A job whose size is recorded already does nothing, nor
// does one whose source no row holds (the statement wrote no row, and the
// source's own row is gone).
func (p *plugin) queueCopiedSizes(db *gorm.DB) error {
	var list []*stored
	for _, c := range copiedImages(db) {
		list = append(list, &stored{col: c.col, source: c.name})
	}
	return p.enqueueAsync(db, list)
}

// keepCopiesHeld drops, from the images the statement on db copies, those
// whose names it no longer writes: a BeforeSave hook replaced them.
func keepCopiesHeld(db *gorm.DB, held map[string]bool) {
	v, _ := db.InstanceGet(keyCopiedSizes)
	list, _ := v.([]copiedImage)
	kept := list[:0:0]
	for _, c := range list {
		if held[c.name] {
			kept = append(kept, c)
		}
	}
	if len(kept) < len(list) {
		db.InstanceSet(keyCopiedSizes, kept)
	}
}

// makeCopiedSizes has the eager sizes made that the sources of the images
// the statement on db copied lack (see sizeCopies): now, once the statement
// has committed, or once the caller's transaction does. A transaction the
// plugin does not see end (db.Connection's) leaves them to first access.
func (p *plugin) makeCopiedSizes(db *gorm.DB) {
	if db.RowsAffected == 0 {
		return
	}
	list := copiedImages(db)
	if len(list) == 0 {
		return
	}
	if !inCallersTx(db) {
		p.sizeCopies(db.Statement.Context, list)
		return
	}
	if t, ok := txPoolOf(db); ok {
		t.noteCopied(list)
	}
}

// sizeCopies makes, for the images a committed statement or transaction
// copied into columns, each column's eager sizes that its source lacks: an
// image copied into a column with more sizes than the one it came from
// (Cover = Photo) has them all once saved, as an upload does. They are
// made as a lazy size is on first access, after the commit, so no
// transaction or lock is held while they are, and a copy that rolled back
// makes none. The rows are saved by then: a size that cannot be made (the
// copied name has no file) is logged, and is tried again on first access.
func (p *plugin) sizeCopies(ctx context.Context, list []copiedImage) {
	for _, c := range uniqueCopies(list) { // a transaction's statements may copy one image twice
		eager := c.col.eager()
		if len(eager) == 0 {
			continue
		}
		recs, err := p.meta.Thumbnails(ctx, c.name)
		if err != nil {
			p.db.Logger.Error(ctx, "thumbnails: sizes of %q copied into %s.%s: %v", c.name, c.col.table, c.col.name, err)
			continue
		}
		for _, sz := range focused(eager, c.focus) {
			if _, ok := recs[sz.Name]; ok {
				continue
			}
			if _, err := p.generateLazy(ctx, c.name, sz); err != nil {
				p.db.Logger.Error(ctx, "thumbnails: size %q of %q copied into %s.%s: %v", sz.Name, c.name, c.col.table, c.col.name, err)
				break // the next size would fail the same way
			}
		}
	}
}
