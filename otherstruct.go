package thumbnails

import (
	"reflect"

	"gorm.io/gorm"
)

// Updates accepts a struct of another type than the model
// (db.Model(&food).Updates(FoodPatch{...})): gorm maps its fields onto the
// model's columns by name, writes those it maps, and copies their values
// into the model (callbacks.ConvertToAssignments). The plugin reads what
// such a struct writes into the image columns as the map of an
// Updates(map[string]any{...}) would hold it, and handles it as that map:
// an upload is stored, a name is a copy, the replaced name is released.

// updateMap returns the values of the update on db as a map: the map
// given to Updates, or, for a struct of another type than the model, what
// it writes into m's image columns (see otherStructValues); a create
// takes only a map. ok is false for rows of the model.
func (m *model) updateMap(db *gorm.DB, create bool) (dest map[string]any, ok bool) {
	if dest, ok := db.Statement.Dest.(map[string]any); ok {
		return dest, true
	}
	if create {
		return nil, false
	}
	return m.otherStructValues(db)
}

// otherStructValues returns, when the update on db writes a struct of
// another type than the model, what it writes into m's image columns and
// their focus columns, keyed by column name, as a map given to Updates
// holds them: each field that gorm maps onto such a column (the other
// struct's field of that database name, or else of that Go name) and
// writes, following gorm's rules: one that is updatable in both structs,
// and non-zero or named by the statement's Select, unless an Omit leaves
// it out. A field.Image field is given by address, so that its upload is
// stored in place, where gorm reads it (storeValues makes a struct passed
// by value addressable first); any other value as it is (a string, a
// *field.Image). ok is false when the values are not such a struct.
func (m *model) otherStructValues(db *gorm.DB) (map[string]any, bool) {
	stmt := db.Statement
	v := reflect.ValueOf(stmt.Dest)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type() == m.schema.ModelType {
		return nil, false
	}
	// gorm's own parse of the struct, which it maps by (and which fails
	// for the same structs: it then updates nothing from it).
	parsed := &gorm.Statement{DB: stmt.DB}
	if err := parsed.Parse(stmt.Dest); err != nil {
		return nil, false
	}
	other := parsed.Schema
	selected, restricted := stmt.SelectAndOmitColumns(false, true)
	out := map[string]any{}
	add := func(name string) {
		f := other.LookUpField(name)
		if f == nil || !f.Updatable {
			return
		}
		sel, named := selected[f.DBName]
		if named && !sel || !named && restricted {
			return
		}
		value, isZero := f.ValueOf(stmt.Context, v)
		if !named && isZero {
			return // Updates(struct) skips zero values
		}
		if fv := f.ReflectValueOf(stmt.Context, v); fv.Type() == imageType && fv.CanAddr() {
			value = fv.Addr().Interface()
		}
		out[name] = value
	}
	for _, col := range m.columns {
		add(col.name)
		if col.focus != nil {
			add(col.focus.DBName)
		}
	}
	return out, true
}

// addressableOtherStruct makes the values of the update on db, a struct of
// another type than the model passed by value (Model(&row).Updates(
// FoodPatch{...})), a pointer to a copy, as gorm's SetColumn does: its
// uploads are stored in place, and gorm writes from the copy.
func (m *model) addressableOtherStruct(db *gorm.DB) {
	v := reflect.ValueOf(db.Statement.Dest)
	if v.Kind() != reflect.Struct || v.Type() == m.schema.ModelType {
		return
	}
	ptr := reflect.New(v.Type())
	ptr.Elem().Set(v)
	db.Statement.Dest = ptr.Interface()
}
