package thumbnails

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// Keys of the per-statement state shared between the plugin's callbacks.
const (
	keyStored = "thumbnails:stored" // []*stored: uploads this statement wrote to storage
	keyOutbox = "thumbnails:outbox" // bool: this statement queued sources for deletion
	// keyUnreferenced marks a statement that stored uploads but wrote no row.
	keyUnreferenced = "thumbnails:unreferenced"
	// keyRecorded marks a statement that wrote the records of its uploads.
	keyRecorded = "thumbnails:recorded"
	// keyOmits holds the statement's Omits before captureUpdate left out
	// unchanged image columns (*omitted); finish puts them back, so that a
	// *gorm.DB reused for another statement does not leave them out too.
	keyOmits = "thumbnails:omits"
	// keyCopies holds the names, not uploaded by the statement, that it
	// writes into image columns other than as a row's own unchanged
	// image: sources copied from other rows or columns ([]string). Once
	// guardCopies or captureUpsert found them, the own unchanged images
	// that an insert writes back into rows that no longer exist, or may
	// not (see keepCurrentImages), are among them too (see guardRevived).
	keyCopies = "thumbnails:copies"
	// keyRecordColumns holds the image columns ([]tableColumn) that a
	// statement storing an upload or copying a name makes hold images, and
	// that columnsTable may not record yet (see recordColumns).
	keyRecordColumns = "thumbnails:record_columns"
	// keySeen holds the seenValues of storeUploads, for storeHooked.
	keySeen = "thumbnails:seen"
	// keyDrained holds plugin.deleted's count as the statement began
	// (uint64).
	keyDrained = "thumbnails:drained"
)

// omitted holds a statement's own Omits (see keyOmits).
type omitted struct{ omits []string }

// mayFallBackToCreate reports whether an update that changed no row is
// gorm's Save, which then inserts the same value (with the stored names):
// Save is the update that selects "*" and nothing else.
func mayFallBackToCreate(db *gorm.DB) bool {
	sel := db.Statement.Selects
	return len(sel) == 1 && sel[0] == "*"
}

// registerCallbacks registers the plugin's callbacks from one table, and
// returns the first registration error.
//
// The image work (decoding, resizing, writing files) runs before gorm opens
// its default transaction, so no row lock is held while it runs. The reads
// of replaced names, the outbox rows and the metadata run inside the
// transaction, and the files are deleted only after it commits.
func (p *plugin) registerCallbacks(db *gorm.DB) error {
	cb := db.Callback()
	hooks := []struct {
		name     string
		register func(string, func(*gorm.DB)) error
		fn       func(*gorm.DB)
	}{
		{"thumbnails:store_create", cb.Create().Before("*").Register, func(db *gorm.DB) { p.storeUploads(db, true) }},
		{"thumbnails:store_hooked_create", cb.Create().After("gorm:before_create").Before("gorm:create").Register, func(db *gorm.DB) { p.storeHooked(db, true) }},
		{"thumbnails:guard_create", cb.Create().After("thumbnails:store_hooked_create").Before("gorm:create").Register, func(db *gorm.DB) { p.guardCopies(db, true) }},
		{"thumbnails:capture_create", cb.Create().Before("gorm:create").Register, p.captureUpsert},
		// The metadata is recorded as soon as the row is written, before
		// gorm saves its associations (which record their own): a failed
		// association may leave the row committed (no transaction, or the
		// caller's that commits anyway), and it must not lack its records.
		{"thumbnails:record_create", cb.Create().After("gorm:create").Before("gorm:save_after_associations").Register, p.record},
		{"thumbnails:bind_create", cb.Create().After("thumbnails:record_create").Before("gorm:after_create").Register, p.bindBeforeHooks},
		{"thumbnails:after_create", cb.Create().After("*").Register, p.finish},

		{"thumbnails:store_update", cb.Update().Before("*").Register, func(db *gorm.DB) { p.storeUploads(db, false) }},
		{"thumbnails:store_hooked_update", cb.Update().After("gorm:before_update").Before("gorm:update").Register, func(db *gorm.DB) { p.storeHooked(db, false) }},
		{"thumbnails:guard_update", cb.Update().After("thumbnails:store_hooked_update").Before("gorm:update").Register, func(db *gorm.DB) { p.guardCopies(db, false) }},
		{"thumbnails:capture_update", cb.Update().Before("gorm:update").Register, p.captureUpdate},
		{"thumbnails:record_update", cb.Update().After("gorm:update").Before("gorm:save_after_associations").Register, p.record},
		{"thumbnails:bind_update", cb.Update().After("thumbnails:record_update").Before("gorm:after_update").Register, p.bindBeforeHooks},
		{"thumbnails:after_update", cb.Update().After("*").Register, p.finish},

		{"thumbnails:capture_delete", cb.Delete().Before("gorm:delete").Register, p.captureDelete},
		{"thumbnails:after_delete", cb.Delete().After("*").Register, p.finish},

		// Before gorm:preload: a Preload naming an unknown size fails before
		// the associations are read; and before gorm:after_query, so that
		// AfterFind hooks see bound images.
		{"thumbnails:check_preload", cb.Query().Before("gorm:query").Register, p.checkPreload},
		{"thumbnails:after_query", cb.Query().After("gorm:query").Before("gorm:preload").Register, p.bindQuery},
		{"thumbnails:preload_begin", cb.Query().After("gorm:query").Before("gorm:preload").Register, loadingAssociations(1)},
		{"thumbnails:preload_end", cb.Query().After("gorm:preload").Before("gorm:after_query").Register, loadingAssociations(-1)},
		{"thumbnails:hooks_begin", cb.Query().After("thumbnails:preload_end").Before("gorm:after_query").Register, runningHooks(1)},
		{"thumbnails:hooks_end", cb.Query().After("gorm:after_query").Register, runningHooks(-1)},
	}
	for _, h := range hooks {
		if err := h.register(h.name, h.fn); err != nil {
			return fmt.Errorf("thumbnails: register callback %s: %w", h.name, err)
		}
	}
	return nil
}

// modelOf returns the thumbnails model of the statement running on db, or
// nil when the callback has nothing to do: an earlier error, no schema (Raw,
// Exec, Table without a model), or no field.Image column.
func (p *plugin) modelOf(db *gorm.DB) *model {
	if db.Error != nil || db.Statement.Schema == nil {
		return nil
	}
	m, err := p.model(db.Statement.Schema)
	if err != nil {
		_ = db.AddError(err)
		return nil
	}
	return m
}

// instanceFlag reports whether the statement on db set key to true.
func instanceFlag(db *gorm.DB, key string) bool {
	v, _ := db.InstanceGet(key)
	return v == true
}

// clearInstance removes keys from the settings of the statement on db, as
// InstanceSet(key, nil) would clear them, but without storing an entry for
// each key that was never set: finish clears them all after every write.
func clearInstance(db *gorm.DB, keys ...string) {
	prefix := fmt.Sprintf("%p", db.Statement) // gorm's InstanceSet keys
	for _, key := range keys {
		db.Statement.Settings.Delete(prefix + key)
	}
}

// storedOf returns the uploads stored by the statement running on db.
func storedOf(db *gorm.DB) []*stored {
	v, _ := db.InstanceGet(keyStored)
	s, _ := v.([]*stored)
	return s
}

// storeUploads stores every pending upload in the statement's values: the
// rows of a Create or Save, the struct or map given to Updates, the value
// given to Update. It runs before gorm's Before hooks; storeHooked then
// stores what they set. create tells a Create from an Update: a column gorm
// does not write in it (a "<-:create" column in an update, a "->" or
// "<-:update" one in an insert) has its upload neither stored nor resized.
func (p *plugin) storeUploads(db *gorm.DB, create bool) {
	if db.DryRun {
		return
	}
	m := p.modelOf(db)
	if m == nil {
		if db.Statement.Schema != nil { // a model without images of its own: its associations'
			selected, restricted := db.Statement.SelectAndOmitColumns(false, false)
			p.prestoreAssociations(db, selected, restricted)
		}
		return
	}
	// Before gorm begins the statement's transaction, which may wait for a
	// drain's lock (SQLite's BEGIN IMMEDIATE), or as the caller's
	// transaction began: see guardCopies.
	deleted := p.deleted.now()
	if t, ok := txPoolOf(db); ok {
		deleted = min(deleted, t.deleted)
	}
	db.InstanceSet(keyDrained, deleted)
	p.storeValues(db, m, nil, create)
}

// storeValues is storeUploads, or, with the values an earlier pass saw,
// storeHooked: it then stores the uploads, and notes the copied names, that
// are not what that pass saw.
func (p *plugin) storeValues(db *gorm.DB, m *model, seen *seenValues, create bool) {
	table, err := statementTable(db, m)
	if err != nil {
		_ = db.AddError(err)
		return
	}
	tk := tableKey(db, m)
	ctx := db.Statement.Context
	var all []*stored
	var copies []string
	var copiedImages []copiedImage
	var origins []tableColumn // other tables (db.Table) whose rows hold the copied names
	// copied checks a name written without an upload, and notes it as a
	// copy.
	copied := func(col *column, name string, focus field.Focus, foreign bool) bool {
		if err := checkName(col, name); err != nil {
			_ = db.AddError(err)
			return false
		}
		if name != "" {
			copies = append(copies, name)
			copiedImages = append(copiedImages, copiedImage{col: col, name: name, focus: focus, foreign: foreign})
		}
		return true
	}
	// store stores img's upload; an image without one has its name
	// checked and noted, unless it is what row's column held when it was
	// read.
	store := func(col *column, img *field.Image, focus field.Focus, row reflect.Value) bool {
		if st := p.takePrestored(img); st != nil {
			all = append(all, st) // stored before the parent's transaction began
			return true
		}
		if seen.sawImage(img) {
			return true
		}
		bridge.SetFocus(img, focus)
		if bridge.Pending(img) == nil {
			if bridge.Decoded(img) {
				_ = db.AddError(fmt.Errorf("%w: column %s.%s: an image decoded from text (a cache) is written only once bound to its row (thumbnails.Bind), which tells whether the row still holds it", field.ErrNotBound, col.table, col.name))
				return false
			}
			if ownUnchanged(ctx, col, img, row, tk) {
				return true
			}
			_, owner, known := bridge.Original(img)
			if known && owner.Table != 0 && img.Name() != "" {
				if tc, ok := originOf(owner.Table); ok && !slices.Contains(origins, tc) {
					origins = append(origins, tc)
				}
			}
			// An insert's is another row's, and so is one read from
			// another table or column, or from another row than the
			// keyed row it is written into (the row, or the statement's
			// Model); otherwise, given to Updates without a key, one
			// read from this column may be a stale copy of the row's own.
			own := known && owner.Column == col.id && owner.Table == col.origin(tk)
			for _, r := range []reflect.Value{row, reflect.Indirect(reflect.ValueOf(db.Statement.Model))} {
				if own && r.IsValid() && r.Kind() == reflect.Struct {
					if o := col.owner(ctx, r, tk); o.Keyed() && o != owner {
						own = false
					}
				}
			}
			return copied(col, img.Name(), focus, create || !own)
		}
		st, err := p.storeUpload(ctx, col, img, focus)
		if err != nil {
			_ = db.AddError(err)
			return false
		}
		all = append(all, st)
		return true
	}

	// A column the statement leaves out (Omit, or a Select without it, or
	// its permission tag) is not written: its upload is not stored either.
	selected, restricted := db.Statement.SelectAndOmitColumns(create, !create)
	writes := func(col *column) bool { return selects(selected, restricted, col.name) }
	if !create {
		m.addressableOtherStruct(db)
	}
	if dest, isMap := m.updateMap(db, create); isMap {
		// A map given to Updates, or what a struct of another type than
		// the model writes into its image columns, as such a map.
		for key, v := range dest {
			col := m.column(db.Statement.Schema.LookUpField(key))
			if col == nil || !writes(col) {
				continue
			}
			if seen.sawKey(key, v) {
				continue
			}
			focus := mapFocus(db, col, dest)
			switch img := v.(type) {
			case field.Image:
				if !store(col, &img, focus, reflect.Value{}) {
					break
				}
				dest[key] = img
				if n := len(all); n > 0 && all[n-1].img == &img {
					// A discard must reach the map's copy too, or writing
					// the map again would write the deleted file's name.
					all[n-1].mapDest, all[n-1].mapKey = dest, key
				}
			case *field.Image:
				if img != nil {
					store(col, img, focus, reflect.Value{})
				}
			case string:
				copied(col, img, focus, create)
			case *string:
				if img != nil {
					copied(col, *img, focus, create)
				}
			}
		}
		if _, own := db.Statement.Dest.(map[string]any); !own && seen == nil {
			p.prestoreAssociations(db, selected, restricted) // the Model's, as below
		}
	} else {
		v := reflect.ValueOf(db.Statement.Dest)
		if v.Kind() == reflect.Struct && m.holdsImage(v) {
			// Updates(Food{...}) passes a struct by value: store, and note
			// copied names, through an addressable copy, and let gorm
			// write from it.
			ptr := reflect.New(v.Type())
			ptr.Elem().Set(v)
			db.Statement.Dest = ptr.Interface()
			v = ptr
		}
		eachRow(v, m.schema.ModelType, func(row reflect.Value) {
			for _, col := range m.columns {
				if db.Error != nil {
					return
				}
				if !writes(col) {
					continue
				}
				if img := col.image(row); img != nil {
					store(col, img, col.focusOf(row), row)
				}
			}
		})
		if seen == nil {
			// The associated rows' uploads too, before the transaction in
			// which gorm saves them after this statement's rows.
			p.prestoreAssociations(db, selected, restricted)
		}
	}
	if db.Error != nil {
		p.discard(ctx, all)
		return
	}
	if seen == nil && beforeHooks(db) {
		db.InstanceSet(keySeen, seenIn(db, m, create))
	}
	if seen != nil {
		// What the first pass stored, or noted as copied, stays unless a
		// hook replaced it: nothing writes it then, and an upload is
		// deleted.
		now := seenIn(db, m, create)
		all = append(p.keepStillWritten(db, now), all...)
		keepCopiesHeld(db, now.names())
		if v, ok := db.InstanceGet(keyCopies); ok && len(copies) > 0 {
			copies = append(v.([]string), copies...)
		}
	}
	if len(all) > 0 || seen != nil { // a second pass may have dropped them all
		db.InstanceSet(keyStored, all)
	}
	// In the caller's transaction, which rolls back when a panic (in a
	// Before hook) ends the statement before it records them. (A panic
	// leaves gorm's own transaction open: nothing ends it.)
	notePending(db, all)
	noteCopied(db, copiedImages)
	if len(copies) > 0 {
		db.InstanceSet(keyCopies, copies)
	}
	// The clean-up of every process, and Prune, must check every column
	// that holds images, whether or not they used its model or its table:
	// the statement's (its model's own table, or the one db.Table names),
	// whatever form its values take (a map, another struct, an
	// expression), and, when it copies names, the columns they may come
	// from. guardCopies records them, in the statement's transaction, once
	// per column and process.
	if cols := p.unrecordedColumns(table, m, len(copies) > 0, origins); len(cols) > 0 {
		db.InstanceSet(keyRecordColumns, cols)
	}
}

// ownUnchanged reports whether img holds the name that row's column held
// when the plugin read or wrote it (row is invalid for a value given to
// Update or Updates). Such a name is not checked: a row saved again with
// its other columns changed is not refused for what it already holds.
func ownUnchanged(ctx context.Context, col *column, img *field.Image, row reflect.Value, table tableRef) bool {
	orig, owner, known := bridge.Original(img)
	return known && orig == img.Name() && row.IsValid() && owner.Keyed() && owner == col.owner(ctx, row, table)
}

// checkName refuses a name written into col that is not a clean storage
// name (backends.CleanName): "../x.jpg", "/etc/x", "foods//x.jpg" or
// "./foods/x.jpg". The storage would read and delete another file under
// it than the name that rows compare, so that a row could lose the files
// of another. The empty name (no image) is written as it is.
func checkName(col *column, name string) error {
	if name == "" {
		return nil
	}
	if err := uncleanName(name); err != nil {
		return fmt.Errorf("thumbnails: column %s.%s: %w", col.table, col.name, err)
	}
	return nil
}

// uncleanName returns nil for a clean storage name, and otherwise an error
// wrapping backends.ErrInvalidName that says why.
func uncleanName(name string) error {
	if backends.IsCleanName(name) {
		return nil
	}
	clean, err := backends.CleanName(name)
	if err == nil {
		err = fmt.Errorf("%w: %q is not its clean form %q", backends.ErrInvalidName, name, clean)
	}
	return err
}

// record writes the metadata of the uploads the statement stored, inside its
// transaction, once the rows are written.
func (p *plugin) record(db *gorm.DB) {
	all := storedOf(db)
	p.noteCopies(db, all)
	p.refuseDeletedCopies(db)
	if db.Error != nil || len(all) == 0 {
		return
	}
	if db.RowsAffected == 0 && !db.DryRun && !mayFallBackToCreate(db) {
		// No row was written (an update of a row that does not exist, an
		// insert that hit ON CONFLICT DO NOTHING): no row references the
		// upload, so finish deletes its files and nothing is recorded.
		db.InstanceSet(keyUnreferenced, true)
		return
	}
	if mayKeepOld(db, all) {
		var err error
		if all, err = p.keepWritten(db, all); err != nil {
			_ = db.AddError(err)
			return
		}
	}
	meta := p.metadata(db)
	db.InstanceSet(keyRecorded, true)
	for _, st := range all {
		if err := meta.Put(db.Statement.Context, st.source, st.thumbs...); err != nil {
			_ = db.AddError(fmt.Errorf("thumbnails: %w", err))
			return
		}
	}
	if err := p.enqueueAsync(db, all); err != nil {
		_ = db.AddError(err)
		return
	}
	noteCreated(db, all)
}

// refuseDeletedCopies fails the statement on db, in its transaction, when
// a row it wrote names a source it copied that a clean-up of this process
// deleted (plugin.deleted remembers them), before the statement began as
// well as during it (guardCopies checks those, and refuses before the
// write the copies known to come from another row): an Image read from a row
// deleted since, put into another row, names a file that is gone. So does
// the row's own image, read before the row was deleted, that an insert
// writes back with it (see guardRevived; refuseRevived refuses it before
// the write when the log knew it then). A stale copy of the row's own
// image, which the statement left out or replaced by what its row holds
// now, does not fail it: only what the rows hold once written counts.
func (p *plugin) refuseDeletedCopies(db *gorm.DB) {
	if db.Error != nil || db.DryRun {
		return
	}
	v, _ := db.InstanceGet(keyCopies)
	copies, _ := v.([]string)
	if len(copies) == 0 { // most writes: not the log's lock on every one
		return
	}
	gone := p.deleted.ever(copies)
	if len(gone) == 0 {
		return
	}
	m := p.modelOf(db)
	if m == nil {
		return
	}
	for _, col := range m.columns {
		var held []string
		err := onStatementTable(db, m).Unscoped().
			Where(clause.IN{Column: clause.Column{Name: col.name}, Values: anySlice(gone)}).Limit(1).Pluck(col.name, &held).Error
		if err != nil {
			_ = db.AddError(fmt.Errorf("thumbnails: check copied sources: %w", err))
			return
		}
		if len(held) > 0 {
			_ = db.AddError(deletedSource(held[0], p.sourceRole(db, held[0])))
			return
		}
	}
}

// noteCopies records in each upload of all the images of the statement's
// model that gorm set to a copy of the upload's Image, by now that of the
// stored source (db.Model(&row).Update("image", upload), or Updates of
// another struct or of a map): if the upload is discarded (the statement
// wrote no row, failed or rolled back), so are they, rather than hold the
// name of a deleted file that a later Save would commit.
func (p *plugin) noteCopies(db *gorm.DB, all []*stored) {
	if len(all) == 0 || db.Statement.Schema == nil || samePointer(db.Statement.Dest, db.Statement.Model) {
		return
	}
	m, err := p.model(db.Statement.Schema) // not modelOf: also after the statement failed
	if m == nil || err != nil {
		return
	}
	bySource := make(map[string]*stored, len(all))
	for _, st := range all {
		bySource[st.source] = st
	}
	eachRow(db.Statement.ReflectValue, m.schema.ModelType, func(row reflect.Value) {
		for _, col := range m.columns {
			img := col.image(row)
			if img == nil {
				continue
			}
			if st, ok := bySource[img.Name()]; ok && img != st.img && !slices.Contains(st.copies, img) {
				st.copies = append(st.copies, img)
			}
		}
	})
}

// mayKeepOld reports whether the statement on db is an insert with ON
// CONFLICT whose conflicting rows may keep the image they had in a column
// of all's uploads: DO NOTHING, or DO UPDATE of other columns (UpdateAll
// of a "<-:create" column too).
func mayKeepOld(db *gorm.DB, all []*stored) bool {
	updated, _, found := conflictUpdates(db.Statement)
	if !found || db.DryRun {
		return false
	}
	for _, st := range all {
		if !updated[st.col.name] {
			return true
		}
	}
	return false
}

// keepWritten returns the uploads of all that a row holds after an insert
// with ON CONFLICT, and discards the others: a conflicting row whose
// update does not assign the image column (DO UPDATE SET name, or gorm's
// save of associations, which sets the foreign key only; UpdateAll, which
// leaves a "<-:create" column out; DO NOTHING in a batch where some rows
// conflict) keeps the image it had, and the upload stored for it is
// referenced by nothing. Its Image is then discarded rather than naming a
// file the row does not hold. The names are new and random: one query per
// column tells which were written.
func (p *plugin) keepWritten(db *gorm.DB, all []*stored) ([]*stored, error) {
	byColumn := map[*column][]string{}
	for _, st := range all {
		byColumn[st.col] = append(byColumn[st.col], st.source)
	}
	written := map[*column]map[string]bool{}
	for col, sources := range byColumn {
		// the statement's own table: db.Table("schema.t"), an alias and
		// a clause.Table are its TableExpr
		// Initialized: the statement made here is the one the query runs
		q := db.Session(&gorm.Session{NewDB: true, Initialized: true, Context: db.Statement.Context})
		q.Statement.Table, q.Statement.TableExpr = db.Statement.Table, db.Statement.TableExpr
		refs, err := heldIn(q, col.name, sources)
		if err != nil {
			return nil, fmt.Errorf("thumbnails: check which uploads the insert wrote: %w", err)
		}
		written[col] = refs
	}
	var kept, dropped []*stored
	for _, st := range all {
		if written[st.col][st.source] {
			kept = append(kept, st)
		} else {
			dropped = append(dropped, st)
		}
	}
	if len(dropped) > 0 {
		p.discard(db.Statement.Context, dropped)
		db.InstanceSet(keyStored, kept)
	}
	return kept, nil
}

// finish runs after gorm's commit or rollback. A failed statement's files
// are deleted unless rows it wrote may still reference them (see
// discardUnlessWritten); a successful one binds the saved images to the
// plugin. Outside a transaction, failed or not, it drains the outbox
// (inside one, the transaction's Commit does).
func (p *plugin) finish(db *gorm.DB) {
	if o, _ := db.InstanceGet(keyOmits); o != nil {
		db.Statement.Omits = o.(*omitted).omits
	}
	// The state of this statement ends with it: a *gorm.DB used for
	// another statement (q := db.Model(&row); q.Updates(a); q.Updates(b))
	// reuses the gorm.Statement, and the next one must not discard, record
	// or drain what this one stored.
	defer clearInstance(db, keyStored, keyUnreferenced, keyRecorded, keyOutbox, keyReleased, keyOmits, keySeen, keyCopiedSizes, keyPrestored)
	dropPending(db, storedOf(db))
	if v, ok := db.InstanceGet(keyPrestored); ok {
		p.givePrestoredBack(db.Statement.Context, v.([]*stored))
	}
	clearInstance(db, keyCopies, keyRecordColumns) // a reused statement copies anew
	if db.Statement.Schema == nil {
		return
	}
	if unknown := (*commitUnknownError)(nil); errors.As(db.Error, &unknown) {
		return // the rows may have committed: their files stay (see txPool.Commit)
	}
	if db.Error != nil || instanceFlag(db, keyUnreferenced) {
		p.discardUnlessWritten(db)
		if db.Error != nil {
			p.drainOwnCommit(db)
			return
		}
	}
	p.bindWritten(db, writtenColumns(db))
	p.drainOwnCommit(db)
	p.makeCopiedSizes(db)
}

// drainOwnCommit drains the outbox after a statement that queued sources
// for deletion outside any transaction (SkipDefaultTransaction): its
// outbox rows, and its write, committed as they ran, even when a later step
// failed it (an AfterUpdate or AfterDelete hook, the save of an
// association), and it queues its sources again first (see
// requeueReleased). Inside a transaction, the transaction's Commit drains. A
// drain deletes only the sources no row references: those of a write that
// did not happen stay.
func (p *plugin) drainOwnCommit(db *gorm.DB) {
	if instanceFlag(db, keyOutbox) && !inAnyTx(db) {
		p.requeueReleased(db)
		p.drainAfterCommit(db.Statement.Context)
	}
}

// inAnyTx reports whether the statement on db ran in a transaction, gorm's
// own for it or the caller's: the transaction's Commit drains the outbox.
func inAnyTx(db *gorm.DB) bool {
	if _, started := db.InstanceGet("gorm:started_transaction"); started {
		return true
	}
	_, inTx := db.Statement.ConnPool.(gorm.TxCommitter)
	return inTx
}

// discardUnlessWritten deletes what the statement on db stored, which no
// row references: it failed, or wrote no row. Unless it wrote rows and
// failed after (its metadata could not be recorded, a hook failed) where
// no rollback of its own takes them back:
//   - without any transaction (SkipDefaultTransaction), the rows are
//     committed and reference the files: they stay, and the sizes whose
//     records are missing are made again on first access;
//   - in the caller's transaction, the rows stay in it unless it rolls
//     back: its rollback discards the files, its commit keeps them;
//   - in a transaction whose end the plugin does not see (one begun on
//     db.Connection's connection, gorm's raw *sql.Tx), the rows may
//     commit too: the files stay, for Prune if it rolls back.
func (p *plugin) discardUnlessWritten(db *gorm.DB) {
	all := storedOf(db)
	if db.Error != nil && !instanceFlag(db, keyUnreferenced) && db.RowsAffected > 0 {
		if _, started := db.InstanceGet("gorm:started_transaction"); !started {
			// The caller's transaction decides, when the plugin sees it
			// end; otherwise the rows committed, or may commit.
			noteCreated(db, all)
			return
		}
	}
	// Outside any transaction, records this statement wrote committed as
	// they were written: removed through its connection (one a caller's
	// db.Connection may hold).
	var recorded backends.Metadata
	if instanceFlag(db, keyRecorded) && !inAnyTx(db) {
		recorded = p.metadata(statementConn(db.Statement.Context, db))
	}
	p.discardFrom(db.Statement.Context, all, recorded)
}

// statementConn returns a new session, under ctx, on the connection of the
// statement on db (a caller's db.Connection may hold the only one), without
// the statement's error, which a session keeps.
func statementConn(ctx context.Context, db *gorm.DB) *gorm.DB {
	conn := db.Session(&gorm.Session{NewDB: true, Context: ctx})
	conn.Error = nil
	return conn
}

// samePointer reports whether a and b are the same pointer. Dest and Model
// are compared so, not with ==, which panics on slices (gorm saves a has-many
// association with a slice value; a caller may pass one too). Binding twice
// is harmless, so values that are not pointers count as different.
func samePointer(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Kind() == reflect.Pointer && vb.Kind() == reflect.Pointer &&
		va.Type() == vb.Type() && va.Pointer() == vb.Pointer()
}

// column returns the model's column for f, or nil.
func (m *model) column(f *schema.Field) *column {
	for _, c := range m.columns {
		if c.field == f {
			return c
		}
	}
	return nil
}

// holdsImage reports whether the struct v, a row of m, holds an image: a
// pending upload, or a name it writes.
func (m *model) holdsImage(v reflect.Value) bool {
	if v.Type() != m.schema.ModelType {
		return false
	}
	for _, c := range m.columns {
		img := c.field.ReflectValueOf(context.Background(), v).Interface().(field.Image)
		if !img.IsEmpty() {
			return true
		}
	}
	return false
}
