package thumbnails

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/internal/dialect"
)

// ErrUnknownTable is the error of a statement that writes image columns
// into a table given by db.Table as an expression whose table cannot be
// told (a subquery, or placeholders): the plugin must know which table
// holds a row to check, before deleting a source, that no row still holds
// it.
var ErrUnknownTable = errors.New("thumbnails: cannot tell which table db.Table names")

// columnsTable records the image columns that hold images (migration
// 0004): every column, of a model's own table or another (db.Table), that
// a write went through, and at a copy the columns the names may come from.
// The clean-up of every process checks them, after a restart too, and not
// only the columns of the models it has used itself: a source copied from
// one model or table into another is held by both.
const columnsTable = "thumbnails_columns"

// columnRow is a row of columnsTable.
type columnRow struct {
	TableName  string `gorm:"column:table_name"`
	ColumnName string `gorm:"column:column_name"`
}

// unrecordedColumns returns the columns that a statement on table, for
// model m, makes hold images and that columnsTable is not known to record
// yet: m's columns in table and, when the statement copies names (which
// another column holds too), the columns of other tables (db.Table) the
// copied images were read from, origins, and every image column this
// process has used, among which is, as a rule, the one the names come
// from otherwise.
func (p *plugin) unrecordedColumns(table string, m *model, copies bool, origins []tableColumn) []tableColumn {
	var cols []tableColumn
	add := func(c tableColumn) {
		if _, ok := p.recorded.Load(c); !ok && !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	for _, c := range m.columns {
		add(tableColumn{table, c.name})
	}
	if copies {
		for _, c := range origins {
			add(c)
		}
		for _, c := range p.usedColumns() {
			add(c)
		}
	}
	return cols
}

// recordColumns records in columnsTable, in the statement's transaction,
// the columns that unrecordedColumns gave the statement on db. They are
// known to be recorded once that transaction commits, and are not written
// again by this process.
func (p *plugin) recordColumns(db *gorm.DB) error {
	v, ok := db.InstanceGet(keyRecordColumns)
	if !ok {
		return nil
	}
	cols := v.([]tableColumn)
	if len(cols) == 0 {
		return nil
	}
	rows := make([]columnRow, len(cols))
	for i, c := range cols {
		rows[i] = columnRow{TableName: c.table, ColumnName: c.name}
	}
	q := db.Session(&gorm.Session{NewDB: true}).Table(columnsTable).Clauses(clause.OnConflict{DoNothing: true})
	if err := q.Create(&rows).Error; err != nil {
		return fmt.Errorf("thumbnails: record %s.%s as holding images: %w", cols[0].table, cols[0].name, err)
	}
	if tx, ok := txPoolOf(db); ok {
		tx.noteRecorded(cols) // known once it commits
	} else {
		p.markRecorded(cols) // no transaction: it has committed
	}
	return nil
}

// markRecorded notes that columnsTable records cols.
func (p *plugin) markRecorded(cols []tableColumn) {
	for _, c := range cols {
		p.recorded.Store(c, struct{}{})
	}
}

// usedColumns returns the image columns of the models this process has
// used, in their own tables.
func (p *plugin) usedColumns() []tableColumn {
	var cols []tableColumn
	for _, c := range p.parsedColumns() {
		cols = append(cols, tableColumn{c.table, c.name})
	}
	return cols
}

// parsedColumns returns the image columns of every model the plugin has
// parsed in this process.
func (p *plugin) parsedColumns() []*column {
	var cols []*column
	p.models.m.Range(func(_, v any) bool {
		if m := v.(modelEntry).model; m != nil {
			cols = append(cols, m.columns...)
		}
		return true
	})
	return cols
}

// copiedInto returns the columns recorded in columnsTable.
func copiedInto(db *gorm.DB) ([]tableColumn, error) {
	var rows []columnRow
	if err := db.Table(columnsTable).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("thumbnails: read %s: %w", columnsTable, err)
	}
	out := make([]tableColumn, len(rows))
	for i, r := range rows {
		out[i] = tableColumn{r.TableName, r.ColumnName}
	}
	return out, nil
}

// statementTable returns the table that the statement on db reads or
// writes for model m: the model's own, or the one db.Table names
// ("foods_2024", "archive.foods", "foods_2024 AS f"). It fails with
// ErrUnknownTable for an expression it cannot read a table name from.
func statementTable(db *gorm.DB, m *model) (string, error) {
	expr := db.Statement.TableExpr
	if expr == nil {
		if db.Statement.Table != "" {
			return db.Statement.Table, nil
		}
		return m.schema.Table, nil
	}
	if len(expr.Vars) == 1 && strings.TrimSpace(expr.SQL) == "?" {
		if t, ok := expr.Vars[0].(clause.Table); ok && t.Name != "" && !t.Raw {
			return t.Name, nil // db.Table("?", clause.Table{Name: "foods_2024"})
		}
	}
	sql := strings.TrimSpace(expr.SQL)
	if i := strings.IndexAny(sql, " \t\r\n"); i >= 0 {
		sql = sql[:i] // "foods_2024 AS f", "foods_2024 f"
	}
	parts := strings.Split(sql, ".")
	if len(expr.Vars) > 0 || len(parts) > 2 {
		return "", fmt.Errorf("%w: %q", ErrUnknownTable, expr.SQL)
	}
	for i, part := range parts {
		name, ok := tableNamePart(part, dialect.Of(db) == dialect.Postgres)
		if !ok {
			return "", fmt.Errorf("%w: %q", ErrUnknownTable, expr.SQL)
		}
		parts[i] = name
	}
	return strings.Join(parts, "."), nil
}

// tableNamePart returns the name that part of a table expression (a table
// or schema name, quoted or not) stands for. An unquoted name is folded to
// lower case when fold is set, as PostgreSQL folds it. A part that holds
// what no name does (a parenthesis, a placeholder) is not one.
func tableNamePart(part string, fold bool) (string, bool) {
	if n := len(part); n >= 2 && (part[0] == '"' && part[n-1] == '"' || part[0] == '`' && part[n-1] == '`') {
		inner := part[1 : n-1]
		return inner, inner != "" && !strings.ContainsAny(inner, "\"`")
	}
	if part == "" || strings.ContainsAny(part, "\"`'()[],;?=") {
		return "", false
	}
	if fold {
		part = strings.ToLower(part)
	}
	return part, true
}

// tableKey returns what tells, in the owner of an image (bridge.Owner),
// the table that the statement on db reads or writes m's rows in, when it
// names another than m's own (db.Table, or a scope that sets
// Statement.Table): a row of foods_archive is not the row of foods with the
// same key, and an image read from one and saved into the other is a copy.
// 0 for m's own table. Names are compared as written, but for what the
// database itself ignores (the case of a name and the schema "main" on
// SQLite; an unquoted name's case on PostgreSQL): a row read through a
// view, a subquery or another spelling of its table is taken for another
// table's, so that its image is saved as a copy (checked, guarded and
// recorded) rather than missed as the row's own.
func tableKey(db *gorm.DB, m *model) tableRef {
	own := m.schema.Table
	if len(m.columns) > 0 {
		own = m.columns[0].table // a view's columns are its model's
	}
	stmt := db.Statement
	if stmt.TableExpr == nil && (stmt.Table == "" || stmt.Table == own) {
		return tableRef{}
	}
	table, err := statementTable(db, m)
	if err != nil {
		return tableRef{key: maphash.String(keySeed, fmt.Sprint(stmt.TableExpr.SQL, stmt.TableExpr.Vars)) | 1}
	}
	if tableIdentity(db, table) == tableIdentity(db, own) {
		return tableRef{}
	}
	return tableRef{key: maphash.String(keySeed, tableIdentity(db, table)) | 1, name: table}
}

// tableRef is a statement's tableKey, and the name of its table when it
// is not the model's own and can be told ("" otherwise).
type tableRef struct {
	key  uint64
	name string
}

// originIDs number the (table, column) pairs of the tables other than
// their models' own that rows were read from or written to (db.Table), so
// that an Image read from one carries where it came from (bridge.Owner's
// Table): a copy of it into another column records that table, whose row
// holds the name too, for the clean-up of every process.
var (
	originIDs   sync.Map // tableColumn -> uint32
	originNames sync.Map // uint32 -> tableColumn
	lastOrigin  atomic.Uint32
)

// originID returns the number of tc, numbering it on first use.
func originID(tc tableColumn) uint32 {
	if v, ok := originIDs.Load(tc); ok {
		return v.(uint32)
	}
	id := lastOrigin.Add(1)
	if v, loaded := originIDs.LoadOrStore(tc, id); loaded {
		return v.(uint32)
	}
	originNames.Store(id, tc)
	return id
}

// originOf returns the table and column numbered id by originID.
func originOf(id uint32) (tableColumn, bool) {
	v, ok := originNames.Load(id)
	if !ok {
		return tableColumn{}, false
	}
	return v.(tableColumn), true
}

// tableIdentity returns name as the database of db tells tables apart: on
// SQLite, in lower case and without the schema "main".
func tableIdentity(db *gorm.DB, name string) string {
	if dialect.Of(db) == dialect.SQLite {
		return strings.TrimPrefix(strings.ToLower(name), "main.")
	}
	return name
}
