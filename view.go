package thumbnails

import (
	"reflect"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// A query may load rows of its model into another struct:
//
//	db.Model(&Food{}).Find(&views) // views []FoodView
//
// gorm then scans each column into the field of the same name in the
// destination. The destination's field.Image fields that match an image
// column of the model are bound to that column (its sizes, folder and
// metadata), and its field.Focus field of the column's focus name, if any,
// gives their focal point.

// viewCache holds the view of each model in each destination type.
type viewCache struct {
	schemas sync.Map // the cache of schema.Parse for destination types
	views   sync.Map // viewKey -> *model, nil when the type holds no column
}

type viewKey struct {
	m *model
	t reflect.Type
}

// rowType returns the struct type of the rows v holds (v itself, or the
// elements of a slice or array, through pointers), or nil.
func rowType(v reflect.Value) reflect.Type {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// rowsOf returns the model to bind the rows a query on db loaded: m when
// they are m's own type, the view of m in their type when they are another
// struct (nil when it holds none of m's image columns).
func (p *plugin) rowsOf(db *gorm.DB, m *model) *model {
	t := rowType(db.Statement.ReflectValue)
	if t == nil || t == m.schema.ModelType {
		return m
	}
	key := viewKey{m: m, t: t}
	if v, ok := p.views.views.Load(key); ok {
		return v.(*model)
	}
	v := p.view(db, m, t)
	p.views.views.Store(key, v)
	return v
}

// view returns the columns of m found in the struct type t, by column
// name, each reading its image (and focus) from t's fields; nil when t
// has none of them or gorm cannot parse t.
func (p *plugin) view(db *gorm.DB, m *model, t reflect.Type) *model {
	s, err := schema.Parse(reflect.New(t).Interface(), &p.views.schemas, db.NamingStrategy)
	if err != nil {
		return nil
	}
	var cols []*column
	for _, c := range m.columns {
		f := s.LookUpField(c.name)
		if f == nil || f.FieldType != imageType || f.DBName == "" {
			continue
		}
		v := *c // the same sizes, folder and binder
		v.field, v.focus = f, nil
		if c.focus != nil {
			if ff := s.LookUpField(c.focus.DBName); ff != nil && ff.FieldType == focusType {
				v.focus = ff
			}
		}
		cols = append(cols, &v)
	}
	if len(cols) == 0 {
		return nil
	}
	return &model{schema: s, columns: cols}
}
