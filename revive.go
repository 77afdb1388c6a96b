package thumbnails

import (
	"fmt"
	"reflect"
	"slices"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// A row loaded, deleted since, and saved or created again brings its own
// image back into a row, though the delete's clean-up may have deleted the
// file: an insert's own unchanged images are guarded as copies are (see
// guard.go), and refused when a clean-up of this process deleted them.

// ownImage is a row's own unchanged image (see ownUnchanged) in the
// values of an insert.
type ownImage struct {
	col *column
	img *field.Image
	key bridge.Owner
	// inserted: the insert writes the column, and a row it inserts
	// holds the image (an ON CONFLICT's DO UPDATE may assign a column the
	// insert leaves out).
	inserted bool
}

// ownImages returns the own unchanged images, not empty, of the rows of
// the insert on db in the columns it writes and in those assigned names
// (what its ON CONFLICT's DO UPDATE assigns; nil for none).
func ownImages(db *gorm.DB, m *model, assigned map[string]bool) []ownImage {
	stmt := db.Statement
	tk := tableKey(db, m)
	selected, restricted := stmt.SelectAndOmitColumns(true, false)
	var owns []ownImage
	eachRow(stmt.ReflectValue, m.schema.ModelType, func(row reflect.Value) {
		for _, col := range m.columns {
			inserted := selects(selected, restricted, col.name)
			if !inserted && !assigned[col.name] {
				continue
			}
			if img := col.image(row); img != nil && img.Name() != "" && ownUnchanged(stmt.Context, col, img, row, tk) {
				owns = append(owns, ownImage{col, img, col.owner(stmt.Context, row, tk), inserted})
			}
		}
	})
	return owns
}

// keepCurrentImages protects, in an upsert (Save of a slice, or Save's
// insert after an update that matched no row: a soft-deleted row, a Where
// that no longer holds), the rows whose image is their own unchanged one:
// loaded before another statement replaced it, they would write back the
// old name, whose files that replace deleted. Each such image takes the
// name its row holds now, so the upsert writes that back instead and
// releases nothing. A row that no longer exists is inserted with its
// image, which its delete's clean-up may have deleted: the image is
// guarded as a copy is (see guardRevived). A plain insert calls it too,
// with no assigned columns (see guardOwnInserts).
//
// The rows are read only for those images in columns the conflict
// assigns, or when a clean-up of this process deleted one of the others:
// a column the insert writes and the conflict leaves alone (gorm saves a
// loaded row's associations with ON CONFLICT DO UPDATE SET of their
// foreign key, or DO NOTHING) keeps what an existing row holds, and only
// a row that no longer exists writes it, whose image no clean-up of this
// process deleted then. Saving a loaded row whose images did not change
// reads no row for them, but takes their locks as a copy's (see
// guardNames), so that a clean-up still deleting one is waited for and
// seen; they are checked once written too (see refuseDeletedCopies).
func (p *plugin) keepCurrentImages(db *gorm.DB, m *model, assigned map[string]bool) error {
	stmt := db.Statement
	tk := tableKey(db, m)
	owns := ownImages(db, m, assigned)
	if len(owns) == 0 {
		return nil
	}
	if !p.mustReadOwners(owns, assigned) {
		var names []string
		for _, o := range owns {
			names = append(names, o.img.Name())
		}
		// The log does not prove them stored: a clean-up still deleting
		// one logs it when done. Its lock is waited for.
		return p.guardRevived(db, names)
	}
	// An image is its row's own by the row's primary key: the current
	// names are read by it, whatever the conflict's columns.
	conds := primaryKeyConds(stmt, stmt.ReflectValue)
	if len(conds) == 0 {
		return nil
	}
	names := slices.Clone(m.schema.PrimaryFieldDBNames)
	for _, col := range m.columns {
		names = append(names, col.name)
	}
	q := lockedRows(db, m, conds, true).Select(names)
	rows, err := q.Rows()
	if err != nil {
		return fmt.Errorf("thumbnails: read the images of the rows an upsert writes: %w", err)
	}
	defer rows.Close()
	current := map[bridge.Owner]string{}
	for rows.Next() {
		now := reflect.New(m.schema.ModelType)
		if err := q.ScanRows(rows, now.Interface()); err != nil {
			return fmt.Errorf("thumbnails: read the images of the rows an upsert writes: %w", err)
		}
		for _, col := range m.columns {
			if img := col.image(now.Elem()); img != nil {
				current[col.owner(stmt.Context, now.Elem(), tk)] = img.Name()
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("thumbnails: read the images of the rows an upsert writes: %w", err)
	}
	_ = rows.Close() // read to the end: its connection is free for guardRevived's
	var revived []string
	for _, o := range owns {
		name, found := current[o.key]
		if !found {
			if o.inserted {
				revived = append(revived, o.img.Name())
			}
			continue
		}
		if !assigned[o.col.name] || name == o.img.Name() {
			continue
		}
		if err := setName(o.img, name); err != nil {
			return err
		}
	}
	return p.guardRevived(db, revived)
}

// mustReadOwners reports whether keepCurrentImages reads the rows of owns,
// the own unchanged images an upsert writes: when one is in a column the
// conflict assigns (assigned), or a clean-up of this process deleted one
// of the others (see keepCurrentImages).
func (p *plugin) mustReadOwners(owns []ownImage, assigned map[string]bool) bool {
	var inserted []string
	for _, o := range owns {
		if assigned[o.col.name] {
			return true
		}
		inserted = append(inserted, o.img.Name())
	}
	return len(p.deleted.ever(inserted)) > 0
}

// guardOwnInserts guards the own unchanged images that an insert without
// ON CONFLICT on db writes back: a row it inserts holding one was loaded
// and no longer exists (else the insert fails on its key), and brings the
// image back, which its delete's clean-up may have deleted. They are
// guarded as an upsert's (see keepCurrentImages, which reads the rows only
// when a clean-up of this process deleted one of them); an insert with ON
// CONFLICT may update the row instead, and captureUpsert guards its rows.
// A clean-up that another process ran is not seen, as for a copy.
func (p *plugin) guardOwnInserts(db *gorm.DB, m *model) error {
	if _, upsert := db.Statement.Clauses["ON CONFLICT"]; upsert {
		return nil
	}
	return p.keepCurrentImages(db, m, nil)
}

// noteRevived adds revived, the own images an insert writes back into rows
// that no longer exist, to the names the statement on db copies, which
// refuseDeletedCopies checks once written, and returns them all.
func noteRevived(db *gorm.DB, revived []string) []string {
	v, _ := db.InstanceGet(keyCopies)
	copies, _ := v.([]string)
	copies = append(slices.Clip(copies), revived...)
	db.InstanceSet(keyCopies, copies)
	return copies
}

// guardRevived guards as copies (see guardNames) the names of the own
// unchanged images that an insert writes back into rows that no longer
// exist, or may not (see keepCurrentImages), revived, and has
// refuseDeletedCopies check them once written: a row loaded, deleted since
// (its clean-up may have deleted its image), and saved or created again.
// The row's image is not known to be stored any more than a copy's is. One
// that a clean-up of this process deleted fails the statement at once,
// before it writes (see refuseRevived).
func (p *plugin) guardRevived(db *gorm.DB, revived []string) error {
	if len(revived) == 0 {
		return nil
	}
	if err := p.refuseRevived(revived); err != nil {
		return err
	}
	noteRevived(db, revived)
	return p.guardNames(db, revived)
}

// refuseRevived returns an error wrapping backends.ErrNotFound when a
// clean-up of this process deleted one of revived, the own images that an
// insert writes back into rows that no longer exist (see guardRevived and
// guardOwnInserts): the statement fails before it writes, so that nothing
// is written with or without a transaction. refuseDeletedCopies refuses
// the same, once written, in the statement's transaction; this check,
// made before, needs none to roll back.
func (p *plugin) refuseRevived(revived []string) error {
	if len(revived) == 0 {
		return nil
	}
	if gone := p.deleted.ever(revived); len(gone) > 0 {
		return deletedSource(gone[0], roleRevived)
	}
	return nil
}

// sourceRole says how the statement on db came to write name, which it did
// not upload, for the error that refuses it: as a row's own image that an
// insert writes back, or as a copy.
func (p *plugin) sourceRole(db *gorm.DB, name string) string {
	if db.Statement.Schema != nil {
		if m, err := p.model(db.Statement.Schema); m != nil && err == nil {
			for _, o := range ownImages(db, m, nil) {
				if o.inserted && o.img.Name() == name {
					return roleRevived
				}
			}
		}
	}
	return roleCopied
}

// The roles of a source a statement writes without uploading it (see
// sourceRole), as deletedSource names them.
const (
	roleRevived = "the image of a row deleted since it was read"
	roleCopied  = "copied from another row"
)

// deletedSource is the error that refuses a statement writing name, which a
// clean-up deleted, in its role (see sourceRole).
func deletedSource(name, role string) error {
	return fmt.Errorf("thumbnails: the source %q, %s, was deleted: %w", name, role, backends.ErrNotFound)
}
