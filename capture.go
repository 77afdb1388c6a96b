package thumbnails

import (
	"cmp"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// Capturing runs inside the statement's transaction, just before gorm
// writes: it reads the names that the rows about to change hold now, and
// queues in the outbox those that the change releases. Reading under the
// same conditions as the write (and in its transaction) means a rollback
// takes the queue back with it.

// newNames maps each column the statement writes to the names it writes.
type newNames map[*column]map[string]bool

func (n newNames) add(c *column, name string) {
	if n[c] == nil {
		n[c] = map[string]bool{}
	}
	n[c][name] = true
}

// captureUpdate queues the names replaced or cleared by an Update, Updates
// or Save.
func (p *plugin) captureUpdate(db *gorm.DB) {
	m := p.modelOf(db)
	if m == nil || db.DryRun {
		return
	}
	stmt := db.Statement
	written := newNames{}
	selected, restricted := stmt.SelectAndOmitColumns(false, true)
	if dest, isMap := m.updateMap(db, false); isMap {
		// A map, or what a struct of another type than the model writes
		// into its image columns, as a map.
		for key, v := range dest {
			col := m.column(stmt.Schema.LookUpField(key))
			if col == nil {
				continue
			}
			if !selects(selected, restricted, col.name) {
				continue
			}
			written.add(col, nameOf(v))
		}
	} else {
		v := reflect.Indirect(reflect.ValueOf(stmt.Dest))
		if v.Kind() != reflect.Struct || v.Type() != m.schema.ModelType {
			return
		}
		// The row updated is Dest's own (Save(&row), Updates(&row)), or
		// Model's when Dest is another row (Model(&row).Updates(Food{
		// ...}): gorm updates it by Model's primary key, and a Model
		// without one is no row's), not rows a Where picks.
		ownRow, target := samePointer(stmt.Dest, stmt.Model), v
		if mv := reflect.Indirect(reflect.ValueOf(stmt.Model)); !ownRow && mv.Kind() == reflect.Struct && mv.Type() == m.schema.ModelType {
			ownRow, target = true, mv
		}
		for _, col := range m.columns {
			if !selects(selected, restricted, col.name) || !col.field.Updatable {
				continue
			}
			value, isZero := col.field.ValueOf(stmt.Context, v)
			if _, named := selected[col.name]; !named && isZero {
				continue // Updates(struct) skips zero values
			}
			img := value.(field.Image)
			if ownRow && ownUnchanged(stmt.Context, col, &img, target, tableKey(db, m)) {
				// Unchanged since this row's column was loaded (not an image
				// copied from another row or column): nothing to read, and
				// nothing to write. Writing it would bring back, from a row
				// loaded before a concurrent replace, an image whose files
				// that replace deleted.
				if m.keepsOtherColumns(stmt, selected, restricted) {
					if v, _ := db.InstanceGet(keyOmits); v == nil {
						db.InstanceSet(keyOmits, &omitted{stmt.Omits}) // finish puts them back
					}
					stmt.Omits = append(slices.Clip(stmt.Omits), col.name)
					continue
				}
				// Nothing else to write (a model of a key and images): left
				// out, the update would write nothing and Save would insert.
				// It writes the name the row holds now instead.
				name, found, err := p.currentName(db, m, col, target)
				if err != nil {
					_ = db.AddError(err)
					return
				}
				if !found {
					continue // no such row: nothing to release
				}
				if name != img.Name() {
					dst := col.image(v)
					if dst == nil {
						continue
					}
					if err := setName(dst, name); err != nil {
						_ = db.AddError(err)
						return
					}
				}
				written.add(col, name)
				continue
			}
			written.add(col, img.Name())
		}
	}
	if len(written) == 0 {
		return
	}
	conds := whereOf(stmt)
	conds = append(conds, primaryKeyConds(stmt, stmt.ReflectValue)...)
	if len(conds) == 0 && !db.AllowGlobalUpdate {
		return // gorm refuses the update with ErrMissingWhereClause
	}
	p.release(db, m, written, conds, stmt.Unscoped)
}

// currentName reads the name that col holds now in row, by its primary
// key, in the statement's transaction (locking the row on PostgreSQL, as
// release does). found is false when no row has that key.
func (p *plugin) currentName(db *gorm.DB, m *model, col *column, row reflect.Value) (name string, found bool, err error) {
	stmt := db.Statement
	conds := primaryKeyConds(stmt, row)
	if len(conds) == 0 {
		return "", false, nil
	}
	var names []sql.NullString
	if err := lockedRows(db, m, conds, true).Limit(1).Pluck(col.name, &names).Error; err != nil {
		return "", false, fmt.Errorf("thumbnails: read the image of the row a save writes: %w", err)
	}
	if len(names) == 0 {
		return "", false, nil
	}
	return names[0].String, true, nil
}

// selects reports whether a statement writes column, given what its
// SelectAndOmitColumns returned: a column it names, or with no Select, any
// column it does not omit.
func selects(selected map[string]bool, restricted bool, column string) bool {
	sel, named := selected[column]
	return named && sel || !named && !restricted
}

// keepsOtherColumns reports whether the update on stmt writes a column
// that is not an image column. Save falls back to an insert (an upsert of
// every column) when its update writes nothing, so an image column is left
// out of a Save only when another column remains.
func (m *model) keepsOtherColumns(stmt *gorm.Statement, selected map[string]bool, restricted bool) bool {
	for _, f := range m.schema.Fields {
		if f.DBName == "" || f.PrimaryKey || !f.Updatable || m.column(f) != nil {
			continue
		}
		if selects(selected, restricted, f.DBName) {
			return true
		}
	}
	return false
}

// captureDelete queues the names held by the rows a hard delete removes. A
// soft delete keeps them.
func (p *plugin) captureDelete(db *gorm.DB) {
	m := p.modelOf(db)
	if m == nil || db.DryRun {
		return
	}
	stmt := db.Statement
	if len(stmt.Schema.DeleteClauses) > 0 && !stmt.Unscoped {
		return
	}
	conds := whereOf(stmt)
	conds = append(conds, primaryKeyConds(stmt, stmt.ReflectValue)...)
	// gorm's own test, in its order: Dest passed by value may be of a
	// type == panics on (a slice, a struct holding one).
	if stmt.ReflectValue.CanAddr() && stmt.Dest != stmt.Model && stmt.Model != nil {
		conds = append(conds, primaryKeyConds(stmt, reflect.ValueOf(stmt.Model))...)
	}
	if len(conds) == 0 && !db.AllowGlobalUpdate {
		return
	}
	written := newNames{}
	for _, col := range m.columns {
		written[col] = map[string]bool{}
	}
	p.release(db, m, written, conds, true)
}

// captureUpsert queues the names replaced by a Create with ON CONFLICT ...
// DO UPDATE, which is what Save does with a slice, and guards the own
// images of the rows it inserts again (see keepCurrentImages).
func (p *plugin) captureUpsert(db *gorm.DB) {
	m := p.modelOf(db)
	if m == nil || db.DryRun {
		return
	}
	_, assigned, found := conflictUpdates(db.Statement)
	if !found {
		return
	}
	if err := p.keepCurrentImages(db, m, assigned); err != nil {
		_ = db.AddError(err)
		return
	}
	if len(assigned) == 0 {
		return
	}
	conds := conflictConds(db.Statement)
	// A column assigned another value than the inserted one (a literal,
	// an expression) releases its old name too: the drain deletes it only
	// if no row holds it then.
	written := newNames{}
	eachRow(db.Statement.ReflectValue, m.schema.ModelType, func(row reflect.Value) {
		for _, col := range m.columns {
			if assigned[col.name] {
				if img := col.image(row); img != nil {
					written.add(col, img.Name())
				}
			}
		}
	})
	if len(written) == 0 || len(conds) == 0 {
		return
	}
	p.release(db, m, written, conds, true)
}

// conflictConds returns the conditions that pick the rows an insert with
// ON CONFLICT may update: those whose primary key the inserted rows hold,
// or, when the clause names other columns (a unique code), those whose
// values of them the inserted rows hold, a zero value included (an empty
// code conflicts as any other; a nil pointer, NULL, conflicts with
// nothing); none when a column is not the model's.
func conflictConds(stmt *gorm.Statement) []clause.Expression {
	oc, _ := stmt.Clauses["ON CONFLICT"].Expression.(clause.OnConflict)
	var fields []*schema.Field
	for _, c := range oc.Columns {
		f := stmt.Schema.LookUpField(c.Name)
		if f == nil || f.DBName == "" {
			return nil
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 || samePrimaryKey(stmt.Schema, fields) {
		return primaryKeyConds(stmt, stmt.ReflectValue)
	}
	v := reflect.Indirect(stmt.ReflectValue)
	if v.Kind() == reflect.Struct && v.Type() != stmt.Schema.ModelType {
		return nil
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.DBName
	}
	var values [][]any
	eachRow(v, stmt.Schema.ModelType, func(row reflect.Value) {
		vals := make([]any, 0, len(fields))
		for _, f := range fields {
			fv := f.ReflectValueOf(stmt.Context, row)
			if fv.Kind() == reflect.Pointer && fv.IsNil() {
				return
			}
			vals = append(vals, reflect.Indirect(fv).Interface())
		}
		values = append(values, vals)
	})
	column, vals := schema.ToQueryValues(stmt.Table, names, values)
	if len(vals) == 0 {
		return nil
	}
	return []clause.Expression{clause.IN{Column: column, Values: vals}}
}

// samePrimaryKey reports whether fields are s's primary key, in any order.
func samePrimaryKey(s *schema.Schema, fields []*schema.Field) bool {
	if len(fields) != len(s.PrimaryFields) {
		return false
	}
	for _, f := range fields {
		if !f.PrimaryKey {
			return false
		}
	}
	return true
}

// setName makes *img the image a row holding name reads: the name that a
// stale struct's row holds now, which its save writes back.
func setName(img *field.Image, name string) error {
	var now field.Image
	if err := now.Scan(name); err != nil {
		return fmt.Errorf("thumbnails: %w", err)
	}
	*img = now
	return nil
}

// conflictUpdates returns what the ON CONFLICT clause of the insert on
// stmt writes into a row that conflicts: the columns its DO UPDATE sets to
// their inserted value (clause.AssignmentColumns: "excluded".column) in
// updated, and those it assigns whatever the value in assigned; none for
// DO NOTHING or a clause other than gorm's OnConflict. UpdateAll sets the
// columns gorm's create puts in its DO UPDATE (see updateAll), not every
// column: a "<-:create" one is left out. found is false when the insert
// has no such clause.
func conflictUpdates(stmt *gorm.Statement) (updated, assigned map[string]bool, found bool) {
	c, found := stmt.Clauses["ON CONFLICT"]
	if !found {
		return nil, nil, false
	}
	updated, assigned = map[string]bool{}, map[string]bool{}
	oc, ok := c.Expression.(clause.OnConflict)
	if !ok || oc.DoNothing {
		return updated, assigned, true
	}
	for _, a := range oc.DoUpdates {
		assigned[a.Column.Name] = true
		if v, ok := a.Value.(clause.Column); ok && strings.EqualFold(v.Table, "excluded") && v.Name == a.Column.Name {
			updated[a.Column.Name] = true
		}
	}
	if oc.UpdateAll {
		updateAll(stmt, updated, assigned)
	}
	return updated, assigned, true
}

// updateAll adds to updated and assigned the columns that gorm's create
// sets in the DO UPDATE of an OnConflict{UpdateAll: true}, which it builds
// before the insert (callbacks.ConvertToCreateValues): those an insert and
// an update may both write (SelectAndOmitColumns(true, true): not one that
// a permission tag such as "<-:create", an Omit or a Select leaves out),
// but the primary key, a column whose default the database gives, and the
// creation time; a column of the update time is assigned the time.
func updateAll(stmt *gorm.Statement, updated, assigned map[string]bool) {
	if stmt.Schema == nil {
		return
	}
	selected, restricted := stmt.SelectAndOmitColumns(true, true)
	for _, f := range stmt.Schema.Fields {
		if f.DBName == "" || f.PrimaryKey || f.AutoCreateTime > 0 || !selects(selected, restricted, f.DBName) ||
			f.HasDefaultValue && f.DefaultValueInterface == nil && !strings.EqualFold(f.DefaultValue, "NULL") {
			continue
		}
		assigned[f.DBName] = true
		if f.AutoUpdateTime == 0 {
			updated[f.DBName] = true
		}
	}
}

// lockedRows returns a query, in the statement's transaction, of the rows
// of m's table that conds pick (all of them when conds is empty: a global
// update or delete), soft-deleted ones too when unscoped. On PostgreSQL it
// locks them: a concurrent replace of the same row waits for this
// transaction, then reads the name it wrote, so each replaced name is
// queued by exactly the transaction that replaced it. (SQLite has one
// writer at a time and no FOR UPDATE.)
func lockedRows(db *gorm.DB, m *model, conds []clause.Expression, unscoped bool) *gorm.DB {
	q := onStatementTable(db, m)
	if unscoped {
		q = q.Unscoped()
	}
	switch dialect.Of(db) {
	case dialect.Postgres:
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	case dialect.SQLite:
		writeLock(q, m)
	}
	if len(conds) > 0 {
		q = q.Clauses(clause.Where{Exprs: conds})
	}
	return q
}

// onStatementTable returns a new query of m in the transaction of the
// statement on db, on its table: db.Table("foods_2024") with a Food.
func onStatementTable(db *gorm.DB, m *model) *gorm.DB {
	q := db.Session(&gorm.Session{NewDB: true}).Model(reflect.New(m.schema.ModelType).Interface())
	q.Statement.Table, q.Statement.TableExpr = db.Statement.Table, db.Statement.TableExpr
	return q
}

// writeLock takes SQLite's write lock for the transaction of q, if it has
// none yet, before q reads the rows of m a write is about to change. In a
// deferred transaction (SQLite's default) a read first takes a read lock,
// which SQLite cannot upgrade while another connection waits to commit:
// the write would then fail at once with "database is locked", whatever
// the busy timeout, where gorm's own statements, which write first, wait
// their turn. A write that changes nothing takes the lock (waiting for it
// as any write does) and holds it to the end of the transaction: one on
// the table, whose database may be an attached one ("archive.foods"), then
// one on the outbox, in the main database, in the order an insert takes
// them (its row, then its metadata). A failure is q's error. Outside a
// transaction there is no lock to keep.
func writeLock(q *gorm.DB, m *model) {
	if !inAnyTx(q) {
		return
	}
	s := q.Session(&gorm.Session{NewDB: true})
	var table string
	switch e := q.Statement.TableExpr; {
	case e == nil:
		table = q.Statement.Quote(cmp.Or(q.Statement.Table, m.schema.Table))
	case len(e.Vars) == 0 && !strings.ContainsAny(e.SQL, " \t\n"): // a name, quoted; not "foods AS f"
		table = e.SQL
	}
	var locks []string
	if table != "" {
		col := q.Statement.Quote(m.columns[0].name)
		locks = append(locks, "UPDATE "+table+" SET "+col+" = "+col+" WHERE 0")
	}
	locks = append(locks, "DELETE FROM "+outboxTable+" WHERE 0")
	for _, lock := range locks {
		if err := s.Exec(lock).Error; err != nil {
			_ = q.AddError(fmt.Errorf("thumbnails: take the write lock: %w", err))
			return
		}
	}
}

// release reads, under conds, the names that the written columns hold now,
// and queues those the statement does not write again.
func (p *plugin) release(db *gorm.DB, m *model, written newNames, conds []clause.Expression, unscoped bool) {
	cols := make([]*column, 0, len(written))
	names := make([]string, 0, len(written))
	for _, col := range m.columns {
		if _, ok := written[col]; ok {
			cols = append(cols, col)
			names = append(names, col.name)
		}
	}
	table, err := statementTable(db, m)
	if err != nil {
		_ = db.AddError(err)
		return
	}
	q := lockedRows(db, m, conds, unscoped).Select(names)
	rows, err := q.Rows()
	if err != nil {
		_ = db.AddError(fmt.Errorf("thumbnails: read replaced images: %w", err))
		return
	}
	defer rows.Close()
	old := make([]map[string]bool, len(cols))
	for i := range old {
		old[i] = map[string]bool{}
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			_ = db.AddError(fmt.Errorf("thumbnails: read replaced images: %w", err))
			return
		}
		for i, v := range vals {
			if v.Valid && v.String != "" && !written[cols[i]][v.String] {
				old[i][v.String] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		_ = db.AddError(fmt.Errorf("thumbnails: read replaced images: %w", err))
		return
	}
	queued := false
	for i, col := range cols {
		if len(old[i]) == 0 {
			continue
		}
		list := make([]string, 0, len(old[i]))
		for n := range old[i] {
			list = append(list, n)
		}
		if err := enqueue(db, table, col, list); err != nil {
			_ = db.AddError(err)
			return
		}
		queued = true
	}
	if queued {
		db.InstanceSet(keyOutbox, true)
		noteOutbox(db)
	}
}

// whereOf returns the conditions of the statement's WHERE clause.
func whereOf(stmt *gorm.Statement) []clause.Expression {
	c, ok := stmt.Clauses["WHERE"]
	if !ok {
		return nil
	}
	w, ok := c.Expression.(clause.Where)
	if !ok {
		return nil
	}
	return append([]clause.Expression(nil), w.Exprs...)
}

// primaryKeyConds returns "primary key IN (...)" for the rows in v with a
// non-zero primary key, as gorm adds it to updates and deletes.
func primaryKeyConds(stmt *gorm.Statement, v reflect.Value) []clause.Expression {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if len(stmt.Schema.PrimaryFields) == 0 || (v.Kind() != reflect.Struct && v.Kind() != reflect.Slice && v.Kind() != reflect.Array) {
		return nil
	}
	if v.Kind() == reflect.Struct && v.Type() != stmt.Schema.ModelType {
		return nil
	}
	_, values := schema.GetIdentityFieldValuesMap(stmt.Context, v, stmt.Schema.PrimaryFields)
	column, vals := schema.ToQueryValues(stmt.Table, stmt.Schema.PrimaryFieldDBNames, values)
	if len(vals) == 0 {
		return nil
	}
	return []clause.Expression{clause.IN{Column: column, Values: vals}}
}

// nameOf returns the name a value given to Update or Updates writes into a
// field.Image column.
func nameOf(v any) string {
	switch x := v.(type) {
	case field.Image:
		return x.Name()
	case *field.Image:
		if x != nil {
			return x.Name()
		}
	case string:
		return x
	case *string:
		if x != nil {
			return *x
		}
	}
	return ""
}
