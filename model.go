package thumbnails

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"path"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/bridge"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// tagName is the struct tag read on field.Image columns.
const tagName = "thumbnails"

var imageType = reflect.TypeOf(field.Image{})

// column is one field.Image column of a model, with its parsed tag.
type column struct {
	field  *schema.Field // nil for a column named by a Table rather than a model
	name   string        // the column's name in the database
	table  string
	sizes  []sizes.Size  // the column's sizes, ordered by name
	dir    string        // storage folder of sources
	focus  *schema.Field // the field.Focus field named by the tag, or nil
	binder *binder
	id     uint32 // the column's number in the process, from 1 (see bridge.Owner)
}

// columnIDs numbers the columns of the models the plugins parse.
var columnIDs atomic.Uint32

// keySeed hashes the primary keys of owners that are not one integer.
var keySeed = maphash.MakeSeed()

// owner returns the row of c's model in row, and c, as the owner of the
// Image bound there: the row's primary key when every column of it is set
// (as gorm's Save requires to update rather than insert; see keyValue),
// one integer as it is and anything else (a string, a UUID, several
// columns) as the hash of its values; the zero Owner otherwise, which makes its Image count as
// changed when saved. ref is the statement's tableKey: a row of another
// table than the model's (db.Table) is another row, whose table the Owner
// names (see originIDs).
func (c *column) owner(ctx context.Context, row reflect.Value, ref tableRef) bridge.Owner {
	table, origin := ref.key, c.origin(ref)
	if c.id == 0 || c.field == nil || c.field.Schema == nil || len(c.field.Schema.PrimaryFields) == 0 {
		return bridge.Owner{}
	}
	pks := c.field.Schema.PrimaryFields
	if len(pks) == 1 {
		pk, set := keyValue(ctx, pks[0], row)
		if !set {
			return bridge.Owner{}
		}
		switch pk.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return bridge.Owner{Column: c.id, Key: uint64(pk.Int()) ^ table, Table: origin}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return bridge.Owner{Column: c.id, Key: pk.Uint() ^ table, Table: origin}
		}
	}
	var h maphash.Hash
	h.SetSeed(keySeed)
	for _, f := range pks {
		v, set := keyValue(ctx, f, row)
		if !set || !hashKey(&h, v, true) {
			return bridge.Owner{}
		}
	}
	// A row of another table: its key mixed with the table's hash, which
	// no small integer key reaches, and a hashed key only by a 64-bit
	// collision.
	return bridge.Owner{Column: c.id, Key: h.Sum64() ^ table, Table: origin}
}

// origin returns the Owner.Table of c's rows in ref: 0 in the model's own
// table.
func (c *column) origin(ref tableRef) uint32 {
	if ref.name == "" {
		return 0
	}
	return originID(tableColumn{ref.name, c.name})
}

// keyValue returns the value of the primary key column f in row, and
// whether it is set as gorm judges it: a value that is not its type's zero,
// or a pointer that is not nil (a pointer to 0 is a key of 0, which gorm's
// Save updates by).
func keyValue(ctx context.Context, f *schema.Field, row reflect.Value) (reflect.Value, bool) {
	v := f.ReflectValueOf(ctx, row)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return v, false
		}
		return v.Elem(), true
	}
	return v, v.IsValid() && !v.IsZero()
}

// hashKey writes the value v of one primary key column to h, each kind
// with its own tag and each string with its length, so that ("ab", "c")
// and ("a", "bc") differ. A value of another kind is written as what its
// driver.Valuer gives, when valuer is true. It reports false for a value
// it cannot write.
func hashKey(h *maphash.Hash, v reflect.Value, valuer bool) bool {
	var buf [9]byte
	number := func(tag byte, n uint64) {
		buf[0] = tag
		binary.LittleEndian.PutUint64(buf[1:], n)
		h.Write(buf[:])
	}
	bytes := func(tag byte, b []byte) {
		number(tag, uint64(len(b)))
		h.Write(b)
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		number('i', uint64(v.Int()))
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		number('u', v.Uint())
		return true
	case reflect.Bool:
		n := uint64(0)
		if v.Bool() {
			n = 1
		}
		number('b', n)
		return true
	case reflect.Float32, reflect.Float64:
		number('f', math.Float64bits(v.Float()))
		return true
	case reflect.String:
		number('s', uint64(v.Len()))
		h.WriteString(v.String())
		return true
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			bytes('x', v.Bytes())
			return true
		}
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 { // a UUID
			number('x', uint64(v.Len()))
			for i := range v.Len() {
				h.WriteByte(byte(v.Index(i).Uint()))
			}
			return true
		}
	}
	if !v.CanInterface() {
		return false
	}
	if t, ok := v.Interface().(time.Time); ok {
		number('t', uint64(t.Unix()))
		number('n', uint64(t.Nanosecond()))
		return true
	}
	if !valuer {
		return false
	}
	vr, ok := v.Interface().(driver.Valuer)
	if !ok && v.CanAddr() {
		vr, ok = v.Addr().Interface().(driver.Valuer)
	}
	if !ok {
		return false
	}
	dv, err := vr.Value()
	if err != nil || dv == nil {
		return false
	}
	return hashKey(h, reflect.ValueOf(dv), false)
}

// size returns the column's size called name (case-insensitive).
func (c *column) size(name string) (sizes.Size, bool) {
	name = strings.ToLower(name)
	for i := range c.sizes { // by index: a Size is a hundred bytes to copy
		if c.sizes[i].Name == name {
			return c.sizes[i], true
		}
	}
	return sizes.Size{}, false
}

// model is what the plugin knows of one gorm schema.
type model struct {
	schema  *schema.Schema
	columns []*column
}

// modelCache parses each schema once. A parse error is cached too, so every
// use of a badly tagged model fails the same way.
type modelCache struct {
	m sync.Map // *schema.Schema -> modelEntry
}

type modelEntry struct {
	model *model
	err   error
}

// model returns the thumbnails columns of s, or nil when it has none.
func (p *plugin) model(s *schema.Schema) (*model, error) {
	if v, ok := p.models.m.Load(s); ok {
		e := v.(modelEntry)
		return e.model, e.err
	}
	m, err := p.parseModel(s)
	v, _ := p.models.m.LoadOrStore(s, modelEntry{model: m, err: err})
	e := v.(modelEntry)
	return e.model, e.err
}

func (p *plugin) parseModel(s *schema.Schema) (*model, error) {
	var cols []*column
	for _, f := range s.Fields {
		if f.FieldType == reflect.PointerTo(imageType) && f.DBName != "" {
			return nil, fmt.Errorf("%w: model %s column %s: a *field.Image; use a field.Image (an empty one is no image)", ErrInvalidConfig, s.Name, f.DBName)
		}
		if f.FieldType != imageType || f.DBName == "" {
			continue
		}
		c, err := p.parseColumn(s, f)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, nil
	}
	return &model{schema: s, columns: cols}, nil
}

// checkDir refuses a folder of sources inside BaseDir: the handler serves
// what is there as thumbnails, without HandlerOptions.Sources, and sources
// keep their EXIF.
func (p *plugin) checkDir(dir string) error {
	if err := hiddenFolder(dir); err != nil {
		return err
	}
	if d := path.Clean(dir); d == p.cfg.BaseDir || strings.HasPrefix(d, p.cfg.BaseDir+"/") {
		return fmt.Errorf("the folder of sources %q is inside BaseDir %q, the folder of thumbnails", dir, p.cfg.BaseDir)
	}
	return nil
}

// hiddenFolder refuses a folder with a segment that starts with ".": the
// Handler serves no such file (it hides the file storage's writes in
// progress, ".tmp-..."), so its thumbnails and signed URLs would all be
// 404.
func hiddenFolder(dir string) error {
	for _, seg := range strings.Split(dir, "/") {
		if strings.HasPrefix(seg, ".") {
			return fmt.Errorf("the folder %q has a segment %q that starts with \".\", which the Handler does not serve", dir, seg)
		}
	}
	return nil
}

func (p *plugin) parseColumn(s *schema.Schema, f *schema.Field) (*column, error) {
	where := fmt.Sprintf("model %s column %s", s.Name, f.DBName)
	if f.Name != f.DBName { // the Go field's name too, as the model spells it
		where += " (field " + f.Name + ")"
	}
	t, err := parseTag(f.Tag.Get(tagName))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, where, err)
	}
	c := &column{field: f, name: f.DBName, table: s.Table, dir: s.Table, id: columnIDs.Add(1)}
	if t.dir != "" {
		c.dir = t.dir
	}
	if err := p.checkDir(c.dir); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, where, err)
	}
	if t.focus != "" {
		c.focus = s.LookUpField(t.focus)
		if c.focus == nil || c.focus.FieldType != focusType || c.focus.DBName == "" {
			return nil, fmt.Errorf("%w: %s: focus: %q is not a field.Focus column of the model", ErrInvalidConfig, where, t.focus)
		}
	}
	names := t.sizes
	if names == nil {
		names = p.cfg.Sizes.Names()
	}
	seen := map[string]bool{}
	for _, n := range names {
		sz, ok := p.cfg.Sizes.Get(n)
		if !ok {
			return nil, fmt.Errorf("%w: %s: size %q is not configured", ErrUnknownSize, where, n)
		}
		if !seen[sz.Name] {
			seen[sz.Name] = true
			c.sizes = append(c.sizes, sz)
		}
	}
	c.binder = &binder{p: p, col: c}
	return c, nil
}

// eachRow calls fn with every struct of the model's type held by v: v
// itself, or each element of a slice or array (through pointers).
func eachRow(v reflect.Value, t reflect.Type, fn func(row reflect.Value)) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == t {
			fn(v)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			eachRow(v.Index(i), t, fn)
		}
	}
}

// image returns the field.Image of column c in row, or nil when row is not
// addressable.
func (c *column) image(row reflect.Value) *field.Image {
	fv := c.field.ReflectValueOf(context.Background(), row)
	if !fv.CanAddr() {
		return nil
	}
	return fv.Addr().Interface().(*field.Image)
}
