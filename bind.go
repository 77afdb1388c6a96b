package thumbnails

import (
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
)

// Bind attaches the plugin to the images of dest, rows that were loaded
// without gorm's query callbacks: by Scan (db.Raw(...).Scan, or
// db.Model(&Food{}).Scan), by Rows and ScanRows, or decoded from a cache.
// Their Thumbnail and Thumbnails then answer as those of rows loaded by
// Find, First or Take, which are bound
// already (an unbound image answers field.ErrNotBound). dest is a pointer to
// a model, or a slice (or pointer to a slice) of models or of pointers to
// them. Bind makes no query; pass the transaction the rows were read in, if
// any, as db, and rows read from another table than the model's through
// db.Table(name) (an archive's rows are others than the model's with the
// same key: an image read there and saved into the model's table is a
// copy).
func Bind(db *gorm.DB, dest any) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(dest)
	if k := v.Kind(); k != reflect.Pointer && k != reflect.Slice || k == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("%w: Bind(%T): want a pointer to a model, or a slice of models", ErrInvalidConfig, dest)
	}
	m, err := p.modelFor(db, dest)
	if err != nil {
		return err
	}
	m.bind(db, v)
	return nil
}

// bindWritten binds the images of the rows a write wrote; those of the
// columns in wrote as what their rows now hold.
func (p *plugin) bindWritten(db *gorm.DB, wrote map[string]bool) {
	m := p.modelOf(db)
	if m == nil {
		return
	}
	m.bindEach(db, db.Statement.ReflectValue, nil, wrote)
	if !samePointer(db.Statement.Dest, db.Statement.Model) {
		m.bindEach(db, reflect.ValueOf(db.Statement.Dest), nil, wrote)
	}
}

// bindBeforeHooks binds the images of the rows a write wrote, once they
// and their metadata are written, before gorm's AfterCreate, AfterUpdate
// and AfterSave hooks, which may read their thumbnails. It does not yet
// take them for what their rows hold: a hook or the commit may still fail,
// and an image copied from another row must stay a copy for a retry (see
// guardCopies). finish does, once the write has committed. A write that
// wrote no row leaves its images to finish, which discards its uploads
// first.
func (p *plugin) bindBeforeHooks(db *gorm.DB) {
	if instanceFlag(db, keyUnreferenced) || db.Error != nil {
		return
	}
	p.bindWritten(db, map[string]bool{})
}

// bindQuery binds the images of the rows a query loaded, and preloads
// their thumbnails when the query used the Preload scope.
func (p *plugin) bindQuery(db *gorm.DB) {
	m, preload, err := p.queryColumns(db)
	if err != nil {
		_ = db.AddError(err)
	}
	if m == nil {
		return
	}
	images := m.bindEach(db, db.Statement.ReflectValue, preload, nil)
	images = append(images, p.bindJoined(db, m)...)
	p.preload(db, images)
}

// checkPreload fails a query whose Preload names a size that neither the
// model nor a model it joins has, before gorm runs it: nothing is read.
func (p *plugin) checkPreload(db *gorm.DB) {
	if req, own, ok := preloadRequestOf(db); !ok || !own || len(req.sizes) == 0 {
		return
	}
	if _, _, err := p.queryColumns(db); err != nil {
		_ = db.AddError(err)
	}
}

// queryColumns returns the model whose image columns the rows of the query
// on db hold (those of the models it joins when it has none of its own), and
// which of them the query preloads; a nil model when the rows hold none. The
// error wraps ErrUnknownSize when a Preload names a size no column has.
func (p *plugin) queryColumns(db *gorm.DB) (*model, []bool, error) {
	m := p.modelOf(db)
	if m == nil {
		if db.Error != nil || db.Statement.Schema == nil {
			return nil, nil, nil // a failed query, or one with no model
		}
		if len(db.Statement.Joins) == 0 {
			// A model without image columns, which has none of the sizes.
			if req, own, ok := preloadRequestOf(db); ok && own && len(req.sizes) > 0 {
				return nil, nil, fmt.Errorf("%w: Preload(%q): the model has no image column", ErrUnknownSize, strings.Join(req.sizes, ", "))
			}
			return nil, nil, nil
		}
		m = &model{schema: db.Statement.Schema} // no column of its own: those of the models it joins
	}
	model := m
	if m = p.rowsOf(db, m); m == nil {
		return nil, nil, nil // rows of another struct, without the model's image columns
	}
	// A size Preload names is unknown when no column of the model, nor of
	// a model the query joins, has it: rows of another struct may hold only
	// some of the model's columns.
	preload, err := m.preloadOf(db, func(sizes []string) bool { return p.joinedHave(db, model, sizes) })
	return m, preload, err
}

// bind attaches each column's binder to the images in v.
func (m *model) bind(db *gorm.DB, v reflect.Value) { m.bindEach(db, v, nil, nil) }

// writtenColumns returns the columns the write on db wrote in every row it
// wrote: those of its SET, or of its VALUES (those of its DO UPDATE when an
// ON CONFLICT may have left a row as it was: a row that conflicts keeps
// the columns it leaves out).
func writtenColumns(db *gorm.DB) map[string]bool {
	out := map[string]bool{}
	if c, ok := db.Statement.Clauses["SET"]; ok {
		if set, ok := c.Expression.(clause.Set); ok {
			for _, a := range set {
				out[a.Column.Name] = true
			}
		}
		return out
	}
	if updated, _, found := conflictUpdates(db.Statement); found {
		return updated
	}
	if c, ok := db.Statement.Clauses["VALUES"]; ok {
		if values, ok := c.Expression.(clause.Values); ok {
			for _, col := range values.Columns {
				out[col.Name] = true
			}
		}
	}
	return out
}

// bindEach attaches each column's binder to the images in v, saved or
// loaded by the statement on db, and returns the images that hold a source
// in the columns for which preload is true. wrote names the columns the
// statement wrote, whose images the rows now hold; nil: all of them (the
// rows were loaded).
func (m *model) bindEach(db *gorm.DB, v reflect.Value, preload []bool, wrote map[string]bool) []*field.Image {
	var images []*field.Image
	binders := m.binders(db)
	table := tableKey(db, m)
	eachRow(v, m.schema.ModelType, func(row reflect.Value) {
		images = m.bindRow(db, row, binders, table, preload, wrote, images)
	})
	return images
}

// binders returns the binder of each of m's columns for the statement on db.
func (m *model) binders(db *gorm.DB) []*binder {
	binders := make([]*binder, len(m.columns))
	for i, col := range m.columns {
		binders[i] = col.binderFor(db)
	}
	return binders
}

// bindRow binds the images of row, a value of m's type, as bindEach does,
// and appends to images those to preload.
func (m *model) bindRow(db *gorm.DB, row reflect.Value, binders []*binder, table tableRef, preload []bool, wrote map[string]bool, images []*field.Image) []*field.Image {
	for i, col := range m.columns {
		img := col.image(row)
		if img == nil {
			continue
		}
		bridge.Bind(img, binders[i], col.owner(db.Statement.Context, row, table), wrote == nil || wrote[col.name])
		bridge.SetFocus(img, col.focusOf(row))
		if preload != nil && preload[i] && img.Name() != "" {
			images = append(images, img)
		}
	}
	return images
}
