package thumbnails

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// Table names a table and one of its image columns for the functions of
// this package that take a model (Regenerate, DeleteSize, and Prune's
// Models), so that a program without the model's Go type (the thumbnails
// command) can use them. The column has every configured size, and its
// sources live under Dir.
type Table struct {
	Name       string // the table
	Column     string // the image column; a column argument, when given, takes precedence
	PrimaryKey string // its single-column primary key; "id" when empty
	Dir        string // the storage folder of its sources; the table name when empty (the operations store no upload: only checked)
	// Focus is the row's field.Focus column, which the sizes that crop
	// around a focal point (focal) crop around, as a model's "focus:" tag
	// names it; none when empty (they crop around their own point).
	Focus string
}

// target is one image column of a table, resolved from a model or a Table.
type target struct {
	table string
	pk    string
	col   *column
	// pkType is the Go type of a model's primary key field, which the
	// keys read are given (nil for a Table: as the driver reads them).
	pkType reflect.Type
}

// target resolves model (a model value such as &Food{}, or a Table) and the
// name of one of its image columns (the database or the Go field name; may
// be empty when the model has exactly one). A model's rows are those of its
// own table, or of the table db.Table names.
func (p *plugin) target(db *gorm.DB, model any, columnName string) (*target, error) {
	if t, ok := model.(Table); ok {
		if columnName == "" {
			columnName = t.Column
		}
		if t.Name == "" || columnName == "" {
			return nil, fmt.Errorf("%w: a Table needs a name and a column", ErrInvalidConfig)
		}
		pk := t.PrimaryKey
		if pk == "" {
			pk = "id"
		}
		dir := t.Dir
		if dir == "" {
			dir = t.Name
		}
		if err := p.checkDir(dir); err != nil {
			return nil, fmt.Errorf("%w: Table %s: %w", ErrInvalidConfig, t.Name, err)
		}
		col := &column{name: columnName, table: t.Name, dir: dir}
		if t.Focus != "" {
			col.focus = &schema.Field{Name: t.Focus, DBName: t.Focus, FieldType: focusType}
		}
		for _, n := range p.cfg.Sizes.Names() {
			col.sizes = append(col.sizes, p.cfg.Sizes[n])
		}
		col.binder = &binder{p: p, col: col}
		return &target{table: t.Name, pk: pk, col: col}, nil
	}
	m, err := p.modelFor(db, model)
	if err != nil {
		return nil, err
	}
	pk := m.schema.PrioritizedPrimaryField
	if pk == nil || len(m.schema.PrimaryFields) != 1 {
		return nil, fmt.Errorf("%w: model %s needs a single-column primary key", ErrInvalidConfig, m.schema.Name)
	}
	// The model's own table, or the one db.Table names.
	name, err := statementTable(db, m)
	if err != nil {
		return nil, err
	}
	for _, c := range m.columns {
		if columnName == "" && len(m.columns) == 1 || strings.EqualFold(c.name, columnName) || c.field.Name == columnName {
			return &target{table: name, pk: pk.DBName, col: c, pkType: pk.IndirectFieldType}, nil
		}
	}
	return nil, fmt.Errorf("%w: model %s has no image column %q", ErrInvalidConfig, m.schema.Name, columnName)
}

// modelFor returns the thumbnails model of a model value such as &Food{},
// which must have at least one field.Image column.
func (p *plugin) modelFor(db *gorm.DB, model any) (*model, error) {
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		return nil, fmt.Errorf("%w: model %T: %w", ErrInvalidConfig, model, err)
	}
	m, err := p.model(stmt.Schema)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%w: model %s has no field.Image column", ErrInvalidConfig, stmt.Schema.Name)
	}
	return m, nil
}

// row is a primary key, the source its image column holds, and the focal
// point it holds when the column has one; focusErr says why that column's
// value is no focal point (the row alone fails, if a size it makes crops
// around it).
type row struct {
	pk       any
	source   string
	focus    field.Focus
	focusErr error
}

// maxIDs is how many primary keys one query names: SQLite takes at most
// 32,766 variables in a statement, PostgreSQL 65,535.
const maxIDs = 10000

// batch reads up to n rows with a non-empty image, in primary key order,
// after the key after (when not nil), among ids (when not nil). Soft-deleted
// rows are included: their images are still stored.
func (tg *target) batch(ctx context.Context, db *gorm.DB, after any, ids []any, n int) ([]row, error) {
	if len(ids) > maxIDs {
		// The first n rows of each maxIDs keys hold the first n rows of
		// all, which the database then orders: the order stays the
		// database's, which a resume point (after) compares by.
		n = min(n, maxIDs/2)
		var first []any
		for chunk := range slices.Chunk(ids, maxIDs) {
			rows, err := tg.batch(ctx, db, after, chunk, n)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				first = append(first, r.pk)
			}
		}
		if len(first) == 0 {
			return nil, nil
		}
		return tg.batch(ctx, db, after, first, n)
	}
	// clause.Columns, which are quoted: Select of names on a bare table
	// writes them as they are, and a column named "group" or "Photo" then
	// fails.
	cols := []clause.Column{{Name: tg.pk}, {Name: tg.col.name}}
	if tg.col.focus != nil {
		cols = append(cols, clause.Column{Name: tg.col.focus.DBName})
	}
	q := table(db.Session(&gorm.Session{NewDB: true, Context: ctx}), tg.table).
		Clauses(clause.Select{Columns: cols}).
		Where(clause.Neq{Column: clause.Column{Name: tg.col.name}, Value: ""}).
		Order(clause.OrderByColumn{Column: clause.Column{Name: tg.pk}}).Limit(n)
	if after != nil {
		q = q.Where(clause.Gt{Column: clause.Column{Name: tg.pk}, Value: after})
	}
	if ids != nil {
		q = q.Where(clause.IN{Column: clause.Column{Name: tg.pk}, Values: ids})
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, tg.missing(ctx, db, fmt.Errorf("thumbnails: read %s.%s: %w", tg.table, tg.col.name, err), true)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		var src sql.NullString
		var focus any // read as it is: a value that is no focal point fails its row, not the batch
		dest := []any{&r.pk, &src}
		if tg.col.focus != nil {
			dest = append(dest, &focus)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if tg.col.focus != nil {
			if err := r.focus.Scan(focus); err != nil {
				r.focusErr = fmt.Errorf("thumbnails: focus column %s: %w", tg.col.focus.DBName, err)
			}
		}
		if b, ok := r.pk.([]byte); ok {
			r.pk = string(b)
		}
		r.pk = tg.typedKey(r.pk)
		if src.Valid && src.String != "" {
			r.source = src.String
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// typedKey returns pk, a primary key as the driver read it (an int64 of
// SQLite or PostgreSQL, a string), as a value of the model's key type (the
// uint of a gorm.Model's ID), so that Counts.Last and Progress.PrimaryKey
// compare equal to the rows' own keys; pk itself when the types do not
// convert as numbers or strings (a key type that scans itself).
func (tg *target) typedKey(pk any) any {
	v := reflect.ValueOf(pk)
	if tg.pkType == nil || !v.IsValid() || v.Type() == tg.pkType {
		return pk
	}
	number := func(k reflect.Kind) bool {
		return reflect.Int <= k && k <= reflect.Uint64 || k == reflect.Float32 || k == reflect.Float64
	}
	switch from, to := v.Kind(), tg.pkType.Kind(); {
	case number(from) && number(to):
		negative := reflect.Int <= from && from <= reflect.Int64 && v.Int() < 0
		unsigned := reflect.Uint <= to && to <= reflect.Uint64
		k := v.Convert(tg.pkType)
		if !(negative && unsigned) && k.Convert(v.Type()).Equal(v) { // in the type's range
			return k.Interface()
		}
	case from == reflect.String && to == reflect.String:
		return v.Convert(tg.pkType).Interface()
	}
	return pk
}

// holds reports whether the row whose primary key is pk holds source.
func (tg *target) holds(ctx context.Context, db *gorm.DB, pk any, source string) (bool, error) {
	var n int64
	err := table(db.Session(&gorm.Session{NewDB: true, Context: ctx}), tg.table).
		Where(clause.Eq{Column: clause.Column{Name: tg.pk}, Value: pk}).
		Where(clause.Eq{Column: clause.Column{Name: tg.col.name}, Value: source}).
		Count(&n).Error
	return n > 0, err
}

// focusOf reports whether the row whose primary key is pk still holds
// source, and the focal point it holds now (as p.held does for a job). A
// value that is no focal point reads as none.
func (tg *target) focusOf(ctx context.Context, db *gorm.DB, pk any, source string) (bool, field.Focus, error) {
	var values []any
	err := table(db.Session(&gorm.Session{NewDB: true, Context: ctx}), tg.table).
		Where(clause.Eq{Column: clause.Column{Name: tg.pk}, Value: pk}).
		Where(clause.Eq{Column: clause.Column{Name: tg.col.name}, Value: source}).
		Limit(1).Pluck(tg.col.focus.DBName, &values).Error
	if err != nil {
		return false, field.Focus{}, fmt.Errorf("thumbnails: read the row's focal point again: %w", err)
	}
	if len(values) == 0 {
		return false, field.Focus{}, nil
	}
	var f field.Focus
	_ = f.Scan(values[0])
	return true, f, nil
}

// count returns the number of rows batch would go through.
func (tg *target) count(ctx context.Context, db *gorm.DB, after any, ids []any) (int64, error) {
	if len(ids) > maxIDs {
		var total int64
		for chunk := range slices.Chunk(distinct(ids), maxIDs) {
			n, err := tg.count(ctx, db, after, chunk)
			if err != nil {
				return 0, err
			}
			total += n
		}
		return total, nil
	}
	q := table(db.Session(&gorm.Session{NewDB: true, Context: ctx}), tg.table).
		Where(clause.Neq{Column: clause.Column{Name: tg.col.name}, Value: ""})
	if after != nil {
		q = q.Where(clause.Gt{Column: clause.Column{Name: tg.pk}, Value: after})
	}
	if ids != nil {
		q = q.Where(clause.IN{Column: clause.Column{Name: tg.pk}, Values: ids})
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, tg.missing(ctx, db, err, true)
	}
	return n, nil
}

// missing returns err, a failed read of the target's rows, wrapped in
// ErrInvalidConfig when the database has no such table or column (the
// Table given, or the table db.Table names): the operation cannot work on
// it, and running it again will not help. key says whether the read used
// the primary key. Only a failure pays for the check.
func (tg *target) missing(ctx context.Context, db *gorm.DB, err error, key bool) error {
	if ctx.Err() != nil {
		return err
	}
	s := db.Session(&gorm.Session{NewDB: true, Context: ctx})
	// The check counts only when the database answers: one closed or out of
	// reach, or a transaction the failure aborted (PostgreSQL), fails it
	// too, and err is then what there is to say.
	var one int
	if s.Raw("SELECT 1").Scan(&one).Error != nil || one != 1 {
		return err
	}
	probe := func(cols ...clause.Column) error {
		q := table(s, tg.table).Where("1 = 0")
		if len(cols) > 0 {
			q = q.Clauses(clause.Select{Columns: cols})
		}
		rows, err := q.Rows()
		if err == nil {
			err = rows.Close()
		}
		return err
	}
	if probe() != nil {
		return fmt.Errorf("%w: no table %s: %w", ErrInvalidConfig, tg.table, err)
	}
	names := []string{tg.col.name}
	if key {
		names = append(names, tg.pk)
	}
	if tg.col.focus != nil {
		names = append(names, tg.col.focus.DBName)
	}
	for _, name := range names {
		if probe(clause.Column{Name: name}) != nil {
			return fmt.Errorf("%w: table %s has no column %s: %w", ErrInvalidConfig, tg.table, name, err)
		}
	}
	return err
}

// distinct returns ids without repeats, in their order, so that chunks of
// it count each row once (a key that is not comparable is kept as it is).
func distinct(ids []any) []any {
	seen := make(map[any]bool, len(ids))
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		if id != nil && reflect.TypeOf(id).Comparable() {
			if seen[id] {
				continue
			}
			seen[id] = true
		}
		out = append(out, id)
	}
	return out
}
