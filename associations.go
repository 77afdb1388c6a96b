package thumbnails

import (
	"bytes"
	"context"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// keyPrestored holds the uploads ([]*stored) of associated rows that a
// statement stored before its transaction began.
const keyPrestored = "thumbnails:prestored"

// maxAssociationDepth bounds how deep storeAssociations follows
// associations of associations.
const maxAssociationDepth = 4

// storeAssociations stores, before gorm begins the statement's transaction,
// the uploads of the associated rows that gorm saves with the rows of v
// (Create(&menu) with Courses that have images): gorm saves them in
// statements of their own, inside that transaction and after the parent
// row is written, which would then hold its locks while the images are
// resized. Those statements take the uploads stored here (takePrestored)
// and record them as their own. An association that the statement's
// Select or Omit names a column of ("Courses.Name") is left to its own
// statement, as are associations of embedded structs.
func (p *plugin) storeAssociations(db *gorm.DB, s *schema.Schema, v reflect.Value, selected map[string]bool, restricted bool) ([]*stored, error) {
	ctx := db.Statement.Context
	var out []*stored
	visited := map[uintptr]bool{}
	var walk func(s *schema.Schema, row reflect.Value, selected map[string]bool, restricted bool, depth int) error
	walk = func(s *schema.Schema, row reflect.Value, selected map[string]bool, restricted bool, depth int) error {
		for _, rel := range s.Relationships.Relations {
			if !ownRelation(s, rel) || !selects(selected, restricted, rel.Name) || namesColumnsOf(selected, rel.Name) || !p.reachesImages(rel.FieldSchema) {
				continue
			}
			cm, err := p.model(rel.FieldSchema)
			if err != nil {
				return err
			}
			var failed error
			eachRow(rel.Field.ReflectValueOf(ctx, row), rel.FieldSchema.ModelType, func(child reflect.Value) {
				if failed != nil || !child.CanAddr() || visited[child.Addr().Pointer()] {
					return
				}
				visited[child.Addr().Pointer()] = true
				if cm != nil {
					for _, col := range cm.columns {
						img := col.image(child)
						if img == nil || bridge.Pending(img) == nil {
							continue // an Image shared by two rows is stored once
						}
						// What the Image was, and its upload's bytes: one
						// that no statement takes is given back its upload.
						data, err := p.readPending(col, img)
						if err != nil {
							failed = err
							return
						}
						prev := *img
						focus := col.focusOf(child)
						bridge.SetFocus(img, focus)
						st, err := p.storeBytes(ctx, col, img, focus, data)
						if err != nil {
							failed = err
							return
						}
						p.prestored.Store(st.source, &prestore{st: st, prev: prev, data: data})
						out = append(out, st)
					}
				}
				if depth < maxAssociationDepth {
					failed = walk(rel.FieldSchema, child, nil, false, depth+1)
				}
			})
			if failed != nil {
				return failed
			}
		}
		return nil
	}
	var err error
	eachRow(v, s.ModelType, func(row reflect.Value) {
		if err == nil {
			err = walk(s, row, selected, restricted, 0)
		}
	})
	return out, err
}

// prestoreAssociations is storeAssociations for the rows of the statement
// on db, in its first callback, unless it runs in a transaction already
// (an association's own statement, or the caller's transaction): it notes
// what it stored, which finish gives back (givePrestoredBack) if no
// statement takes it, and adds its error to the statement.
func (p *plugin) prestoreAssociations(db *gorm.DB, selected map[string]bool, restricted bool) {
	s := db.Statement.Schema
	if s == nil || len(s.Relationships.Relations) == 0 || db.Error != nil || inAnyTx(db) || !p.reachesImages(s) {
		return
	}
	// gorm saves the associations of the rows it writes, but those of the
	// Model when the statement's values are other ones (Model(&m).Updates(v)).
	rows := db.Statement.Dest
	if m := db.Statement.Model; m != nil && !samePointer(m, rows) {
		rows = m
	}
	pre, err := p.storeAssociations(db, s, reflect.ValueOf(rows), selected, restricted)
	if len(pre) > 0 {
		db.InstanceSet(keyPrestored, pre)
	}
	if err != nil {
		_ = db.AddError(err)
	}
}

// namesColumnsOf reports whether a statement's Select or Omit names a
// column of the association rel ("Courses.Name"), which gorm passes on to
// the association's statement.
func namesColumnsOf(selected map[string]bool, rel string) bool {
	for name := range selected {
		if strings.HasPrefix(name, rel+".") {
			return true
		}
	}
	return false
}

// ownRelation reports whether rel is an association of s's own: gorm also
// lists in a has-one's or has-many's target schema the relation that leads
// back to it ("_Menu_Courses"), whose field is the owner's.
func ownRelation(s *schema.Schema, rel *schema.Relationship) bool {
	return rel.Field != nil && rel.Field.Schema == s && rel.FieldSchema != nil
}

// takePrestored returns the upload that img, which holds no upload of its
// own, names when the statement saving its row's parent stored it (see
// storeAssociations), and removes it: the statement that takes it records
// it as its own, for img. It goes by name (new and random): gorm may save
// a copy of the Image that was stored (a hook of the parent's moved the
// rows), and an Image that a hook changed since names another.
func (p *plugin) takePrestored(img *field.Image) *stored {
	if bridge.Pending(img) != nil || img.Name() == "" {
		return nil
	}
	if v, ok := p.prestored.LoadAndDelete(img.Name()); ok {
		st := v.(*prestore).st
		st.img = img
		return st
	}
	return nil
}

// prestore is an upload of an associated row stored by storeAssociations,
// with what its Image was before, and the upload's bytes.
type prestore struct {
	st   *stored
	prev field.Image
	data []byte
}

// givePrestoredBack deletes the files of what of list no statement took
// (associated rows that gorm did not save after all: the parent's
// statement failed first), and gives their Images back their uploads, as
// they were: saving the rows again stores them.
func (p *plugin) givePrestoredBack(ctx context.Context, list []*stored) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	for _, st := range list {
		v, ok := p.prestored.LoadAndDelete(st.source)
		if !ok {
			continue // taken
		}
		pre := v.(*prestore)
		p.deleteFiles(ctx, st.files)
		if st.img.Name() == st.source && bridge.Pending(st.img) == nil {
			// as it was stored: nothing (a hook) changed it since
			*st.img = pre.prev
			bridge.Pending(st.img).Reader = bytes.NewReader(pre.data)
		}
	}
}

// reachesImages reports whether s, or a model its associations lead to
// (within maxAssociationDepth), has an image column; it remembers the
// answer for each schema it is asked about.
func (p *plugin) reachesImages(s *schema.Schema) bool {
	if v, ok := p.reach.Load(s); ok {
		return v.(bool)
	}
	var reach func(s *schema.Schema, depth int, seen map[*schema.Schema]bool) bool
	reach = func(s *schema.Schema, depth int, seen map[*schema.Schema]bool) bool {
		if m, _ := p.model(s); m != nil {
			return true
		}
		seen[s] = true
		if depth >= maxAssociationDepth {
			return false
		}
		for _, rel := range s.Relationships.Relations {
			if ownRelation(s, rel) && !seen[rel.FieldSchema] && reach(rel.FieldSchema, depth+1, seen) {
				return true
			}
		}
		return false
	}
	r := reach(s, 0, map[*schema.Schema]bool{})
	p.reach.Store(s, r)
	return r
}
