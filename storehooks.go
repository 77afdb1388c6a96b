package thumbnails

import (
	"reflect"

	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// seenValues is what storeUploads saw in a statement's values once it had
// stored their uploads: the name of each row's image, by its address, and
// of each key of a map given to Updates.
type seenValues struct {
	images map[*field.Image]string
	keys   map[string]string
}

// beforeHooks reports whether gorm runs Before hooks (BeforeSave, and
// BeforeCreate or BeforeUpdate) of the statement's model, which may set
// an image after storeUploads ran.
func beforeHooks(db *gorm.DB) bool {
	s := db.Statement.Schema
	if s == nil || db.Statement.SkipHooks {
		return false
	}
	return s.BeforeSave || s.BeforeCreate || s.BeforeUpdate
}

// storeHooked stores the uploads that the model's Before hooks set (a
// default avatar in BeforeCreate, tx.Statement.SetColumn in BeforeUpdate),
// and notes the names they copied, after those hooks ran and before the
// statement writes. Without it such an upload would fail the save with
// field.ErrNotStored. It runs in the statement's transaction; the first
// pass (storeUploads) stored everything else before it began.
func (p *plugin) storeHooked(db *gorm.DB, create bool) {
	v, _ := db.InstanceGet(keySeen)
	seen, _ := v.(*seenValues)
	if seen == nil || db.Error != nil || db.DryRun {
		return
	}
	m := p.modelOf(db)
	if m == nil {
		return
	}
	db.InstanceSet(keySeen, (*seenValues)(nil)) // a reused statement sees anew
	p.storeValues(db, m, seen, create)
}

// seenIn returns what the statement's values hold in m's image columns: a
// map given to Updates, or a struct of another type than the model, by
// key (see updateMap); rows of the model by Image.
func seenIn(db *gorm.DB, m *model, create bool) *seenValues {
	s := &seenValues{images: map[*field.Image]string{}}
	if dest, ok := m.updateMap(db, create); ok {
		s.keys = map[string]string{}
		for key, v := range dest {
			if name, ok := mapName(v); ok {
				s.keys[key] = name
			}
		}
		return s
	}
	eachRow(reflect.ValueOf(db.Statement.Dest), m.schema.ModelType, func(row reflect.Value) {
		for _, col := range m.columns {
			if img := col.image(row); img != nil {
				s.images[img] = img.Name()
			}
		}
	})
	return s
}

// names returns the set of names that s holds.
func (s *seenValues) names() map[string]bool {
	held := make(map[string]bool, len(s.images)+len(s.keys))
	for _, name := range s.images {
		held[name] = true
	}
	for _, name := range s.keys {
		held[name] = true
	}
	return held
}

// mapName returns the name a map value given to Updates writes into an
// image column, and false for a value that is not an image or name, or an
// upload not yet stored.
func mapName(v any) (string, bool) {
	switch x := v.(type) {
	case field.Image:
		return x.Name(), bridge.Pending(&x) == nil
	case *field.Image:
		if x == nil {
			return "", false
		}
		return x.Name(), bridge.Pending(x) == nil
	case string:
		return x, true
	case *string:
		if x == nil {
			return "", false
		}
		return *x, true
	}
	return "", false
}

// sawImage reports whether s (nil in the first pass) saw img holding what
// it holds now, with no upload pending.
func (s *seenValues) sawImage(img *field.Image) bool {
	if s == nil || bridge.Pending(img) != nil {
		return false
	}
	name, ok := s.images[img]
	return ok && name == img.Name()
}

// sawKey reports whether s (nil in the first pass) saw the map's key
// holding v's name, with no upload pending.
func (s *seenValues) sawKey(key string, v any) bool {
	if s == nil {
		return false
	}
	name, ok := mapName(v)
	was, seen := s.keys[key]
	return ok && seen && was == name
}

// keepStillWritten returns the uploads the first pass stored that the
// statement's values still hold after the Before hooks ran, and deletes
// the others' files (and records, where they are not in the
// transaction): a hook that set another image left them to nothing. A
// row's field, or a map's key, now holds what the hook set, and is left
// alone; an Image given by pointer in a map is marked discarded. now is
// what the values hold after the hooks (seenIn).
func (p *plugin) keepStillWritten(db *gorm.DB, now *seenValues) []*stored {
	all := storedOf(db)
	if len(all) == 0 {
		return nil
	}
	held := now.names()
	var kept, dropped []*stored
	for _, st := range all {
		if held[st.source] {
			kept = append(kept, st)
			continue
		}
		gone := *st
		gone.mapDest = nil // the map's key holds what the hook set
		if _, inRow := now.images[st.img]; inRow {
			gone.img = nil // so does the row's field
		}
		dropped = append(dropped, &gone)
	}
	p.discard(db.Statement.Context, dropped)
	return kept
}
